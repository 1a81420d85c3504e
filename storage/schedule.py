"""What the daily tick reads and changes: escalation steps and every unit's list for the day.

Built for a whole city at once (thousands of projects): a handful of set queries, not one
query per member; members of a unit share their unit's list.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.agenda import ACTIVE_STAGES
from storage.escalation import Thresholds, milestone_target, next_level, problem_target
from storage.models import (
    Member,
    Milestone,
    Problem,
    ProblemStatus,
    Project,
    Role,
    SchedulerRun,
    Stage,
    Unit,
)
from storage.workdays import WorkCalendar

OPEN_STATES = (ProblemStatus.OPEN, ProblemStatus.ACKNOWLEDGED, ProblemStatus.ANSWERED)


@dataclass(frozen=True)
class MilestoneItem:
    id: int
    code: str
    seq: int
    title: str
    kind: str
    planned: date
    level: int
    project_unit: int
    owner_unit: int | None


@dataclass(frozen=True)
class ProblemItem:
    id: int
    code: str
    text: str
    unit_id: int
    raised: date
    level: int
    status: ProblemStatus


@dataclass(frozen=True)
class ProjectItem:
    code: str
    name: str
    unit_id: int
    last: date | None


@dataclass
class UnitList:
    """One unit's list for the day; every officer and head of the unit gets it."""

    overdue: list[MilestoneItem] = field(default_factory=list)
    due_soon: list[MilestoneItem] = field(default_factory=list)
    waiting: list[ProblemItem] = field(default_factory=list)
    stale: list[ProjectItem] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.overdue or self.due_soon or self.waiting or self.stale)


@dataclass(frozen=True)
class Climb:
    """An item that climbed a step today."""

    kind: str  # "milestone" or "problem"
    item_id: int
    level: int
    unit_id: int  # the unit that must act
    code: str
    title: str  # milestone title or problem text
    late: int  # working days overdue / waited
    seq: int = 0  # the milestone's number in its project


async def claim_day(session: AsyncSession, day: date, now: datetime) -> SchedulerRun | None:
    """Mark DAY's prompts as made, or None if a tick already made them.

    The unique day is the lock: should two processes tick at once, the second one's
    flush fails on it and its whole transaction (escalations included) rolls back.
    """
    if await session.scalar(select(SchedulerRun).where(SchedulerRun.day == day)) is not None:
        return None
    run = SchedulerRun(day=day, started_at=now)
    session.add(run)
    await session.flush()
    return run


async def ran_on(session: AsyncSession, day: date) -> bool:
    return (await session.scalar(select(func.count()).where(SchedulerRun.day == day))) != 0


def _local_day(at: datetime | None, tz: tzinfo) -> date | None:
    return at.astimezone(tz).date() if at is not None else None


async def escalate(
    session: AsyncSession,
    today: date,
    now: datetime,
    tz: tzinfo,
    calendar: WorkCalendar,
    th: Thresholds,
) -> list[Climb]:
    """Move every late item one step up where it deserves it; return what climbed."""
    climbs: list[Climb] = []
    problems = (
        await session.execute(
            select(Problem, Project.code)
            .join(Project, Project.id == Problem.project_id)
            .where(Problem.status.in_(OPEN_STATES), Project.stage != Stage.DROPPED)
        )
    ).all()
    for problem, code in problems:
        raised = problem.created_at.astimezone(tz).date()
        waited = calendar.workdays_between(raised, today)
        target = problem_target(problem.status, waited, th)
        level = next_level(
            problem.escalation_level, target, _local_day(problem.escalated_at, tz), today
        )
        if level != problem.escalation_level:
            problem.escalation_level = level
            problem.escalated_at = now
            climbs.append(
                Climb("problem", problem.id, level, problem.unit_id, code, problem.text, waited)
            )

    milestones = (
        await session.execute(
            select(Milestone, Project.code, Project.unit_id)
            .join(Project, Project.id == Milestone.project_id)
            .where(
                Milestone.done_date.is_(None),
                Milestone.planned_date < today,
                Project.stage.in_(ACTIVE_STAGES),
            )
        )
    ).all()
    for ms, code, project_unit in milestones:
        assert ms.planned_date is not None
        overdue = calendar.workdays_between(ms.planned_date, today)
        target = milestone_target(overdue, th)
        level = next_level(ms.escalation_level, target, _local_day(ms.escalated_at, tz), today)
        if level != ms.escalation_level:
            ms.escalation_level = level
            ms.escalated_at = now
            unit = ms.owner_unit_id or project_unit
            climbs.append(Climb("milestone", ms.id, level, unit, code, ms.title, overdue, ms.seq))
    await session.flush()
    return climbs


