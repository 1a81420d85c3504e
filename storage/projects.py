"""Projects, their time lists (milestones) and progress reports."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.agenda import ACTIVE_STAGES
from storage.errors import Refused
from storage.models import (
    Member,
    Milestone,
    Problem,
    ProblemStatus,
    ProgressReport,
    Project,
    Stage,
    utcnow,
)
from storage.rules import (
    Action,
    PlanStep,
    check_stage_move,
    plan_backward,
    require,
    sees_everything,
)

# The kinds of ProgressReport: a real report, or a check that found nothing new.
REPORT = "report"
NO_CHANGE = "no_change"

TEXT_LIMIT = 2000  # a progress note or problem longer than this is a document, not a chat line


def owns(member: Member, project: Project) -> bool:
    return member.unit_id == project.unit_id


def check_text(text: str) -> str:
    """The text without its surrounding blanks; refused when empty or over the limit.

    An over-long text is refused with its length and its first part (`head`), so the
    member can shorten it rather than type it again.
    """
    text = text.strip()
    if not text:
        raise Refused("err.text_empty")
    if len(text) > TEXT_LIMIT:
        raise Refused("err.text_long", limit=TEXT_LIMIT, length=len(text), head=text[:TEXT_LIMIT])
    return text


def normal_code(code: str) -> str:
    """A project code as stored: half-width (NFKC, so `ｃｎ０１` from a Chinese keyboard or
    ledger is `cn01`), trimmed and in capitals."""
    return unicodedata.normalize("NFKC", code).strip().upper()


# The projects this session found by code. A flow checks the code its command then runs
# with, and the card looks again: the identity map answers only lookups by id, so without
# this every look was a query. A code never changes, and a query would hand back the same
# object (the identity map's) anyway; an expired one (after a rollback) is looked up anew.
_BY_CODE = "wallchart.projects_by_code"


async def project_by_code(session: AsyncSession, code: str) -> Project | None:
    """The project with CODE (in any width or case, see `normal_code`), or None."""
    wanted = normal_code(code)
    found: dict[str, Project] = session.info.setdefault(_BY_CODE, {})
    known = found.get(wanted)
    if known is not None:
        state = inspect(known)
        if state.persistent and not state.expired_attributes and known.code == wanted:
            return known
    project = await session.scalar(select(Project).where(Project.code == wanted))
    if project is not None:
        found[wanted] = project
    return project


async def visible_project(
    session: AsyncSession, member: Member, code: str, action: Action = Action.VIEW
) -> Project:
    """The project with this code, if the member may do `action` on it.

    A project outside the member's reach answers like an unknown code, so that codes
    of other units' projects are not disclosed.
    """
    project = await project_by_code(session, code)
    if project is None or not (sees_everything(member.role) or owns(member, project)):
        raise Refused("err.unknown_project", code=code.strip()[:20])
    require(member.role, action, own=owns(member, project))
    return project


async def list_projects(
    session: AsyncSession,
    member: Member,
    *,
    stage: Stage | None = None,
    unit_id: int | None = None,
    text: str | None = None,
) -> Sequence[Project]:
    stmt = select(Project)
    if not sees_everything(member.role):
        stmt = stmt.where(Project.unit_id == member.unit_id)
    if stage is not None:
        stmt = stmt.where(Project.stage == stage)
    if unit_id is not None:
        stmt = stmt.where(Project.unit_id == unit_id)
    if text:
        # % and _ typed by a member are literal characters, not wildcards.
        quoted = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        like = f"%{quoted}%"
        stmt = stmt.where(
            or_(
                Project.name.ilike(like, escape="\\"),
                Project.code.ilike(like, escape="\\"),
                Project.enterprise.ilike(like, escape="\\"),
            )
        )
    return (await session.scalars(stmt.order_by(Project.code))).all()


async def open_milestone_projects(
    session: AsyncSession, member: Member
) -> list[tuple[Project, bool]]:
    """Projects with an open milestone within the member's reach, by code, each with
    whether the member's unit owns one of those milestones (but not the project)."""
    owned = case((Milestone.owner_unit_id == member.unit_id, 1), else_=0)
    open_ = (
        select(Milestone.project_id, func.max(owned).label("owns_one"))
        .where(Milestone.done_date.is_(None))
        .group_by(Milestone.project_id)
        .subquery()
    )
    stmt = (
        select(Project, open_.c.owns_one)
        .join(open_, open_.c.project_id == Project.id)
        .order_by(Project.code)
    )
    if not sees_everything(member.role):
        stmt = stmt.where(or_(Project.unit_id == member.unit_id, open_.c.owns_one == 1))
    return [(p, bool(owns_one)) for p, owns_one in (await session.execute(stmt)).all()]


