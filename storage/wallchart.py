"""What the wall chart (`/chart`) and the funnel (`/board`) are drawn from.

Plain data, no Telegram and no matplotlib: tests check which projects, which colours, in
which order and groups, and which figures, without looking at a picture; bot/charts.py
draws them. Dates are local calendar days; StageMove times are aware UTC and are turned
into local days with the city's time zone given by the caller.
"""

from __future__ import annotations

import enum
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any

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
    """The parts a filter combines: a unit, a stage and an industry together, or a code."""

    UNIT = "unit"
    STAGE = "stage"
    INDUSTRY = "industry"
    PROJECT = "project"


@dataclass(frozen=True)
class ChartFilter:
    """What `/chart WORDS` asked for: any of a unit, a stage and an industry at once (all
    must hold), or a project's code. UNIT is the unit's name and UNIT_ID its id; INDUSTRY
    a configured industry; CODE the project's code and PROJECT_ID its id. All None: the
    member's whole reach."""

    unit: str | None = None
    unit_id: int | None = None
    stage: Stage | None = None
    industry: str | None = None
    code: str | None = None
    project_id: int | None = None

    @property
    def kinds(self) -> tuple[FilterKind, ...]:
        """The parts this filter names, in the order they are written."""
        named = (
            (FilterKind.UNIT, self.unit_id),
            (FilterKind.STAGE, self.stage),
            (FilterKind.INDUSTRY, self.industry),
            (FilterKind.PROJECT, self.project_id),
        )
        return tuple(kind for kind, value in named if value is not None)


ALL = ChartFilter()


@dataclass(frozen=True)
class FilterChoices:
    """What a filter may name, for the refusal of a word that names nothing, taken from
    the member's reach: the units that have projects (only the member's own unit for
    officers and heads), the configured industries, a real project code, and a unit with
    a stage its projects are at (for a combined example), or None where there are none."""

    units: tuple[str, ...]
    industries: tuple[str, ...]
    code: str | None = None
    combined: tuple[str, Stage] | None = None


# What separates the parts of a filter: the separators of bot/input (spaces, the
# ideographic space, `，：、；` and their ASCII forms).
_PARTS = re.compile(r"[^\s,:;，：、；]+")
# A word that looks like a project code (ASCII letters, digits, `-_.`, with a digit).
_CODE_SHAPE = re.compile(r"^(?=.*\d)[A-Z0-9][A-Z0-9._\-]{0,19}$")
# A unit's name with spaces in it is read as one part up to this many words.
_SPAN = 4
# The longest word a refusal repeats.
_SHOWN = 40


def _shown(word: str) -> str:
    return word if len(word) <= _SHOWN else word[: _SHOWN - 1] + "…"


class _Reader:
    """Reads one part of a filter (a unit, a stage, an industry or a code) for read_filter."""

    def __init__(
        self,
        session: AsyncSession,
        units: Sequence[tuple[int, str]],
        unit_id: int | None,
        industries: Sequence[str],
        aliases: Mapping[str, str] | None,
    ) -> None:
        self.session = session
        self.units = units
        self.by_name = {name.lower(): (uid, name) for uid, name in units}
        self.unit_id = unit_id
        self.industries = industries
        self.industry = industry_names(industries, aliases)

    def _unit(self, uid: int, name: str) -> tuple[FilterKind, Any]:
        if self.unit_id is not None and uid != self.unit_id:
            raise Refused("err.chart_not_yours", unit=name)
        return FilterKind.UNIT, (uid, name)

    async def part(self, word: str) -> tuple[FilterKind, Any] | None:
        """What WORD names, or None. Tried in this order: a unit's exact name (any case), a
        stage word, an industry or its alias, a project code within reach, then the one
        unit whose name contains the word. Raises Refused as read_filter says."""
        if word.lower() in self.by_name:
            return self._unit(*self.by_name[word.lower()])
        stage = stage_word(word)
        if stage is not None:
            return FilterKind.STAGE, stage
        industry = self.industry(word)
        if industry is not None:
            return FilterKind.INDUSTRY, industry
        code = normal_code(word)
        looks_like_code = _CODE_SHAPE.match(code) is not None
        if looks_like_code:
            found = (
                await self.session.execute(
                    select(Project.id, Project.unit_id).where(Project.code == code)
                )
            ).first()
            if found is not None and (self.unit_id is None or found[1] == self.unit_id):
                return FilterKind.PROJECT, (code, found[0])
        near = [(uid, name) for uid, name in self.units if word.lower() in name.lower()]
        if self.unit_id is not None:
            near = [(uid, name) for uid, name in near if uid == self.unit_id] or near
        if len(near) == 1:
            return self._unit(*near[0])
        if len(near) > 1:
            raise Refused("err.chart_ambiguous", word=_shown(word), units=tuple(n for _, n in near))
        if looks_like_code and self.unit_id is not None:
            # Whether the code exists elsewhere is not told: the answer is the same for a
            # code of another unit's project and for one that names nothing.
            raise Refused(
                "err.chart_code_not_yours",
                code=code,
                unit=next(name for uid, name in self.units if uid == self.unit_id),
                choices=await filter_choices(self.session, self.unit_id, self.industries),
            )
        return None


