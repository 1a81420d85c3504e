"""Problems and leaders' instructions: /problem, /reply, /resolve, /reopen, /instruct,
/fulfil and /instructions, and the Acknowledge button under an instruction.

Raising a problem, answering it and a leader's instruction each notify the people who
must act, in their own language, with a button that opens the next step; an instruction
reported done tells the leader who gave it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.dates import deadline_in_text
from bot.flow import Ask, Choices, Command, Fields
from bot.format import day, day_off_note, instruction_list, short
from bot.handlers import undo
from bot.handlers.base import Call, guarded
from bot.handlers.projects import project_check, project_choices, text_check
from bot.handlers.undo import taken_note
from bot.input import fold, number, skip_separators, split_command
from bot.keyboards import (
    inline_markup,
    instruction_buttons,
    instruction_row,
    problem_buttons,
    signoff_row,
)
from bot.texts import Raw, t
from storage import extensions, instructions
from storage import problems as store
from storage import projects as project_store
from storage import undo as undo_store
from storage.errors import Refused
from storage.models import (
    Member,
    Problem,
    ProblemCategory,
    ProblemStatus,
    Project,
    Stage,
    Unit,
)
from storage.outbox import Buttons
from storage.people import Actors, actors_for, keep, unit_by_name, units, units_by_name
from storage.projects import check_text as store_check_text
from storage.rules import (
    Action,
    allowed,
    answers_problems,
    guess_category,
    may_ever,
    sees_everything,
)


async def notify_unit(
    call: Call,
    unit: Unit,
    key: str,
    buttons: Callable[[str], Buttons | None],
    **params: object,
) -> Actors:
    """Tell everyone who can act for the unit, each in their language, and its group.

    A unit nobody has joined yet is covered by its parent's people or the coordinators
    (storage.people.pick_actors); the caller sees that in the returned `Actors`.
    BUTTONS gives the buttons for a language.
    """
    actors = await actors_for(call.session, unit.id, heads_first=False)
    covering = actors.via_unit != unit.id
    for m in actors.people:
        if m.id == call.member.id:
            continue
        text = t(m.lang, key, **params)
        if covering:
            # Whoever stands in for a unit nobody has joined must see whose item it is.
            text = t(m.lang, "note.covering", unit=unit.name) + "\n" + text
        call.tell(m.tg_user_id, text, buttons(m.lang), m.id)
    if unit.chat_id is not None and unit.chat_id != _chat_id(call):
        call.tell(unit.chat_id, t("zh", key, **params), buttons("zh"))
    return actors


def _chat_id(call: Call) -> int | None:
    chat = call.update.effective_chat
    return chat.id if chat else None


# --- the unit a problem goes to ---------------------------------------------------------


async def suggested_units(call: Call, fields: Fields) -> list[tuple[Unit, ProblemCategory]]:
    """The unit routed for the problem's category first, then the other routed units."""
    routing = call.svc.config.routing
    guessed = guess_category(str(fields.get("text", "")))
    order = [guessed] + [c for c in ProblemCategory if c is not guessed]
    names = {c: routing.get(c.value, "").strip().lower() for c in order}
    named = await units_by_name(call.session, names.values())
    seen: set[int] = set()
    found: list[tuple[Unit, ProblemCategory]] = []
    for category in order:
        unit = named.get(names[category])
        if unit is not None and unit.id not in seen:
            seen.add(unit.id)
            found.append((unit, category))
    return found


async def unit_choices(call: Call, fields: Fields) -> Choices:
    routed = await suggested_units(call, fields)
    guessed = guess_category(str(fields.get("text", "")))
    # The star marks the unit routed for this problem's own category, and only that one:
    # when the routing names a unit the store lacks, nobody is recommended.
    choices: list[tuple[str, str]] = [
        (str(u.id), ("⭐ " if c is guessed else "") + u.name + " · " + call.t(f"pcat.{c.value}"))
        for u, c in routed
    ]
    seen = {u.id for u, _ in routed}
    choices += [
        (str(u.id), u.name)
        for u in await units(call.session)
        if u.id not in seen and answers_problems(u.kind)
    ]
    return choices[:30]


