"""The data of the weekly promotion meeting's briefing, read from the store in a few set
queries (a city of thousands of projects): plain dataclasses that bot/briefing.py lays out
as a workbook.

The briefing covers a period that ends today: a week (the seven days up to and including
today) or a month (the calendar month up to today, the same month `/rank` ranks over).
Dates are local calendar days in the city's time zone; day counts are working days.

It is the store as it stands now: lights, open problems and instructions' states are
today's; only the period's events (stage moves, what turned red, reports, instructions
done) are chosen by their dates. There is no briefing "as of" another day: TODAY is the
current local day.

One definition of each count, for the workbook and its caption alike: the projects are
those not dropped (终止; how many were dropped is said apart), the problems are the open
ones (waiting for the unit's answer or the raiser's sign-off), the instructions are the
ones not done plus those done in the period.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Final

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.agenda import ACTIVE_STAGES, OPEN_STATES
from storage.errors import Refused
from storage.escalation import TOP_LEVEL, pending_target
from storage.models import (
    Extension,
    ExtensionStatus,
    Instruction,
    Member,
    Milestone,
    Problem,
    ProblemReply,
    ProblemStatus,
    ProgressReport,
    Project,
    Stage,
    StageMove,
    Unit,
)
from storage.ranking import FIGURES, Figure, Weights, ranking
from storage.rules import Light, milestone_light
from storage.wallchart import project_light
from storage.workdays import WorkCalendar

log = logging.getLogger(__name__)

PERIODS: Final = ("week", "month")
# The ranking compares units over a month at least: a week holds too few events per unit
# for any rate to mean something.
RANKING_PERIOD: Final = {"week": "month", "month": "month"}
# Next open milestones shown per project, and this period's reports per project.
NEXT_MILESTONES: Final = 3
REPORTS_SHOWN: Final = 3
# Progress rows within a unit: the worst light first, as on the wall chart.
LIGHT_ORDER: Final = {Light.RED: 0, Light.YELLOW: 1, Light.GREEN: 2, Light.NONE: 3, Light.DONE: 4}
_CHUNK = 500  # ids per IN (...), under every backend's limit on bound values


# --- the records of the briefing ----------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """The days a briefing covers, both included (local dates)."""

    kind: str  # "week" or "month"
    start: date
    end: date


@dataclass(frozen=True)
class StageRow:
    stage: Stage
    projects: int
    investment: Decimal  # 万元


@dataclass(frozen=True)
class UnitRow:
    unit: str
    by_stage: dict[Stage, int]
    projects: int
    investment: Decimal  # 万元, all stages
    red: int  # projects whose light is red


@dataclass(frozen=True)
class Move:
    """A project that moved from one stage to another in the period."""

    code: str
    name: str
    unit: str
    from_stage: Stage
    to_stage: Stage
    day: date


@dataclass(frozen=True)
class WentRed:
    """Something that turned red in the period.

    KIND: "milestone" (its planned date passed, not done), "target" (the stage target of
    a project passed), "problem" (it climbed to the leader, the red level), "instruction"
    (its deadline passed, not done). DAY: the deadline that passed, or the day a problem
    reached the red level. DETAIL: the milestone's title, the target's stage value, the
    problem's or the instruction's text. UNIT: the unit whose turn it is (the project's;
    for a problem the answering unit, for an instruction the unit it is addressed to).
    """

    kind: str
    code: str
    name: str
    unit: str
    detail: str
    day: date
    seq: int | None = None  # a milestone's number
    ms_kind: str = ""  # a milestone's kind (site, land…), for its name in English
    ref: int | None = None  # a problem's or an instruction's id


@dataclass(frozen=True)
class RankRow:
    """A ranked unit: its rank (shared on a tie), its combined score 0–100, its rank in
    the previous period (None: not ranked then) and its figures by storage.ranking.FIGURES
    name (counts, rate and score each)."""

    rank: int
    unit: str
    score: float
    prev_rank: int | None
    figures: dict[str, Figure]


@dataclass(frozen=True)
class RankGroupPart:
    """One table of the ranking: GROUP (storage.ranking.Group's value, "towns" or
    "departments"), its ROWS ranked from 1; FIGURES: the figures shown, in FIGURES order:
    those the group is judged on but the ones LEFT_OUT for all its units (figure → why:
    storage.ranking.LEFT_OUT_WEIGHT or LEFT_OUT_CITY), which are named apart, never shown
    as 0%. IDLE: its units that could be ranked but had nothing to judge."""

    group: str
    rows: tuple[RankRow, ...]
    figures: tuple[str, ...]
    left_out: dict[str, str]
    idle: tuple[str, ...]


@dataclass(frozen=True)
class RankingPart:
    """The units' ranking as the briefing shows it, the same as `/rank` for PERIOD
    ("month") over START–END (local dates, inclusive), the changes against PREV_START–
    PREV_END, in GROUPS (townships and sub-districts first, then departments; a group
    the city has no unit of is not there)."""

    period: str
    start: date
    end: date
    prev_start: date | None
    prev_end: date | None
    groups: tuple[RankGroupPart, ...]

    @property
    def rows(self) -> tuple[RankRow, ...]:
        """Every ranked unit, group after group."""
        return tuple(row for g in self.groups for row in g.rows)

    @property
    def left_out(self) -> dict[str, str]:
        """The figures left out in every group they apply to (a weight of 0 is one), in
        FIGURES order."""
        found: dict[str, str] = {}
        for name in FIGURES:
            whys = [g.left_out[name] for g in self.groups if name in g.left_out]
            applies = [g for g in self.groups if name in g.left_out or name in g.figures]
            if whys and len(whys) == len(applies):
                found[name] = whys[0]
        return found


@dataclass(frozen=True)
class Report:
    """A progress report: its day, its author, the author's unit, its text."""

    day: date
    author: str
    unit: str
    text: str