async def read_filter(
    session: AsyncSession,
    text: str,
    *,
    unit_id: int | None,
    industries: Sequence[str],
    aliases: Mapping[str, str] | None = None,
) -> ChartFilter:
    """The filter a member typed after `/chart`: a unit, a stage, an industry, or any two
    or three of them together (`大镇 签约`, `大镇，新能源`, `签约 新能源`), or a code.

    Parts are separated by spaces or the punctuation of a Chinese keyboard (`，：、；`).
    Each part is a unit's exact name (any case; a name with spaces is read whole), a stage
    word in Chinese or English (`开工`, `在建`, `started`), a configured industry or an
    alias (`[city] industries`, `industry_aliases`), a project code within reach, or a
    word that only one unit's name contains (`城东` for 城东街道). UNIT_ID is the member's
    unit when they see only their own (officers and heads), None for the city. Empty
    text is everything.

    Raises Refused: `err.chart_not_yours` (with `unit`) for another unit named by an
    officer or head; `err.chart_code_not_yours` (with `code`, their `unit`'s name and
    `choices`) for a code-like word not among their unit's projects;
    `err.chart_ambiguous` (with `word`, `units`) when several units contain the word;
    `err.chart_twice` (with `word`, `first`) for two units, stages or industries, or a
    code with anything else; `err.chart_filter` (with `word` and `choices`, a
    FilterChoices) when a word names nothing.
    """
    text = " ".join(text.split())
    if not text:
        return ALL
    units = (await session.execute(select(Unit.id, Unit.name).order_by(Unit.id))).all()
    reader = _Reader(session, [(uid, name) for uid, name in units], unit_id, industries, aliases)
    words = list(_PARTS.finditer(text))
    found: dict[FilterKind, tuple[str, Any]] = {}
    i = 0
    while i < len(words):
        # The longest run of words that names something: a unit's name may have spaces.
        for j in range(min(len(words), i + _SPAN), i, -1):
            span = text[words[i].start() : words[j - 1].end()]
            part = await reader.part(span)
            if part is not None:
                break
        else:
            word = words[i].group()
            raise Refused(
                "err.chart_filter",
                word=_shown(word),
                choices=await filter_choices(session, unit_id, industries),
            )
        kind, value = part
        if kind in found or (found and FilterKind.PROJECT in (kind, *found)):
            # Two stages (or units, industries) at once, or a code with anything else.
            first = found[kind][0] if kind in found else next(iter(found.values()))[0]
            raise Refused("err.chart_twice", word=_shown(span), first=_shown(first))
        found[kind] = (span, value)
        i = j
    flt = ChartFilter()
    for kind, (_span, value) in found.items():
        if kind is FilterKind.UNIT:
            flt = replace(flt, unit_id=value[0], unit=value[1])
        elif kind is FilterKind.STAGE:
            flt = replace(flt, stage=value)
        elif kind is FilterKind.INDUSTRY:
            flt = replace(flt, industry=value)
        else:
            flt = replace(flt, code=value[0], project_id=value[1])
    return flt


