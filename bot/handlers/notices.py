"""What members do from the scheduler's messages: acknowledge, done, no change, more time,
and the coordinator's urge (催办).

Messages for other people go through `Call.tell`, so into the outbox with the change.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.flow import Ask, Choices, Command, Fields
from bot.format import day, day_off_note, item_label, kind_title, milestone_title
from bot.handlers import undo
from bot.handlers.base import Call, guarded
from bot.handlers.leader_notes import tell_deadline_moved
from bot.handlers.problems import acknowledge_instruction, instruction_ref
from bot.handlers.projects import date_check, echo
from bot.input import number
from bot.keyboards import (
    decision_row,
    instruction_buttons,
    milestone_buttons,
    problem_buttons,
    signoff_row,
)
from bot.texts import t
from storage import extensions, instructions, problems, projects
from storage import undo as undo_store
from storage.errors import Refused
from storage.escalation import Turn, problem_turn
from storage.extensions import Item
from storage.models import AuditLog, ExtensionStatus, Member, ProblemStatus, Role
from storage.outbox import Buttons
from storage.people import actors_for, members_with_role, unit_members
from storage.rules import Action, require


def _payload_id(call: Call, prefix: str) -> int:
    """The number after PREFIX in the pressed button's data; anything else is forged."""
    query = call.update.callback_query
    raw = (query.data or "") if query else ""
    rest = raw.removeprefix(prefix)
    found = number(rest) if rest != raw and rest.isdigit() else None
    if found is None:
        raise Refused("err.bad_button")
    return found


# --- buttons on prompts and notices -----------------------------------------------------

ALL = "*"  # `nc:*`: every project of the member's unit


async def acknowledge(call: Call) -> None:
    """Acknowledge a problem: its unit has seen it (this stops the first climb)."""
    await _acknowledge(call, _payload_id(call, "ack:"))


async def milestone_done(call: Call) -> None:
    """Mark the notice's milestone done."""
    code, seq = await projects.milestone_ref(call.session, _payload_id(call, "md:"))
    ms = await projects.mark_done(call.session, call.member, code, seq, call.today())
    title = milestone_title(call.lang, ms)
    call.say(call.t("ok.done", code=code, n=seq, title=title, date=day(call.lang, ms.done_date)))


async def no_change(call: Call) -> None:
    """Record that a project (`nc:CODE`) or all of my unit's projects (`nc:*`) were checked
    today and nothing changed; what was already noted today is not noted twice."""
    query = call.update.callback_query
    wanted = ((query.data or "") if query else "").removeprefix("nc:")
    if wanted == ALL:
        require(call.member.role, Action.LOG_PROGRESS, own=True)
        codes = list(await projects.unit_active_codes(call.session, call.member.unit_id))
        if not codes:
            raise Refused("err.no_projects", unit=call.member.unit.name)
    else:
        codes = [wanted.upper()]
    noted = [
        code
        for code in codes
        if await projects.log_no_change(
            call.session, call.member, code, call.today(), call.svc.clock()
        )
    ]
    if noted:
        call.say(call.t("ok.no_change", code="、".join(noted), n=len(noted)))
    else:
        call.say(call.t("ok.no_change_already", code="、".join(codes), n=len(codes)))


async def ack_command(call: Call) -> None:
    """/ack ID: acknowledge a problem routed to my unit (as the Acknowledge button does);
    /ack i3 (or 批示3): a leader's instruction to my unit."""
    typed = "".join(call.words)
    instruction_id, rest = instruction_ref(typed, marked=True)
    if instruction_id is not None and not rest:
        await acknowledge_instruction(call, instruction_id)
        return
    problem_id = number(call.args[0]) if len(call.args) == 1 else None
    if problem_id is None:
        raise Refused("usage.ack")
    await _acknowledge(call, problem_id)


async def _acknowledge(call: Call, problem_id: int) -> None:
    problem, changed = await problems.acknowledge(call.session, call.member, problem_id)
    call.say(call.t("ok.ack" if changed else "ok.ack_already", id=problem.id))


# The table and the date column an approved extension moves, by the item's kind.
DATE_COLUMN = {
    "milestone": ("milestones", "planned_date"),
    "problem": ("problems", "reply_deadline"),
    "instruction": ("instructions", "deadline"),
}


