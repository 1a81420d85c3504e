"""The units' ranking (`/rank`, the briefing's summary): results and diligence, fair to small units.

Ranked are the townships, sub-districts and departments that own projects or answer for
items (milestones, problems, instructions); the service center and the leadership judge,
they are not judged. Eight figures per unit, each scored 0–1:

results — what the unit's projects reached in the period (stage_moves):
- `signed`, `started`, `operating`: projects that first reached that stage (or jumped past
  it) by a move inside the period, OF those that could have: the ones counted plus those
  still one stage short of it on the last day (negotiating for signed, signed for started,
  started for operating). A project that entered the store at a stage never counts for
  it, nor does one resuming a stage it had already reached.
- `investment`: the planned investment (万元) of the projects counted above (each once),
  OF the unit's projects in play (those counted plus those negotiating, signed or started
  on the last day).

diligence — promises kept, each item judged against its own current deadline (an approved
extension moves it), as of the last day of the period:
- `milestones`: milestones (of the owner unit, else the project's unit) planned in the
  period, done on or before the planned date;
- `problems`: problems whose reply deadline (written, granted, or `reply_days` working days
  after raising) fell in the period, answered (local date) on or before it;
- `instructions`: leaders' instructions whose deadline (else `instruction_days` working
  days after giving) fell in the period, reported done (local date) on or before it;
- `reports`: for every week (Monday–Sunday) ending in the period and every project of the
  unit active (negotiating, signed, started) when the week began, a progress report or a
  "no change" check dated in that week.
An item still open on its deadline day (or a week not over yet) is not judged yet; one done
early counts. Open items the escalation no longer chases (milestones of paused, operating
or dropped projects, problems and instructions of dropped ones) are not held against the
unit; a problem closed without an answer before its deadline owed nothing.

Groups: offices publish two tables, and so does this: townships and sub-districts
(`Group.TOWNS`, results and diligence) and departments (`Group.DEPARTMENTS`, diligence
alone: they own no projects, and a department with 3 of 3 answers on time must not top a
township that also carries results). Each group has its own ranks, previous ranks, idle
units and left-out figures, and "the city" below means the unit's group.

Fairness: one method for every figure, empirical-Bayes shrinkage. A unit's rate is the
posterior mean under a Beta prior whose mean is the city's own rate for that figure this
period and whose strength is PRIOR_STRENGTH items (or projects): a unit with few items sits
near the city's rate, one with many is judged on its own record, and evidence counts both
ways (1 of 1 is the city's rate nudged up, 29 of 30 high; 0 of 1 the city's rate nudged
down, 0 of 30 low). On-time shares score their posterior mean (`on_time_score`); their
prior keeps at least Jeffreys' half item on each side, so that a city where everything was
late still tells 0 of 30 from 0 of 1, and 1 of 1 never outscores 29 of 30 whatever the
city's rate. Results are counted per project the unit holds (three projects compete with
thirty on the same footing), shrunk the same way toward the city's rate, and scored against
it: the city's pace scores 0.5, twice it or more 1 (`pace_score`), so no single lucky unit
sets everyone else's scale.

A figure with nothing in it for a unit (nothing due, no projects in play) gets no score, and
its weight goes to the unit's other figures; a figure nobody in the city moved or had due,
or whose weight is 0, is left out for all (`Ranking.left_out`, every unit's Figure still
holds its counts). The combined score is the weighted mean of the figure scores × 100
(weights: `Weights`, the config's `[rank]`). Units whose scores are equal as shown (one
decimal) share a rank (1, 2, 2, 4), listed by the items counted, then by name.

The briefing calls `ranking(session, "month", today, tz, calendar, weights)` as it is: each
group's rows (their `figures`), `idle` and `left_out` hold everything /rank shows.
"""

from __future__ import annotations

