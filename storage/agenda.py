"""A member's list for today: what is due or overdue, what waits for an answer, what is quiet."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from storage.escalation import UNIT_TURN, pending_target
from storage.models import (
    Extension,
    ExtensionStatus,
    Instruction,
    Member,
    Milestone,
    Problem,
    ProblemStatus,
    Project,
    Role,
    Stage,
    Unit,
)
from storage.rules import sees_everything

# What is still open on a problem: the unit's answer or the raiser's sign-off.
OPEN_STATES = (ProblemStatus.OPEN, ProblemStatus.ACKNOWLEDGED, ProblemStatus.ANSWERED)

# Paused and dropped projects do not nag anyone; operating ones have nothing left to chase.
ACTIVE_STAGES = (Stage.NEGOTIATING, Stage.SIGNED, Stage.STARTED)


# What counts as due, waiting and quiet, in one place: /today and the daily tick both
# select with these (joined with Project).


def due_milestones(today: date, soon_days: int) -> tuple[ColumnElement[bool], ...]:
    """Open milestones of active projects, overdue or due within SOON_DAYS."""
    return (
        Milestone.done_date.is_(None),
        Milestone.planned_date <= today + timedelta(days=soon_days),
        Project.stage.in_(ACTIVE_STAGES),
    )


def waiting_problems() -> tuple[ColumnElement[bool], ...]:
    """Problems the unit has not answered yet, unless their project was dropped."""
    return (
        Problem.status.in_(UNIT_TURN),
        Project.stage != Stage.DROPPED,
    )


def quiet_projects(now: datetime, stale_days: int) -> tuple[ColumnElement[bool], ...]:
    """Active projects without a report (or, never reported, created) for STALE_DAYS."""
    since = now - timedelta(days=stale_days)
    return (
        Project.stage.in_(ACTIVE_STAGES),
        or_(
            Project.last_progress_at < since,
            and_(Project.last_progress_at.is_(None), Project.created_at < since),
        ),
    )


def open_instructions() -> tuple[ColumnElement[bool], ...]:
    """Leaders' instructions not yet reported done, unless their project was dropped
    (joined with Project)."""
    return (Instruction.done_at.is_(None), Project.stage != Stage.DROPPED)


def reaches_leader(member: Member) -> ColumnElement[bool]:
    """The instructions whose top step (level 3) is MEMBER's, a leader: his own, and those
    of a leader no longer active as one, which go to every leader. Another leader's
    instruction is his to chase, never a climb to the rest of the leadership."""
    leaders = select(Member.id).where(Member.active.is_(True), Member.role == Role.LEADER)
    return or_(Instruction.leader_id == member.id, Instruction.leader_id.not_in(leaders))


@dataclass(frozen=True)
class InstructionRow:
    """An open instruction with the names its lists show."""

    instruction: Instruction
    code: str  # the project's
    unit: str  # the unit that must carry it out
    leader: str  # who gave it
    pending: bool = False  # a request for more time waits for a decision
    # Its project was dropped (终止) after it was given: it no longer climbs or prompts,
    # yet it stays listed until the unit reports it done.
    dropped: bool = False


async def instruction_rows(
    session: AsyncSession,
    *where: ColumnElement[bool],
    limit: int = 50,
    dropped: bool = False,
) -> list[InstructionRow]:
    """Open instructions matching WHERE, the nearest deadline first. DROPPED: also those
    of dropped projects (for `/instructions` and the card, marked as such)."""
    leader = aliased(Member)
    still_open = (Instruction.done_at.is_(None),) if dropped else open_instructions()
    rows = (
        await session.execute(
            select(Instruction, Project.code, Unit.name, leader.name, Project.stage)
            .join(Project, Project.id == Instruction.project_id)
            .join(Unit, Unit.id == Instruction.unit_id)
            .join(leader, leader.id == Instruction.leader_id)
            .where(*still_open, *where)
            .order_by(Instruction.deadline.is_(None), Instruction.deadline, Instruction.id)
            .limit(limit)
        )
    ).all()
    ids = [i.id for i, _, _, _, _ in rows]
    pending = set()
    if ids:
        pending = set(
            (
                await session.scalars(
                    select(Extension.item_id).where(
                        Extension.item_kind == "instruction",
                        Extension.status == ExtensionStatus.PENDING,
                        Extension.item_id.in_(ids),
                    )
                )
            ).all()
        )
    return [
        InstructionRow(i, code, unit, who, i.id in pending, stage is Stage.DROPPED)
        for i, code, unit, who, stage in rows
    ]


@dataclass(frozen=True)
class Overview:
    """The whole city's open work, for coordinators, leaders and admins: for reading, not
    theirs to do."""

    overdue: int = 0
    waiting: int = 0
    signoff: int = 0
    targets: int = 0
    stale: int = 0
    instructions: int = 0  # leaders' instructions past their deadline


@dataclass(frozen=True)
class Agenda:
    """What is the member's to do today, and for overseers an overview apart.

    Officers and heads: their unit's milestones, passed targets, problems to answer,
    leaders' instructions to carry out and quiet projects. Everyone: answers waiting for
    their own sign-off. Coordinators: the problems routed to their unit, and what climbed
    to the service center (level 2 and up); leaders: what climbed to them (level 3; of
    the instructions, only their own, and those of a leader no longer active), and the
    other instructions they gave that are past their deadline.
    """

    overdue: Sequence[tuple[Milestone, Project]] = ()
    due_soon: Sequence[tuple[Milestone, Project]] = ()
    waiting: Sequence[Problem] = ()
    stale: Sequence[Project] = ()
    targets: Sequence[tuple[Project, Stage, date]] = ()
    signoff: Sequence[Problem] = ()
    climbed_milestones: Sequence[tuple[Milestone, Project, str]] = ()  # with its unit's name
    climbed_problems: Sequence[Problem] = ()
    climbed_targets: Sequence[tuple[Project, Stage, date]] = ()
    unreached: Sequence[Problem] = ()  # a coordinator's: problems of units nobody joined
    instructions: Sequence[InstructionRow] = ()  # the unit's to carry out
    given_overdue: Sequence[InstructionRow] = ()  # a leader's own, past their deadline
    climbed_instructions: Sequence[InstructionRow] = ()
    overview: Overview | None = None

    @property
    def mine_empty(self) -> bool:
        return not (
            self.overdue
            or self.due_soon
            or self.waiting
            or self.stale
            or self.targets
            or self.signoff
            or self.climbed_milestones
            or self.climbed_problems
            or self.climbed_targets
            or self.unreached
            or self.instructions
            or self.given_overdue
            or self.climbed_instructions
        )

    @property
    def empty(self) -> bool:
        return self.mine_empty and (self.overview is None or self.overview == Overview())


# Who can act for a unit (storage.people.ACTING_ROLES; people imports this module's rules).
ACTING_ROLES = (Role.HEAD, Role.OFFICER, Role.COORDINATOR)

# The level at which an item has reached an overseer: the center at 2, the leader at 3.
OVERSEER_LEVEL = {Role.COORDINATOR: 2, Role.LEADER: 3}


def passed_target(project: Project, today: date) -> tuple[Project, Stage, date] | None:
    """The project with the stage it heads for and that stage's target, if passed."""
    pending = pending_target(project.stage, project.targets)
    if pending is None or pending[1] >= today:
        return None
    return project, pending[0], pending[1]


