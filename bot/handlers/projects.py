"""Projects and their time lists.

/projects, /project, /today, /progress, /done, /due, /stage and /plan.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

from telegram.ext import Application, CommandHandler

from bot.dates import parse_deadline_detail
from bot.flow import FILE_ID, FILE_KIND, Ask, Choices, Command, Fields
from bot.format import (
    day,
    day_off_note,
    item_label,
    milestone_line,
    milestone_title,
    project_card,
    project_list,
    stage,
    today_text,
)
from bot.handlers import undo
from bot.handlers.base import Call, guarded
from bot.handlers.undo import taken_note
from bot.input import fold, number
from bot.keyboards import decision_row, inline_markup, instruction_row, no_change_buttons
from bot.texts import CATALOG
from storage import agenda as agenda_store
from storage import extensions
from storage import instructions as instruction_store
from storage import projects as store
from storage import undo as undo_store
from storage.errors import Refused
from storage.ledger import stage_word
from storage.models import Stage
from storage.people import unit_by_name
from storage.rules import Action, allowed, sees_everything


def parse_stage(text: str) -> Stage:
    """A stage by its value, its name in either language (`signed`, `签约`) or a word the
    ledgers use for it (`在建`, `已开工`)."""
    wanted = text.strip().lower()
    for s in Stage:
        names = {s.value} | {CATALOG[lang][f"stage.{s.value}"].lower() for lang in CATALOG}
        if wanted in names:
            return s
    found = stage_word(text)
    if found is None:
        raise Refused("err.bad_stage", stage=text.strip()[:20])
    return found


# --- how fields are offered and checked -------------------------------------------------


def project_choices(action: Action) -> Callable[[Call, Fields], Awaitable[Choices]]:
    """Buttons for the projects the member may do ACTION on (the first twenty)."""

    async def offer(call: Call, _fields: Fields) -> Choices:
        projects = await store.list_projects(call.session, call.member)
        own = [
            p for p in projects if allowed(call.member.role, action, own=store.owns(call.member, p))
        ]
        return [(p.code, f"{p.code} {p.name}") for p in own[:20]]

    return offer


def open_milestone_choices(action: Action) -> Callable[[Call, Fields], Awaitable[Choices]]:
    """Buttons for the projects the member may do ACTION on that have an open milestone:
    offering one without would lead nowhere. A unit that owns a milestone of another
    unit's project (the land bureau's 土地摘牌) is offered that project too."""

    async def offer(call: Call, _fields: Fields) -> Choices:
        found = []
        for p, owns_one in await store.open_milestone_projects(call.session, call.member):
            own = store.owns(call.member, p) or owns_one
            if allowed(call.member.role, action, own=own):
                found.append(p)
        return [(p.code, f"{p.code} {p.name}") for p in found[:20]]

    return offer


def project_check(action: Action) -> Callable[[Call, Fields, str], Awaitable[str]]:
    async def check(call: Call, _fields: Fields, raw: str) -> str:
        return (await store.visible_project(call.session, call.member, fold(raw), action)).code

    return check


async def reachable_check(call: Call, _fields: Fields, raw: str) -> str:
    return (await store.reachable_project(call.session, call.member, fold(raw))).code


async def open_milestones(call: Call, fields: Fields) -> Choices:
    project = await store.reachable_project(call.session, call.member, fields["project"])
    return [
        (str(m.seq), f"{m.seq}. {milestone_title(call.lang, m)} {day(call.lang, m.planned_date)}")
        for m in await store.milestones(call.session, project.id)
        if m.done_date is None
    ]


async def milestone_check(call: Call, fields: Fields, raw: str) -> int:
    seq = number(raw)
    if seq is None:
        raise Refused("err.bad_number", text=raw.strip()[:20])
    project = await store.reachable_project(call.session, call.member, fields["project"])
    ms = await store.milestone(call.session, project, seq)
    if ms.done_date is not None:
        # Done is done: neither /done again nor a new date for it.
        raise Refused("err.already_done", n=seq, date=day(call.lang, ms.done_date))
    return seq


async def stage_choices(call: Call, _fields: Fields) -> Choices:
    return [(s.value, stage(call.lang, s.value)) for s in Stage]


async def stage_check(_call: Call, _fields: Fields, raw: str) -> str:
    return parse_stage(raw).value


async def date_check(call: Call, fields: Fields, raw: str) -> str:
    """A deadline in words; one already past is asked for again, not run and refused.
    When the words held more than one date, the echo will say which one was taken."""
    reading = parse_deadline_detail(raw, call.today(), call.svc.calendar)
    if reading is None:
        raise Refused("err.bad_date", text=raw.strip()[:40])
    found = reading.day
    if found < call.today():
        raise Refused("err.date_past", date=day(call.lang, found))
    fields[TAKEN] = taken_note(call.lang, reading)
    return found.isoformat()


# The line saying which of several dates in the text was taken (see bot.handlers.undo).
TAKEN = "_date_taken"


def echo(text: str, f: Fields, off: str = "") -> str:
    """TEXT with the line on which date was taken, when there is one, and OFF (the line
    saying the date falls on a day off, `day_off_note`)."""
    taken = str(f.get(TAKEN) or "")
    return "\n".join(line for line in (text, taken, off) if line)


async def text_check(_call: Call, _fields: Fields, raw: str) -> str:
    return store.check_text(raw)


# --- what the commands do ---------------------------------------------------------------


async def run_project(call: Call, f: Fields) -> None:
    card = await store.card(call.session, call.member, f["project"])
    may_plan = allowed(call.member.role, Action.PLAN)
    call.say(
        project_card(
            call.lang,
            card,
            call.today(),
            call.svc.config.work.soon_days,
            may_plan=may_plan,
            instructions=await instruction_store.for_project(call.session, card.project.id),
            calendar=call.svc.calendar,
        )
    )


async def run_progress(call: Call, f: Fields) -> None:
    report = await store.log_progress(
        call.session,
        call.member,
        f["project"],
        f["text"],
        call.today(),
        now=call.svc.clock(),
        file_id=f.get(FILE_ID),
        file_kind=f.get(FILE_KIND),
    )
    key = f"ok.progress.{report.file_kind}" if report.file_kind else "ok.progress"
    call.say(call.t(key, code=f["project"], date=day(call.lang, report.report_date)))


async def run_done(call: Call, f: Fields) -> None:
    ms = await store.mark_done(
        call.session, call.member, f["project"], f["milestone"], call.today()
    )
    call.say(
        call.t(
            "ok.done",
            code=f["project"],
            n=ms.seq,
            title=milestone_title(call.lang, ms),
            date=day(call.lang, ms.done_date),
        )
    )


async def run_due(call: Call, f: Fields) -> None:
    new = date.fromisoformat(f["date"])
    since = await undo_store.mark(call.session)
    ms, before = await store.set_due(
        call.session, call.member, f["project"], f["milestone"], new, call.today()
    )
    moved = await undo_store.changes_since(
        call.session, since, call.member.id, [("milestones", ms.id)], {"planned_date"}
    )
    text = call.t(
        "ok.due",
        code=f["project"],
        n=ms.seq,
        title=milestone_title(call.lang, ms),
        before=day(call.lang, before),
        date=day(call.lang, new),
    )
    off = day_off_note(call.lang, new, call.svc.calendar)
    call.say(echo(text, f, off), await undo.offer(call, moved, "due"))


async def run_stage(call: Call, f: Fields) -> None:
    new = Stage(f["stage"])
    before = await store.set_stage(call.session, call.member, f["project"], new)
    call.say(
        call.t(
            "ok.stage",
            code=f["project"],
            before=stage(call.lang, before.value),
            stage=stage(call.lang, new.value),
        )
    )


async def run_plan(call: Call, f: Fields) -> None:
    target = date.fromisoformat(f["date"])
    svc = call.svc
    since = await undo_store.mark(call.session)
    planned = await store.plan(
        call.session,
        call.member,
        f["project"],
        target,
        svc.config.plan,
        call.today(),
        svc.calendar.is_workday,
    )
    lines = [echo(call.t("ok.plan", code=f["project"], date=day(call.lang, target)), f)]
    lines += [
        milestone_line(call.lang, m, call.today(), svc.config.work.soon_days) for m in planned
    ]
    # Steps that should already have started are squeezed to today: say how many.
    longest = max((step.days_before for step in svc.config.plan), default=0)
    squeezed = [m for m in planned if m.done_date is None and m.planned_date == call.today()]
    if squeezed and (target - call.today()).days < longest:
        lines.append(call.t("warn.plan_squeezed", n=len(squeezed), days=longest))
    # Undo puts the moved milestones' dates back; a plan that added milestones has none,
    # for nothing is deleted (README: "Undo").
    markup = None
    if not await undo_store.created_since(call.session, since, call.member.id, "milestones"):
        refs = [("milestones", m.id) for m in planned]
        moved = await undo_store.changes_since(
            call.session, since, call.member.id, refs, {"planned_date"}
        )
        markup = await undo.offer(call, moved, "plan")
    call.say("\n".join(lines), markup)


COMMANDS = [
    Command(
        "project",
        (Ask.PROJECT,),
        run_project,
        action=Action.VIEW,
        choices={Ask.PROJECT: project_choices(Action.VIEW)},
        check={Ask.PROJECT: project_check(Action.VIEW)},
    ),
    Command(
        "progress",
        (Ask.PROJECT, Ask.TEXT),
        run_progress,
        action=Action.LOG_PROGRESS,
        choices={Ask.PROJECT: project_choices(Action.LOG_PROGRESS)},
        check={Ask.PROJECT: project_check(Action.LOG_PROGRESS), Ask.TEXT: text_check},
        files=True,
    ),
    Command(
        "done",
        (Ask.PROJECT, Ask.MILESTONE),
        run_done,
        action=Action.MARK_DONE,
        choices={
            Ask.PROJECT: open_milestone_choices(Action.MARK_DONE),
            Ask.MILESTONE: open_milestones,
        },
        check={Ask.PROJECT: reachable_check, Ask.MILESTONE: milestone_check},
    ),
    Command(
        "due",
        (Ask.PROJECT, Ask.MILESTONE, Ask.DATE),
        run_due,
        action=Action.SET_DUE,
        choices={
            Ask.PROJECT: open_milestone_choices(Action.SET_DUE),
            Ask.MILESTONE: open_milestones,
        },
        check={
            Ask.PROJECT: project_check(Action.SET_DUE),
            Ask.MILESTONE: milestone_check,
            Ask.DATE: date_check,
        },
    ),
    Command(
        "stage",
        (Ask.PROJECT, Ask.STAGE),
        run_stage,
        action=Action.SET_STAGE,
        choices={Ask.PROJECT: project_choices(Action.SET_STAGE), Ask.STAGE: stage_choices},
        check={Ask.PROJECT: project_check(Action.SET_STAGE), Ask.STAGE: stage_check},
    ),
    Command(
        "plan",
        (Ask.PROJECT, Ask.DATE),
        run_plan,
        action=Action.PLAN,
        choices={Ask.PROJECT: project_choices(Action.PLAN)},
        check={Ask.PROJECT: project_check(Action.PLAN), Ask.DATE: date_check},
    ),
]


# --- plain commands ---------------------------------------------------------------------


async def projects(call: Call) -> None:
    """List the projects I can see, filtered by a stage, a unit or a word."""
    words = " ".join(call.args).strip()
    stage_filter = unit_id = text = None
    if words:
        try:
            stage_filter = parse_stage(words)
        except Refused:
            unit = await unit_by_name(call.session, words)
            if unit is not None and (
                sees_everything(call.member.role) or unit.id == call.member.unit_id
            ):
                unit_id = unit.id
            else:
                text = words
    found = await store.list_projects(
        call.session, call.member, stage=stage_filter, unit_id=unit_id, text=text
    )
    call.say(project_list(call.lang, found))


async def today(call: Call) -> None:
    """My list for today."""
    work = call.svc.config.work
    now_day = call.today()
    todo = await agenda_store.agenda(
        call.session,
        call.member,
        now_day,
        call.svc.clock(),
        soon_days=work.soon_days,
        stale_days=work.stale_days,
    )
    # The unit's projects listed here can be answered "no change today" at once.
    codes = [p.code for _, p in [*todo.overdue, *todo.due_soon] if p.unit_id == call.member.unit_id]
    codes += [p.code for p, _, _ in todo.targets] + [p.code for p in todo.stale]
    buttons = no_change_buttons(call.lang, list(dict.fromkeys(codes)), NO_CHANGE_ROWS)
    pending = await extensions.pending_for(call.session, call.member)
    approvals = [
        call.t(
            "today.approval_row",
            who=who.name,
            item=item_label(call.lang, item),
            old=day(call.lang, ext.old_date),
            date=day(call.lang, ext.new_date),
        )
        for ext, item, who in pending
    ]
    buttons = [decision_row(call.lang, ext.id) for ext, _, _ in pending[:3]] + buttons
    # The unit's instructions can be acknowledged and reported done from here too.
    buttons = [
        instruction_row(call.lang, r.instruction.id, r.instruction.acknowledged_at is not None)
        for r in todo.instructions[:3]
        if allowed(call.member.role, Action.CARRY_OUT, own=True)
    ] + buttons
    call.say(
        today_text(
            call.lang,
            todo,
            now_day,
            work,
            call.svc.config.city.tz,
            approvals,
            calendar=call.svc.calendar,
        ),
        inline_markup(buttons),
    )


NO_CHANGE_ROWS = 6


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("projects", guarded(projects)))
    app.add_handler(CommandHandler("today", guarded(today)))