async def decide(call: Call, approve: bool) -> None:
    prefix = "xa:" if approve else "xr:"
    since = await undo_store.mark(call.session)
    ext, item, requester = await extensions.decide(
        call.session, call.member, _payload_id(call, prefix), approve, call.today()
    )
    # APPROVED, REFUSED, or OUTDATED: overtaken before the decision and not applied.
    outcome = ext.status.value
    label = item_label(call.lang, item)
    decided = day(call.lang, ext.new_date)
    markup = None
    if ext.status is ExtensionStatus.APPROVED:
        # Undo puts the old date back and the request back before its approvers.
        table, key = DATE_COLUMN[item.kind]
        moved = await undo_store.changes_since(
            call.session, since, call.member.id, [(table, item.id)], {key}
        )
        moved += await undo_store.changes_since(
            call.session, since, call.member.id, [("extensions", ext.id)], {"status"}
        )
        markup = await undo.offer(call, moved, "extension")
        if item.kind == "instruction":
            # The leader who gave it hears that his deadline moved, and who moved it.
            await tell_deadline_moved(call, item.id, ext.old_date, ext.new_date)
    said = call.t(f"ok.{outcome}", item=label, date=decided)
    if ext.status is ExtensionStatus.APPROVED and (
        off := day_off_note(call.lang, ext.new_date, call.svc.calendar)
    ):
        said += "\n" + off
    call.say(said, markup)
    text = t(
        requester.lang,
        f"note.{outcome}",
        item=item_label(requester.lang, item),
        date=day(requester.lang, ext.new_date),
        old=day(requester.lang, ext.old_date),
    )
    call.tell(requester.tg_user_id, text, None, requester.id)


async def approve(call: Call) -> None:
    """Approve a request for more time."""
    await decide(call, True)


async def refuse(call: Call) -> None:
    """Refuse a request for more time."""
    await decide(call, False)


# --- /extend (also the "more time" button) ----------------------------------------------


async def item_choices(call: Call, _fields: Fields) -> Choices:
    found = await extensions.late_items(call.session, call.member)
    return [(extensions.ref(i), item_label(call.lang, i)) for i in found]


async def item_check(call: Call, _fields: Fields, raw: str) -> str:
    kind, item_id = extensions.parse_ref(raw)
    await extensions.askable_item(call.session, call.member, kind, item_id)
    return raw.strip()


async def extension_date_check(call: Call, fields: Fields, raw: str) -> str:
    """The new date: after today and after the item's current date, else asked again.

    An item done (or answered) since it was picked is not asked a date for again: the
    date is let through as typed, and `run_extend` says what became of the item.
    """
    kind, item_id = extensions.parse_ref(str(fields["item"]))
    try:
        item = await extensions.askable_item(call.session, call.member, kind, item_id)
    except Refused:
        return raw.strip()
    new = date.fromisoformat(await date_check(call, fields, raw))
    if new <= call.today() or (item.due is not None and new <= item.due):
        raise Refused("err.extension_date", date=day(call.lang, new), old=day(call.lang, item.due))
    return new.isoformat()


async def run_extend(call: Call, f: Fields) -> None:
    kind, item_id = extensions.parse_ref(f["item"])
    # Done since it was picked: refused here with its state, which ends the flow.
    await extensions.askable_item(call.session, call.member, kind, item_id)
    new = date.fromisoformat(f["date"])
    ext, item = await extensions.request(
        call.session, call.member, kind, item_id, new, call.today()
    )
    said = call.t("ok.extension", item=item_label(call.lang, item), date=day(call.lang, new))
    call.say(echo(said, f, day_off_note(call.lang, new, call.svc.calendar)))
    approvers = await _approvers(call.session, call.member, item)
    for m in approvers:
        text = t(
            m.lang,
            "note.extension",
            who=call.member.name,
            item=item_label(m.lang, item),
            old=day(m.lang, ext.old_date),
            date=day(m.lang, new),
        )
        buttons = [decision_row(m.lang, ext.id)]
        call.tell(m.tg_user_id, text, buttons, m.id)


async def _approvers(session: AsyncSession, requester: Member, item: Item) -> list[Member]:
    """The unit's heads decide for its officers; coordinators decide for heads (and when a
    unit has no head)."""
    candidates: list[Member] = []
    if extensions.approvers_role(requester) is Role.HEAD:
        candidates = list(await unit_members(session, item.unit_id, [Role.HEAD]))
    if not [m for m in candidates if m.id != requester.id]:
        candidates = list(await members_with_role(session, Role.COORDINATOR))
    return [m for m in candidates if m.id != requester.id]


# --- /urge ------------------------------------------------------------------------------