async def filter_choices(
    session: AsyncSession, unit_id: int | None, industries: Sequence[str]
) -> FilterChoices:
    """What a refusal offers, from the store within the member's reach (UNIT_ID for an
    officer or head, None for the city): the units with projects that are not dropped
    (in the order they were made), the configured INDUSTRIES, the first code in order,
    and the unit with the most projects at one stage, with that stage."""
    conds: list[ColumnElement[bool]] = [Project.stage != Stage.DROPPED]
    if unit_id is not None:
        conds.append(Project.unit_id == unit_id)
    pairs = (
        await session.execute(
            select(Unit.id, Unit.name, Project.stage, func.count())
            .join(Project, Project.unit_id == Unit.id)
            .where(*conds)
            .group_by(Unit.id, Unit.name, Project.stage)
        )
    ).all()
    names = {uid: name for uid, name, _stage, _n in pairs}
    busiest = max(pairs, key=lambda p: (p[3], -p[0], -_STAGE_RANK[p[2]]), default=None)
    code = await session.scalar(select(func.min(Project.code)).where(*conds))
    return FilterChoices(
        tuple(names[uid] for uid in sorted(names)),
        tuple(industries),
        code,
        (busiest[1], busiest[2]) if busiest is not None else None,
    )


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


class MarkKind(enum.StrEnum):
    """What a row's end shows beside the dates: open problems, open instructions, and
    milestones urged up the chain that are not (yet) overdue."""

    PROBLEM = "problem"
    INSTRUCTION = "instruction"
    URGED = "urged"


@dataclass(frozen=True)
class RowMark:
    """COUNT open items of one KIND on a row, and the light they give the row: red (an
    item at escalation level 3, or an instruction past its deadline), yellow (level 1–2,
    or an instruction due within the soon days) or green (they weigh nothing yet)."""

    kind: MarkKind
    count: int
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
    # What else colours the row, drawn at the end of its label: problems, instructions.
    marks: tuple[RowMark, ...] = ()
    unit_id: int | None = None


class GroupBy(enum.StrEnum):
    UNIT = "unit"
    STAGE = "stage"