@dataclass(frozen=True)
class NextMilestone:
    seq: int
    title: str
    kind: str
    planned: date | None
    light: Light


@dataclass(frozen=True)
class ProgressRow:
    code: str
    name: str
    unit: str
    industry: str
    stage: Stage
    investment: Decimal  # 万元
    light: Light
    reports: tuple[Report, ...]  # this period's, latest first, at most REPORTS_SHOWN
    report_count: int  # this period's, all of them
    next_milestones: tuple[NextMilestone, ...]
    open_problems: int
    last_report: date | None  # the latest report ever


@dataclass(frozen=True)
class Reply:
    day: date
    author: str
    unit: str
    text: str


@dataclass(frozen=True)
class ProblemRow:
    id: int
    code: str
    project: str
    raiser: str
    text: str
    category: str
    unit: str  # the unit that must answer
    status: ProblemStatus
    raised: date
    deadline: date | None  # the reply deadline, when one was set
    waited: int  # working days since it was raised
    level: int  # escalation level, 0–3
    replies: tuple[Reply, ...]


@dataclass(frozen=True)
class InstructionRow:
    id: int
    code: str
    project: str
    leader: str
    text: str
    unit: str
    given: date
    deadline: date | None
    # "done"; "dropped" (its project was dropped: no deadline runs, it waits to be reported
    # done); "overdue" (deadline passed, not done); "acknowledged" or "open"
    state: str
    done: date | None
    done_text: str
    level: int
    last_report: Report | None  # the unit's latest report on the project
    late: int = 0  # working days past the deadline, when overdue
    pending: bool = False  # a request for more time waits for a decision