import bisect
import enum
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.agenda import ACTIVE_STAGES
from storage.errors import Refused
from storage.models import (
    Instruction,
    Milestone,
    Problem,
    ProblemStatus,
    ProgressReport,
    Project,
    Stage,
    StageMove,
    Unit,
    UnitKind,
)
from storage.rules import STAGE_ORDER
from storage.workdays import WorkCalendar

__all__ = [
    "DILIGENCE",
    "FIGURES",
    "GROUP_FIGURES",
    "GROUP_KINDS",
    "JEFFREYS",
    "LEFT_OUT_CITY",
    "LEFT_OUT_WEIGHT",
    "PERIOD_WORDS",
    "PRIOR_STRENGTH",
    "RANKED_KINDS",
    "RESULTS",
    "Figure",
    "Group",
    "Period",
    "RankGroup",
    "Ranking",
    "UnitScore",
    "Weights",
    "accepted_words",
    "on_time_prior",
    "on_time_score",
    "pace_score",
    "parse_period",
    "period_bounds",
    "previous_bounds",
    "ranking",
    "shrunk",
]


@dataclass(frozen=True)
class Weights:
    """Weights of each figure in a unit's combined score (the config's `[rank]`); only
    their ratios matter, and 0 leaves a figure out of the score and the table."""

    signed: float = 1.0
    started: float = 1.0
    operating: float = 1.0
    investment: float = 1.0
    milestones: float = 2.0
    problems: float = 2.0
    instructions: float = 2.0
    reports: float = 1.0

    def of(self, figure: str) -> float:
        """The weight of FIGURE (one of FIGURES)."""
        return float(getattr(self, figure))


RESULTS = ("signed", "started", "operating", "investment")
DILIGENCE = ("milestones", "problems", "instructions", "reports")
FIGURES = RESULTS + DILIGENCE
RANKED_KINDS = (UnitKind.TOWNSHIP, UnitKind.SUBDISTRICT, UnitKind.DEPARTMENT)


class Group(enum.StrEnum):
    """The two tables offices publish: 乡镇街道 (territorial units, judged on results and
    diligence) and 市直部门 (departments: they own no projects, so diligence alone)."""

    TOWNS = "towns"
    DEPARTMENTS = "departments"


GROUP_KINDS: dict[Group, tuple[UnitKind, ...]] = {
    Group.TOWNS: (UnitKind.TOWNSHIP, UnitKind.SUBDISTRICT),
    Group.DEPARTMENTS: (UnitKind.DEPARTMENT,),
}
# The figures each group is judged (and shown) on, in FIGURES order.
GROUP_FIGURES: dict[Group, tuple[str, ...]] = {
    Group.TOWNS: FIGURES,
    Group.DEPARTMENTS: DILIGENCE,
}

# The stage each result figure counts arrivals at.
_ADVANCE = {"signed": Stage.SIGNED, "started": Stage.STARTED, "operating": Stage.OPERATING}
# The city's rate weighs as much as this many items (or projects) of a unit's own: about a
# small township's whole pipeline or a month of its deadlines, so there its own record and
# the city's count alike, while a unit with thirty is judged nearly on its own.
PRIOR_STRENGTH = 5.0
# Jeffreys' prior, half an item each way: the least an on-time prior holds on either side.
# A city where every item was late (or on time) would otherwise make the prior certain and
# every unit's score the same; and 1 of 1 never outscores 29 of 30 once the misses' side
# holds 6/29 of an item or more (α + 1 ≤ 28β with α ≤ 5).
JEFFREYS = 0.5
# Why a figure is left out for every unit (`Ranking.left_out`).
LEFT_OUT_WEIGHT = "weight"  # its weight in [rank] is 0
LEFT_OUT_CITY = "city"  # nobody in the city moved it (results) or had any due (diligence)