@dataclass(frozen=True)
class WallChart:
    """The rows of a wall chart in drawing order: by group, red first within a group.

    Groups are units, worst first (most red, then most yellow, then by name); when only
    one unit is shown (a unit filter, or an officer's own unit) they are the stages, in
    the order projects move through them. START and END bound the time axis (local days).
    COUNTS are per light over every project that matched, drawn or not.

    A chart cut to fit the pictures (fit_rows) keeps fewer ROWS: LEFT_OUT counts per
    light the projects not drawn, GROUP_SIZES the projects of each group before the cut,
    and EXAMPLE_UNIT names the unit with the most projects left out (a filter to offer).
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
    left_out: Mapping[Light, int] = field(default_factory=dict)
    group_sizes: Mapping[str, int] = field(default_factory=dict)
    example_unit: str | None = None
    # Calendar days ahead that count as due soon (yellow), for the legend.
    soon_days: int = 7

    @property
    def too_many(self) -> bool:
        """More rows than ten pictures hold: the member is asked for a filter."""
        return len(self.rows) > MAX_ROWS

    @property
    def left_out_total(self) -> int:
        return sum(self.left_out.values())

    def group_size(self, group: str) -> int:
        """The projects of GROUP that matched, drawn or not."""
        if group in self.group_sizes:
            return self.group_sizes[group]
        return sum(1 for r in self.rows if r.group == group)


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
    """The rows cut into pictures of ROWS_PER_PICTURE, in order (all of them: /chart
    refuses more than MAX_PICTURES, the meeting's chart is cut first by fit_rows)."""
    rows = chart.rows
    return [rows[i : i + ROWS_PER_PICTURE] for i in range(0, len(rows), ROWS_PER_PICTURE)]


def fit_rows(chart: WallChart, limit: int = MAX_ROWS) -> WallChart:
    """CHART with at most LIMIT rows, for a chart that must go out whole (the meeting's).

    The rule, said on the pictures from LEFT_OUT: when more rows match than LIMIT, every
    green (and grey) project is left out and every red and yellow one drawn; when even
    the red and yellow ones are more than LIMIT, the worst are drawn first (red before
    yellow; among equals, in the chart's own order: worst units first) and the rest left
    out. Drawn rows keep their order and groups; COUNTS stay those of the whole chart.
    A chart within LIMIT comes back unchanged.
    """
    if len(chart.rows) <= limit:
        return chart
    chased = [r for r in chart.rows if r.light in (Light.RED, Light.YELLOW)]
    if len(chased) > limit:
        keep = {id(r) for r in sorted(chased, key=lambda r: _RANK[r.light])[:limit]}
        chased = [r for r in chased if id(r) in keep]
    drawn = {id(r) for r in chased}
    rows = tuple(r for r in chart.rows if id(r) in drawn)
    missing = [r for r in chart.rows if id(r) not in drawn]
    left_out = {light: n for light in LIGHT_ORDER if (n := sum(r.light is light for r in missing))}
    by_unit: dict[str, int] = defaultdict(int)
    for r in missing:
        by_unit[r.unit] += 1
    example = max(by_unit, key=lambda u: (by_unit[u], u)) if by_unit else None
    sizes: dict[str, int] = defaultdict(int)
    for r in chart.rows:
        sizes[r.group] += 1
    groups = tuple(dict.fromkeys(r.group for r in rows))
    return replace(
        chart,
        rows=rows,
        groups=groups,
        left_out=left_out,
        group_sizes=dict(sizes),
        example_unit=example,
    )


@dataclass(frozen=True)
class Narrower:
    """A filter that cuts a chart too big to send, and the projects it would keep."""

    flt: ChartFilter
    count: int


def narrowers(chart: WallChart, per_kind: int = 3) -> list[Narrower]:
    """Filters that narrow CHART, worked out from its own rows: its filter with one more
    part (a unit, a stage or an industry it does not name yet), each keeping fewer rows
    than now. Per kind (units, then stages, then industries) at most PER_KIND: those that
    fit in MAX_ROWS first, most rows first, then the others, fewest rows first; equals
    by name (units, industries) or in the order projects move (stages). Empty when no
    unit, stage or industry splits the rows, and for a code."""
    total = len(chart.rows)
    flt = chart.flt
    found: list[Narrower] = []
    if flt.project_id is not None:
        return found
    # Per kind: (filter, rows it keeps, its place among equals).
    options: list[list[tuple[ChartFilter, int, Any]]] = []
    if flt.unit_id is None:
        units: dict[tuple[int | None, str], int] = defaultdict(int)
        for r in chart.rows:
            units[(r.unit_id, r.unit)] += 1
        options.append(
            [(replace(flt, unit_id=uid, unit=name), n, name) for (uid, name), n in units.items()]
        )
    if flt.stage is None:
        stages: dict[Stage, int] = defaultdict(int)
        for r in chart.rows:
            stages[r.stage] += 1
        options.append([(replace(flt, stage=s), n, _STAGE_RANK[s]) for s, n in stages.items()])
    if flt.industry is None:
        industries: dict[str, int] = defaultdict(int)
        for r in chart.rows:
            industries[r.industry] += 1
        options.append([(replace(flt, industry=i), n, i) for i, n in industries.items()])
    for kind in options:
        cutting = [(f, n, tie) for f, n, tie in kind if n < total]
        cutting.sort(key=lambda o: (o[1] > MAX_ROWS, -o[1] if o[1] <= MAX_ROWS else o[1], o[2]))
        found += [Narrower(f, n) for f, n, _tie in cutting[:per_kind]]
    return found


def _conditions(unit_id: int | None, flt: ChartFilter) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if unit_id is not None:
        conds.append(Project.unit_id == unit_id)
    if flt.unit_id is not None:
        conds.append(Project.unit_id == flt.unit_id)
    if flt.stage is not None:
        conds.append(Project.stage == flt.stage)
    if flt.industry is not None:
        conds.append(Project.industry == flt.industry)
    if flt.project_id is not None:
        conds.append(Project.id == flt.project_id)
    # Dropped projects are off the wall unless asked for by stage or by code.
    if flt.stage is None and flt.project_id is None:
        conds.append(Project.stage != Stage.DROPPED)
    return conds


@dataclass
class _Loaded:
    """A project's row fields and what its light is worked out from."""

    id: int
    code: str
    name: str
    unit_id: int
    unit: str
    stage: Stage
    industry: str
    investment: Decimal
    created_at: datetime
    targets: dict[Stage, date | None]
    milestones: list[tuple[int, str, str, date | None, date | None, int]] = field(
        default_factory=list
    )
    # The highest level among the open problems (one entry, or none), and their number.
    problem_levels: list[int] = field(default_factory=list)
    problems: int = 0
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
                Project.unit_id,
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
            r[6],
            r[7] or Decimal(0),
            r[8],
            {Stage.SIGNED: r[9], Stage.STARTED: r[10], Stage.OPERATING: r[11]},
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
        select(Problem.project_id, func.max(Problem.escalation_level), func.count())
        .join(Project, Project.id == Problem.project_id)
        .where(*conds, Problem.status.in_(OPEN_STATES))
        .group_by(Problem.project_id)
    )
    for pid, level, count in problems:
        loaded[pid].problem_levels.append(int(level or 0))
        loaded[pid].problems = int(count)
    instructions = await session.execute(
        select(Instruction.project_id, Instruction.deadline, Instruction.escalation_level)
        .join(Project, Project.id == Instruction.project_id)
        .where(*conds, Instruction.done_at.is_(None))
    )
    for pid, deadline, level in instructions:
        loaded[pid].instructions.append((deadline, int(level or 0)))
    return list(loaded.values())