async def agenda(
    session: AsyncSession,
    member: Member,
    today: date,
    now: datetime,
    *,
    soon_days: int,
    stale_days: int,
    limit: int = 30,
) -> Agenda:
    """The member's own list for TODAY (local); for overseers also the city's overview."""
    signoff = (
        await session.scalars(
            select(Problem)
            .join(Project, Project.id == Problem.project_id)
            .where(
                Problem.raiser_id == member.id,
                Problem.status == ProblemStatus.ANSWERED,
                Project.stage != Stage.DROPPED,
            )
            .order_by(Problem.answered_at, Problem.id)
            .limit(limit)
        )
    ).all()
    pr_stmt = (
        select(Problem)
        .join(Project, Project.id == Problem.project_id)
        .where(*waiting_problems(), Problem.unit_id == member.unit_id)
        .order_by(Problem.created_at, Problem.id)
        .limit(limit)
    )
    waiting = (await session.scalars(pr_stmt)).all()
    instructions = await instruction_rows(
        session, Instruction.unit_id == member.unit_id, limit=limit
    )
    if sees_everything(member.role):
        overseen = await _overseer(session, member, today, now, waiting, signoff, stale_days, limit)
        return replace(overseen, instructions=instructions)

    unit = member.unit_id
    ms_stmt = (
        select(Milestone, Project)
        .join(Project, Project.id == Milestone.project_id)
        .where(*due_milestones(today, soon_days))
        # A milestone is its owner's turn; the project's unit sees it on the card. Two
        # indexed halves rather than coalesce(owner, unit), which reads every milestone.
        .where(
            Milestone.id.in_(
                union_all(
                    select(Milestone.id).where(Milestone.owner_unit_id == unit),
                    select(Milestone.id)
                    .join(Project, Project.id == Milestone.project_id)
                    .where(Project.unit_id == unit, Milestone.owner_unit_id.is_(None)),
                )
            )
        )
        .order_by(Milestone.planned_date, Project.code, Milestone.seq)
    )
    pairs = [(m, p) for m, p in (await session.execute(ms_stmt)).all()]
    overdue = [(m, p) for m, p in pairs if m.planned_date and m.planned_date < today]
    soon = [(m, p) for m, p in pairs if m.planned_date and m.planned_date >= today]

    own = (
        await session.scalars(
            select(Project)
            .where(Project.unit_id == unit, Project.stage.in_(ACTIVE_STAGES))
            .order_by(Project.code)
        )
    ).all()
    targets = [found for p in own if (found := passed_target(p, today)) is not None]

    st_stmt = (
        select(Project)
        .where(*quiet_projects(now, stale_days), Project.unit_id == unit)
        .order_by(Project.last_progress_at.is_not(None), Project.last_progress_at, Project.code)
        .limit(limit)
    )
    stale = (await session.scalars(st_stmt)).all()
    return Agenda(
        overdue[:limit],
        soon[:limit],
        waiting,
        stale,
        targets[:limit],
        signoff=signoff,
        instructions=instructions,
    )