async def unit_check(call: Call, _fields: Fields, raw: str) -> int:
    unit = None
    unit_id = number(raw)
    if unit_id is not None:
        unit = await call.session.get(Unit, unit_id)
    if unit is None:
        unit = await unit_by_name(call.session, raw)
    if unit is None:
        raise Refused("err.unknown_unit", unit=raw.strip()[:40])
    if not answers_problems(unit.kind):
        raise Refused("err.unit_answers_nothing", unit=unit.name)
    # The command looks it up again by id: held, that is no second query.
    keep(call.session, unit)
    return unit.id


# --- problems ---------------------------------------------------------------------------


async def problem_check(call: Call, _fields: Fields, raw: str) -> int:
    pid = number(raw)
    if pid is None:
        raise Refused("err.bad_number", text=raw.strip()[:20])
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
    # The text is a description: a date counts only when a deadline cue binds it.
    reading = deadline_in_text(f["text"], today, call.svc.calendar)
    asked = reading.day if reading is not None else None
    default = call.svc.calendar.add_workdays(today, call.svc.config.work.reply_days)
    # A date already past cannot be the deadline: the default holds, and the raiser is told.
    deadline = asked if asked is not None and asked >= today else default
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
    text = call.t(
        "ok.problem",
        id=problem.id,
        code=problem.project.code,
        unit=unit.name,
        date=day(call.lang, deadline),
    )
    markup = None
    if deadline != default:
        # The deadline was read from the text: Undo puts the default term in its place.
        taken = taken_note(call.lang, reading)
        if taken:
            text += "\n" + taken
        if off := day_off_note(call.lang, deadline, call.svc.calendar):
            text += "\n" + off
        target = undo_store.Target(
            "problems",
            problem.id,
            restore={"reply_deadline": default.isoformat()},
            expect={"reply_deadline": deadline.isoformat()},
        )
        markup = await undo.offer(call, [target], "problem")
    call.say(text, markup)
    # The first notice already carries Acknowledge and More time, so that the unit can
    # stop the first climb without answering the same day.
    actors = await notify_unit(
        call,
        unit,
        "note.problem",
        lambda lang: problem_buttons(lang, problem.id),
        id=problem.id,
        code=problem.project.code,
        name=problem.project.name,
        who=call.member.name,
        text=problem.text,
        date=deadline.isoformat(),
    )
    if asked is not None and asked < today:
        call.say(call.t("warn.deadline_past", date=day(call.lang, asked)))
    if not actors.own or actors.via_unit != unit.id:
        # Nobody of that unit can act on it yet: say so now, not when it climbs.
        via = await call.session.get(Unit, actors.via_unit) if actors.via_unit else None
        call.say(
            call.t(
                "warn.unit_unreached",
                unit=unit.name,
                via=via.name if via else call.t("warn.coordinators"),
                n=len(actors.people),
            )
        )


async def run_reply(call: Call, f: Fields) -> None:
    answer = await store.reply(
        call.session, call.member, int(f["problem"]), f["text"], call.svc.clock()
    )
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
            [signoff_row(raiser.lang, problem.id)],
            raiser.id,
        )


async def run_resolve(call: Call, f: Fields) -> None:
    problem = await store.resolve(
        call.session, call.member, int(f["problem"]), f.get("text"), call.svc.clock()
    )
    call.say(call.t("ok.resolve", id=problem.id))
    await notify_unit(
        call,
        problem.unit,
        "note.resolved",
        lambda _: None,
        id=problem.id,
        code=problem.project.code,
    )


async def answered_check(call: Call, _fields: Fields, raw: str) -> int:
    """A problem that has an answer to send back; asked for before the reason is."""
    pid = await problem_check(call, _fields, raw)
    await store.reopenable(call.session, call.member, pid)
    return pid