async def unit_lists(
    session: AsyncSession,
    today: date,
    now: datetime,
    tz: tzinfo,
    *,
    soon_days: int,
    stale_days: int,
) -> dict[int, UnitList]:
    """Every unit's list for the day, keyed by unit id (units with nothing are absent)."""
    lists: dict[int, UnitList] = defaultdict(UnitList)
    ms_rows = await session.execute(
        select(
            Milestone.id,
            Project.code,
            Milestone.seq,
            Milestone.title,
            Milestone.kind,
            Milestone.planned_date,
            Milestone.escalation_level,
            Project.unit_id,
            Milestone.owner_unit_id,
        )
        .join(Project, Project.id == Milestone.project_id)
        .where(
            Milestone.done_date.is_(None),
            Milestone.planned_date <= today + timedelta(days=soon_days),
            Project.stage.in_(ACTIVE_STAGES),
        )
        .order_by(Milestone.planned_date, Project.code, Milestone.seq)
    )
    for mid, code, seq, title, kind, planned, level, project_unit, owner in ms_rows:
        assert planned is not None  # the query keeps dated milestones only
        item = MilestoneItem(mid, code, seq, title, kind, planned, level, project_unit, owner)
        units = {item.project_unit} | ({item.owner_unit} if item.owner_unit else set())
        for unit in units:
            bucket = lists[unit].overdue if item.planned < today else lists[unit].due_soon
            bucket.append(item)

    pr_rows = await session.execute(
        select(
            Problem.id,
            Project.code,
            Problem.text,
            Problem.unit_id,
            Problem.created_at,
            Problem.escalation_level,
            Problem.status,
        )
        .join(Project, Project.id == Problem.project_id)
        .where(Problem.status.in_([ProblemStatus.OPEN, ProblemStatus.ACKNOWLEDGED]))
        .order_by(Problem.created_at, Problem.id)
    )
    for pid, code, text, unit_id, created, level, status in pr_rows:
        lists[unit_id].waiting.append(
            ProblemItem(pid, code, text, unit_id, created.astimezone(tz).date(), level, status)
        )

    quiet_since = now - timedelta(days=stale_days)
    st_rows = await session.execute(
        select(Project.code, Project.name, Project.unit_id, Project.last_progress_at)
        .where(
            Project.stage.in_(ACTIVE_STAGES),
            or_(
                Project.last_progress_at < quiet_since,
                and_(Project.last_progress_at.is_(None), Project.created_at < quiet_since),
            ),
        )
        .order_by(Project.code)
    )
    for code, name, unit_id, last in st_rows:
        lists[unit_id].stale.append(ProjectItem(code, name, unit_id, _local_day(last, tz)))
    return dict(lists)


async def recipients(session: AsyncSession) -> Sequence[Member]:
    """Active members the bot can reach, with their units."""
    return (
        await session.scalars(
            select(Member)
            .where(Member.active.is_(True), Member.reachable.is_(True))
            .order_by(Member.id)
        )
    ).all()


async def counts_by_unit_and_stage(session: AsyncSession) -> dict[str, dict[Stage, int]]:
    """Projects per unit name and stage, for the leaders' digest."""
    rows = await session.execute(
        select(Unit.name, Project.stage, func.count())
        .join(Unit, Unit.id == Project.unit_id)
        .group_by(Unit.name, Project.stage)
        .order_by(Unit.name)
    )
    table: dict[str, dict[Stage, int]] = defaultdict(dict)
    for name, stage, n in rows:
        table[name][stage] = int(n)
    return dict(table)


async def went_red(
    session: AsyncSession, today: date, calendar: WorkCalendar
) -> Sequence[tuple[str, int, str, date]]:
    """Milestones that became overdue since the last working day: (code, seq, title, date)."""
    previous = today - timedelta(days=1)
    while not calendar.is_workday(previous) and previous > today - timedelta(days=30):
        previous -= timedelta(days=1)
    rows = await session.execute(
        select(Project.code, Milestone.seq, Milestone.title, Milestone.planned_date)
        .join(Project, Project.id == Milestone.project_id)
        .where(
            Milestone.done_date.is_(None),
            Milestone.planned_date >= previous,
            Milestone.planned_date < today,
            Project.stage.in_(ACTIVE_STAGES),
        )
        .order_by(Milestone.planned_date, Project.code)
    )
    return [(c, s, t, d) for c, s, t, d in rows if d is not None]


ROLES_WITH_UNIT_LIST = (Role.OFFICER, Role.HEAD)
ROLES_WITH_DIGEST = (Role.COORDINATOR, Role.LEADER)