@dataclass(frozen=True)
class Briefing:
    """Everything the meeting's workbook shows.

    PROJECTS, INVESTMENT (万元), BY_STAGE and BY_UNIT count the projects not dropped, the
    same ones the progress sheet lists; DROPPED says how many were left out.
    """

    period: Period
    today: date
    projects: int
    investment: Decimal  # 万元, the projects not dropped
    dropped: int
    by_stage: tuple[StageRow, ...]  # every stage but DROPPED
    by_unit: tuple[UnitRow, ...]
    moved: tuple[Move, ...]
    went_red: tuple[WentRed, ...]
    # None when the ranking could not be made (not available, or it failed): the rest of
    # the briefing stands without it.
    ranking: RankingPart | None
    ranking_period: str
    progress: tuple[ProgressRow, ...]
    problems: tuple[ProblemRow, ...]
    instructions: tuple[InstructionRow, ...]

    def lights(self) -> dict[Light, int]:
        """How many projects of the progress sheet show each light."""
        counts = dict.fromkeys(Light, 0)
        for row in self.progress:
            counts[row.light] += 1
        return counts

    @property
    def open_instructions(self) -> int:
        """Instructions listed that are not done yet."""
        return sum(1 for i in self.instructions if i.state != "done")

    @property
    def done_instructions(self) -> int:
        """Instructions listed that were reported done in the period."""
        return sum(1 for i in self.instructions if i.state == "done")


# --- periods ------------------------------------------------------------------------------


def period_of(kind: str, today: date) -> Period:
    """The days a briefing of KIND covers on TODAY (local): "week", the seven days ending
    on TODAY; "month", the calendar month up to TODAY (as `/rank`'s month). Raises
    Refused("err.report_period") for another KIND."""
    if kind == "week":
        return Period(kind, today - timedelta(days=6), today)
    if kind == "month":
        return Period(kind, today.replace(day=1), today)
    raise Refused("err.report_period", word=kind[:20])


def _utc_bounds(period: Period, tz: tzinfo) -> tuple[datetime, datetime]:
    """The period as [start, end) in aware datetimes (local midnights)."""
    start = datetime.combine(period.start, time(0), tzinfo=tz)
    end = datetime.combine(period.end + timedelta(days=1), time(0), tzinfo=tz)
    return start, end


def _local(at: datetime, tz: tzinfo) -> date:
    return at.astimezone(tz).date()


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]


# --- the briefing -------------------------------------------------------------------------


@dataclass
class _Project:
    id: int
    code: str
    name: str
    unit_id: int
    unit: str
    industry: str
    stage: Stage
    investment: Decimal
    targets: dict[Stage, date | None]
    last: datetime | None