async def problems_to_reopen(call: Call, _fields: Fields) -> Choices:
    found = await store.resolvable_by(call.session, call.member)
    answered = [p for p in found if p.status is ProblemStatus.ANSWERED]
    return [(str(p.id), _problem_label(p)) for p in answered[:20]]


async def run_reopen(call: Call, f: Fields) -> None:
    """The raiser finds the answer wanting: back to the answering unit, with the reason
    and a new reply deadline of `reply_days` working days."""
    deadline = call.svc.calendar.add_workdays(call.today(), call.svc.config.work.reply_days)
    problem = await store.reopen(call.session, call.member, int(f["problem"]), f["text"], deadline)
    call.say(
        call.t("ok.reopen", id=problem.id, unit=problem.unit.name, date=day(call.lang, deadline))
    )
    await notify_unit(
        call,
        problem.unit,
        "note.reopen",
        lambda lang: problem_buttons(lang, problem.id, acknowledged=True),
        id=problem.id,
        code=problem.project.code,
        who=call.member.name,
        date=deadline.isoformat(),
        text=f["text"],
    )


# --- leaders' instructions ---------------------------------------------------------------


async def instruct_project_check(call: Call, _fields: Fields, raw: str) -> str:
    """A project the leader may instruct on: not a dropped one, which nobody carries out."""
    return (await instructions.instructable_project(call.session, call.member, fold(raw))).code


async def instruct_project_choices(call: Call, _fields: Fields) -> Choices:
    """The projects offered to instruct on (the first twenty), less the dropped ones."""
    found = await project_store.list_projects(call.session, call.member)
    offered = [
        p
        for p in found
        if p.stage is not Stage.DROPPED
        and allowed(call.member.role, Action.INSTRUCT, own=project_store.owns(call.member, p))
    ]
    return [(p.code, f"{p.code} {p.name}") for p in offered[:20]]


async def instruct_text_check(call: Call, _fields: Fields, raw: str) -> str:
    """The instruction's text; a deadline in it already past is refused, and the text
    asked for again (an instruction is not given with a deadline it has missed)."""
    text = store_check_text(raw)
    reading = deadline_in_text(text, call.today(), call.svc.calendar)
    if reading is not None and reading.day < call.today():
        raise Refused("err.instruction_past", date=day(call.lang, reading.day))
    return text


async def run_instruct(call: Call, f: Fields) -> None:
    """Give the instruction to the project's unit: a deadline written in the text
    (`月底前完成摘牌`, `3个工作日内`), else `[work] instruction_days` working days."""
    today = call.today()
    work_days = call.svc.config.work.instruction_days
    reading = deadline_in_text(f["text"], today, call.svc.calendar)
    deadline = (
        reading.day if reading is not None else call.svc.calendar.add_workdays(today, work_days)
    )
    instruction = await instructions.give(
        call.session, call.member, f["project"], f["text"], deadline, today, call.svc.clock()
    )
    project = await call.session.get(Project, instruction.project_id)
    unit = await call.session.get(Unit, instruction.unit_id)
    assert project is not None and unit is not None
    said = call.t(
        "ok.instruct",
        id=instruction.id,
        code=project.code,
        unit=unit.name,
        date=day(call.lang, deadline),
    )
    if reading is None:
        said += "\n" + call.t("ok.instruct_default", days=work_days)
    else:
        if taken := taken_note(call.lang, reading):
            said += "\n" + taken
        if off := day_off_note(call.lang, deadline, call.svc.calendar):
            said += "\n" + off
    call.say(said)
    await notify_unit(
        call,
        unit,
        "note.instruct",
        lambda lang: instruction_buttons(lang, instruction.id),
        id=instruction.id,
        code=project.code,
        name=project.name,
        who=call.member.name,
        text=instruction.text,
        date=deadline.isoformat(),
    )


# `3`, `#3`, `i3`, `i:3`, `批示3`, `批示#3` (full-width too): an instruction's number, as
# typed after /fulfil and /ack. A bare number after /ack is a problem's.
_INSTRUCTION_REF = re.compile(r"^\s*(?P<mark>[iIｉＩ]|批示)?\s*[:：#＃]?\s*(?P<id>[0-9０-９]+)")