async def _overseer(
    session: AsyncSession,
    member: Member,
    today: date,
    now: datetime,
    waiting: Sequence[Problem],
    signoff: Sequence[Problem],
    stale_days: int,
    limit: int,
) -> Agenda:
    """A coordinator's, leader's or admin's list: what reached them, then the overview."""
    level = OVERSEER_LEVEL.get(member.role)
    climbed_ms: list[tuple[Milestone, Project, str]] = []
    climbed_pr: Sequence[Problem] = ()
    climbed_tg: list[tuple[Project, Stage, date]] = []
    climbed_in: list[InstructionRow] = []
    if level is not None:
        # Named by the unit whose turn it is: the milestone's owner, else the project's.
        rows = await session.execute(
            select(Milestone, Project, Unit.name)
            .join(Project, Project.id == Milestone.project_id)
            .join(Unit, Unit.id == func.coalesce(Milestone.owner_unit_id, Project.unit_id))
            .where(
                Milestone.done_date.is_(None),
                Milestone.escalation_level >= level,
                Project.stage.in_(ACTIVE_STAGES),
            )
            .order_by(Milestone.planned_date, Project.code)
            .limit(limit)
        )
        climbed_ms = [(m, p, name) for m, p, name in rows.all()]
        climbed_pr = (
            await session.scalars(
                select(Problem)
                .join(Project, Project.id == Problem.project_id)
                .where(
                    Problem.escalation_level >= level,
                    Problem.status.in_(OPEN_STATES),
                    Project.stage != Stage.DROPPED,
                )
                .order_by(Problem.created_at, Problem.id)
                .limit(limit)
            )
        ).all()
        projects = (
            await session.scalars(
                select(Project)
                .where(Project.target_level >= level, Project.stage.in_(ACTIVE_STAGES))
                .order_by(Project.code)
                .limit(limit)
            )
        ).all()
        climbed_tg = [found for p in projects if (found := passed_target(p, today)) is not None]
        # An instruction's top step is the leader who gave it, not the whole leadership.
        mine = (reaches_leader(member),) if member.role is Role.LEADER else ()
        climbed_in = await instruction_rows(
            session, Instruction.escalation_level >= level, *mine, limit=limit
        )
    given_overdue: list[InstructionRow] = []
    if member.role is Role.LEADER:
        # His own that reached him are listed as climbed, and not here a second time.
        climbed_ids = [r.instruction.id for r in climbed_in]
        given_overdue = await instruction_rows(
            session,
            Instruction.leader_id == member.id,
            Instruction.deadline < today,
            Instruction.id.not_in(climbed_ids),
            limit=limit,
        )
    unreached: Sequence[Problem] = ()
    if member.role is Role.COORDINATOR:
        # Nobody of these units can answer yet: the center stands in for them.
        staffed = select(Member.unit_id).where(
            Member.active.is_(True), Member.role.in_(ACTING_ROLES)
        )
        unreached = (
            await session.scalars(
                select(Problem)
                .join(Project, Project.id == Problem.project_id)
                .where(*waiting_problems(), Problem.unit_id.not_in(staffed))
                .order_by(Problem.created_at, Problem.id)
                .limit(limit)
            )
        ).all()
    return Agenda(
        waiting=waiting,
        signoff=signoff,
        climbed_milestones=climbed_ms,
        climbed_problems=climbed_pr,
        climbed_targets=climbed_tg,
        unreached=unreached,
        given_overdue=given_overdue,
        climbed_instructions=climbed_in,
        overview=await overview(session, today, now, stale_days),
    )