class Period(enum.StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


# The words /rank takes for each period, the first three shown when a word is unknown.
PERIOD_WORDS: dict[Period, tuple[str, ...]] = {
    Period.MONTH: ("月", "本月", "month", "月度", "this month", "monthly"),
    Period.QUARTER: ("季", "季度", "quarter", "本季", "本季度", "this quarter", "quarterly"),
    Period.YEAR: ("年", "年度", "year", "本年", "今年", "全年", "this year", "yearly", "annual"),
}


def accepted_words() -> str:
    """The period words to offer, as `月/本月/month | 季/季度/quarter | 年/年度/year`."""
    return " | ".join("/".join(words[:3]) for words in PERIOD_WORDS.values())


def parse_period(text: str | None) -> Period:
    """The period named by TEXT (zh or en, any case, full-width too); MONTH when empty.

    Raises Refused("err.rank_period", word=…, words=…) for any other word.
    """
    wanted = " ".join(unicodedata.normalize("NFKC", text or "").lower().split())
    if not wanted:
        return Period.MONTH
    for period, words in PERIOD_WORDS.items():
        if wanted in words:
            return period
    raise Refused("err.rank_period", word=wanted[:20], words=accepted_words())


def _first_of_month(year: int, month: int) -> date:
    """The first day of MONTH of YEAR, MONTH counted on past 12 into the next years."""
    y, m = divmod(month - 1, 12)
    return date(year + y, m + 1, 1)


def _span(period: Period, day: date) -> tuple[date, date]:
    """The whole period holding DAY: its first and last day."""
    if period is Period.MONTH:
        first, months = day.replace(day=1), 1
    elif period is Period.QUARTER:
        first, months = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1), 3
    else:
        first, months = date(day.year, 1, 1), 12
    return first, _first_of_month(first.year, first.month + months) - timedelta(days=1)


def period_bounds(period: Period, today: date) -> tuple[date, date]:
    """The current period up to TODAY: (its first day, TODAY), local dates, inclusive."""
    return _span(Period(period), today)[0], today


def previous_bounds(period: Period, today: date) -> tuple[date, date]:
    """The whole period before the one holding TODAY: (first day, last day), inclusive."""
    first = _span(Period(period), today)[0]
    return _span(Period(period), first - timedelta(days=1))


def shrunk(amount: float, n: int, prior: float, strength: float = PRIOR_STRENGTH) -> float:
    """AMOUNT per project over N projects, pulled toward PRIOR (the city's figure per
    project) as if STRENGTH more projects had done exactly PRIOR: the posterior mean under
    a Beta (for counts) or conjugate (for amounts) prior."""
    return (amount + strength * prior) / (n + strength)


def pace_score(amount: float, n: int, city: float) -> float:
    """A result's score 0–1: AMOUNT over N projects, shrunk toward CITY (the city's figure
    per project, > 0), against CITY: the city's pace is 0.5, twice it or more is 1."""
    return min(1.0, shrunk(amount, n, city) / (2 * city))


def on_time_prior(city: float, strength: float = PRIOR_STRENGTH) -> tuple[float, float]:
    """The Beta(α, β) prior of an on-time share: mean CITY (the city's share 0–1), worth
    STRENGTH items, each side at least JEFFREYS (its mean then leans toward ½, and only
    in a city at more than 90% or less than 10% on time)."""
    return max(strength * city, JEFFREYS), max(strength * (1 - city), JEFFREYS)


def on_time_score(k: int, n: int, city: float, strength: float = PRIOR_STRENGTH) -> float | None:
    """A diligence score 0–1: the posterior mean of a unit's on-time share, K on time of N
    judged, under `on_time_prior(CITY, STRENGTH)`; None when N is 0.

    1 of 1 lands just above the prior's mean and 0 of 1 just below it, 29 of 30 and 0 of 30
    near their own rates. With STRENGTH up to 13 (α + 1 ≤ 28β), 1 of 1 never scores above
    29 of 30 whatever CITY is; 0 of 30 always scores below 0 of 1.
    """
    if n <= 0:
        return None
    a, b = on_time_prior(city, strength)
    return (k + a) / (n + a + b)


