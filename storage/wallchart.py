"""What the wall chart (`/chart`) and the funnel (`/board`) are drawn from.

Plain data, no Telegram and no matplotlib: tests check which projects, which colours, in
which order and groups, and which figures, without looking at a picture; bot/charts.py
draws them. Dates are local calendar days; StageMove times are aware UTC and are turned
into local days with the city's time zone given by the caller.
"""

from __future__ import annotations

import enum
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.agenda import ACTIVE_STAGES, OPEN_STATES
from storage.errors import Refused
from storage.ledger import industry_names, stage_word
from storage.models import Instruction, Milestone, Problem, Project, Stage, StageMove, Unit
from storage.projects import normal_code
from storage.rules import STAGE_ORDER, Light, milestone_light, target_light

# A picture holds this many rows at a size a phone can read; Telegram takes up to ten
# pictures in one album, and past that the member is asked for a filter.
ROWS_PER_PICTURE = 25
MAX_PICTURES = 10
MAX_ROWS = ROWS_PER_PICTURE * MAX_PICTURES

# Worst first: the order of rows within a group and of the counts in a caption.
LIGHT_ORDER = (Light.RED, Light.YELLOW, Light.GREEN, Light.NONE)
_RANK = {light: i for i, light in enumerate(LIGHT_ORDER)}

# The stage targets a row shows, in the order a project reaches them.
TARGET_STAGES = (Stage.SIGNED, Stage.STARTED, Stage.OPERATING)

# The three speeds: each transition's days are counted from reaching the first stage
# (for negotiating: entering the store) to first reaching the second.
TRANSITIONS = (
    (Stage.NEGOTIATING, Stage.SIGNED),
    (Stage.SIGNED, Stage.STARTED),
    (Stage.STARTED, Stage.OPERATING),
)


# --- the traffic light of a whole project -----------------------------------------------


def project_light(
    *,
    stage: Stage,
    targets: Mapping[Stage, date | None],
    milestones: Iterable[tuple[date | None, date | None, int]],
    problem_levels: Iterable[int],
    instructions: Iterable[tuple[date | None, int]],
    today: date,
    soon_days: int,
) -> Light:
    """The light a project's row is coloured by on the wall chart.

    - red: an open milestone overdue, a stage target (签约/开工/投产) passed and not reached,
      an open problem or an instruction at escalation level 3, or an instruction past its
      deadline and not done;
    - yellow: a milestone, target or instruction due within SOON_DAYS (calendar days), or
      an open problem, milestone or instruction escalated to level 1 or 2;
    - green otherwise; none (grey) for a dropped project, which nobody chases.

    MILESTONES are (planned, done, escalation level); they count only while the project is
    under way (negotiating, signed, started), as in the daily prompt. PROBLEM_LEVELS are
    the levels of the project's open problems; INSTRUCTIONS the (deadline, level) of its
    instructions not yet done. TODAY is the local day.
    """
    if stage is Stage.DROPPED:
        return Light.NONE
    lights: list[Light] = []
    levels: list[int] = list(problem_levels)
    if stage in ACTIVE_STAGES:
        for planned, done, level in milestones:
            lights.append(milestone_light(planned, done, today, soon_days))
            if done is None:
                levels.append(level)
    lights += [target_light(stage, s, targets.get(s), today, soon_days) for s in TARGET_STAGES]
    for deadline, level in instructions:
        lights.append(milestone_light(deadline, None, today, soon_days))
        levels.append(level)
    if Light.RED in lights or any(level >= 3 for level in levels):
        return Light.RED
    if Light.YELLOW in lights or any(level >= 1 for level in levels):
        return Light.YELLOW
    return Light.GREEN


# --- the filter of /chart ---------------------------------------------------------------


class FilterKind(enum.StrEnum):
    ALL = "all"
    UNIT = "unit"
    STAGE = "stage"
    INDUSTRY = "industry"
    PROJECT = "project"


@dataclass(frozen=True)
class ChartFilter:
    """What `/chart WORD` asked for. VALUE is the unit's name, the stage's value, the
    configured industry or the project code; ID the unit's or the project's id."""

    kind: FilterKind = FilterKind.ALL
    value: str = ""
    id: int | None = None

    @property
    def stage(self) -> Stage | None:
        return Stage(self.value) if self.kind is FilterKind.STAGE else None