async def milestones(session: AsyncSession, project_id: int) -> Sequence[Milestone]:
    return (
        await session.scalars(
            select(Milestone).where(Milestone.project_id == project_id).order_by(Milestone.seq)
        )
    ).all()


async def milestone(session: AsyncSession, project: Project, seq: int) -> Milestone:
    ms = await session.scalar(
        select(Milestone).where(Milestone.project_id == project.id, Milestone.seq == seq)
    )
    if ms is None:
        raise Refused("err.unknown_milestone", code=project.code, n=seq)
    return ms


async def last_progress(
    session: AsyncSession, project_id: int, kind: str = REPORT
) -> ProgressReport | None:
    """The latest real report (KIND "report") or the latest check ("no_change")."""
    return await session.scalar(
        select(ProgressReport)
        .where(ProgressReport.project_id == project_id, ProgressReport.kind == kind)
        .order_by(ProgressReport.id.desc())
        .limit(1)
    )


async def open_problems(session: AsyncSession, project_id: int) -> Sequence[Problem]:
    return (
        await session.scalars(
            select(Problem)
            .where(
                Problem.project_id == project_id,
                Problem.status.in_(
                    [ProblemStatus.OPEN, ProblemStatus.ACKNOWLEDGED, ProblemStatus.ANSWERED]
                ),
            )
            .order_by(Problem.id)
        )
    ).all()


@dataclass(frozen=True)
class Card:
    """Everything the project card shows."""

    project: Project
    milestones: Sequence[Milestone]
    problems: Sequence[Problem]
    last: ProgressReport | None
    checked: ProgressReport | None = None  # the last "no change" check, if after `last`


async def latest_progress(
    session: AsyncSession, project_id: int
) -> tuple[ProgressReport | None, ProgressReport | None]:
    """The latest real report and the latest check, as `last_progress` finds each, in
    one query: the card shows both."""

    def newest(kind: str) -> Any:
        return (
            select(func.max(ProgressReport.id))
            .where(ProgressReport.project_id == project_id, ProgressReport.kind == kind)
            .scalar_subquery()
        )

    found = {
        r.kind: r
        for r in await session.scalars(
            select(ProgressReport).where(ProgressReport.id.in_([newest(REPORT), newest(NO_CHANGE)]))
        )
    }
    return found.get(REPORT), found.get(NO_CHANGE)


async def card(session: AsyncSession, member: Member, code: str) -> Card:
    project = await visible_project(session, member, code)
    last, checked = await latest_progress(session, project.id)
    if checked is not None and last is not None and checked.id < last.id:
        checked = None
    return Card(
        project,
        await milestones(session, project.id),
        await open_problems(session, project.id),
        last,
        checked,
    )


async def log_progress(
    session: AsyncSession,
    member: Member,
    code: str,
    text: str,
    today: date,
    amount: Decimal | None = None,
    now: datetime | None = None,
    file_id: str | None = None,
    file_kind: str | None = None,
) -> ProgressReport:
    """A progress report; FILE_ID is Telegram's id of the site photo or document with it."""
    project = await visible_project(session, member, code, Action.LOG_PROGRESS)
    if file_kind not in (None, "photo", "document"):
        raise ValueError(f"file kind {file_kind!r}")
    report = ProgressReport(
        project_id=project.id,
        author_id=member.id,
        text=check_text(text),
        report_date=today,
        amount=amount,
        file_id=file_id,
        file_kind=file_kind if file_id else None,
        created_at=now or utcnow(),
    )
    session.add(report)
    project.last_progress_at = now or utcnow()
    await session.flush()
    return report


async def reachable_project(session: AsyncSession, member: Member, code: str) -> Project:
    """The project, if the member's unit owns it or owns one of its milestones.

    A milestone may belong to another unit (the land bureau owns "land"): that unit may
    mark it done without seeing the rest of the project.
    """
    project = await project_by_code(session, code)
    if project is not None and (sees_everything(member.role) or owns(member, project)):
        return project
    if project is not None:
        owned = await session.scalar(
            select(func.count())
            .select_from(Milestone)
            .where(Milestone.project_id == project.id, Milestone.owner_unit_id == member.unit_id)
        )
        if owned:
            return project
    raise Refused("err.unknown_project", code=code.strip()[:20])