def instruction_ref(text: str, *, marked: bool = False) -> tuple[int | None, str]:
    """The instruction number TEXT starts with, and the rest of TEXT as written.

    MARKED: only a number marked as an instruction's (`i3`, `批示3`) counts. A number too
    large for an id is still read (the store answers that there is no such instruction),
    unless it is too long to be meant as a number at all.
    """
    found = _INSTRUCTION_REF.match(text)
    if found is None or (marked and not found["mark"]):
        return None, text
    digits = fold(found["id"])
    if len(digits) > MAX_DIGITS:
        return None, text
    return int(digits), skip_separators(text[found.end() :])


MAX_DIGITS = 20  # longer is no id typed by mistake, and would only flood the answer


async def instructions_to_fulfil(call: Call, _fields: Fields) -> Choices:
    """The open instructions the member may report done: the unit's; every one for the
    service center. None is a refusal rather than an empty picker."""
    found = await instructions.open_for(call.session, call.member)
    if not found:
        raise Refused("err.no_instructions")
    return [
        (f"i:{r.instruction.id}", f"#{r.instruction.id} {r.code} {short(r.instruction.text, 30)}")
        for r in found[:20]
    ]


async def instruction_check(call: Call, fields: Fields, raw: str) -> str:
    """An instruction the member may report done, as the ref `i:ID`. Typed as
    `/fulfil 3，已完成摘牌`, the words after the number are the report, as written."""
    instruction_id, rest = instruction_ref(raw)
    if instruction_id is None:
        # A ref as the buttons and the picker carry it (`i:3`).
        kind, instruction_id = extensions.parse_ref(raw) if raw.startswith("i:") else ("", 0)
        if kind != "instruction":
            raise Refused("err.bad_number", text=raw.strip()[:20])
        rest = ""
    await instructions.open_instruction(call.session, call.member, instruction_id)
    if rest and "text" not in fields:
        # The id was read folded with what followed it: take the report from the message
        # as it was typed, so that its punctuation stays as written.
        message = call.update.effective_message
        line = (message.text or "") if message else ""
        _, _, line = split_command(line) if line.startswith("/") else ("", None, line)
        typed_id, typed_rest = instruction_ref(skip_separators(line))
        fields["text"] = typed_rest if typed_id == instruction_id and typed_rest else rest
    return f"i:{instruction_id}"


async def run_fulfil(call: Call, f: Fields) -> None:
    """Report the instruction carried out; the leader who gave it is told, with the line."""
    _, instruction_id = extensions.parse_ref(f["item"])
    instruction = await instructions.report_done(
        call.session, call.member, instruction_id, f["text"], call.svc.clock()
    )
    project = await call.session.get(Project, instruction.project_id)
    unit = await call.session.get(Unit, instruction.unit_id)
    assert project is not None and unit is not None
    leader = await instructions.leader_of(call.session, instruction)
    name = leader.name if leader is not None else call.t("who.leader")
    call.say(call.t("ok.fulfil", id=instruction.id, code=project.code, leader=name))
    own_unit = call.member.unit
    on_behalf = own_unit.id != unit.id
    if on_behalf:
        # Reported by someone of another unit (the service center): the unit hears that
        # its instruction was closed for it, and what was said.
        await notify_unit(
            call,
            unit,
            "note.fulfilled_for",
            lambda _: None,
            id=instruction.id,
            code=project.code,
            who=call.member.name,
            by_unit=own_unit.name,
            text=instruction.done_text or "",
            order=short(instruction.text, 200),
        )
    if leader is None or leader.id == call.member.id:
        return
    # The reporter is named with their own unit, and for whom they reported.
    reporter = (
        t(
            leader.lang,
            "who.reporter_for",
            who=call.member.name,
            unit=own_unit.name,
            for_unit=unit.name,
        )
        if on_behalf
        else t(leader.lang, "who.reporter", who=call.member.name, unit=unit.name)
    )
    given = instruction.created_at.astimezone(call.svc.config.city.tz).date()
    call.tell(
        leader.tg_user_id,
        t(
            leader.lang,
            "note.fulfilled",
            id=instruction.id,
            code=project.code,
            reporter=Raw(reporter),
            text=instruction.done_text or "",
            date=day(leader.lang, given),
            order=short(instruction.text, 200),
        ),
        None,
        leader.id,
    )


