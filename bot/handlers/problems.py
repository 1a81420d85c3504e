"""Problems and instructions: /problem, /reply, /resolve, /instruct.

Raising a problem, answering it and a leader's instruction each notify the people who
must act, in their own language, with a button that opens the next step.
"""

from __future__ import annotations

from bot.dates import parse_deadline
from bot.flow import Ask, Choices, Command, Fields
from bot.format import day
from bot.handlers.base import Call
from bot.handlers.projects import project_check, project_choices, text_check
from bot.texts import t
from storage import problems as store
from storage.errors import Refused
from storage.models import Member, Problem, ProblemCategory, Role, Unit
from storage.outbox import Buttons
from storage.people import unit_by_name, unit_members, units
from storage.rules import Action, guess_category, sees_everything

NOTIFIED_ROLES = (Role.OFFICER, Role.HEAD)


def button(lang: str, key: str, payload: str) -> Buttons:
    return [[[t(lang, key), payload]]]


async def notify_unit(
    call: Call, unit: Unit, key: str, markup_key: str | None, payload: str, **params: object
) -> None:
    """Tell the unit's officers and head, each in their language, and the unit's group."""
    members = await unit_members(call.session, unit.id, NOTIFIED_ROLES)
    for m in members:
        if m.id == call.member.id:
            continue
        markup = button(m.lang, markup_key, payload) if markup_key else None
        call.tell(m.tg_user_id, t(m.lang, key, **params), markup, m.id)
    if unit.chat_id is not None and unit.chat_id != _chat_id(call):
        markup = button("zh", markup_key, payload) if markup_key else None
        call.tell(unit.chat_id, t("zh", key, **params), markup)


def _chat_id(call: Call) -> int | None:
    chat = call.update.effective_chat
    return chat.id if chat else None


# --- the unit a problem goes to ---------------------------------------------------------


async def suggested_units(call: Call, fields: Fields) -> list[tuple[Unit, ProblemCategory]]:
    """The unit routed for the problem's category first, then the other routed units."""
    routing = call.svc.config.routing
    guessed = guess_category(str(fields.get("text", "")))
    order = [guessed] + [c for c in ProblemCategory if c is not guessed]
    seen: set[int] = set()
    found: list[tuple[Unit, ProblemCategory]] = []
    for category in order:
        unit = await unit_by_name(call.session, routing.get(category.value, ""))
        if unit is not None and unit.id not in seen:
            seen.add(unit.id)
            found.append((unit, category))
    return found


async def unit_choices(call: Call, fields: Fields) -> Choices:
    routed = await suggested_units(call, fields)
    choices: list[tuple[str, str]] = [
        (str(u.id), ("⭐ " if i == 0 else "") + u.name + " · " + call.t(f"pcat.{c.value}"))
        for i, (u, c) in enumerate(routed)
    ]
    seen = {u.id for u, _ in routed}
    choices += [(str(u.id), u.name) for u in await units(call.session) if u.id not in seen]
    return choices[:30]


async def unit_check(call: Call, _fields: Fields, raw: str) -> int:
    unit = None
    if raw.strip().isdigit():
        unit = await call.session.get(Unit, int(raw.strip()))
    if unit is None:
        unit = await unit_by_name(call.session, raw)
    if unit is None:
        raise Refused("err.unknown_unit", unit=raw.strip()[:40])
    return unit.id


# --- problems ---------------------------------------------------------------------------


async def problem_check(call: Call, _fields: Fields, raw: str) -> int:
    try:
        pid = int(raw.strip().lstrip("#"))
    except ValueError:
        raise Refused("err.bad_number", text=raw.strip()[:20]) from None
    await store.visible_problem(call.session, call.member, pid)
    return pid


def _problem_label(p: Problem) -> str:
    return f"#{p.id} {p.project.code} {p.text[:40]}"


async def problems_to_answer(call: Call, _fields: Fields) -> Choices:
    if sees_everything(call.member.role):
        found = await store.open_problems_everywhere(call.session)
    else:
        found = await store.waiting_for_unit(call.session, call.member.unit_id)
    return [(str(p.id), _problem_label(p)) for p in found[:20]]


async def problems_to_resolve(call: Call, _fields: Fields) -> Choices:
    found = await store.resolvable_by(call.session, call.member)
    return [(str(p.id), _problem_label(p)) for p in found[:20]]