async def log_no_change(
    session: AsyncSession, member: Member, code: str, today: date, now: datetime | None = None
) -> ProgressReport | None:
    """Record that the project was checked on TODAY (local) and nothing changed.

    Returns None, storing nothing, when the project already has a report or a check for
    TODAY: a second tap on the prompt's button is not a second record.
    """
    project = await visible_project(session, member, code, Action.LOG_PROGRESS)
    already = await session.scalar(
        select(func.count())
        .select_from(ProgressReport)
        .where(ProgressReport.project_id == project.id, ProgressReport.report_date == today)
    )
    if already:
        return None
    report = ProgressReport(
        project_id=project.id,
        author_id=member.id,
        text="",
        report_date=today,
        kind=NO_CHANGE,
        created_at=now or utcnow(),
    )
    session.add(report)
    project.last_progress_at = now or utcnow()
    await session.flush()
    return report


async def unit_active_codes(session: AsyncSession, unit_id: int) -> Sequence[str]:
    """Codes of the unit's projects still under way (what "no change today, all" covers)."""
    return (
        await session.scalars(
            select(Project.code)
            .where(Project.unit_id == unit_id, Project.stage.in_(ACTIVE_STAGES))
            .order_by(Project.code)
        )
    ).all()


async def milestone_ref(session: AsyncSession, milestone_id: int) -> tuple[str, int]:
    """The project code and number of a milestone, as people type them."""
    row = (
        await session.execute(
            select(Project.code, Milestone.seq)
            .join(Project, Project.id == Milestone.project_id)
            .where(Milestone.id == milestone_id)
        )
    ).first()
    if row is None:
        raise Refused("err.unknown_item")
    return row[0], row[1]


async def mark_done(
    session: AsyncSession, member: Member, code: str, seq: int, today: date
) -> Milestone:
    project = await reachable_project(session, member, code)
    ms = await milestone(session, project, seq)
    own = owns(member, project) or ms.owner_unit_id == member.unit_id
    if not (own or sees_everything(member.role)):
        raise Refused("err.unknown_milestone", code=project.code, n=seq)
    require(member.role, Action.MARK_DONE, own=own)
    if ms.done_date is not None:
        raise Refused("err.already_done", n=seq, date=ms.done_date.isoformat())
    ms.done_date = today
    await session.flush()
    return ms


async def set_due(
    session: AsyncSession, member: Member, code: str, seq: int, day: date, today: date
) -> tuple[Milestone, date | None]:
    """Move milestone N's planned date; returns it with the previous date."""
    project = await visible_project(session, member, code, Action.SET_DUE)
    ms = await milestone(session, project, seq)
    if ms.done_date is not None:
        raise Refused("err.already_done", n=seq, date=ms.done_date.isoformat())
    if day < today:
        raise Refused("err.date_past", date=day.isoformat())
    before = ms.planned_date
    ms.planned_date = day
    await session.flush()
    return ms, before


async def set_stage(session: AsyncSession, member: Member, code: str, stage: Stage) -> Stage:
    """Move the project to a stage; returns the previous stage."""
    project = await visible_project(session, member, code, Action.SET_STAGE)
    check_stage_move(project.stage, stage)
    before = project.stage
    project.stage = stage
    await session.flush()
    return before


async def plan(
    session: AsyncSession,
    member: Member,
    code: str,
    target: date,
    steps: Iterable[PlanStep],
    today: date,
    is_workday: Callable[[date], bool] | None = None,
) -> Sequence[Milestone]:
    """Lay the template's milestones backward from the target; done ones stay as they are.

    Planning again moves the open milestones of each template kind and adds missing ones;
    milestones added by hand keep their dates and numbers.
    """
    project = await visible_project(session, member, code, Action.PLAN)
    spaced = plan_backward(target, steps, today, is_workday)
    existing = {m.kind: m for m in await milestones(session, project.id)}
    next_seq = (
        await session.scalar(
            select(func.max(Milestone.seq)).where(Milestone.project_id == project.id)
        )
        or 0
    )
    for step, day in spaced:
        ms = existing.get(step.kind)
        if ms is None:
            next_seq += 1
            session.add(
                Milestone(
                    project_id=project.id,
                    seq=next_seq,
                    title=step.title,
                    kind=step.kind,
                    planned_date=day,
                    owner_unit_id=project.unit_id,
                )
            )
        elif ms.done_date is None:
            ms.planned_date = day
    await session.flush()
    return await milestones(session, project.id)