async def briefing(
    session: AsyncSession,
    period: str,
    today: date,
    tz: tzinfo,
    calendar: WorkCalendar,
    *,
    soon_days: int = 7,
    weights: Weights | None = None,
    reply_days: int = 3,
    instruction_days: int = 5,
) -> Briefing:
    """The meeting's briefing for PERIOD ("week" or "month") ending on TODAY, the current
    local day (the store is read as it stands now: see the module's docstring).

    TZ is the city's time zone (timestamps are read as local days in it), CALENDAR the
    working days (for "working days waiting" and the ranking's default terms), SOON_DAYS
    when an item turns yellow; WEIGHTS (`[rank]`), REPLY_DAYS and INSTRUCTION_DAYS
    (`[work]`) go to the ranking. Each project's light is the wall chart's
    (storage.wallchart.project_light), so the workbook and the chart agree.
    Raises Refused("err.report_period") for another PERIOD. Reads only.
    """
    span = period_of(period, today)
    start_at, end_at = _utc_bounds(span, tz)

    projects = await _projects(session)
    by_id = {p.id: p for p in projects}
    open_ms = await _open_milestones(session)
    problems = await _open_problems(session, tz, calendar, today)
    levels: dict[int, list[int]] = defaultdict(list)
    for pid, level, _row in problems:
        levels[pid].append(level)
    open_instructions = await _open_instructions(session)

    lights = {
        p.id: project_light(
            stage=p.stage,
            targets=p.targets,
            milestones=[(m.planned, None, m.level) for m in open_ms.get(p.id, ())],
            problem_levels=levels.get(p.id, ()),
            instructions=open_instructions.get(p.id, ()),
            today=today,
            soon_days=soon_days,
        )
        for p in projects
    }

    reports = await _reports(session, span, tz)
    # The projects counted everywhere: a dropped one is out of the city's work.
    live = sorted(
        (p for p in projects if p.stage is not Stage.DROPPED),
        key=lambda p: (p.unit, LIGHT_ORDER[lights[p.id]], p.code),
    )
    progress = tuple(
        _progress_row(
            p,
            lights[p.id],
            reports.get(p.id, []),
            open_ms.get(p.id, []),
            len(levels.get(p.id, ())),
            today,
            soon_days,
            tz,
        )
        for p in live
    )
    by_stage = tuple(
        StageRow(
            s,
            sum(1 for p in live if p.stage is s),
            sum((p.investment for p in live if p.stage is s), Decimal(0)),
        )
        for s in Stage
        if s is not Stage.DROPPED
    )
    ranking_period = RANKING_PERIOD[period]
    ranked = await _ranking(
        session,
        ranking_period,
        today,
        tz,
        calendar,
        weights or Weights(),
        reply_days,
        instruction_days,
    )
    return Briefing(
        period=span,
        today=today,
        projects=len(live),
        investment=sum((p.investment for p in live), Decimal(0)),
        dropped=len(projects) - len(live),
        by_stage=by_stage,
        by_unit=_by_unit(live, lights),
        moved=await _moves(session, by_id, start_at, end_at, tz),
        went_red=await _went_red(session, span, today, tz, by_id, start_at, end_at),
        ranking=ranked,
        ranking_period=ranking_period,
        progress=progress,
        problems=tuple(row for _pid, _level, row in problems),
        instructions=await _instructions(session, tz, calendar, today, start_at, end_at),
    )


async def _projects(session: AsyncSession) -> list[_Project]:
    rows = await session.execute(
        select(
            Project.id,
            Project.code,
            Project.name,
            Project.unit_id,
            Unit.name,
            Project.industry,
            Project.stage,
            Project.investment,
            Project.target_signed,
            Project.target_started,
            Project.target_operating,
            Project.last_progress_at,
        ).join(Unit, Unit.id == Project.unit_id)
    )
    return [
        _Project(
            id=pid,
            code=code,
            name=name,
            unit_id=unit_id,
            unit=unit,
            industry=industry,
            stage=stage,
            investment=investment or Decimal(0),
            targets={Stage.SIGNED: signed, Stage.STARTED: started, Stage.OPERATING: operating},
            last=last,
        )
        for (
            pid,
            code,
            name,
            unit_id,
            unit,
            industry,
            stage,
            investment,
            signed,
            started,
            operating,
            last,
        ) in rows
    ]


@dataclass(frozen=True)
class _Open:
    seq: int
    title: str
    planned: date | None
    kind: str
    level: int


async def _open_milestones(session: AsyncSession) -> dict[int, list[_Open]]:
    """Open milestones by project, dated first, by date."""
    rows = await session.execute(
        select(
            Milestone.project_id,
            Milestone.seq,
            Milestone.title,
            Milestone.planned_date,
            Milestone.kind,
            Milestone.escalation_level,
        ).where(Milestone.done_date.is_(None))
    )
    found: dict[int, list[_Open]] = defaultdict(list)
    for pid, seq, title, planned, kind, level in rows:
        found[pid].append(_Open(seq, title, planned, kind, level or 0))
    for items in found.values():
        items.sort(key=lambda m: (m.planned is None, m.planned or date.min, m.seq))
    return found