ALL = ChartFilter()


@dataclass(frozen=True)
class FilterChoices:
    """What a filter may name, for the refusal of a word that names nothing: unit names
    (only the member's own for officers and heads) and the configured industries."""

    units: tuple[str, ...]
    industries: tuple[str, ...]


async def read_filter(
    session: AsyncSession,
    text: str,
    *,
    unit_id: int | None,
    industries: Sequence[str],
    aliases: Mapping[str, str] | None = None,
) -> ChartFilter:
    """The filter a member typed after `/chart`: a unit, a stage, an industry or a code.

    UNIT_ID is the member's unit when they see only their own (officers and heads), None
    for the city. Tried in this order: a unit's exact name (any case), a stage word in
    Chinese or English (`开工`, `在建`, `started`), a configured industry or an alias
    (`[city] industries`, `industry_aliases`), a project code within reach, then the one
    unit whose name contains the word (`城东` for 城东街道). Empty text is everything.

    Raises Refused: `err.chart_not_yours` for another unit named by an officer or head;
    `err.chart_ambiguous` (with `units`) when several units contain the word;
    `err.chart_filter` (with `choices`: a FilterChoices) when nothing matches.
    """
    word = " ".join(text.split())
    if not word:
        return ALL
    shown = word if len(word) <= 40 else word[:39] + "…"
    units = (await session.execute(select(Unit.id, Unit.name).order_by(Unit.id))).all()
    by_name = {name.lower(): (uid, name) for uid, name in units}

    def unit_filter(uid: int, name: str) -> ChartFilter:
        if unit_id is not None and uid != unit_id:
            raise Refused("err.chart_not_yours", unit=name)
        return ChartFilter(FilterKind.UNIT, name, uid)

    if word.lower() in by_name:
        return unit_filter(*by_name[word.lower()])
    stage = stage_word(word)
    if stage is not None:
        return ChartFilter(FilterKind.STAGE, stage.value)
    industry = industry_names(industries, aliases)(word)
    if industry is not None:
        return ChartFilter(FilterKind.INDUSTRY, industry)
    code = normal_code(word)
    found = (
        await session.execute(select(Project.id, Project.unit_id).where(Project.code == code))
    ).first()
    # Another unit's project answers like an unknown word: its code is not disclosed.
    if found is not None and (unit_id is None or found[1] == unit_id):
        return ChartFilter(FilterKind.PROJECT, code, found[0])
    near = [(uid, name) for uid, name in units if word.lower() in name.lower()]
    if unit_id is not None:
        near = [(uid, name) for uid, name in near if uid == unit_id] or near
    if len(near) == 1:
        return unit_filter(*near[0])
    if len(near) > 1:
        raise Refused("err.chart_ambiguous", word=shown, units=tuple(n for _, n in near))
    own = tuple(name for uid, name in units if unit_id is None or uid == unit_id)
    raise Refused("err.chart_filter", word=shown, choices=FilterChoices(own, tuple(industries)))


# --- the wall chart ---------------------------------------------------------------------


class MilestoneState(enum.StrEnum):
    PLANNED = "planned"
    DONE = "done"
    OVERDUE = "overdue"
    UNDATED = "undated"


@dataclass(frozen=True)
class ChartMilestone:
    """One milestone on a row: where it stands (done on DONE, else due on PLANNED)."""

    seq: int
    title: str
    kind: str
    planned: date | None
    done: date | None
    state: MilestoneState

    @property
    def day(self) -> date | None:
        """Where it sits on the time axis: the day it was done, else the day it is due."""
        return self.done or self.planned


@dataclass(frozen=True)
class ChartTarget:
    """A stage target date; LIGHT is target_light's (done once the stage is reached)."""

    stage: Stage
    day: date
    light: Light


@dataclass(frozen=True)
class ChartRow:
    project_id: int
    code: str
    name: str
    unit: str
    stage: Stage
    industry: str
    light: Light
    milestones: tuple[ChartMilestone, ...]
    targets: tuple[ChartTarget, ...]
    # The unit's name or the stage's value, by the chart's `group_by`.
    group: str


class GroupBy(enum.StrEnum):
    UNIT = "unit"
    STAGE = "stage"