@dataclass(frozen=True)
class Figure:
    """One figure of a unit.

    COUNT of OF: items on time of those judged, projects that reached the stage of those
    that could, or (investment) 万元 of the projects that advanced and the projects in
    play. RATE is COUNT/OF (万元 per project for investment), None when OF is 0. SCORE
    is 0–1, None when the figure says nothing about the unit (OF is 0: its weight goes to
    the others) or is left out for every unit (see `Ranking.left_out`).
    """

    count: int
    of: int
    rate: float | None
    score: float | None

    @property
    def scored(self) -> bool:
        """Whether the figure counts in the unit's combined score."""
        return self.score is not None


@dataclass(frozen=True)
class UnitScore:
    """A ranked unit: its FIGURES (every name of FIGURES, left-out ones too, with their
    counts), its combined SCORE 0–100, its RANK (1 first; units whose scores round to the
    same one decimal share it, within its GROUP), the ITEMS and projects its scored figures
    count (the order among equal scores) and, when it was ranked in the previous period,
    its rank and score there (in the same group). A department's results figures hold
    their counts but are never scored (`GROUP_FIGURES`)."""

    unit_id: int
    unit: str
    figures: dict[str, Figure]
    score: float
    rank: int
    prev_rank: int | None = None
    prev_score: float | None = None
    items: int = 0
    group: Group = Group.TOWNS

    @property
    def change(self) -> int | None:
        """Places gained since the previous period (negative: lost); None when new."""
        return None if self.prev_rank is None else self.prev_rank - self.rank


@dataclass(frozen=True)
class RankGroup:
    """One table of the ranking: the GROUP's units best first (ranks from 1), IDLE its
    units with nothing to judge (by name), FIGURES the figures the group is judged on
    (`GROUP_FIGURES`), LEFT_OUT those of them scored for no unit of the group and why,
    in FIGURES order: LEFT_OUT_WEIGHT (its weight is 0) or LEFT_OUT_CITY (nobody in the
    group moved it or had any due). A figure outside FIGURES is not left out: it does
    not apply."""

    group: Group
    rows: list[UnitScore]
    idle: list[str] = field(default_factory=list)
    left_out: dict[str, str] = field(default_factory=dict)

    @property
    def figures(self) -> tuple[str, ...]:
        return GROUP_FIGURES[self.group]


@dataclass(frozen=True)
class Ranking:
    """Units ranked over START–END (local dates, inclusive; END is today) in GROUPS, towns
    first, each group holding units (ranked or idle) only. PREV_START–PREV_END is the
    previous period the changes are measured against."""

    period: Period
    start: date
    end: date
    groups: list[RankGroup] = field(default_factory=list)
    prev_start: date | None = None
    prev_end: date | None = None

    @property
    def rows(self) -> list[UnitScore]:
        """Every ranked unit, group after group, best first in each (ranks restart)."""
        return [row for g in self.groups for row in g.rows]

    @property
    def idle(self) -> list[str]:
        """The units with nothing to judge, group after group, by name in each."""
        return [name for g in self.groups for name in g.idle]

    @property
    def left_out(self) -> dict[str, str]:
        """The figures left out in every group they apply to (and why, the first group's
        reason), in FIGURES order."""
        found: dict[str, str] = {}
        for name in FIGURES:
            applies = [g for g in self.groups if name in g.figures]
            if applies and all(name in g.left_out for g in applies):
                found[name] = applies[0].left_out[name]
        return found

    def group(self, group: Group) -> RankGroup | None:
        """The table of GROUP, None when the city has no unit of it to rank."""
        return next((g for g in self.groups if g.group is group), None)


# --- reading the store ------------------------------------------------------------------


@dataclass
class _Count:
    done: float = 0.0
    of: int = 0

    def add(self, ok: bool) -> None:
        self.of += 1
        if ok:
            self.done += 1


