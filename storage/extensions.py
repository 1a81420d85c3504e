"""Requests for more time on a milestone, a problem's answer or a leader's instruction,
and the head's or the center's decision on them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.errors import Refused
from storage.escalation import UNIT_TURN
from storage.instructions import askable as askable_instructions
from storage.instructions import open_instruction, visible_instruction
from storage.models import (
    MAX_ID,
    Extension,
    ExtensionStatus,
    Instruction,
    Member,
    Milestone,
    Problem,
    ProblemStatus,
    Project,
    Role,
    utcnow,
)
from storage.problems import visible_problem
from storage.projects import reachable_project
from storage.rules import Action, require


@dataclass(frozen=True)
class Item:
    """A milestone, a problem or an instruction that can be late, with the unit that must
    act on it."""

    kind: str  # "milestone", "problem" or "instruction"
    id: int
    code: str
    title: str  # the milestone's stored title, or the problem's or instruction's text
    unit_id: int
    due: date | None
    seq: int = 0  # a milestone's number in its project
    ms_kind: str = ""  # a milestone's kind (site, land…), which names it in English


# The letter of each kind in a reference (`m:12`, `p:7`, `i:3`), as the buttons carry it.
REF_KINDS = {"m": "milestone", "p": "problem", "i": "instruction"}
REF_LETTERS = {kind: letter for letter, kind in REF_KINDS.items()}


def parse_ref(ref: str) -> tuple[str, int]:
    """`m:12`, `p:7` or `i:3` (as on the buttons) into a kind and an id."""
    letter, _, raw = ref.strip().partition(":")
    if letter not in REF_KINDS or not raw.isdigit() or int(raw) > MAX_ID:
        raise Refused("err.bad_button")
    return REF_KINDS[letter], int(raw)


def ref(item: Item) -> str:
    """The reference of ITEM as `parse_ref` reads it."""
    return f"{REF_LETTERS[item.kind]}:{item.id}"


async def find_item(session: AsyncSession, member: Member, kind: str, item_id: int) -> Item:
    """The item, if the member may see it (else it does not exist for them)."""
    if kind == "instruction":
        instruction = await visible_instruction(session, member, item_id)
        project = await session.get(Project, instruction.project_id)
        assert project is not None
        return Item(
            "instruction",
            instruction.id,
            project.code,
            instruction.text,
            instruction.unit_id,
            instruction.deadline,
        )
    if kind == "problem":
        problem = await visible_problem(session, member, item_id)
        return Item(
            "problem",
            problem.id,
            problem.project.code,
            problem.text,
            problem.unit_id,
            problem.reply_deadline,
        )
    ms = await session.get(Milestone, item_id)
    project = await session.get(Project, ms.project_id) if ms is not None else None
    if ms is None or project is None:
        raise Refused("err.unknown_item")
    await reachable_project(session, member, project.code)
    unit = ms.owner_unit_id or project.unit_id
    return Item("milestone", ms.id, project.code, ms.title, unit, ms.planned_date, ms.seq, ms.kind)


async def askable_item(session: AsyncSession, member: Member, kind: str, item_id: int) -> Item:
    """The item, if the member may ask more time for it: its unit's people, or the center;
    and if it is still to be done (a milestone done, a problem answered or an instruction
    reported done meanwhile is refused with what became of it)."""
    item = await find_item(session, member, kind, item_id)
    require(member.role, Action.ASK_MORE_TIME, own=member.unit_id == item.unit_id)
    if kind == "milestone":
        ms = await session.get(Milestone, item_id)
        if ms is not None and ms.done_date is not None:
            raise Refused("err.already_done", n=ms.seq, date=ms.done_date.isoformat())
    if kind == "problem":
        problem = await visible_problem(session, member, item_id)
        if problem.status not in UNIT_TURN:
            raise Refused("err.problem_closed", id=problem.id, status=problem.status.value)
    if kind == "instruction":
        await open_instruction(session, member, item_id)  # done is done
    return item


async def request(
    session: AsyncSession, member: Member, kind: str, item_id: int, new_date: date, today: date
) -> tuple[Extension, Item]:
    """Ask for more time on an item the member may ask it for."""
    item = await askable_item(session, member, kind, item_id)
    if new_date <= today or (item.due is not None and new_date <= item.due):
        raise Refused(
            "err.extension_date",
            date=new_date.isoformat(),
            old=item.due.isoformat() if item.due else "—",
        )
    pending = await session.scalar(
        select(Extension).where(
            Extension.item_kind == kind,
            Extension.item_id == item_id,
            Extension.status == ExtensionStatus.PENDING,
        )
    )
    if pending is not None:
        raise Refused("err.extension_pending", id=pending.id)
    if kind == "problem":
        # Asking for more time shows the unit has seen the problem.
        problem = await visible_problem(session, member, item_id)
        if problem.status is ProblemStatus.OPEN:
            problem.status = ProblemStatus.ACKNOWLEDGED
    if kind == "instruction":
        instruction = await session.get(Instruction, item_id)
        assert instruction is not None
        if instruction.acknowledged_at is None:
            instruction.acknowledged_at = utcnow()
    ext = Extension(
        item_kind=kind,
        item_id=item_id,
        requester_id=member.id,
        old_date=item.due,
        new_date=new_date,
    )
    session.add(ext)
    await session.flush()
    return ext, item


def approvers_role(requester: Member) -> Role:
    """A unit's head decides for the unit's officers; the center decides for heads."""
    return Role.HEAD if requester.role is Role.OFFICER else Role.COORDINATOR


async def decide(
    session: AsyncSession, member: Member, extension_id: int, approve: bool, today: date
) -> tuple[Extension, Item, Member]:
    """Approve (the date moves and the item's escalation starts over) or refuse.

    TODAY is the local date. A request overtaken since it was made (the item done or
    answered, its date changed, or the date asked for not after TODAY) is not applied:
    approving it marks it OUTDATED, which the caller tells apart by the status.
    """
    ext = await session.get(Extension, extension_id)
    if ext is None:
        raise Refused("err.unknown_item")
    requester = await session.get(Member, ext.requester_id)
    assert requester is not None
    item = await find_item(session, requester, ext.item_kind, ext.item_id)
    require(member.role, Action.GRANT_MORE_TIME, own=member.unit_id == item.unit_id)
    if member.id == requester.id:  # nobody approves their own request
        raise Refused("err.not_allowed", who=(approvers_role(requester),))
    if ext.status is not ExtensionStatus.PENDING:
        raise Refused("err.extension_decided", id=ext.id)
    ext.decided_by_id = member.id
    ext.decided_at = utcnow()
    if not approve:
        ext.status = ExtensionStatus.REFUSED
    elif await _overtaken(session, ext, today):
        ext.status = ExtensionStatus.OUTDATED
    else:
        ext.status = ExtensionStatus.APPROVED
        # A new date starts the item's escalation over (models: the planned_date event).
        if ext.item_kind == "milestone":
            ms = await session.get(Milestone, ext.item_id)
            assert ms is not None
            ms.planned_date = ext.new_date
        elif ext.item_kind == "instruction":
            instruction = await session.get(Instruction, ext.item_id)
            assert instruction is not None
            instruction.deadline = ext.new_date
        else:
            problem = await session.get(Problem, ext.item_id)
            assert problem is not None
            problem.reply_deadline = ext.new_date
    await session.flush()
    return ext, item, requester


async def _overtaken(session: AsyncSession, ext: Extension, today: date) -> bool:
    """Whether the request no longer fits its item (see `decide`)."""
    if ext.new_date <= today:
        return True
    if ext.item_kind == "milestone":
        ms = await session.get(Milestone, ext.item_id)
        return ms is None or ms.done_date is not None or ms.planned_date != ext.old_date
    if ext.item_kind == "instruction":
        instruction = await session.get(Instruction, ext.item_id)
        return (
            instruction is None
            or instruction.done_at is not None
            or instruction.deadline != ext.old_date
        )
    problem = await session.get(Problem, ext.item_id)
    return (
        problem is None or problem.status not in UNIT_TURN or problem.reply_deadline != ext.old_date
    )


async def late_items(session: AsyncSession, member: Member) -> Sequence[Item]:
    """What the member's unit could ask more time for: its open, dated milestones, the
    problems it must answer and the instructions it must carry out."""
    rows = await session.execute(
        select(Milestone, Project)
        .join(Project, Project.id == Milestone.project_id)
        .where(
            Milestone.done_date.is_(None),
            Milestone.planned_date.is_not(None),
            (Milestone.owner_unit_id == member.unit_id)
            | ((Milestone.owner_unit_id.is_(None)) & (Project.unit_id == member.unit_id)),
        )
        .order_by(Milestone.planned_date)
        .limit(20)
    )
    items = [
        Item("milestone", m.id, p.code, m.title, member.unit_id, m.planned_date, m.seq, m.kind)
        for m, p in rows.all()
    ]
    problems = await session.scalars(
        select(Problem)
        .where(Problem.unit_id == member.unit_id, Problem.status.in_(UNIT_TURN))
        .order_by(Problem.id)
        .limit(10)
    )
    items += [
        Item("problem", p.id, p.project.code, p.text, p.unit_id, p.reply_deadline) for p in problems
    ]
    for instruction in await askable_instructions(session, member, limit=10):
        items.append(await find_item(session, member, "instruction", instruction.id))
    return items


async def pending_for(
    session: AsyncSession, member: Member, limit: int = 10
) -> list[tuple[Extension, Item, Member]]:
    """Requests for more time waiting for MEMBER's decision, oldest first, with their item
    and requester: a head decides for the unit's officers; a coordinator for heads, and for
    officers of units that have no head (as the notice of the request went)."""
    if member.role not in (Role.HEAD, Role.COORDINATOR):
        return []
    requester = aliased(Member)
    stmt = (
        select(Extension, requester)
        .join(requester, requester.id == Extension.requester_id)
        .where(Extension.status == ExtensionStatus.PENDING, requester.id != member.id)
        .order_by(Extension.id)
    )
    if member.role is Role.HEAD:
        stmt = stmt.where(requester.unit_id == member.unit_id, requester.role == Role.OFFICER)
    else:
        headed = select(Member.unit_id).where(Member.role == Role.HEAD, Member.active.is_(True))
        stmt = stmt.where((requester.role == Role.HEAD) | requester.unit_id.not_in(headed))
    found = []
    for ext, who in (await session.execute(stmt.limit(limit))).all():
        try:
            item = await find_item(session, who, ext.item_kind, ext.item_id)
        except Refused:
            continue  # the item went out of the requester's reach meanwhile
        found.append((ext, item, who))
    return found