@dataclass(frozen=True)
class WallChart:
    """The rows of a wall chart in drawing order: by group, red first within a group.

    Groups are units, worst first (most red, then most yellow, then by name); when only
    one unit is shown (a unit filter, or an officer's own unit) they are the stages, in
    the order projects move through them. START and END bound the time axis (local days).
    """

    today: date
    start: date
    end: date
    flt: ChartFilter
    group_by: GroupBy
    groups: tuple[str, ...]
    rows: tuple[ChartRow, ...]
    counts: Mapping[Light, int] = field(default_factory=dict)
    # The unit's name when the chart is one unit's reach (an officer's), else None.
    scope: str | None = None

    @property
    def too_many(self) -> bool:
        """More rows than ten pictures hold: the member is asked for a filter."""
        return len(self.rows) > MAX_ROWS


def default_window(today: date) -> tuple[date, date]:
    """The time axis by default: a month back to six months ahead of TODAY."""
    return _add_months(today, -1), _add_months(today, 6)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def pages(chart: WallChart) -> list[tuple[ChartRow, ...]]:
    """The rows cut into pictures of ROWS_PER_PICTURE, in order (all of them: the caller
    refuses more than MAX_PICTURES)."""
    rows = chart.rows
    return [rows[i : i + ROWS_PER_PICTURE] for i in range(0, len(rows), ROWS_PER_PICTURE)]


def _conditions(unit_id: int | None, flt: ChartFilter) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if unit_id is not None:
        conds.append(Project.unit_id == unit_id)
    if flt.kind is FilterKind.UNIT:
        conds.append(Project.unit_id == flt.id)
    elif flt.kind is FilterKind.STAGE:
        conds.append(Project.stage == Stage(flt.value))
    elif flt.kind is FilterKind.INDUSTRY:
        conds.append(Project.industry == flt.value)
    elif flt.kind is FilterKind.PROJECT:
        conds.append(Project.id == flt.id)
    # Dropped projects are off the wall unless asked for by stage or by code.
    if flt.kind not in (FilterKind.STAGE, FilterKind.PROJECT):
        conds.append(Project.stage != Stage.DROPPED)
    return conds


@dataclass
class _Loaded:
    """A project's row fields and what its light is worked out from."""

    id: int
    code: str
    name: str
    unit: str
    stage: Stage
    industry: str
    investment: Decimal
    created_at: datetime
    targets: dict[Stage, date | None]
    milestones: list[tuple[int, str, str, date | None, date | None, int]] = field(
        default_factory=list
    )
    problem_levels: list[int] = field(default_factory=list)
    instructions: list[tuple[date | None, int]] = field(default_factory=list)

    def light(self, today: date, soon_days: int) -> Light:
        return project_light(
            stage=self.stage,
            targets=self.targets,
            milestones=[(m[3], m[4], m[5]) for m in self.milestones],
            problem_levels=self.problem_levels,
            instructions=self.instructions,
            today=today,
            soon_days=soon_days,
        )


async def _load(session: AsyncSession, conds: Sequence[ColumnElement[bool]]) -> list[_Loaded]:
    """The projects matching CONDS with their milestones, open problems' levels and open
    instructions: four set queries whatever the number of projects."""
    rows = (
        await session.execute(
            select(
                Project.id,
                Project.code,
                Project.name,
                Unit.name,
                Project.stage,
                Project.industry,
                Project.investment,
                Project.created_at,
                Project.target_signed,
                Project.target_started,
                Project.target_operating,
            )
            .join(Unit, Unit.id == Project.unit_id)
            .where(*conds)
            .order_by(Project.code)
        )
    ).all()
    loaded = {
        r[0]: _Loaded(
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            r[6] or Decimal(0),
            r[7],
            {Stage.SIGNED: r[8], Stage.STARTED: r[9], Stage.OPERATING: r[10]},
        )
        for r in rows
    }
    if not loaded:
        return []
    milestones = await session.execute(
        select(
            Milestone.project_id,
            Milestone.seq,
            Milestone.title,
            Milestone.kind,
            Milestone.planned_date,
            Milestone.done_date,
            Milestone.escalation_level,
        )
        .join(Project, Project.id == Milestone.project_id)
        .where(*conds)
        .order_by(Milestone.project_id, Milestone.seq)
    )
    for pid, seq, title, kind, planned, done, level in milestones:
        loaded[pid].milestones.append((seq, title, kind, planned, done, level))
    problems = await session.execute(
        select(Problem.project_id, func.max(Problem.escalation_level))
        .join(Project, Project.id == Problem.project_id)
        .where(*conds, Problem.status.in_(OPEN_STATES))
        .group_by(Problem.project_id)
    )
    for pid, level in problems:
        loaded[pid].problem_levels.append(int(level or 0))
    instructions = await session.execute(
        select(Instruction.project_id, Instruction.deadline, Instruction.escalation_level)
        .join(Project, Project.id == Instruction.project_id)
        .where(*conds, Instruction.done_at.is_(None))
    )
    for pid, deadline, level in instructions:
        loaded[pid].instructions.append((deadline, int(level or 0)))
    return list(loaded.values())