@dataclass
class _History:
    """A project and every stage it reached, in order (UTC)."""

    unit_id: int
    investment: float
    current: Stage
    at: list[datetime] = field(default_factory=list)
    moves: list[tuple[Stage | None, Stage]] = field(default_factory=list)

    def stage_at(self, moment: datetime) -> Stage | None:
        """The stage held just before MOMENT (UTC); None before it entered the store."""
        if not self.moves:
            # No history at all (a store older than stage_moves): only today's stage is known.
            return self.current
        i = bisect.bisect_left(self.at, moment)
        return self.moves[i - 1][1] if i else None

    def first_reach(self, stage: Stage) -> tuple[datetime, bool] | None:
        """When the project first stood at STAGE or later, and whether by a move (False:
        it entered the store there)."""
        wanted = STAGE_ORDER.index(stage)
        for at, (before, after) in zip(self.at, self.moves, strict=True):
            if after in STAGE_ORDER and STAGE_ORDER.index(after) >= wanted:
                return at, before is not None
        return None


def _utc_start(day: date, tz: tzinfo) -> datetime:
    """Local midnight at the start of DAY, in UTC."""
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def _local(at: datetime | None, tz: tzinfo) -> date | None:
    return at.astimezone(tz).date() if at is not None else None


def _judge(deadline: date, done: date | None, as_of: date, chased: bool = True) -> bool | None:
    """On time (True), late (False), or not judged (None) on AS_OF: not due yet, or still
    open past its deadline on an item the escalation no longer chases (CHASED false)."""
    if done is not None and done <= as_of:
        return done <= deadline
    # The deadline day itself is not late.
    return False if deadline < as_of and chased else None


@dataclass
class _Store:
    """What both periods are judged from, read once."""

    units: dict[int, tuple[str, Group]]
    histories: dict[int, _History]


async def _candidates(session: AsyncSession) -> dict[int, tuple[str, Group]]:
    """Units that can be ranked, with their group: of a ranked kind, owning a project or
    answering for an item."""
    involved: set[int] = set()
    for column in (
        Project.unit_id,
        Milestone.owner_unit_id,
        Problem.unit_id,
        Instruction.unit_id,
    ):
        involved.update(u for u in await session.scalars(select(column).distinct()) if u)
    rows = await session.execute(
        select(Unit.id, Unit.name, Unit.kind).where(
            Unit.kind.in_(RANKED_KINDS), Unit.id.in_(involved)
        )
    )
    group_of = {kind: group for group, kinds in GROUP_KINDS.items() for kind in kinds}
    return {uid: (name, group_of[kind]) for uid, name, kind in rows}


async def _read(session: AsyncSession) -> _Store:
    units = await _candidates(session)
    histories: dict[int, _History] = {}
    for pid, unit_id, stage, investment in await session.execute(
        select(Project.id, Project.unit_id, Project.stage, Project.investment)
    ):
        histories[pid] = _History(unit_id, float(investment or Decimal(0)), stage)
    # Every move, even one after the day judged: a project without any is one whose
    # history is unknown, not one that did not exist yet.
    moves = await session.execute(
        select(
            StageMove.project_id, StageMove.at, StageMove.from_stage, StageMove.to_stage
        ).order_by(StageMove.at, StageMove.id)
    )
    for pid, at, before, after in moves:
        h = histories.get(pid)
        if h is not None:
            h.at.append(at)
            h.moves.append((before, after))
    return _Store(units, histories)


Tallies = dict[int, dict[str, _Count]]


def _results(store: _Store, tallies: Tallies, start: date, as_of: date, tz: tzinfo) -> None:
    until = _utc_start(as_of + timedelta(days=1), tz)
    for h in store.histories.values():
        if h.unit_id not in store.units:
            continue
        then = h.stage_at(until)
        if then is None:
            continue
        advanced = False
        for name, target in _ADVANCE.items():
            reach = h.first_reach(target)
            counted = False
            if reach is not None and reach[1]:
                day = _local(reach[0], tz)
                counted = day is not None and start <= day <= as_of
            short_of = STAGE_ORDER[STAGE_ORDER.index(target) - 1]
            if counted or then is short_of:
                tallies[h.unit_id][name].add(counted)
            advanced = advanced or counted
        if advanced or then in ACTIVE_STAGES:
            investment = tallies[h.unit_id]["investment"]
            investment.of += 1
            if advanced:
                investment.done += h.investment