async def _open_instructions(session: AsyncSession) -> dict[int, list[tuple[date | None, int]]]:
    """The (deadline, level) of each project's instructions not done yet."""
    rows = await session.execute(
        select(Instruction.project_id, Instruction.deadline, Instruction.escalation_level).where(
            Instruction.done_at.is_(None)
        )
    )
    found: dict[int, list[tuple[date | None, int]]] = defaultdict(list)
    for pid, deadline, level in rows:
        found[pid].append((deadline, int(level or 0)))
    return found


async def _reports(session: AsyncSession, span: Period, tz: tzinfo) -> dict[int, list[Report]]:
    """This period's progress reports by project, latest first (checks are no reports)."""
    rows = await session.execute(
        select(
            ProgressReport.project_id,
            ProgressReport.report_date,
            Member.name,
            Unit.name,
            ProgressReport.text,
        )
        .join(Member, Member.id == ProgressReport.author_id)
        .join(Unit, Unit.id == Member.unit_id)
        .where(
            ProgressReport.kind == "report",
            ProgressReport.report_date >= span.start,
            ProgressReport.report_date <= span.end,
        )
        .order_by(ProgressReport.report_date.desc(), ProgressReport.id.desc())
    )
    found: dict[int, list[Report]] = defaultdict(list)
    for pid, day, author, unit, text in rows:
        found[pid].append(Report(day, author, unit, text))
    return found


def _progress_row(
    p: _Project,
    light: Light,
    reports: list[Report],
    open_ms: list[_Open],
    open_problems: int,
    today: date,
    soon_days: int,
    tz: tzinfo,
) -> ProgressRow:
    return ProgressRow(
        code=p.code,
        name=p.name,
        unit=p.unit,
        industry=p.industry,
        stage=p.stage,
        investment=p.investment,
        light=light,
        reports=tuple(reports[:REPORTS_SHOWN]),
        report_count=len(reports),
        next_milestones=tuple(
            NextMilestone(
                m.seq,
                m.title,
                m.kind,
                m.planned,
                milestone_light(m.planned, None, today, soon_days),
            )
            for m in open_ms[:NEXT_MILESTONES]
        ),
        open_problems=open_problems,
        last_report=_local(p.last, tz) if p.last else None,
    )


def _by_unit(projects: Sequence[_Project], lights: dict[int, Light]) -> tuple[UnitRow, ...]:
    """Counts by stage, investment and red projects per responsible unit; the units with
    the most projects first."""
    grouped: dict[str, list[_Project]] = defaultdict(list)
    for p in projects:
        grouped[p.unit].append(p)
    rows = [
        UnitRow(
            unit=unit,
            by_stage={s: sum(1 for p in items if p.stage is s) for s in Stage},
            projects=len(items),
            investment=sum((p.investment for p in items), Decimal(0)),
            red=sum(1 for p in items if lights[p.id] is Light.RED),
        )
        for unit, items in grouped.items()
    ]
    return tuple(sorted(rows, key=lambda r: (-r.projects, r.unit)))


async def _moves(
    session: AsyncSession,
    by_id: dict[int, _Project],
    start_at: datetime,
    end_at: datetime,
    tz: tzinfo,
) -> tuple[Move, ...]:
    """Stage moves in the period, in order; entering the store at a stage is no move."""
    rows = await session.execute(
        select(StageMove.project_id, StageMove.from_stage, StageMove.to_stage, StageMove.at)
        .where(
            StageMove.at >= start_at,
            StageMove.at < end_at,
            StageMove.from_stage.is_not(None),
        )
        .order_by(StageMove.at, StageMove.id)
    )
    moves = []
    for pid, old, new, at in rows:
        p = by_id.get(pid)
        if p is None or old is None or old is new:
            continue
        moves.append(Move(p.code, p.name, p.unit, old, new, _local(at, tz)))
    return tuple(moves)