async def overview(session: AsyncSession, today: date, now: datetime, stale_days: int) -> Overview:
    """Counts of the city's open work (TODAY local, NOW aware UTC)."""

    async def count(stmt: Select[Any]) -> int:
        return int(await session.scalar(stmt) or 0)

    overdue = await count(
        select(func.count())
        .select_from(Milestone)
        .join(Project, Project.id == Milestone.project_id)
        .where(
            Milestone.done_date.is_(None),
            Milestone.planned_date < today,
            Project.stage.in_(ACTIVE_STAGES),
        )
    )
    waiting = await count(
        select(func.count())
        .select_from(Problem)
        .join(Project, Project.id == Problem.project_id)
        .where(*waiting_problems())
    )
    signoff = await count(
        select(func.count())
        .select_from(Problem)
        .join(Project, Project.id == Problem.project_id)
        .where(Problem.status == ProblemStatus.ANSWERED, Project.stage != Stage.DROPPED)
    )
    active = (await session.scalars(select(Project).where(Project.stage.in_(ACTIVE_STAGES)))).all()
    targets = sum(1 for p in active if passed_target(p, today) is not None)
    stale = await count(
        select(func.count()).select_from(Project).where(*quiet_projects(now, stale_days))
    )
    instructions = await count(
        select(func.count())
        .select_from(Instruction)
        .join(Project, Project.id == Instruction.project_id)
        .where(*open_instructions(), Instruction.deadline < today)
    )
    return Overview(overdue, waiting, signoff, targets, stale, instructions)