def _row(p: _Loaded, light: Light, today: date, soon_days: int, group_by: GroupBy) -> ChartRow:
    milestones = []
    for seq, title, kind, planned, done, _level in p.milestones:
        if done is not None:
            state = MilestoneState.DONE
        elif planned is None:
            state = MilestoneState.UNDATED
        elif planned < today:
            state = MilestoneState.OVERDUE
        else:
            state = MilestoneState.PLANNED
        milestones.append(ChartMilestone(seq, title, kind, planned, done, state))
    targets = tuple(
        ChartTarget(s, day, target_light(p.stage, s, day, today, soon_days))
        for s in TARGET_STAGES
        if (day := p.targets[s]) is not None
    )
    group = p.unit if group_by is GroupBy.UNIT else p.stage.value
    return ChartRow(
        p.id,
        p.code,
        p.name,
        p.unit,
        p.stage,
        p.industry,
        light,
        tuple(milestones),
        targets,
        group,
    )


_STAGE_RANK = {s: i for i, s in enumerate((*STAGE_ORDER, Stage.PAUSED, Stage.DROPPED))}


async def wall_chart(
    session: AsyncSession,
    *,
    unit_id: int | None,
    flt: ChartFilter,
    today: date,
    soon_days: int,
    start: date,
    end: date,
) -> WallChart:
    """The wall chart's rows for a member's reach and filter.

    UNIT_ID: the member's unit for officers and heads, None for the whole city. FLT: from
    read_filter. TODAY (local) decides the lights, with SOON_DAYS (calendar days) for
    yellow; START and END (local days) are the time axis the picture will use. Dropped
    projects are left out unless the filter names their stage or code.
    """
    loaded = await _load(session, _conditions(unit_id, flt))
    units = {p.unit for p in loaded}
    group_by = GroupBy.STAGE if len(units) == 1 else GroupBy.UNIT
    rows = [_row(p, p.light(today, soon_days), today, soon_days, group_by) for p in loaded]
    counts = {light: sum(1 for r in rows if r.light is light) for light in LIGHT_ORDER}
    by_group: dict[str, list[ChartRow]] = defaultdict(list)
    for r in rows:
        by_group[r.group].append(r)
    if group_by is GroupBy.STAGE:
        groups = sorted(by_group, key=lambda g: _STAGE_RANK[Stage(g)])
    else:
        groups = sorted(
            by_group,
            key=lambda g: (
                -sum(r.light is Light.RED for r in by_group[g]),
                -sum(r.light is Light.YELLOW for r in by_group[g]),
                g,
            ),
        )
    ordered = [
        r for g in groups for r in sorted(by_group[g], key=lambda r: (_RANK[r.light], r.code))
    ]
    scope = await _unit_name(session, unit_id)
    return WallChart(today, start, end, flt, group_by, tuple(groups), tuple(ordered), counts, scope)


async def _unit_name(session: AsyncSession, unit_id: int | None) -> str | None:
    if unit_id is None:
        return None
    return await session.scalar(select(Unit.name).where(Unit.id == unit_id))


# --- the funnel -------------------------------------------------------------------------

# The stages the funnel shows: the four a project moves through, then paused and dropped.
FUNNEL_STAGES = (*STAGE_ORDER, Stage.PAUSED, Stage.DROPPED)


