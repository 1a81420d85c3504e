"""A member's list for today: what is due or overdue, what waits for an answer, what is quiet."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.models import Member, Milestone, Problem, ProblemStatus, Project, Stage
from storage.rules import sees_everything

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
        Problem.status.in_([ProblemStatus.OPEN, ProblemStatus.ACKNOWLEDGED]),
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


@dataclass(frozen=True)
class Agenda:
    overdue: Sequence[tuple[Milestone, Project]]
    due_soon: Sequence[tuple[Milestone, Project]]
    waiting: Sequence[Problem]
    stale: Sequence[Project]

    @property
    def empty(self) -> bool:
        return not (self.overdue or self.due_soon or self.waiting or self.stale)


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
    """The member's unit's list; coordinators, leaders and admins see the whole city's."""
    whole_city = sees_everything(member.role)
    unit = member.unit_id

    ms_stmt = (
        select(Milestone, Project)
        .join(Project, Project.id == Milestone.project_id)
        .where(*due_milestones(today, soon_days))
        .order_by(Milestone.planned_date, Project.code, Milestone.seq)
    )
    if not whole_city:
        ms_stmt = ms_stmt.where(or_(Project.unit_id == unit, Milestone.owner_unit_id == unit))
    pairs = [(m, p) for m, p in (await session.execute(ms_stmt)).all()]
    overdue = [(m, p) for m, p in pairs if m.planned_date and m.planned_date < today]
    soon = [(m, p) for m, p in pairs if m.planned_date and m.planned_date >= today]

    pr_stmt = (
        select(Problem)
        .join(Project, Project.id == Problem.project_id)
        .where(*waiting_problems())
        .order_by(Problem.created_at, Problem.id)
        .limit(limit)
    )
    if not whole_city:
        pr_stmt = pr_stmt.where(Problem.unit_id == unit)
    waiting = (await session.scalars(pr_stmt)).all()

    st_stmt = (
        select(Project)
        .where(*quiet_projects(now, stale_days))
        .order_by(Project.last_progress_at.is_not(None), Project.last_progress_at, Project.code)
        .limit(limit)
    )
    if not whole_city:
        st_stmt = st_stmt.where(Project.unit_id == unit)
    stale = (await session.scalars(st_stmt)).all()
    return Agenda(overdue[:limit], soon[:limit], waiting, stale)