async def _milestones(
    session: AsyncSession, store: _Store, tallies: Tallies, start: date, as_of: date
) -> None:
    rows = await session.execute(
        select(
            Milestone.planned_date,
            Milestone.done_date,
            func.coalesce(Milestone.owner_unit_id, Project.unit_id),
            Project.stage,
        )
        .join(Project, Project.id == Milestone.project_id)
        .where(Milestone.planned_date >= start, Milestone.planned_date <= as_of)
    )
    for planned, done, unit_id, stage in rows:
        if planned is None or unit_id not in store.units:
            continue
        verdict = _judge(planned, done, as_of, chased=stage in ACTIVE_STAGES)
        if verdict is None:
            continue
        tallies[unit_id]["milestones"].add(verdict)


async def _problems(
    session: AsyncSession,
    store: _Store,
    tallies: Tallies,
    start: date,
    as_of: date,
    tz: tzinfo,
    calendar: WorkCalendar,
    reply_days: int,
) -> None:
    # A default term runs in working days: a problem raised up to ~6 weeks before the
    # period (a long holiday in between) can still fall due in it.
    raised_from = _utc_start(start - timedelta(days=45), tz)
    until = _utc_start(as_of + timedelta(days=1), tz)
    rows = await session.execute(
        select(
            Problem.reply_deadline,
            Problem.created_at,
            Problem.answered_at,
            Problem.status,
            Problem.resolved_at,
            Problem.unit_id,
            Project.stage,
        )
        .join(Project, Project.id == Problem.project_id)
        .where(
            or_(
                and_(Problem.reply_deadline >= start, Problem.reply_deadline <= as_of),
                and_(
                    Problem.reply_deadline.is_(None),
                    Problem.created_at >= raised_from,
                    Problem.created_at < until,
                ),
            )
        )
    )
    for written, created, answered, status, resolved, unit_id, stage in rows:
        if unit_id not in store.units:
            continue
        raised = created.astimezone(tz).date()
        deadline = written or calendar.add_workdays(raised, reply_days)
        if not start <= deadline <= as_of:
            continue
        done = _local(answered, tz)
        if done is None and status in (ProblemStatus.RESOLVED, ProblemStatus.CLOSED):
            closed = _local(resolved, tz)
            if closed is not None and closed <= min(deadline, as_of):
                continue  # signed off before the unit owed an answer
        verdict = _judge(deadline, done, as_of, chased=stage is not Stage.DROPPED)
        if verdict is None:
            continue
        tallies[unit_id]["problems"].add(verdict)


async def _instructions(
    session: AsyncSession,
    store: _Store,
    tallies: Tallies,
    start: date,
    as_of: date,
    tz: tzinfo,
    calendar: WorkCalendar,
    instruction_days: int,
) -> None:
    given_from = _utc_start(start - timedelta(days=45), tz)
    until = _utc_start(as_of + timedelta(days=1), tz)
    rows = await session.execute(
        select(
            Instruction.deadline,
            Instruction.created_at,
            Instruction.done_at,
            Instruction.unit_id,
            Project.stage,
        )
        .join(Project, Project.id == Instruction.project_id)
        .where(
            or_(
                and_(Instruction.deadline >= start, Instruction.deadline <= as_of),
                and_(
                    Instruction.deadline.is_(None),
                    Instruction.created_at >= given_from,
                    Instruction.created_at < until,
                ),
            )
        )
    )
    for written, created, done_at, unit_id, stage in rows:
        if unit_id not in store.units:
            continue
        deadline = written or calendar.add_workdays(created.astimezone(tz).date(), instruction_days)
        if not start <= deadline <= as_of:
            continue
        done = _local(done_at, tz)
        verdict = _judge(deadline, done, as_of, chased=stage is not Stage.DROPPED)
        if verdict is None:
            continue
        tallies[unit_id]["instructions"].add(verdict)