async def _went_red(
    session: AsyncSession,
    span: Period,
    today: date,
    tz: tzinfo,
    by_id: dict[int, _Project],
    start_at: datetime,
    end_at: datetime,
) -> tuple[WentRed, ...]:
    """What turned red in the period and is still red: milestones and stage targets whose
    date passed (the first day overdue within the period), problems that climbed to the
    leader, instructions past their deadline."""
    found: list[WentRed] = []
    ms_rows = await session.execute(
        select(
            Milestone.project_id,
            Milestone.seq,
            Milestone.title,
            Milestone.kind,
            Milestone.planned_date,
        )
        .join(Project, Project.id == Milestone.project_id)
        .where(
            Milestone.done_date.is_(None),
            # Overdue from the day after its date: that day lies within the period.
            Milestone.planned_date >= span.start - timedelta(days=1),
            Milestone.planned_date < today,
            Project.stage.in_(ACTIVE_STAGES),
        )
    )
    for pid, seq, title, kind, planned in ms_rows:
        p = by_id[pid]
        if planned is None:  # pragma: no cover - excluded by the query
            continue
        found.append(
            WentRed("milestone", p.code, p.name, p.unit, title, planned, seq=seq, ms_kind=kind)
        )
    for p in by_id.values():
        if p.stage not in ACTIVE_STAGES:
            continue
        pending = pending_target(p.stage, p.targets)
        if pending is not None and span.start - timedelta(days=1) <= pending[1] < today:
            found.append(WentRed("target", p.code, p.name, p.unit, pending[0].value, pending[1]))
    pr_rows = await session.execute(
        select(Problem.id, Problem.project_id, Problem.text, Problem.escalated_at, Unit.name)
        .join(Unit, Unit.id == Problem.unit_id)
        .where(
            Problem.status.in_(OPEN_STATES),
            Problem.escalation_level >= TOP_LEVEL,
            Problem.escalated_at >= start_at,
            Problem.escalated_at < end_at,
        )
    )
    for pid, project_id, text, at, unit in pr_rows:
        p = by_id[project_id]
        if at is None:  # pragma: no cover - excluded by the query
            continue
        # The unit whose turn it is, not the project's: it is the one being pressed.
        found.append(WentRed("problem", p.code, p.name, unit, text, _local(at, tz), ref=pid))
    in_rows = await session.execute(
        select(
            Instruction.id,
            Instruction.project_id,
            Instruction.text,
            Instruction.deadline,
            Unit.name,
        )
        .join(Unit, Unit.id == Instruction.unit_id)
        .join(Project, Project.id == Instruction.project_id)
        .where(
            Instruction.done_at.is_(None),
            Instruction.deadline >= span.start - timedelta(days=1),
            Instruction.deadline < today,
            # No deadline runs on a dropped project's instruction (as in the chat).
            Project.stage != Stage.DROPPED,
        )
    )
    for iid, project_id, text, deadline, unit in in_rows:
        p = by_id[project_id]
        if deadline is None:  # pragma: no cover - excluded by the query
            continue
        found.append(WentRed("instruction", p.code, p.name, unit, text, deadline, ref=iid))
    order = {"problem": 0, "instruction": 1, "target": 2, "milestone": 3}
    found.sort(key=lambda r: (r.unit, r.code, order[r.kind], r.day, r.seq or 0))
    return tuple(found)


