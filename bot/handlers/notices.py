"""What members do from the scheduler's messages: acknowledge, done, no change, more time,
and the coordinator's urge (催办).

Messages for other people go through `Call.tell`, so into the outbox with the change.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.flow import Ask, Choices, Command, Fields
from bot.format import day
from bot.handlers.base import Call, guarded
from bot.handlers.projects import date_check
from bot.scheduler import milestone_buttons, problem_buttons
from bot.texts import t
from storage import extensions, problems, projects
from storage.errors import Refused
from storage.extensions import Item
from storage.models import AuditLog, Member, Role
from storage.people import members_with_role, unit_members
from storage.rules import Action, require


def _payload_id(call: Call, prefix: str) -> int:
    """The number after PREFIX in the pressed button's data; anything else is forged."""
    query = call.update.callback_query
    raw = (query.data or "") if query else ""
    rest = raw.removeprefix(prefix)
    if rest == raw or not rest.isdigit():
        raise Refused("err.bad_button")
    return int(rest)


def item_label(lang: str, item: Item) -> str:
    if item.kind == "problem":
        return t(lang, "item.problem", id=item.id, code=item.code)
    return t(lang, "item.milestone", code=item.code, title=item.title)


# --- buttons on prompts and notices -----------------------------------------------------


async def acknowledge(call: Call) -> None:
    """Acknowledge a problem: its unit has seen it (this stops the first climb)."""
    problem = await problems.acknowledge(call.session, call.member, _payload_id(call, "ack:"))
    call.say(call.t("ok.ack", id=problem.id))


async def milestone_done(call: Call) -> None:
    """Mark the notice's milestone done."""
    code, seq = await projects.milestone_ref(call.session, _payload_id(call, "md:"))
    ms = await projects.mark_done(call.session, call.member, code, seq, call.today())
    call.say(call.t("ok.done", code=code, n=seq, title=ms.title, date=day(call.lang, ms.done_date)))


async def no_change(call: Call) -> None:
    """Record that the project was checked today and nothing changed."""
    query = call.update.callback_query
    code = ((query.data or "") if query else "").removeprefix("nc:")
    await projects.log_no_change(call.session, call.member, code, call.today(), call.svc.clock())
    call.say(call.t("ok.no_change", code=code.upper()))


async def decide(call: Call, approve: bool) -> None:
    prefix = "xa:" if approve else "xr:"
    ext, item, requester = await extensions.decide(
        call.session, call.member, _payload_id(call, prefix), approve
    )
    label = item_label(call.lang, item)
    call.say(call.t("ok.approved" if approve else "ok.refused", item=label, date=ext.new_date))
    key = "note.approved" if approve else "note.refused"
    text = t(
        requester.lang,
        key,
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
    return [
        (f"{'m' if i.kind == 'milestone' else 'p'}:{i.id}", item_label(call.lang, i)) for i in found
    ]


async def item_check(call: Call, _fields: Fields, raw: str) -> str:
    kind, item_id = extensions.parse_ref(raw)
    await extensions.askable_item(call.session, call.member, kind, item_id)
    return raw.strip()


async def run_extend(call: Call, f: Fields) -> None:
    kind, item_id = extensions.parse_ref(f["item"])
    new = date.fromisoformat(f["date"])
    ext, item = await extensions.request(
        call.session, call.member, kind, item_id, new, call.today()
    )
    call.say(call.t("ok.extension", item=item_label(call.lang, item), date=day(call.lang, new)))
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
        buttons = [
            [[t(m.lang, "btn.approve"), f"xa:{ext.id}"], [t(m.lang, "btn.refuse"), f"xr:{ext.id}"]]
        ]
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
    """Urge (催办) a problem or a milestone now: /urge ID or /urge CODE N."""
    require(call.member.role, Action.URGE)
    args = call.args
    if len(args) == 1 and args[0].lstrip("#").isdigit():
        item = await extensions.find_item(
            call.session, call.member, "problem", int(args[0].lstrip("#"))
        )
    elif len(args) == 2 and args[1].isdigit():
        project = await projects.visible_project(call.session, call.member, args[0])
        ms = await projects.milestone(call.session, project, int(args[1]))
        item = await extensions.find_item(call.session, call.member, "milestone", ms.id)
    else:
        raise Refused("usage.urge")
    people = await unit_members(call.session, item.unit_id, [Role.OFFICER, Role.HEAD])
    if not people:
        raise Refused("err.nobody_to_urge")
    for m in people:
        if item.kind == "problem":
            text = t(
                m.lang,
                "urge.problem",
                who=call.member.name,
                id=item.id,
                code=item.code,
                title=item.title,
            )
            buttons = problem_buttons(m.lang, item.id)
        else:
            text = t(
                m.lang,
                "urge.milestone",
                who=call.member.name,
                code=item.code,
                title=item.title,
                date=day(m.lang, item.due),
            )
            buttons = milestone_buttons(m.lang, item.id)
        call.tell(m.tg_user_id, text, buttons, m.id)
    # An urge changes no record, so it is logged by hand.
    call.session.add(
        AuditLog(
            actor_id=call.member.id,
            action="urge",
            entity="milestones" if item.kind == "milestone" else "problems",
            entity_id=str(item.id),
            after={"told": [m.id for m in people]},
        )
    )
    call.say(call.t("ok.urge", n=len(people)))


COMMANDS = [
    Command(
        "extend",
        (Ask.ITEM, Ask.DATE),
        run_extend,
        choices={Ask.ITEM: item_choices},
        check={Ask.ITEM: item_check, Ask.DATE: date_check},
    ),
]


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("urge", guarded(urge)))
    app.add_handler(CallbackQueryHandler(guarded(acknowledge), pattern=r"^ack:"))
    app.add_handler(CallbackQueryHandler(guarded(milestone_done), pattern=r"^md:"))
    app.add_handler(CallbackQueryHandler(guarded(no_change), pattern=r"^nc:"))
    app.add_handler(CallbackQueryHandler(guarded(approve), pattern=r"^xa:"))
    app.add_handler(CallbackQueryHandler(guarded(refuse), pattern=r"^xr:"))