def _level_light(level: int) -> Light:
    return Light.RED if level >= 3 else Light.YELLOW if level >= 1 else Light.GREEN


def _worst(lights: Iterable[Light]) -> Light:
    """The worst of LIGHTS among red, yellow and green (done and none weigh as green)."""
    ranked = [light for light in lights if light in (Light.RED, Light.YELLOW)]
    return min(ranked, key=_RANK.__getitem__, default=Light.GREEN)


def _marks(p: _Loaded, today: date, soon_days: int) -> tuple[RowMark, ...]:
    """What colours P's row besides the dates drawn on it, as project_light weighs it."""
    marks: list[RowMark] = []
    if p.problems:
        marks.append(RowMark(MarkKind.PROBLEM, p.problems, _level_light(max(p.problem_levels))))
    if p.instructions:
        light = _worst(
            light
            for deadline, level in p.instructions
            for light in (milestone_light(deadline, None, today, soon_days), _level_light(level))
        )
        marks.append(RowMark(MarkKind.INSTRUCTION, len(p.instructions), light))
    if p.stage in ACTIVE_STAGES:
        # An overdue milestone shows as a red cross already; one urged before its date
        # (an imported level, or one not reset) would colour the row unseen.
        urged = [
            level
            for _seq, _title, _kind, planned, done, level in p.milestones
            if done is None and level >= 1 and not (planned is not None and planned < today)
        ]
        if urged:
            marks.append(RowMark(MarkKind.URGED, len(urged), _level_light(max(urged))))
    return tuple(marks)


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
        _marks(p, today, soon_days),
        p.unit_id,
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
    """The wall chart's rows for a member's reach and filter, every project that matches.

    UNIT_ID: the member's unit for officers and heads, None for the whole city. FLT: from
    read_filter. TODAY (local) decides the lights, with SOON_DAYS (calendar days) for
    yellow; START and END (local days) are the time axis the picture will use. Dropped
    projects are left out unless the filter names a stage or a code.
    """
    loaded = await _load(session, _conditions(unit_id, flt))
    units = {p.unit_id for p in loaded}
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
    return WallChart(
        today,
        start,
        end,
        flt,
        group_by,
        tuple(groups),
        tuple(ordered),
        counts,
        scope,
        soon_days=soon_days,
    )


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
