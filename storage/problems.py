"""Problems raised on projects and the thread of replies (instructions: storage.instructions)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import agenda
from storage.errors import Refused
from storage.escalation import UNIT_TURN
from storage.models import (
    Member,
    Problem,
    ProblemCategory,
    ProblemReply,
    ProblemStatus,
    Role,
    Unit,
    utcnow,
)
from storage.people import keep
from storage.projects import check_text, visible_project
from storage.rules import Action, may_reply, may_resolve, require, sees_everything

OPEN_STATES = agenda.OPEN_STATES


def _concerns(member: Member, problem: Problem) -> bool:
    """The member's unit owns the project or must answer the problem, or the member raised it."""
    return (
        member.unit_id in (problem.unit_id, problem.project.unit_id)
        or member.id == problem.raiser_id
    )


async def visible_problem(session: AsyncSession, member: Member, problem_id: int) -> Problem:
    """The problem, if the member may see it; otherwise it does not exist for them."""
    problem = await session.get(Problem, problem_id)
    if problem is None or not (sees_everything(member.role) or _concerns(member, problem)):
        raise Refused("err.unknown_problem", id=problem_id)
    # The flow's check, the command and its answer each look: held, it is one query.
    keep(session, problem)
    return problem


async def raise_problem(
    session: AsyncSession,
    member: Member,
    code: str,
    text: str,
    category: ProblemCategory,
    unit: Unit,
    reply_deadline: date | None = None,
    now: datetime | None = None,
) -> Problem:
    project = await visible_project(session, member, code, Action.RAISE_PROBLEM)
    problem = Problem(
        created_at=now or utcnow(),
        project_id=project.id,
        raiser_id=member.id,
        text=check_text(text),
        category=category,
        unit_id=unit.id,
        reply_deadline=reply_deadline,
    )
    # Both are in hand: set, they need no query to be loaded after the insert.
    problem.project = project
    problem.unit = unit
    session.add(problem)
    await session.flush()
    return problem


async def reply(
    session: AsyncSession,
    member: Member,
    problem_id: int,
    text: str,
    now: datetime | None = None,
) -> ProblemReply:
    problem = await visible_problem(session, member, problem_id)
    # Everyone concerned may add to the thread; only the answering unit's word answers it.
    require(member.role, Action.ANSWER_PROBLEM, own=_concerns(member, problem))
    if not may_reply(problem.status):
        raise Refused("err.problem_closed", id=problem_id, status=problem.status.value)
    answer = ProblemReply(problem_id=problem.id, author_id=member.id, text=check_text(text))
    session.add(answer)
    # Anyone's reply counts as the unit answering only when it comes from that unit. Then
    # it is the raiser's turn: the unit's escalation is over, the sign-off's starts anew.
    answers = member.unit_id == problem.unit_id or sees_everything(member.role)
    if answers and problem.status is not ProblemStatus.ANSWERED:
        problem.status = ProblemStatus.ANSWERED
        problem.answered_at = now or utcnow()
        problem.escalation_level = 0
        problem.escalated_at = None
    await session.flush()
    return answer


async def acknowledge(
    session: AsyncSession, member: Member, problem_id: int
) -> tuple[Problem, bool]:
    """The answering unit has seen the problem (收到); False when it already had."""
    problem = await visible_problem(session, member, problem_id)
    require(member.role, Action.ANSWER_PROBLEM, own=member.unit_id == problem.unit_id)
    if problem.status not in (ProblemStatus.OPEN, ProblemStatus.ACKNOWLEDGED):
        # Answered or closed: there is nothing left to acknowledge.
        raise Refused("err.problem_closed", id=problem_id, status=problem.status.value)
    if problem.status is not ProblemStatus.OPEN:
        return problem, False
    problem.status = ProblemStatus.ACKNOWLEDGED
    await session.flush()
    return problem, True


async def resolve(
    session: AsyncSession,
    member: Member,
    problem_id: int,
    note: str | None,
    now: datetime | None = None,
) -> Problem:
    """Sign the problem off as resolved: its raiser or a coordinator does this."""
    problem = await visible_problem(session, member, problem_id)
    require(member.role, Action.RESOLVE_PROBLEM, own=member.id == problem.raiser_id)
    if not may_resolve(problem.status):
        raise Refused("err.problem_closed", id=problem_id, status=problem.status.value)
    if note:
        session.add(ProblemReply(problem_id=problem.id, author_id=member.id, text=check_text(note)))
    problem.status = ProblemStatus.RESOLVED
    problem.resolved_at = now or utcnow()
    await session.flush()
    return problem


async def reopenable(session: AsyncSession, member: Member, problem_id: int) -> Problem:
    """The problem, if MEMBER may send its answer back: its raiser (or a coordinator), and
    only while an answer waits for the sign-off. Raises Refused otherwise."""
    problem = await visible_problem(session, member, problem_id)
    require(member.role, Action.RESOLVE_PROBLEM, own=member.id == problem.raiser_id)
    if problem.status in (ProblemStatus.RESOLVED, ProblemStatus.CLOSED):
        raise Refused("err.problem_closed", id=problem_id, status=problem.status.value)
    if problem.status is not ProblemStatus.ANSWERED:
        raise Refused("err.not_answered", id=problem_id)
    return problem


async def reopen(
    session: AsyncSession,
    member: Member,
    problem_id: int,
    note: str | None,
    deadline: date,
) -> Problem:
    """The raiser (or a coordinator) finds the answer wanting: it is the unit's turn again.

    DEADLINE is the new reply deadline (local date). The unit has seen the problem, so
    it goes back as acknowledged, and its escalation starts over.
    """
    problem = await reopenable(session, member, problem_id)
    if note:
        session.add(ProblemReply(problem_id=problem.id, author_id=member.id, text=check_text(note)))
    problem.status = ProblemStatus.ACKNOWLEDGED
    problem.answered_at = None
    # A new deadline: the escalation starts over (the event in storage.models). Set even
    # when it equals the old one, whose climb the answer had already ended.
    problem.reply_deadline = deadline
    problem.escalation_level = 0
    problem.escalated_at = None
    await session.flush()
    return problem


async def replies(session: AsyncSession, problem_id: int) -> Sequence[ProblemReply]:
    return (
        await session.scalars(
            select(ProblemReply)
            .where(ProblemReply.problem_id == problem_id)
            .order_by(ProblemReply.id)
        )
    ).all()


async def waiting_for_unit(session: AsyncSession, unit_id: int) -> Sequence[Problem]:
    """Problems that the unit must still answer, oldest first."""
    return (
        await session.scalars(
            select(Problem)
            .where(
                Problem.unit_id == unit_id,
                Problem.status.in_(UNIT_TURN),
            )
            .order_by(Problem.created_at, Problem.id)
        )
    ).all()


async def open_problems_everywhere(session: AsyncSession, limit: int = 50) -> Sequence[Problem]:
    """Open problems of the whole city, oldest first (what a coordinator may answer)."""
    return (
        await session.scalars(
            select(Problem)
            .where(Problem.status.in_(OPEN_STATES))
            .order_by(Problem.created_at, Problem.id)
            .limit(limit)
        )
    ).all()


async def resolvable_by(
    session: AsyncSession, member: Member, limit: int = 50
) -> Sequence[Problem]:
    """Open problems the member may sign off: all for a coordinator, else those they raised."""
    stmt = select(Problem).where(Problem.status.in_(OPEN_STATES))
    if member.role is not Role.COORDINATOR:
        stmt = stmt.where(Problem.raiser_id == member.id)
    return (await session.scalars(stmt.order_by(Problem.id).limit(limit))).all()