async def acknowledge_instruction(call: Call, instruction_id: int) -> None:
    """The unit has the instruction (收到): its receipt stops climbing."""
    instruction, changed = await instructions.acknowledge(
        call.session, call.member, instruction_id, call.svc.clock()
    )
    key = "ok.instruction_ack" if changed else "ok.instruction_ack_already"
    call.say(call.t(key, id=instruction.id, date=day(call.lang, instruction.deadline)))


async def ack_instruction_button(call: Call) -> None:
    """The Acknowledge button under an instruction (`in:ack:ID`)."""
    query = call.update.callback_query
    raw = (query.data or "") if query else ""
    rest = raw.removeprefix("in:ack:")
    instruction_id = number(rest) if rest != raw and rest.isdigit() else None
    if instruction_id is None:
        raise Refused("err.bad_button")
    await acknowledge_instruction(call, instruction_id)


async def list_instructions(call: Call) -> None:
    """/instructions: the open ones I can see, numbered, with unit, deadline and state."""
    rows = await instructions.open_for(call.session, call.member)
    acts = may_ever(call.member.role, Action.CARRY_OUT)
    text = instruction_list(
        call.lang, rows, call.today(), call.svc.calendar, hint=acts and bool(rows)
    )
    mine = [
        r
        for r in rows
        if allowed(
            call.member.role, Action.CARRY_OUT, own=r.instruction.unit_id == call.member.unit_id
        )
    ]
    buttons = [
        instruction_row(call.lang, r.instruction.id, r.instruction.acknowledged_at is not None)
        for r in mine[:BUTTON_ROWS]
    ]
    call.say(text, inline_markup(buttons))


BUTTON_ROWS = 5


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("instructions", guarded(list_instructions)))
    app.add_handler(CallbackQueryHandler(guarded(ack_instruction_button), pattern=r"^in:ack:"))


COMMANDS = [
    Command(
        "problem",
        (Ask.PROJECT, Ask.TEXT, Ask.UNIT),
        run_problem,
        action=Action.RAISE_PROBLEM,
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
        action=Action.ANSWER_PROBLEM,
        choices={Ask.PROBLEM: problems_to_answer},
        check={Ask.PROBLEM: problem_check, Ask.TEXT: text_check},
    ),
    Command(
        "resolve",
        (Ask.PROBLEM, Ask.TEXT),
        run_resolve,
        action=Action.RESOLVE_PROBLEM,
        optional=frozenset({Ask.TEXT}),
        choices={Ask.PROBLEM: problems_to_resolve},
        check={Ask.PROBLEM: problem_check, Ask.TEXT: text_check},
    ),
    Command(
        "reopen",
        (Ask.PROBLEM, Ask.TEXT),
        run_reopen,
        action=Action.RESOLVE_PROBLEM,
        choices={Ask.PROBLEM: problems_to_reopen},
        check={Ask.PROBLEM: answered_check, Ask.TEXT: text_check},
    ),
    Command(
        "instruct",
        (Ask.PROJECT, Ask.TEXT),
        run_instruct,
        action=Action.INSTRUCT,
        choices={Ask.PROJECT: instruct_project_choices},
        check={Ask.PROJECT: instruct_project_check, Ask.TEXT: instruct_text_check},
    ),
    Command(
        "fulfil",
        (Ask.ITEM, Ask.TEXT),
        run_fulfil,
        action=Action.CARRY_OUT,
        choices={Ask.ITEM: instructions_to_fulfil},
        check={Ask.ITEM: instruction_check, Ask.TEXT: text_check},
    ),
]
