"""Leaders' instructions (批示) as tracked work: given, acknowledged, reported done.

A leader gives an instruction on a project to the project's responsible unit, with a
deadline (read from the text by the handler, else `[work] instruction_days` working
days). The unit acknowledges it (收到), may ask for more time (storage.extensions, kind
"instruction"), and reports it done with a line of text; until then it stays in the unit's
daily prompt and climbs the chain on its own timers (storage.escalation).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.agenda import InstructionRow, instruction_rows
from storage.errors import Refused
from storage.models import MAX_ID, Instruction, Member, Project, Stage, utcnow
from storage.projects import check_text, visible_project
from storage.rules import Action, require, sees_everything


async def give(
    session: AsyncSession,
    leader: Member,
    code: str,
    text: str,
    deadline: date,
    today: date,
    now: datetime | None = None,
) -> Instruction:
    """A leader's instruction on project CODE to its responsible unit, due by DEADLINE.

    DEADLINE and TODAY are local dates; a DEADLINE before TODAY is refused
    (`err.instruction_past`), as are a member who may not instruct, an unknown code and a
    dropped project (`err.instruct_dropped`: nobody would carry it out).
    """
    project = await instructable_project(session, leader, code)
    text = check_text(text)
    if deadline < today:
        raise Refused("err.instruction_past", date=deadline.isoformat())
    instruction = Instruction(
        leader_id=leader.id,
        project_id=project.id,
        text=text,
        unit_id=project.unit_id,
        deadline=deadline,
        created_at=now or utcnow(),
    )
    session.add(instruction)
    await session.flush()
    return instruction


async def instructable_project(session: AsyncSession, leader: Member, code: str) -> Project:
    """The project LEADER may give an instruction on: one he may see and that is not
    dropped (终止). Raises Refused (`err.unknown_project`, `err.not_allowed`,
    `err.instruct_dropped`)."""
    project = await visible_project(session, leader, code, Action.INSTRUCT)
    if project.stage is Stage.DROPPED:
        raise Refused("err.instruct_dropped", code=project.code)
    return project


async def visible_instruction(
    session: AsyncSession, member: Member, instruction_id: int
) -> Instruction:
    """The instruction, if MEMBER may see it: coordinators, leaders and admins all; others
    those addressed to their unit or given on its projects. Otherwise it does not exist
    for them (`err.unknown_instruction`)."""
    instruction = (
        await session.get(Instruction, instruction_id) if 0 < instruction_id <= MAX_ID else None
    )
    if instruction is None:
        raise Refused("err.unknown_instruction", id=instruction_id)
    if not sees_everything(member.role) and member.unit_id != instruction.unit_id:
        project = await session.get(Project, instruction.project_id)
        if project is None or project.unit_id != member.unit_id:
            raise Refused("err.unknown_instruction", id=instruction_id)
    return instruction


async def open_instruction(
    session: AsyncSession, member: Member, instruction_id: int
) -> Instruction:
    """The instruction, if MEMBER may carry it out (its unit's officers and heads, the
    coordinators) and it is not reported done yet; raises Refused otherwise."""
    instruction = await visible_instruction(session, member, instruction_id)
    require(member.role, Action.CARRY_OUT, own=member.unit_id == instruction.unit_id)
    if instruction.done_at is not None:
        raise Refused("err.instruction_done", id=instruction.id)
    return instruction


async def acknowledge(
    session: AsyncSession, member: Member, instruction_id: int, now: datetime | None = None
) -> tuple[Instruction, bool]:
    """The unit has received the instruction (收到): this stops the receipt's climb.
    Returns the instruction and False when it had been acknowledged already."""
    instruction = await open_instruction(session, member, instruction_id)
    if instruction.acknowledged_at is not None:
        return instruction, False
    instruction.acknowledged_at = now or utcnow()
    await session.flush()
    return instruction, True


async def report_done(
    session: AsyncSession,
    member: Member,
    instruction_id: int,
    text: str,
    now: datetime | None = None,
) -> Instruction:
    """The unit reports the instruction carried out, in a line of TEXT (kept as written).

    A report of completion is also a receipt. Done twice is refused
    (`err.instruction_done`).
    """
    instruction = await open_instruction(session, member, instruction_id)
    at = now or utcnow()
    instruction.done_text = check_text(text)
    instruction.done_by_id = member.id
    instruction.done_at = at
    if instruction.acknowledged_at is None:
        instruction.acknowledged_at = at
    await session.flush()
    return instruction


async def open_for(session: AsyncSession, member: Member, limit: int = 50) -> list[InstructionRow]:
    """The open instructions MEMBER can see in `/instructions`, nearest deadline first: an
    officer's or head's unit's; every one for coordinators, leaders and admins. Those of
    a project dropped since they were given stay until reported done, marked `dropped`."""
    if sees_everything(member.role):
        return await instruction_rows(session, limit=limit, dropped=True)
    return await instruction_rows(
        session, Instruction.unit_id == member.unit_id, limit=limit, dropped=True
    )


async def for_project(session: AsyncSession, project_id: int) -> list[InstructionRow]:
    """The project's open instructions, for its card (a dropped project's too)."""
    return await instruction_rows(session, Instruction.project_id == project_id, dropped=True)


async def leader_of(session: AsyncSession, instruction: Instruction) -> Member | None:
    """The leader who gave the instruction, while still active (to be told it is done)."""
    leader = await session.get(Member, instruction.leader_id)
    return leader if leader is not None and leader.active else None


async def askable(session: AsyncSession, member: Member, limit: int = 20) -> Sequence[Instruction]:
    """Open instructions addressed to MEMBER's unit (what it may ask more time for; not
    those of a dropped project, which no longer run against a deadline)."""
    return [
        r.instruction
        for r in await instruction_rows(session, Instruction.unit_id == member.unit_id, limit=limit)
    ]


async def follow_project(
    session: AsyncSession, project: Project, old_unit_id: int
) -> list[Instruction]:
    """PROJECT changed hands from unit OLD_UNIT_ID to `project.unit_id`: its open
    instructions addressed to the old unit go to the new one, whose turn they now are.

    Their climb starts over (level 0), as a new deadline's does: the old unit's lateness
    is not the new unit's. The deadline the leader set stays. Done instructions and
    those addressed to another unit stay as they were. Returns the ones moved.
    """
    if project.unit_id == old_unit_id:
        return []
    moved = list(
        (
            await session.scalars(
                select(Instruction)
                .where(
                    Instruction.project_id == project.id,
                    Instruction.unit_id == old_unit_id,
                    Instruction.done_at.is_(None),
                )
                .order_by(Instruction.id)
            )
        ).all()
    )
    for instruction in moved:
        instruction.unit_id = project.unit_id
        instruction.escalation_level = 0
        instruction.escalated_at = None
    await session.flush()
    return moved