async def run_problem(call: Call, f: Fields) -> None:
    unit = await call.session.get(Unit, int(f["unit"]))
    assert unit is not None  # checked by unit_check in this same session
    routed = dict((u.id, c) for u, c in await suggested_units(call, f))
    guessed = guess_category(f["text"])
    # Picking the unit routed for another category says what the problem is about.
    category = guessed if routed.get(unit.id) in (None, guessed) else routed[unit.id]
    # A deadline written in the problem ("请下周五前答复") wins over the default term.
    today = call.today()
    asked = parse_deadline(f["text"], today, call.svc.calendar)
    default = call.svc.calendar.add_workdays(today, call.svc.config.work.reply_days)
    deadline = asked if asked is not None and asked > today else default
    problem = await store.raise_problem(
        call.session,
        call.member,
        f["project"],
        f["text"],
        category,
        unit,
        deadline,
        call.svc.clock(),
    )
    call.say(
        call.t(
            "ok.problem",
            id=problem.id,
            code=problem.project.code,
            unit=unit.name,
            date=day(call.lang, deadline),
        )
    )
    await notify_unit(
        call,
        unit,
        "note.problem",
        "btn.reply",
        f"go:reply:{problem.id}",
        id=problem.id,
        code=problem.project.code,
        name=problem.project.name,
        who=call.member.name,
        text=problem.text,
        date=deadline.isoformat(),
    )


async def run_reply(call: Call, f: Fields) -> None:
    answer = await store.reply(call.session, call.member, int(f["problem"]), f["text"])
    problem = await store.visible_problem(call.session, call.member, int(f["problem"]))
    call.say(call.t("ok.reply", id=problem.id))
    raiser = await call.session.get(Member, problem.raiser_id)
    if raiser is not None and raiser.active and raiser.id != call.member.id:
        call.tell(
            raiser.tg_user_id,
            t(
                raiser.lang,
                "note.reply",
                id=problem.id,
                code=problem.project.code,
                who=call.member.name,
                unit=call.member.unit.name,
                text=answer.text,
            ),
            button(raiser.lang, "btn.resolve", f"go:resolve:{problem.id}"),
            raiser.id,
        )


async def run_resolve(call: Call, f: Fields) -> None:
    problem = await store.resolve(
        call.session, call.member, int(f["problem"]), f.get("text"), call.svc.clock()
    )
    call.say(call.t("ok.resolve", id=problem.id))
    await notify_unit(
        call, problem.unit, "note.resolved", None, "", id=problem.id, code=problem.project.code
    )


async def run_instruct(call: Call, f: Fields) -> None:
    instruction = await store.instruct(call.session, call.member, f["project"], f["text"])
    unit = await call.session.get(Unit, instruction.unit_id)
    assert unit is not None
    call.say(call.t("ok.instruct", code=f["project"], unit=unit.name))
    await notify_unit(
        call,
        unit,
        "note.instruct",
        "btn.progress",
        f"go:progress:{f['project']}",
        code=f["project"],
        who=call.member.name,
        text=instruction.text,
    )


COMMANDS = [
    Command(
        "problem",
        (Ask.PROJECT, Ask.TEXT, Ask.UNIT),
        run_problem,
        chosen=frozenset({Ask.UNIT}),
        choices={Ask.PROJECT: project_choices(Action.RAISE_PROBLEM), Ask.UNIT: unit_choices},
        check={
            Ask.PROJECT: project_check(Action.RAISE_PROBLEM),
            Ask.TEXT: text_check,
            Ask.UNIT: unit_check,
        },
    ),
    Command(
        "reply",
        (Ask.PROBLEM, Ask.TEXT),
        run_reply,
        choices={Ask.PROBLEM: problems_to_answer},
        check={Ask.PROBLEM: problem_check, Ask.TEXT: text_check},
    ),
    Command(
        "resolve",
        (Ask.PROBLEM, Ask.TEXT),
        run_resolve,
        optional=frozenset({Ask.TEXT}),
        choices={Ask.PROBLEM: problems_to_resolve},
        check={Ask.PROBLEM: problem_check, Ask.TEXT: text_check},
    ),
    Command(
        "instruct",
        (Ask.PROJECT, Ask.TEXT),
        run_instruct,
        choices={Ask.PROJECT: project_choices(Action.INSTRUCT)},
        check={Ask.PROJECT: project_check(Action.INSTRUCT), Ask.TEXT: text_check},
    ),
]