def _weeks(start: date, last: date, as_of: date) -> list[date]:
    """Mondays of the weeks (Monday–Sunday) ending in START–LAST that began by AS_OF."""
    monday = start - timedelta(days=start.weekday())
    mondays = []
    while monday <= as_of and monday + timedelta(days=6) <= last:
        mondays.append(monday)
        monday += timedelta(days=7)
    return mondays


async def _reports(
    session: AsyncSession,
    store: _Store,
    tallies: Tallies,
    start: date,
    last: date,
    as_of: date,
    tz: tzinfo,
) -> None:
    mondays = _weeks(start, last, as_of)
    if not mondays:
        return
    rows = await session.execute(
        select(ProgressReport.project_id, ProgressReport.report_date)
        .where(
            ProgressReport.report_date >= mondays[0],
            ProgressReport.report_date <= mondays[-1] + timedelta(days=6),
        )
        .distinct()
    )
    reported: dict[int, set[date]] = defaultdict(set)
    for pid, day in rows:
        reported[pid].add(day - timedelta(days=day.weekday()))
    # A week not over yet is judged only where a report came.
    weeks = [(m, _utc_start(m, tz), m + timedelta(days=6) < as_of) for m in mondays]
    for pid, h in store.histories.items():
        if h.unit_id not in store.units:
            continue
        # One walk along the project's moves and the weeks together: a year is 52 weeks
        # for each of thousands of projects.
        came, due = 0, 0
        weeks_reported = reported.get(pid, set())
        stage: Stage | None = None if h.moves else h.current
        i = 0
        for monday, began, over in weeks:
            while i < len(h.at) and h.at[i] < began:
                stage = h.moves[i][1]
                i += 1
            if stage not in ACTIVE_STAGES:
                continue
            if monday in weeks_reported:
                came += 1
                due += 1
            elif over:
                due += 1
        if due:
            count = tallies[h.unit_id]["reports"]
            count.done += came
            count.of += due


async def _tally(
    session: AsyncSession,
    store: _Store,
    start: date,
    last: date,
    as_of: date,
    tz: tzinfo,
    calendar: WorkCalendar,
    reply_days: int,
    instruction_days: int,
) -> Tallies:
    tallies: Tallies = defaultdict(lambda: defaultdict(_Count))
    _results(store, tallies, start, as_of, tz)
    await _milestones(session, store, tallies, start, as_of)
    await _problems(session, store, tallies, start, as_of, tz, calendar, reply_days)
    await _instructions(session, store, tallies, start, as_of, tz, calendar, instruction_days)
    await _reports(session, store, tallies, start, last, as_of, tz)
    return tallies


# --- scoring ----------------------------------------------------------------------------


def _figures(
    tallies: Tallies, units: Iterable[int], weights: Weights, applies: tuple[str, ...]
) -> tuple[dict[int, dict[str, Figure]], dict[str, str]]:
    """Every unit's eight figures, those APPLIES names scored against these units' own
    rate (one group's), and the figures of APPLIES left out for all of them (and why)."""
    units = list(units)
    result: dict[int, dict[str, Figure]] = {u: {} for u in units}
    left_out: dict[str, str] = {}
    for name in FIGURES:
        counts = {u: tallies[u][name] if u in tallies else _Count() for u in units}
        total = sum(c.of for c in counts.values())
        city = sum(c.done for c in counts.values()) / total if total else 0.0
        diligence = name in DILIGENCE
        if name not in applies:
            # Counted for the reader, never scored: not the group's business.
            for u, c in counts.items():
                result[u][name] = Figure(round(c.done), c.of, c.done / c.of if c.of else None, None)
            continue
        if weights.of(name) <= 0:
            left_out[name] = LEFT_OUT_WEIGHT
        elif not total or (not diligence and city <= 0):
            # Shrinking toward a city rate of nothing says nothing: no signing in the city
            # this month is no one's failure.
            left_out[name] = LEFT_OUT_CITY
        for u, c in counts.items():
            rate = c.done / c.of if c.of else None
            score: float | None = None
            if name not in left_out and c.of:
                score = (
                    on_time_score(int(c.done), c.of, city)
                    if diligence
                    else pace_score(c.done, c.of, city)
                )
            result[u][name] = Figure(round(c.done), c.of, rate, score)
    return result, left_out