async def _ranking(
    session: AsyncSession,
    period: str,
    today: date,
    tz: tzinfo,
    calendar: WorkCalendar,
    weights: Weights,
    reply_days: int,
    instruction_days: int,
) -> RankingPart | None:
    """The units' ranking (storage.ranking), or None when it cannot be made.

    The briefing is the meeting's paper: a ranking that fails is said in its place (and
    logged), never the end of the whole workbook. It runs in a savepoint so that a
    failed query leaves the session usable for the rest.
    """
    try:
        async with session.begin_nested():
            result = await ranking(
                session,
                period,
                today,
                tz,
                calendar,
                weights,
                reply_days=reply_days,
                instruction_days=instruction_days,
            )
    except Exception:
        log.exception("the ranking could not be made for the briefing")
        return None
    groups = tuple(
        RankGroupPart(
            group=str(g.group.value),
            rows=tuple(
                RankRow(r.rank, r.unit, r.score, r.prev_rank, dict(r.figures)) for r in g.rows
            ),
            figures=tuple(n for n in FIGURES if n in g.figures and n not in g.left_out),
            left_out=dict(g.left_out),
            idle=tuple(g.idle),
        )
        for g in result.groups
    )
    return RankingPart(
        period=str(result.period.value),
        start=result.start,
        end=result.end,
        prev_start=result.prev_start,
        prev_end=result.prev_end,
        groups=groups,
    )


async def _open_problems(
    session: AsyncSession, tz: tzinfo, calendar: WorkCalendar, today: date
) -> list[tuple[int, int, ProblemRow]]:
    """Every open problem (waiting for its unit's answer or its raiser's sign-off), the
    highest level first, then the longest waiting: (project id, level, row)."""
    raiser = aliased(Member)
    answering = aliased(Unit)
    rows = (
        await session.execute(
            select(
                Problem.id,
                Problem.project_id,
                Project.code,
                Project.name,
                raiser.name,
                Problem.text,
                Problem.category,
                answering.name,
                Problem.status,
                Problem.created_at,
                Problem.reply_deadline,
                Problem.escalation_level,
            )
            .join(Project, Project.id == Problem.project_id)
            .join(raiser, raiser.id == Problem.raiser_id)
            .join(answering, answering.id == Problem.unit_id)
            .where(Problem.status.in_(OPEN_STATES))
        )
    ).all()
    replies: dict[int, list[Reply]] = defaultdict(list)
    ids = [r[0] for r in rows]
    for chunk in _chunks(ids):
        found = await session.execute(
            select(
                ProblemReply.problem_id,
                ProblemReply.created_at,
                Member.name,
                Unit.name,
                ProblemReply.text,
            )
            .join(Member, Member.id == ProblemReply.author_id)
            .join(Unit, Unit.id == Member.unit_id)
            .where(ProblemReply.problem_id.in_(chunk))
            .order_by(ProblemReply.created_at, ProblemReply.id)
        )
        for problem_id, at, author, unit, text in found:
            replies[problem_id].append(Reply(_local(at, tz), author, unit, text))
    result = []
    for (
        pid,
        project_id,
        code,
        project,
        raiser_name,
        text,
        category,
        unit,
        status,
        created,
        deadline,
        level,
    ) in rows:
        raised = _local(created, tz)
        row = ProblemRow(
            id=pid,
            code=code,
            project=project,
            raiser=raiser_name,
            text=text,
            category=category.value,
            unit=unit,
            status=status,
            raised=raised,
            deadline=deadline,
            waited=calendar.workdays_between(raised, today),
            level=level,
            replies=tuple(replies.get(pid, ())),
        )
        result.append((project_id, level, row))
    result.sort(key=lambda r: (-r[2].level, -r[2].waited, r[2].id))
    return result


def instruction_state(
    done_at: datetime | None,
    acknowledged_at: datetime | None,
    deadline: date | None,
    today: date,
    *,
    dropped: bool = False,
) -> str:
    """ "done"; "dropped" (not done, its project dropped: no deadline runs on it);
    "overdue" (its deadline passed); "acknowledged" or "open". The same order as the
    chat's (bot/format.py: instruction_state)."""
    if done_at is not None:
        return "done"
    if dropped:
        return "dropped"
    if deadline is not None and deadline < today:
        return "overdue"
    return "acknowledged" if acknowledged_at is not None else "open"