async def urge(call: Call) -> None:
    """Urge (催办) a problem, a milestone or an instruction now: /urge ID, /urge CODE N or
    /urge i3 (批示3)."""
    require(call.member.role, Action.URGE)
    args = call.words
    instruction_id, rest = instruction_ref(" ".join(args), marked=True)
    if instruction_id is not None and not rest:
        await _urge_instruction(call, instruction_id)
        return
    problem_id = number(args[0]) if len(args) == 1 else None
    seq = number(args[1]) if len(args) == 2 else None
    if problem_id is not None:
        item = await extensions.find_item(call.session, call.member, "problem", problem_id)
    elif seq is not None:
        project = await projects.visible_project(call.session, call.member, args[0])
        ms = await projects.milestone(call.session, project, seq)
        item = await extensions.find_item(call.session, call.member, "milestone", ms.id)
    else:
        raise Refused("usage.urge")
    problem = (
        await problems.visible_problem(call.session, call.member, item.id)
        if item.kind == "problem"
        else None
    )
    if problem is not None and problem_turn(problem.status) is Turn.RAISER:
        # Answered: it is the raiser's turn to sign off, never the answering unit's.
        raiser = await call.session.get(Member, problem.raiser_id)
        people = [raiser] if raiser is not None and raiser.active else []
    elif problem is not None and problem_turn(problem.status) is Turn.NOBODY:
        raise Refused("err.problem_closed", id=problem.id, status=problem.status.value)
    else:
        people = list(await unit_members(call.session, item.unit_id, [Role.OFFICER, Role.HEAD]))
        if not people:
            people = (await actors_for(call.session, item.unit_id, heads_first=False)).people
    if not people:
        raise Refused("err.nobody_to_urge")
    for m in people:
        if problem is not None and problem_turn(problem.status) is Turn.RAISER:
            text = t(
                m.lang,
                "urge.signoff",
                who=call.member.name,
                id=item.id,
                code=item.code,
                unit=problem.unit.name,
                title=item.title,
            )
            buttons: Buttons = [signoff_row(m.lang, item.id)]
        elif item.kind == "problem":
            text = t(
                m.lang,
                "urge.problem",
                who=call.member.name,
                id=item.id,
                code=item.code,
                title=item.title,
            )
            acknowledged = problem is not None and problem.status is ProblemStatus.ACKNOWLEDGED
            buttons = problem_buttons(m.lang, item.id, acknowledged)
        else:
            text = t(
                m.lang,
                "urge.milestone",
                who=call.member.name,
                code=item.code,
                title=f"{item.seq}. {kind_title(m.lang, item.ms_kind, item.title)}",
                date=day(m.lang, item.due),
            )
            buttons = milestone_buttons(m.lang, item.id)
        call.tell(m.tg_user_id, text, buttons, m.id)
    _log_urge(call, f"{item.kind}s", item.id, people)


def _log_urge(call: Call, entity: str, item_id: int, people: list[Member]) -> None:
    # An urge changes no record, so it is logged by hand.
    call.session.add(
        AuditLog(
            actor_id=call.member.id,
            action="urge",
            entity=entity,
            entity_id=str(item_id),
            after={"told": [m.id for m in people]},
        )
    )
    call.say(call.t("ok.urge", n=len(people)))


async def _urge_instruction(call: Call, instruction_id: int) -> None:
    """An instruction not reported done waits for its unit: its people get the buttons."""
    found = await instructions.visible_instruction(call.session, call.member, instruction_id)
    if found.done_at is not None:
        raise Refused("err.instruction_done", id=found.id)
    item = await extensions.find_item(call.session, call.member, "instruction", found.id)
    people = list(await unit_members(call.session, found.unit_id, [Role.OFFICER, Role.HEAD]))
    if not people:
        people = (await actors_for(call.session, found.unit_id, heads_first=False)).people
    if not people:
        raise Refused("err.nobody_to_urge")
    for m in people:
        text = t(
            m.lang,
            "urge.instruction",
            who=call.member.name,
            id=found.id,
            code=item.code,
            title=item.title,
            date=day(m.lang, found.deadline),
        )
        buttons = instruction_buttons(m.lang, found.id, found.acknowledged_at is not None)
        call.tell(m.tg_user_id, text, buttons, m.id)
    _log_urge(call, "instructions", found.id, people)


COMMANDS = [
    Command(
        "extend",
        (Ask.ITEM, Ask.DATE),
        run_extend,
        action=Action.ASK_MORE_TIME,
        choices={Ask.ITEM: item_choices},
        check={Ask.ITEM: item_check, Ask.DATE: extension_date_check},
    ),
]


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("urge", guarded(urge)))
    app.add_handler(CommandHandler("ack", guarded(ack_command)))
    app.add_handler(CallbackQueryHandler(guarded(acknowledge), pattern=r"^ack:"))
    app.add_handler(CallbackQueryHandler(guarded(milestone_done), pattern=r"^md:"))
    app.add_handler(CallbackQueryHandler(guarded(no_change), pattern=r"^nc:"))
    app.add_handler(CallbackQueryHandler(guarded(approve), pattern=r"^xa:"))
    app.add_handler(CallbackQueryHandler(guarded(refuse), pattern=r"^xr:"))