@dataclass(frozen=True)
class StageFigures:
    """One stage of the funnel: projects in it now and their planned investment (万元);
    how many reached it for the first time this month and this year (a stage change, not
    entering the store there); how many of those in it now are red."""

    stage: Stage
    projects: int
    investment: Decimal
    moved_month: int
    moved_year: int
    red: int


@dataclass(frozen=True)
class Transition:
    """How long one of the three speeds took this year: the median in calendar days over
    the COUNT projects that first reached TO_STAGE this year (None when none did)."""

    from_stage: Stage
    to_stage: Stage
    median_days: float | None
    count: int


@dataclass(frozen=True)
class Funnel:
    today: date
    stages: tuple[StageFigures, ...]
    transitions: tuple[Transition, ...]
    # The unit's name when the funnel is one unit's, else None (the city).
    scope: str | None = None

    @property
    def projects(self) -> int:
        return sum(s.projects for s in self.stages)

    @property
    def investment(self) -> Decimal:
        return sum((s.investment for s in self.stages), Decimal(0))

    def stage(self, stage: Stage) -> StageFigures:
        return next(s for s in self.stages if s.stage is stage)

    def transition(self, to_stage: Stage) -> Transition:
        return next(t for t in self.transitions if t.to_stage is to_stage)


def _local_start(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


async def funnel(
    session: AsyncSession,
    today: date,
    tz: tzinfo,
    *,
    unit_id: int | None = None,
    soon_days: int = 7,
) -> Funnel:
    """The funnel of `/board` on TODAY (local, in time zone TZ), for the city or, with
    UNIT_ID, one unit's projects.

    "This month" and "this year" are the local calendar month and year up to the end of
    TODAY. A stage counts as reached at its first StageMove into it; the days of a
    transition run from the first arrival at the earlier stage (for negotiating: entering
    the store, or the project's created_at when the store has no record of its entry) to
    the first arrival at the later one, counted in local calendar days. A project that
    skipped the earlier stage gives no figure for that transition. SOON_DAYS only matters
    for yellow, which the funnel does not count.
    """
    conds: list[ColumnElement[bool]] = []
    if unit_id is not None:
        conds.append(Project.unit_id == unit_id)
    loaded = await _load(session, conds)
    until = _local_start(today + timedelta(days=1), tz)
    month_start = _local_start(today.replace(day=1), tz)
    year_start = _local_start(date(today.year, 1, 1), tz)
    moves = await session.execute(
        select(StageMove.project_id, StageMove.from_stage, StageMove.to_stage, StageMove.at)
        .join(Project, Project.id == StageMove.project_id)
        .where(*conds, StageMove.at < until)
        .order_by(StageMove.at, StageMove.id)
    )
    # Per project: the first time each stage was reached, and whether that was its entry.
    first: dict[int, dict[Stage, tuple[datetime, bool]]] = defaultdict(dict)
    for pid, from_stage, to_stage, at in moves:
        first[pid].setdefault(to_stage, (at, from_stage is None))

    figures = []
    for stage in FUNNEL_STAGES:
        here = [p for p in loaded if p.stage is stage]
        arrivals = [
            at
            for reached in first.values()
            if stage in reached and not reached[stage][1]
            for at in [reached[stage][0]]
        ]
        figures.append(
            StageFigures(
                stage,
                len(here),
                sum((p.investment for p in here), Decimal(0)),
                sum(1 for at in arrivals if at >= month_start),
                sum(1 for at in arrivals if at >= year_start),
                sum(1 for p in here if p.light(today, soon_days) is Light.RED),
            )
        )

    created = {p.id: p.created_at for p in loaded}
    transitions = []
    for before, after in TRANSITIONS:
        days: list[int] = []
        for pid, reached in first.items():
            arrival = reached.get(after)
            if arrival is None or arrival[1] or arrival[0] < year_start:
                continue
            since = reached.get(before)
            if since is None and before is Stage.NEGOTIATING:
                entered = any(entry for _, entry in reached.values())
                since = None if entered else (created[pid], True)
            if since is None or since[0] > arrival[0]:
                continue
            days.append((arrival[0].astimezone(tz).date() - since[0].astimezone(tz).date()).days)
        median = float(statistics.median(days)) if days else None
        transitions.append(Transition(before, after, median, len(days)))
    return Funnel(today, tuple(figures), tuple(transitions), await _unit_name(session, unit_id))