async def _instructions(
    session: AsyncSession,
    tz: tzinfo,
    calendar: WorkCalendar,
    today: date,
    start_at: datetime,
    end_at: datetime,
) -> tuple[InstructionRow, ...]:
    """Every instruction still open, and those done in the period; overdue first, then by
    deadline. Each with its unit's latest progress report on the project, the working
    days it is late and whether more time was asked for."""
    leader = aliased(Member)
    acting = aliased(Unit)
    rows = (
        await session.execute(
            select(
                Instruction.id,
                Instruction.project_id,
                Project.code,
                Project.name,
                leader.name,
                Instruction.text,
                Instruction.unit_id,
                acting.name,
                Instruction.created_at,
                Instruction.deadline,
                Instruction.done_at,
                Instruction.acknowledged_at,
                Instruction.done_text,
                Instruction.escalation_level,
                Project.stage,
            )
            .join(Project, Project.id == Instruction.project_id)
            .join(leader, leader.id == Instruction.leader_id)
            .join(acting, acting.id == Instruction.unit_id)
            .where(
                or_(
                    Instruction.done_at.is_(None),
                    and_(Instruction.done_at >= start_at, Instruction.done_at < end_at),
                )
            )
        )
    ).all()
    last = await _last_reports(session, {(r[1], r[6]) for r in rows})
    pending = await _pending_extensions(session, [r[0] for r in rows if r[10] is None])
    found = []
    for (
        iid,
        project_id,
        code,
        project,
        leader_name,
        text,
        unit_id,
        unit,
        created,
        deadline,
        done_at,
        acknowledged_at,
        done_text,
        level,
        stage,
    ) in rows:
        state = instruction_state(
            done_at, acknowledged_at, deadline, today, dropped=stage is Stage.DROPPED
        )
        late = (
            calendar.workdays_between(deadline, today)
            if state == "overdue" and deadline is not None
            else 0
        )
        found.append(
            InstructionRow(
                id=iid,
                code=code,
                project=project,
                leader=leader_name,
                text=text,
                unit=unit,
                given=_local(created, tz),
                deadline=deadline,
                state=state,
                done=_local(done_at, tz) if done_at else None,
                done_text=done_text or "",
                level=level or 0,
                last_report=last.get((project_id, unit_id)),
                late=late,
                pending=iid in pending,
            )
        )
    order = {"overdue": 0, "open": 1, "acknowledged": 2, "dropped": 3, "done": 4}
    found.sort(key=lambda r: (order[r.state], r.deadline or date.max, r.id))
    return tuple(found)


async def _pending_extensions(session: AsyncSession, ids: Sequence[int]) -> set[int]:
    """The instructions among IDS with a request for more time waiting for a decision."""
    found: set[int] = set()
    for chunk in _chunks(ids):
        found.update(
            await session.scalars(
                select(Extension.item_id).where(
                    Extension.item_kind == "instruction",
                    Extension.status == ExtensionStatus.PENDING,
                    Extension.item_id.in_(chunk),
                )
            )
        )
    return found


async def _last_reports(
    session: AsyncSession, pairs: set[tuple[int, int]]
) -> dict[tuple[int, int], Report]:
    """The latest progress report by a member of each (project, unit) pair's unit."""
    if not pairs:
        return {}
    projects = sorted({p for p, _u in pairs})
    found: dict[tuple[int, int], Report] = {}
    for chunk in _chunks(projects):
        rows = await session.execute(
            select(
                ProgressReport.project_id,
                Member.unit_id,
                ProgressReport.report_date,
                Member.name,
                Unit.name,
                ProgressReport.text,
            )
            .join(Member, Member.id == ProgressReport.author_id)
            .join(Unit, Unit.id == Member.unit_id)
            .where(ProgressReport.project_id.in_(chunk), ProgressReport.kind == "report")
            .order_by(ProgressReport.report_date.desc(), ProgressReport.id.desc())
        )
        for pid, unit_id, day, author, unit, text in rows:
            key = (pid, unit_id)
            if key in pairs and key not in found:
                found[key] = Report(day, author, unit, text)
    return found
