"""A member's list for today: what is due or overdue, what waits for an answer, what is quiet."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Member, Milestone, Problem, ProblemStatus, Project, Stage
from storage.rules import sees_everything

# Paused and dropped projects do not nag anyone; operating ones have nothing left to chase.
ACTIVE_STAGES = (Stage.NEGOTIATING, Stage.SIGNED, Stage.STARTED)


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
        .where(
            Milestone.done_date.is_(None),
            Milestone.planned_date <= today + timedelta(days=soon_days),
            Project.stage.in_(ACTIVE_STAGES),
        )
        .order_by(Milestone.planned_date, Project.code, Milestone.seq)
    )
    if not whole_city:
        ms_stmt = ms_stmt.where(or_(Project.unit_id == unit, Milestone.owner_unit_id == unit))
    pairs = [(m, p) for m, p in (await session.execute(ms_stmt)).all()]
    overdue = [(m, p) for m, p in pairs if m.planned_date and m.planned_date < today]
    soon = [(m, p) for m, p in pairs if m.planned_date and m.planned_date >= today]

    pr_stmt = (
        select(Problem)
        .where(Problem.status.in_([ProblemStatus.OPEN, ProblemStatus.ACKNOWLEDGED]))
        .order_by(Problem.created_at, Problem.id)
        .limit(limit)
    )
    if not whole_city:
        pr_stmt = pr_stmt.where(Problem.unit_id == unit)
    waiting = (await session.scalars(pr_stmt)).all()

    quiet_since = now - timedelta(days=stale_days)
    st_stmt = (
        select(Project)
        .where(
            Project.stage.in_(ACTIVE_STAGES),
            or_(
                Project.last_progress_at < quiet_since,
                and_(Project.last_progress_at.is_(None), Project.created_at < quiet_since),
            ),
        )
        .order_by(Project.last_progress_at.is_not(None), Project.last_progress_at, Project.code)
        .limit(limit)
    )
    if not whole_city:
        st_stmt = st_stmt.where(Project.unit_id == unit)
    stale = (await session.scalars(st_stmt)).all()
    return Agenda(overdue[:limit], soon[:limit], waiting, stale)