def _combined(figures: dict[str, Figure], weights: Weights) -> float | None:
    scored = [(weights.of(n), f.score) for n, f in figures.items() if f.score is not None]
    total = sum(w for w, _ in scored)
    if not scored or total <= 0:
        return None
    return 100 * sum(w * s for w, s in scored) / total


def _items(figures: dict[str, Figure]) -> int:
    """How many items and projects a unit's scored figures count (investment's 万元 aside)."""
    return sum(f.of for n, f in figures.items() if n != "investment" and f.scored)


def _rank(group: Group, units: dict[int, str], tallies: Tallies, weights: Weights) -> RankGroup:
    """GROUP's table: UNITS (id → name, all of the group) scored against each other."""
    figures, left_out = _figures(tallies, units, weights, GROUP_FIGURES[group])
    scored: list[tuple[float, int, str, int]] = []
    idle: list[str] = []
    for uid, name in units.items():
        score = _combined(figures[uid], weights)
        if score is None:
            idle.append(name)
        else:
            scored.append((score, _items(figures[uid]), name, uid))
    # The score as shown decides; equal ones share the rank (competition ranking: 1, 2, 2,
    # 4), the unit with more counted listed first, then by name.
    scored.sort(key=lambda s: (-round(s[0], 1), -s[1], s[2], s[3]))
    rows: list[UnitScore] = []
    for place, (score, items, name, uid) in enumerate(scored, start=1):
        rank = place
        if rows and round(rows[-1].score, 1) == round(score, 1):
            rank = rows[-1].rank
        rows.append(UnitScore(uid, name, figures[uid], score, rank, items=items, group=group))
    return RankGroup(group, rows, sorted(idle), left_out)


async def ranking(
    session: AsyncSession,
    period: Period | str,
    today: date,
    tz: tzinfo,
    calendar: WorkCalendar,
    weights: Weights,
    *,
    reply_days: int = 3,
    instruction_days: int = 5,
) -> Ranking:
    """Rank the units over PERIOD ("month", "quarter", "year") up to TODAY (local date in
    TZ, the city's zone), with the previous whole period's ranks beside: townships and
    sub-districts in one table, departments in another, each scored against its own
    group's rates; a group the city has no unit of is not there.

    CALENDAR gives working days for the default terms: REPLY_DAYS (`[work] reply_days`)
    for a problem without a written deadline, INSTRUCTION_DAYS (`[work]
    instruction_days`) for an instruction without one. WEIGHTS are the config's `[rank]`.
    Reads only; raises ValueError for an unknown PERIOD.
    """
    period = Period(period)
    start, end = period_bounds(period, today)
    last = _span(period, today)[1]
    prev_start, prev_end = previous_bounds(period, today)
    store = await _read(session)
    args = (tz, calendar, reply_days, instruction_days)
    now = await _tally(session, store, start, last, end, *args)
    before = await _tally(session, store, prev_start, prev_end, prev_end, *args)
    groups: list[RankGroup] = []
    for group in Group:
        units = {uid: name for uid, (name, g) in store.units.items() if g is group}
        if not units:
            continue
        table = _rank(group, units, now, weights)
        prev = {r.unit_id: r for r in _rank(group, units, before, weights).rows}
        rows = [
            replace(r, prev_rank=prev[r.unit_id].rank, prev_score=prev[r.unit_id].score)
            if r.unit_id in prev
            else r
            for r in table.rows
        ]
        groups.append(replace(table, rows=rows))
    return Ranking(period, start, end, groups, prev_start, prev_end)
