"""The units' ranking (/rank): periods, the empirical-Bayes shrinkage, what each figure counts
on a city built for the purpose, the fairness claims, the weights, shared ranks, the change
since the previous period, what the briefing reads, and /rank in chat. Store tests run on
SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.handlers.rank import rank_pictures, rank_text
from storage.db import set_actor
from storage.errors import Refused
from storage.models import (
    Instruction,
    Member,
    Milestone,
    Problem,
    ProblemCategory,
    ProblemStatus,
    ProgressReport,
    Project,
    Role,
    Stage,
    StageMove,
    Unit,
    UnitKind,
)
from storage.ranking import (
    DILIGENCE,
    FIGURES,
    LEFT_OUT_CITY,
    LEFT_OUT_WEIGHT,
    RESULTS,
    Figure,
    Group,
    Period,
    RankGroup,
    Ranking,
    UnitScore,
    Weights,
    on_time_prior,
    on_time_score,
    pace_score,
    parse_period,
    period_bounds,
    previous_bounds,
    ranking,
    shrunk,
)
from storage.workdays import WorkCalendar
from tests.harness import (
    ADMIN,
    COORD,
    LEADER,
    OFFICER,
    OTHER_OFFICER,
    STRANGER,
    Harness,
)

TZ = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()
# A Tuesday: the month so far is 1–15 December 2026, the previous one November.
TODAY = date(2026, 12, 15)
LONG_AGO = date(2026, 1, 5)


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A local time on DAY, as the aware UTC datetime the store keeps."""
    return datetime.combine(day, time(hour, minute), tzinfo=TZ).astimezone(UTC)


# --- periods and words -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "today", "bounds", "previous"),
    [
        (Period.MONTH, date(2026, 12, 31), (date(2026, 12, 1), date(2026, 12, 31)),
         (date(2026, 11, 1), date(2026, 11, 30))),
        (Period.MONTH, date(2027, 1, 1), (date(2027, 1, 1), date(2027, 1, 1)),
         (date(2026, 12, 1), date(2026, 12, 31))),
        (Period.MONTH, date(2028, 3, 1), (date(2028, 3, 1), date(2028, 3, 1)),
         (date(2028, 2, 1), date(2028, 2, 29))),
        (Period.QUARTER, date(2026, 12, 31), (date(2026, 10, 1), date(2026, 12, 31)),
         (date(2026, 7, 1), date(2026, 9, 30))),
        (Period.QUARTER, date(2027, 1, 1), (date(2027, 1, 1), date(2027, 1, 1)),
         (date(2026, 10, 1), date(2026, 12, 31))),
        (Period.QUARTER, date(2026, 4, 1), (date(2026, 4, 1), date(2026, 4, 1)),
         (date(2026, 1, 1), date(2026, 3, 31))),
        (Period.QUARTER, date(2026, 6, 30), (date(2026, 4, 1), date(2026, 6, 30)),
         (date(2026, 1, 1), date(2026, 3, 31))),
        (Period.YEAR, date(2026, 12, 31), (date(2026, 1, 1), date(2026, 12, 31)),
         (date(2025, 1, 1), date(2025, 12, 31))),
        (Period.YEAR, date(2027, 1, 1), (date(2027, 1, 1), date(2027, 1, 1)),
         (date(2026, 1, 1), date(2026, 12, 31))),
    ],
)  # fmt: skip
def test_period_bounds_at_the_edges(
    period: Period, today: date, bounds: tuple[date, date], previous: tuple[date, date]
) -> None:
    assert period_bounds(period, today) == bounds
    assert previous_bounds(period, today) == previous


@pytest.mark.parametrize(
    ("text", "period"),
    [
        (None, Period.MONTH),
        ("", Period.MONTH),
        ("月", Period.MONTH),
        ("本月", Period.MONTH),
        ("Month", Period.MONTH),
        ("ＭＯＮＴＨ", Period.MONTH),
        ("this  month", Period.MONTH),
        ("季", Period.QUARTER),
        ("季度", Period.QUARTER),
        ("quarter", Period.QUARTER),
        ("年", Period.YEAR),
        ("年度", Period.YEAR),
        ("今年", Period.YEAR),
        ("YEAR", Period.YEAR),
    ],
)
def test_period_words_in_both_languages(text: str | None, period: Period) -> None:
    assert parse_period(text) is period


@pytest.mark.parametrize("text", ["foo", "周", "week", "上月", "月 季", "<b>x</b>"])
def test_an_unknown_period_word_is_refused_with_the_words_accepted(text: str) -> None:
    with pytest.raises(Refused) as info:
        parse_period(text)
    assert info.value.key == "err.rank_period"
    assert info.value.params["words"] == "月/本月/month | 季/季度/quarter | 年/年度/year"


# --- the two methods ---------------------------------------------------------------------


def ots(k: int, n: int, city: float) -> float:
    """on_time_score for N > 0, typed as a float."""
    score = on_time_score(k, n, city)
    assert score is not None
    return score


def test_on_time_shares_shrink_toward_the_city_both_ways() -> None:
    city = 0.8
    # Beta(4, 1): the city's rate as its mean, worth five items.
    assert on_time_prior(city) == pytest.approx((4.0, 1.0))
    assert ots(1, 1, city) == pytest.approx(5 / 6)  # the city nudged up
    assert ots(0, 1, city) == pytest.approx(4 / 6)  # the city nudged down
    assert ots(29, 30, city) == pytest.approx(33 / 35)  # high
    assert ots(0, 30, city) == pytest.approx(4 / 35)  # low
    assert ots(0, 1, city) < city < ots(1, 1, city)
    assert on_time_score(0, 0, city) is None
    # The results' shrinkage exactly, while the city keeps between 10% and 90%.
    assert ots(3, 7, 0.6) == pytest.approx(shrunk(3, 7, 0.6))


def test_a_city_where_everything_was_late_still_weighs_the_evidence() -> None:
    # Jeffreys' half item keeps the prior from being a certain 0 (or 1).
    assert on_time_prior(0.0) == (0.5, 5.0)
    assert ots(0, 1, 0.0) == pytest.approx(0.5 / 6.5)
    assert ots(0, 30, 0.0) == pytest.approx(0.5 / 35.5)
    assert on_time_prior(1.0) == (5.0, 0.5)
    assert ots(1, 1, 1.0) == pytest.approx(6 / 6.5)
    assert ots(1, 1, 1.0) < ots(30, 30, 1.0)
    # Without it a punctual city would put one lucky item above 29 of 30: two units, 30/31.
    assert shrunk(1, 1, 30 / 31) > shrunk(29, 30, 30 / 31)
    assert ots(1, 1, 30 / 31) < ots(29, 30, 30 / 31)


@pytest.mark.parametrize("city", [i / 200 for i in range(201)])
def test_the_fairness_claims_hold_whatever_the_city_rate(city: float) -> None:
    def score(k: int, n: int) -> float:
        return ots(k, n, city)

    assert score(1, 1) < score(29, 30)
    assert score(0, 30) < score(0, 1) < score(1, 1)
    assert score(1, 1) < score(3, 3) < score(30, 30)
    assert score(0, 30) < score(0, 3)
    assert all(0 < score(k, 30) < 1 for k in (0, 15, 30))


def test_shrinkage_pulls_toward_the_city_rate_by_five_projects() -> None:
    assert shrunk(1, 3, 1 / 3) == pytest.approx(1 / 3)
    assert shrunk(10, 30, 1 / 3) == pytest.approx(1 / 3)
    assert shrunk(2, 3, 0.25) == pytest.approx((2 + 1.25) / 8)
    assert shrunk(0, 0, 0.4) == pytest.approx(0.4)


# --- building stores ---------------------------------------------------------------------


class City:
    """A store built by hand: units, people, projects with their stage history, items."""

    def __init__(self, s: AsyncSession) -> None:
        self.s = s
        self.units: dict[str, Unit] = {}
        self.projects: dict[str, Project] = {}
        self.member_id = 0
        self.leader_id = 0
        self.seq = 0

    async def setup(self) -> City:
        set_actor(self.s, None)
        lead = await self.unit("市领导", UnitKind.LEADERSHIP)
        center = await self.unit("招商服务中心", UnitKind.CENTER)
        coord = Member(tg_user_id=9001, name="陈", unit_id=center.id, role=Role.COORDINATOR)
        leader = Member(tg_user_id=9002, name="刘", unit_id=lead.id, role=Role.LEADER)
        self.s.add_all([coord, leader])
        await self.s.flush()
        self.member_id, self.leader_id = coord.id, leader.id
        return self

    async def unit(self, name: str, kind: UnitKind = UnitKind.TOWNSHIP) -> Unit:
        u = Unit(name=name, kind=kind)
        self.s.add(u)
        await self.s.flush()
        self.units[name] = u
        return u

    async def project(
        self,
        code: str,
        unit: str,
        *moves: tuple[Stage, date],
        stage: Stage = Stage.NEGOTIATING,
        created: date = LONG_AGO,
        investment: int = 1000,
    ) -> Project:
        """A project that entered the store at STAGE on CREATED and then made MOVES."""
        p = Project(
            code=code,
            name=f"项目{code}",
            industry="新能源",
            investment=Decimal(investment),
            stage=stage,
            unit_id=self.units[unit].id,
            created_at=at(created),
        )
        self.s.add(p)
        await self.s.flush()
        # The flush hook dated the creation now; this store's history is its own.
        await self.s.execute(
            update(StageMove).where(StageMove.project_id == p.id).values(at=at(created))
        )
        current = stage
        for to, day in moves:
            self.s.add(StageMove(project_id=p.id, from_stage=current, to_stage=to, at=at(day)))
            current = to
        if current is not stage:
            # Straight to the table: through the ORM the hook would add a move dated now.
            await self.s.execute(update(Project).where(Project.id == p.id).values(stage=current))
            await self.s.refresh(p)
        self.projects[code] = p
        return p

    async def milestone(
        self, code: str, planned: date, done: date | None = None, owner: str | None = None
    ) -> None:
        self.seq += 1
        self.s.add(
            Milestone(
                project_id=self.projects[code].id,
                seq=self.seq,
                title=f"节点{self.seq}",
                planned_date=planned,
                done_date=done,
                owner_unit_id=self.units[owner].id if owner else None,
            )
        )

    async def problem(
        self,
        code: str,
        unit: str,
        raised: date,
        deadline: date | None = None,
        answered: datetime | None = None,
        status: ProblemStatus | None = None,
        resolved: datetime | None = None,
    ) -> None:
        if status is None:
            status = ProblemStatus.ANSWERED if answered else ProblemStatus.OPEN
        self.s.add(
            Problem(
                project_id=self.projects[code].id,
                raiser_id=self.member_id,
                text="用地指标",
                category=ProblemCategory.LAND,
                unit_id=self.units[unit].id,
                reply_deadline=deadline,
                status=status,
                created_at=at(raised),
                answered_at=answered,
                resolved_at=resolved,
            )
        )

    async def instruction(
        self,
        code: str,
        unit: str,
        given: date,
        deadline: date | None = None,
        done: datetime | None = None,
    ) -> None:
        self.s.add(
            Instruction(
                leader_id=self.leader_id,
                project_id=self.projects[code].id,
                text="抓紧推进",
                unit_id=self.units[unit].id,
                deadline=deadline,
                done_at=done,
                created_at=at(given),
            )
        )

    async def report(self, code: str, day: date, kind: str = "report") -> None:
        self.s.add(
            ProgressReport(
                project_id=self.projects[code].id,
                author_id=self.member_id,
                text="进展",
                report_date=day,
                kind=kind,
            )
        )

    async def rank(
        self, period: Period | str = Period.MONTH, today: date = TODAY, **kw: Any
    ) -> Ranking:
        await self.s.flush()
        weights = kw.pop("weights", Weights())
        return await ranking(self.s, period, today, TZ, CAL, weights, **kw)


def by_name(r: Ranking) -> dict[str, UnitScore]:
    return {row.unit: row for row in r.rows}


def counts(row: UnitScore) -> dict[str, tuple[int, int]]:
    return {name: (f.count, f.of) for name, f in row.figures.items()}


def d(month: int, day: int) -> date:
    return date(2026, month, day)


async def sample_city(s: AsyncSession) -> City:
    """Two townships' worth of work in December 2026 and November before it, a department
    that only answers for items, the center (never ranked) and a unit with nothing to do.

    青山镇 (3 projects): one signed and one started in December, 50,000 万元 moved.
    城东街道 (7 projects): one signed and one put into operation in December, one that entered
    the store already signed, one dropped long ago.
    """
    c = await City(s).setup()
    await c.unit("青山镇")
    await c.unit("城东街道", UnitKind.SUBDISTRICT)
    await c.unit("自然资源局", UnitKind.DEPARTMENT)
    await c.unit("空闲乡")
    center = "招商服务中心"

    await c.project("QS1", "青山镇", (Stage.SIGNED, d(12, 3)), investment=30000)
    await c.project(
        "QS2", "青山镇", (Stage.SIGNED, d(11, 10)), (Stage.STARTED, d(12, 8)), investment=20000
    )
    await c.project("QS3", "青山镇", investment=10000)

    await c.project("CD1", "城东街道", (Stage.SIGNED, d(12, 2)), investment=5000)
    for code in ("CD2", "CD3", "CD4"):
        await c.project(code, "城东街道")
    await c.project("CD5", "城东街道", stage=Stage.SIGNED, created=d(12, 5))
    await c.project(
        "CD6",
        "城东街道",
        (Stage.SIGNED, d(3, 1)),
        (Stage.STARTED, d(6, 1)),
        (Stage.OPERATING, d(12, 10)),
        investment=80000,
    )
    await c.project("CD7", "城东街道", (Stage.DROPPED, d(6, 1)))
    await c.project("KX1", "空闲乡", stage=Stage.OPERATING, created=date(2025, 5, 1))

    # Milestones. 青山镇: on time, done late, open and late, due today and open (not judged
    # yet), due after today (not due yet); November: one late.
    await c.milestone("QS1", d(12, 5), d(12, 4))
    await c.milestone("QS1", d(12, 10), d(12, 12))
    await c.milestone("QS3", d(12, 7))
    await c.milestone("QS2", d(12, 15))
    await c.milestone("QS3", d(12, 20), d(12, 1))
    await c.milestone("QS3", d(11, 15), d(11, 20))
    # 自然资源局 answers for a milestone on each township's project: one open and late, one
    # on time.
    await c.milestone("QS1", d(12, 8), owner="自然资源局")
    await c.milestone("CD2", d(12, 9), d(12, 9), owner="自然资源局")
    # 城东街道: done early (before the month), open and late, on time on the day; a late one
    # of a dropped project is no longer held against it; November: one on time.
    await c.milestone("CD2", d(12, 1), d(11, 28))
    await c.milestone("CD3", d(12, 3))
    await c.milestone("CD4", d(12, 11), d(12, 11))
    await c.milestone("CD3", d(12, 14), d(12, 14))
    await c.milestone("CD7", d(12, 4))
    await c.milestone("CD4", d(11, 20), d(11, 20))

    # Problems. Raised Tuesday 1 December with no deadline: reply_days = 3 working days →
    # Friday 4 December; answered on the 3rd. One answered a day late.
    await c.problem("QS1", "青山镇", d(12, 1), answered=at(d(12, 3)))
    await c.problem("QS2", "青山镇", d(12, 7), deadline=d(12, 10), answered=at(d(12, 11)))
    # 自然资源局: Monday 7th + 3 working days = Thursday 10th, unanswered: late; due today:
    # not judged yet; signed off before its deadline without an answer: nothing owed.
    await c.problem("CD2", "自然资源局", d(12, 7))
    await c.problem("CD2", "自然资源局", d(12, 10), deadline=d(12, 15))
    await c.problem(
        "CD3",
        "自然资源局",
        d(12, 4),
        deadline=d(12, 9),
        status=ProblemStatus.RESOLVED,
        resolved=at(d(12, 8)),
    )
    # The center answers problems too, but is never ranked.
    await c.problem("CD3", center, d(12, 1), deadline=d(12, 2))

    # Instructions. 城东街道: done at 23:30 local on the deadline day (15:30 UTC): on time;
    # at 00:30 local the day after (still the deadline day in UTC): late.
    await c.instruction("CD1", "城东街道", d(12, 1), d(12, 10), at(d(12, 10), 23, 30))
    await c.instruction("CD2", "城东街道", d(12, 1), d(12, 10), at(d(12, 11), 0, 30))
    # 青山镇: no deadline: 5 working days from Tuesday 1st = Tuesday 8th; done the 7th.
    await c.instruction("QS1", "青山镇", d(12, 1), None, at(d(12, 7)))

    # Weekly reports: the weeks ending in December so far are 30 Nov–6 Dec and 7–13 Dec;
    # 14–20 Dec is not over, and counts only where a report came.
    for day in (d(12, 2), d(12, 8), d(12, 14)):
        await c.report("QS1", day)
    await c.report("QS2", d(12, 6), kind="no_change")
    await c.report("CD1", d(12, 1))
    await c.report("CD1", d(12, 9))
    await c.report("CD6", d(12, 3))
    await c.report("CD2", d(12, 15))
    return c


# --- what each figure counts -------------------------------------------------------------


async def test_each_figure_counts_what_the_readme_says(session: AsyncSession) -> None:
    c = await sample_city(session)
    r = await c.rank()
    assert (r.start, r.end, r.prev_start, r.prev_end) == (d(12, 1), d(12, 15), d(11, 1), d(11, 30))
    rows = by_name(r)
    # The center and the leadership are never ranked; a unit with nothing to judge is idle.
    assert set(rows) == {"青山镇", "城东街道", "自然资源局"}
    assert r.idle == ["空闲乡"]

    qs = counts(rows["青山镇"])
    assert qs == {
        "signed": (1, 2),  # QS1 of QS1 + QS3 (negotiating)
        "started": (1, 2),  # QS2 of QS2 + QS1 (signed now)
        "operating": (0, 1),  # of QS2 (started)
        "investment": (50000, 3),  # QS1 + QS2, per QS1–QS3 in play
        "milestones": (1, 3),
        "problems": (1, 2),
        "instructions": (1, 1),
        "reports": (4, 7),  # QS1 ×3 (this week's too), QS2's check; QS2 week 2, QS3 ×2 missed
    }
    cd = counts(rows["城东街道"])
    assert cd == {
        "signed": (1, 4),  # CD1 of CD1–CD4; CD5 entered the store signed
        "started": (0, 2),  # of CD1 and CD5
        "operating": (1, 1),  # CD6
        "investment": (85000, 6),  # CD1 + CD6, per CD1–CD6 in play (CD7 dropped)
        "milestones": (3, 4),  # early, on the day ×2; CD3's first late; CD7's dropped
        "problems": (0, 0),
        "instructions": (1, 2),
        # week 1: CD1, CD6 of CD1–CD4, CD6 (CD5 not there yet); week 2: CD1 of CD1–CD6;
        # this week: CD2 reported (the rest not judged yet)
        "reports": (4, 12),
    }
    land = counts(rows["自然资源局"])
    assert land["milestones"] == (1, 2) and land["problems"] == (0, 1)
    assert all(land[n] == (0, 0) for n in ("signed", "investment", "instructions", "reports"))

    # Rates beside counts; no rate and no score where nothing was judged.
    f = rows["城东街道"].figures
    assert f["milestones"].rate == pytest.approx(3 / 4)
    # The towns kept 4 of their 7 milestones (1/3 and 3/4): 自然资源局's 1/2 is its own
    # group's, not the towns' prior.
    assert f["milestones"].score == pytest.approx(ots(3, 4, 4 / 7))
    assert f["problems"] == Figure(0, 0, None, None)
    assert f["investment"].rate == pytest.approx(85000 / 6)


async def test_scores_combine_the_figures_by_weight(session: AsyncSession) -> None:
    c = await sample_city(session)
    r = await c.rank()
    rows = by_name(r)
    # Results, recomputed by hand: shrunk toward the city's rate, against it (the city's
    # pace = 0.5). Signing: 2 of 6 in the city.
    qs, cd = rows["青山镇"].figures, rows["城东街道"].figures
    assert qs["signed"].score == pytest.approx(shrunk(1, 2, 1 / 3) / (2 / 3))
    assert cd["signed"].score == pytest.approx(shrunk(1, 4, 1 / 3) / (2 / 3))
    assert pace_score(1, 2, 1 / 3) == pytest.approx(0.5714, abs=1e-4)
    # Investment: 135,000 万元 over 9 projects in play.
    assert cd["investment"].score == pytest.approx(shrunk(85000, 6, 15000) / 30000)
    assert qs["investment"].score == pytest.approx(shrunk(50000, 3, 15000) / 30000)
    # Operating: 1 of 2; 城东街道's one of one is above the city's pace, not at twice it.
    assert cd["operating"].score == pytest.approx(shrunk(1, 1, 0.5) / 1.0)

    w = Weights()
    for row in r.rows:
        scored = [(w.of(n), f.score) for n, f in row.figures.items() if f.score is not None]
        expected = 100 * sum(a * b for a, b in scored) / sum(a for a, _ in scored)
        assert row.score == pytest.approx(expected)
        assert 0 <= row.score <= 100
    # The towns' diligence against the towns' rates: milestones 4/7, problems 1/2.
    assert qs["milestones"].score == pytest.approx(ots(1, 3, 4 / 7))
    assert qs["problems"].score == pytest.approx(ots(1, 2, 1 / 2))
    assert (round(rows["青山镇"].score, 1), round(rows["城东街道"].score, 1)) == (55.2, 53.0)
    assert (rows["城东街道"].items, rows["青山镇"].items) == (25, 18)
    # 自然资源局 is judged against the departments alone, on its milestones (1/2, its
    # group's rate too) and problems (0/1, the group's rate 0) only.
    land = (2 * ots(1, 2, 1 / 2) + 2 * ots(0, 1, 0.0)) / 4
    assert rows["自然资源局"].score == pytest.approx(100 * land)
    assert [row.unit for row in r.rows] == ["青山镇", "城东街道", "自然资源局"]
    assert [(row.rank, row.group) for row in r.rows] == [
        (1, Group.TOWNS),
        (2, Group.TOWNS),
        (1, Group.DEPARTMENTS),
    ]


async def test_the_change_since_the_previous_period(session: AsyncSession) -> None:
    c = await sample_city(session)
    r = await c.rank()
    rows = by_name(r)
    # November: 青山镇 signed QS2 (1 of 3) and moved 20,000 万元; 城东街道 nothing, one
    # milestone on time. 自然资源局 had nothing due then.
    nov = await c.rank(today=d(11, 30))
    prev = by_name(nov)
    assert [row.unit for row in nov.rows] == ["青山镇", "城东街道"]
    assert counts(prev["青山镇"])["signed"] == (1, 3)
    assert counts(prev["城东街道"])["milestones"] == (1, 1)
    assert nov.idle == ["空闲乡", "自然资源局"]

    # Ranks are compared within the group: 城东街道 second both months.
    assert (rows["城东街道"].prev_rank, rows["城东街道"].change) == (2, 0)
    assert (rows["青山镇"].prev_rank, rows["青山镇"].change) == (1, 0)
    assert (rows["自然资源局"].prev_rank, rows["自然资源局"].change) == (None, None)
    assert rows["青山镇"].prev_score == pytest.approx(prev["青山镇"].score)
    assert rows["城东街道"].prev_score == pytest.approx(prev["城东街道"].score)


async def test_stage_moves_count_once_inside_the_period(session: AsyncSession) -> None:
    c = await City(session).setup()
    await c.unit("青山镇")
    # Jumped from negotiating to started in December: it was signed and started.
    await c.project("J", "青山镇", (Stage.STARTED, d(12, 4)))
    # Signed in November, paused, resumed as signed in December: not signed again.
    await c.project("R", "青山镇", (Stage.SIGNED, d(11, 2)), (Stage.PAUSED, d(11, 9)),
                    (Stage.SIGNED, d(12, 2)))  # fmt: skip
    # Entered the store at operating in December: no arrival.
    await c.project("N", "青山镇", stage=Stage.OPERATING, created=d(12, 3))
    # Signed the day after today's period ends? No: on 16 December, after today.
    await c.project("F", "青山镇", (Stage.SIGNED, d(12, 16)))
    row = by_name(await c.rank())["青山镇"]
    got = counts(row)
    assert got["signed"] == (1, 2)  # J; F still negotiating today
    assert got["started"] == (1, 2)  # J; R signed
    assert got["operating"] == (0, 1)  # J started
    assert got["investment"] == (1000, 3)  # J moved; J, R, F in play; N operating
    # Seen from 16 December, F was signed in the period.
    later = counts(by_name(await c.rank(today=d(12, 16)))["青山镇"])
    assert later["signed"] == (2, 2)


# --- fairness ----------------------------------------------------------------------------


async def test_three_projects_are_not_crushed_by_thirty(session: AsyncSession) -> None:
    c = await City(session).setup()
    await c.unit("小镇")
    await c.unit("大镇")
    for i in range(3):
        moves = [(Stage.SIGNED, d(12, 3))] if i < 2 else []
        await c.project(f"S{i}", "小镇", *moves)
    for i in range(30):
        moves = [(Stage.SIGNED, d(12, 3))] if i < 10 else []
        await c.project(f"B{i}", "大镇", *moves)
    r = await c.rank()
    small, big = by_name(r)["小镇"], by_name(r)["大镇"]
    # Ten signings against two, yet two of three is the better record.
    assert big.figures["signed"].count == 10 and small.figures["signed"].count == 2
    city = 12 / 33
    assert small.figures["signed"].score == pytest.approx(shrunk(2, 3, city) / (2 * city))
    assert big.figures["signed"].score == pytest.approx(shrunk(10, 30, city) / (2 * city))
    assert small.figures["signed"].score > 0.6 > big.figures["signed"].score  # type: ignore[operator]
    assert small.figures["investment"].score > big.figures["investment"].score  # type: ignore[operator]
    assert [row.unit for row in r.rows] == ["小镇", "大镇"]


async def test_the_same_record_per_project_scores_the_same_whatever_the_size(
    session: AsyncSession,
) -> None:
    c = await City(session).setup()
    await c.unit("小镇")
    await c.unit("大镇")
    for i in range(3):
        await c.project(f"S{i}", "小镇", *([(Stage.SIGNED, d(12, 3))] if i < 1 else []))
    for i in range(30):
        await c.project(f"B{i}", "大镇", *([(Stage.SIGNED, d(12, 3))] if i < 10 else []))
    results = Weights(milestones=0, problems=0, instructions=0, reports=0)
    rows = by_name(await c.rank(weights=results))
    # Both sign at the city's pace (one in three): both score 0.5.
    assert rows["小镇"].figures["signed"].score == pytest.approx(0.5)
    assert rows["大镇"].figures["signed"].score == pytest.approx(0.5)
    assert rows["小镇"].score == pytest.approx(rows["大镇"].score)
    # Neither reported a week: 60 missed reports weigh more than 6.
    rows = by_name(await c.rank())
    assert counts(rows["小镇"])["reports"] == (0, 6) and counts(rows["大镇"])["reports"] == (0, 60)
    assert rows["小镇"].figures["reports"].score > rows["大镇"].figures["reports"].score  # type: ignore[operator]
    assert rows["小镇"].score > rows["大镇"].score


async def test_one_lucky_item_does_not_outrank_29_of_30(session: AsyncSession) -> None:
    c = await City(session).setup()
    await c.unit("幸运镇")
    await c.unit("踏实镇")
    await c.project("L", "幸运镇", stage=Stage.OPERATING)
    await c.project("S", "踏实镇", stage=Stage.OPERATING)
    await c.milestone("L", d(12, 7), d(12, 7))
    for i in range(30):
        await c.milestone("S", d(12, 1 + i % 14), d(12, 1 + i % 14) if i else d(12, 15))
    r = await c.rank()
    lucky, steady = by_name(r)["幸运镇"], by_name(r)["踏实镇"]
    assert counts(lucky)["milestones"] == (1, 1) and counts(steady)["milestones"] == (29, 30)
    assert lucky.figures["milestones"].rate == 1.0 > steady.figures["milestones"].rate  # type: ignore[operator]
    # Nothing else is judged for either: the score is the shrunk share itself. The city
    # kept 30 of 31, yet the lucky one sits below the steady one.
    assert lucky.score == pytest.approx(100 * 5.8387 / 6.3387, abs=0.01)
    assert steady.score == pytest.approx(100 * 33.8387 / 35.3387, abs=0.01)
    assert [row.unit for row in r.rows] == ["踏实镇", "幸运镇"]


async def test_nothing_due_is_no_score_and_the_weights_renormalise(session: AsyncSession) -> None:
    c = await City(session).setup()
    await c.unit("城东街道", UnitKind.SUBDISTRICT)
    await c.unit("住建局", UnitKind.DEPARTMENT)
    await c.unit("交通局", UnitKind.DEPARTMENT)
    await c.project("P", "城东街道", stage=Stage.OPERATING)
    # 住建局 owns ten milestones, all on time, and nothing else.
    for i in range(10):
        await c.milestone("P", d(12, 2 + i), d(12, 2 + i), owner="住建局")
    # 交通局 has the same ten and a problem it let slip.
    for i in range(10):
        await c.milestone("P", d(12, 2 + i), d(12, 2 + i), owner="交通局")
    await c.problem("P", "交通局", d(12, 1), deadline=d(12, 4))
    r = await c.rank()
    rows = by_name(r)
    housing = rows["住建局"]
    assert housing.figures["problems"] == Figure(0, 0, None, None)
    assert housing.figures["instructions"].score is None
    assert housing.figures["signed"].score is None
    # Neither 0 (it would be dragged down) nor 100: its milestones alone, re-weighted. The
    # city kept all 20 milestones and missed its one problem.
    assert housing.score == pytest.approx(100 * ots(10, 10, 1.0))
    # A missed item counts where nothing due does not: 2×0.97 + 2×0.08 over 4.
    assert rows["交通局"].score == pytest.approx(100 * (ots(10, 10, 1.0) + ots(0, 1, 0.0)) / 2)
    assert [row.unit for row in r.rows] == ["住建局", "交通局"]
    # The township whose only project operates has nothing to judge: idle, not last.
    assert r.idle == ["城东街道"]


# --- weights and ties --------------------------------------------------------------------


async def test_a_zero_weight_leaves_the_figure_out(session: AsyncSession) -> None:
    c = await sample_city(session)
    w = replace(Weights(), problems=0.0, reports=0.0)
    r = await c.rank(weights=w)
    assert r.left_out == {"problems": LEFT_OUT_WEIGHT, "reports": LEFT_OUT_WEIGHT}
    land = by_name(r)["自然资源局"]
    # Its problem (0 of 1) is still counted for the reader, but no longer scored.
    assert land.figures["problems"] == Figure(0, 1, 0.0, None)
    assert not land.figures["problems"].scored and land.figures["milestones"].scored
    assert land.score == pytest.approx(100 * ots(1, 2, 1 / 2))
    # Out of every unit's line, named once below.
    lines = rank_text("zh", r).splitlines()
    assert not [line for line in lines if line.startswith("  ") and "问题" in line]
    assert not [line for line in lines if line.startswith("  ") and "周报" in line]
    assert lines.count("问题按期答复 —（权重为 0，不计分）") == 1
    assert lines.count("周报按时 —（权重为 0，不计分）") == 1
    assert "reports — (its weight is 0; not scored)" in rank_text("en", r)


async def test_changing_the_weights_changes_the_order_as_expected(session: AsyncSession) -> None:
    c = await sample_city(session)
    results_only = Weights(milestones=0, problems=0, instructions=0, reports=0)
    diligence_only = Weights(signed=0, started=0, operating=0, investment=0)
    on_results = await c.rank(weights=results_only)
    on_diligence = await c.rank(weights=diligence_only)
    # 青山镇 moved more per project; 城东街道 kept more of its promises.
    assert [row.unit for row in on_results.rows] == ["青山镇", "城东街道"]
    assert "自然资源局" in on_results.idle
    assert [row.unit for row in on_diligence.rows] == ["城东街道", "青山镇", "自然资源局"]
    assert on_results.left_out == dict.fromkeys(DILIGENCE, LEFT_OUT_WEIGHT)
    for row in on_results.rows:
        assert set(row.figures) == set(FIGURES)
        assert {n for n, f in row.figures.items() if f.scored} <= set(RESULTS)
    nothing = await c.rank(weights=Weights(*([0.0] * len(FIGURES))))
    assert nothing.rows == [] and "青山镇" in nothing.idle


async def test_a_figure_nobody_moved_is_shown_as_left_out_not_as_zero(
    session: AsyncSession,
) -> None:
    c = await City(session).setup()
    for name in ("甲镇", "乙镇"):
        await c.unit(name)
        for i in range(3):
            await c.project(f"P{name}{i}", name)  # negotiating all month: nobody signed
    await c.milestone("P甲镇0", d(12, 2), d(12, 2))
    await c.report("P乙镇0", d(12, 2))
    r = await c.rank()
    assert r.left_out == dict.fromkeys(
        ("signed", "started", "operating", "investment", "problems", "instructions"),
        LEFT_OUT_CITY,
    )
    row = by_name(r)["甲镇"]
    # Counted for the reader, scored for no one.
    assert row.figures["signed"] == Figure(0, 3, 0.0, None)
    assert row.figures["investment"] == Figure(0, 3, 0.0, None)
    assert row.figures["started"] == Figure(0, 0, None, None)
    assert counts(row)["reports"] == (0, 6) and row.figures["reports"].scored
    zh = rank_text("zh", r)
    assert "签约 0/3" not in zh and "投资 0 万元" not in zh and "成果：" not in zh
    for line in (
        "签约 —（本期全市无签约，不计分）",
        "开工 —（本期全市无开工，不计分）",
        "投产 —（本期全市无投产，不计分）",
        "投资 —（本期全市无项目推进，不计分）",
        "问题按期答复 —（本期全市无到期问题，不计分）",
        "批示按期办结 —（本期全市无到期批示，不计分）",
    ):
        assert zh.splitlines().count(line) == 1, line
    # 乙镇 has no milestone due while the city has: its own line says so.
    assert "作风：节点按期 — · 周报按时 1/6（17%）" in zh
    en = rank_text("en", r)
    assert "signed — (no signing in the city this period; not scored)" in en
    assert "signed 0/3" not in en


async def test_what_the_briefing_reads(session: AsyncSession) -> None:
    """Every unit's eight figures (count, of, rate, score, scored), why a figure is left out
    for all, the items counted, and the idle units: all /rank shows."""
    c = await sample_city(session)
    r = await c.rank(weights=replace(Weights(), reports=0))
    assert [g.group for g in r.groups] == [Group.TOWNS, Group.DEPARTMENTS]
    assert [row.unit for row in r.groups[0].rows] == ["青山镇", "城东街道"]
    assert [row.unit for row in r.groups[1].rows] == ["自然资源局"]
    assert r.rows == r.groups[0].rows + r.groups[1].rows
    assert all(list(row.figures) == list(FIGURES) for row in r.rows)
    east = by_name(r)["城东街道"]
    m = east.figures["milestones"]
    assert (m.count, m.of, m.rate, m.scored) == (3, 4, 0.75, True)
    assert m.score == pytest.approx(ots(3, 4, 4 / 7))
    # Nothing due for the unit: no rate, no score; left out for all (weight 0): counted.
    assert east.figures["problems"] == Figure(0, 0, None, None)
    assert (east.figures["reports"].count, east.figures["reports"].of) == (4, 12)
    assert not east.figures["reports"].scored
    assert r.left_out == {"reports": LEFT_OUT_WEIGHT}
    # 4 + 2 + 1 projects that could move, 4 milestones, 2 instructions (investment aside).
    assert east.items == 13
    assert r.idle == ["空闲乡"]


async def test_equal_scores_share_a_rank_listed_by_items_then_name(session: AsyncSession) -> None:
    c = await City(session).setup()
    for name in ("乙镇", "甲镇", "丙镇", "丁镇", "戊镇"):
        await c.unit(name)
        await c.project(f"P{name}", name, stage=Stage.OPERATING)
    # Every milestone and problem kept (city rate 1): 乙, 甲 and 丁 keep one of one, 甲 a
    # problem too, and score the same 92.3; 丙 keeps 3 of 3 (94.1); 戊 let an instruction
    # slip (7.7).
    for name in ("乙镇", "甲镇", "丁镇"):
        await c.milestone(f"P{name}", d(12, 2), d(12, 2))
    await c.problem("P甲镇", "甲镇", d(12, 1), deadline=d(12, 4), answered=at(d(12, 2)))
    for day in (d(12, 2), d(12, 3), d(12, 4)):
        await c.milestone("P丙镇", day, day)
    await c.instruction("P戊镇", "戊镇", d(12, 1), d(12, 4))
    # November: 乙 and 丁 kept theirs, shared the first place; 甲 was late, third.
    for name, done in (("乙镇", d(11, 10)), ("丁镇", d(11, 10)), ("甲镇", d(11, 12))):
        await c.milestone(f"P{name}", d(11, 10), done)
    w = Weights(0, 0, 0, 0, milestones=1, problems=1, instructions=1, reports=0)
    r = await c.rank(weights=w)
    got = [(row.rank, row.unit, f"{row.score:.1f}", row.items, row.prev_rank) for row in r.rows]
    assert got == [
        (1, "丙镇", "94.1", 3, None),
        (2, "甲镇", "92.3", 2, 3),  # the same score on two items
        (2, "丁镇", "92.3", 1, 1),  # 丁 (U+4E01) before 乙 (U+4E59)
        (2, "乙镇", "92.3", 1, 1),
        (5, "戊镇", "7.7", 1, None),
    ]
    assert [row.change for row in r.rows] == [None, 1, -1, -1, None]
    text = rank_text("zh", r)
    assert "2. <b>甲镇</b> ▲1  <b>92.3</b> 分" in text
    assert "2. <b>丁镇</b> ▼1  <b>92.3</b> 分" in text and "2. <b>乙镇</b> ▼1" in text
    assert "5. <b>戊镇</b> —  <b>7.7</b> 分" in text
    assert [b.label for b in rank_pictures("zh", r)[0].bars] == [
        "1. 丙镇",
        "2. 甲镇",
        "2. 丁镇",
        "2. 乙镇",
        "5. 戊镇",
    ]


async def test_everything_late_is_ranked_by_the_evidence_not_the_alphabet(
    session: AsyncSession,
) -> None:
    """The user trial: every milestone late, every unit scored 0.0 and sorted by name.
    (Done a day late: open ones of a project in operation are no longer held against it.)"""
    c = await City(session).setup()
    html = "<b>新区</b> & 开发区"
    for name, missed_nov, missed_dec in ((html, 2, 30), ("乙镇", 10, 1), ("大镇", 0, 5)):
        await c.unit(name)
        await c.project(f"P{name}", name, stage=Stage.OPERATING)
        for i in range(missed_nov):
            await c.milestone(f"P{name}", d(11, 2 + i % 20), d(11, 3 + i % 20))
        for i in range(missed_dec):
            await c.milestone(f"P{name}", d(12, 1 + i % 13), d(12, 2 + i % 13))
    r = await c.rank()
    # The city kept none: each unit's 0 of n from Beta(0.5, 5), more misses lower.
    got = [(row.rank, row.unit, counts(row)["milestones"], row.change) for row in r.rows]
    assert got == [(1, "乙镇", (0, 1), 1), (2, "大镇", (0, 5), None), (3, html, (0, 30), -2)]
    assert [round(row.score, 1) for row in r.rows] == [7.7, 4.8, 1.4]
    # November the same way: 0 of 2 above 0 of 10; 大镇 had nothing due.
    assert [(row.unit, row.prev_rank) for row in r.rows] == [("乙镇", 2), ("大镇", None), (html, 1)]
    text = rank_text("zh", r)
    assert "1. <b>乙镇</b> ▲1  <b>7.7</b> 分" in text
    assert "3. <b>&lt;b&gt;新区&lt;/b&gt; &amp; 开发区</b> ▼2  <b>1.4</b> 分" in text
    assert "节点按期 0/30（0%）" in text


async def test_an_empty_store_and_the_briefings_call(session: AsyncSession) -> None:
    c = await City(session).setup()
    r = await c.rank()
    assert r.rows == [] and r.idle == []
    # The briefing passes the period as a plain string.
    r = await ranking(session, "quarter", TODAY, TZ, CAL, Weights())
    assert r.period is Period.QUARTER and r.start == d(10, 1)
    with pytest.raises(ValueError):
        await ranking(session, "week", TODAY, TZ, CAL, Weights())


# --- /rank in chat -----------------------------------------------------------------------


async def december(h: Harness) -> None:
    """The sample city (tests.harness.seed) on 3 December 2026, with a history of its own:
    XNY01 (城东街道) was negotiating from January and signed on 2 December; 城西镇 reported
    on SW02 every week of November, 城东街道 never; XNY01's 选址 (due 20 November) is open."""
    async with h.sessions() as s:
        set_actor(s, None)
        p1 = h.ids["p1"]
        await s.execute(update(StageMove).values(at=at(LONG_AGO), to_stage=Stage.NEGOTIATING))
        s.add(
            StageMove(
                project_id=p1, from_stage=Stage.NEGOTIATING, to_stage=Stage.SIGNED, at=at(d(12, 2))
            )
        )
        west = await s.scalar(select(Project).where(Project.code == "SW02"))
        author = await s.scalar(select(Member).where(Member.tg_user_id == OTHER_OFFICER))
        assert west is not None and author is not None
        for day in (d(10, 30), d(11, 2), d(11, 9), d(11, 16), d(11, 23)):
            s.add(
                ProgressReport(
                    project_id=west.id, author_id=author.id, text="进展", report_date=day
                )
            )
        await s.commit()


async def test_rank_answers_with_the_table_and_the_bars(h: Harness) -> None:
    await december(h)
    replies = await h.send(COORD, "/rank")
    text = "\n".join(replies)
    assert "本月单位排名</b>（2026-12-01 至 2026-12-03）" in text
    # 城东街道 signed its one negotiating project; 城西镇 none of its one. November had
    # 城西镇 first on its weekly reports (5 of 5) and 城东街道 second.
    assert "1. <b>城东街道</b> ▲1  <b>58.3</b> 分" in text
    assert "签约 1/1（100%）" in text and "投资 120,000 万元/1 个在推项目" in text
    assert "2. <b>城西镇</b> ▼1  <b>41.7</b> 分" in text
    assert "签约 0/1（0%）" in text and "投资 0 万元/1 个在推项目" in text
    # Nobody in the city started a project, nor had anything due yet: said once, as left
    # out, never as a 0% that looks counted.
    assert "开工 0/1" not in text and "开工 —（本期全市无开工，不计分）" in text
    assert "节点按期 —（本期全市无到期节点，不计分）" in text
    assert "周报按时 —（本期全市无应报周报，不计分）" in text
    unit_lines = [line for line in text.splitlines() if line.startswith("  ")]
    assert len(unit_lines) == 2 and not any("开工" in line for line in unit_lines)
    assert "本期没有可评事项：自然资源局" in text
    assert "名次变化与上月（2026-11-01 至 2026-11-30）比较" in text
    assert "经验贝叶斯" in text and "1/1 不会压过 29/30，0/30 低于 0/1" in text
    assert "得分相同名次并列" in text
    assert text.index("城东街道") < text.index("城西镇")
    assert "👉" not in text  # the coordinator's unit is not ranked

    # The picture, after the text: one photo to the coordinator, drawn from these bars.
    photos = [m for m in h.api.media if m["kind"] == "photo"]
    assert len(photos) == 1 and photos[0]["chat_id"] == COORD
    assert photos[0]["data"].startswith(b"\x89PNG")
    assert photos[0]["caption"] == (
        "本月单位排名 · 乡镇街道（2026-12-01 至 2026-12-03），共 2 个单位；名次变化与上月比较"
    )
    async with h.sessions() as s:
        r = await ranking(s, Period.MONTH, d(12, 3), TZ, CAL, Weights())
    picture = rank_pictures("zh", r)[0]
    assert picture.title == "本月单位排名 · 乡镇街道 2026-12-01 至 2026-12-03"
    assert [(b.label, b.value, b.note) for b in picture.bars] == [
        ("1. 城东街道", 58.3, "▲1"),
        ("2. 城西镇", 41.7, "▼1"),
    ]


async def test_rank_for_a_quarter_a_year_and_in_english(h: Harness) -> None:
    await december(h)
    quarter = "\n".join(await h.send(LEADER, "/rank 季度"))
    assert "本季度单位排名</b>（2026-10-01 至 2026-12-03）" in quarter
    # XNY01's 选址 went late in November; 城西镇 kept its weeks, 城东街道 none.
    assert "节点按期 0/1（0%）" in quarter
    assert "周报按时 5/9（56%）" in quarter and "周报按时 0/9（0%）" in quarter
    assert "名次变化与上季度（2026-07-01 至 2026-09-30）比较" in quarter

    await h.send(ADMIN, "/lang en")
    year = "\n".join(await h.send(ADMIN, "/rank year"))
    assert "This year: units ranked</b> (2026-01-01 to 2026-12-03)" in year
    assert "signed 1/1 (100%)" in year and "milestones on time 0/1 (0%)" in year
    assert "started — (no start in the city this period; not scored)" in year
    assert "empirical Bayes" in year and "1 of 1 never beats 29 of 30" in year
    assert "Changes against last year (2025-01-01 to 2025-12-31)" in year
    # Nobody was ranked in 2025: every change is new.
    assert "1. <b>城东街道</b> —" in year or "1. <b>城西镇</b> —" in year
    assert len([m for m in h.api.media if m["kind"] == "photo"]) == 2


async def test_officers_see_the_ranking_with_their_unit_marked(h: Harness) -> None:
    await december(h)
    mine = "\n".join(await h.send(OFFICER, "/rank 月"))
    assert "👉 1. <b>城东街道</b>" in mine
    theirs = "\n".join(await h.send(OTHER_OFFICER, "/rank"))
    assert "👉 2. <b>城西镇</b>" in theirs and "👉 1." not in theirs
    assert await h.send(STRANGER, "/rank") != [] and not [
        m for m in h.api.media if m["chat_id"] == STRANGER
    ]


async def test_an_unknown_period_word_gets_a_clear_answer(h: Harness) -> None:
    await december(h)
    replies = await h.send(COORD, "/rank foo")
    assert replies == [
        "不认识的期间“foo”。请用：月/本月/month | 季/季度/quarter | 年/年度/year，"
        "如 <code>/rank 季度</code>。"
    ]
    replies = await h.send(COORD, "/rank <b>周</b>")
    assert "“&lt;b&gt;周&lt;/b&gt;”" in replies[0]
    assert h.api.media == []


async def test_names_with_html_are_escaped_in_the_text_not_in_the_picture(h: Harness) -> None:
    await december(h)
    async with h.sessions() as s:
        await s.execute(update(Unit).where(Unit.id == h.ids["west"]).values(name="城西<镇>"))
        await s.commit()
    text = "\n".join(await h.send(COORD, "/rank"))
    assert "2. <b>城西&lt;镇&gt;</b>" in text
    async with h.sessions() as s:
        r = await ranking(s, Period.MONTH, d(12, 3), TZ, CAL, Weights())
    assert rank_pictures("zh", r)[0].bars[1].label == "2. 城西<镇>"


def test_a_city_with_nothing_to_rank_says_so() -> None:
    empty = Ranking(Period.MONTH, d(12, 1), d(12, 3), [], d(11, 1), d(11, 30))
    assert rank_text("zh", empty) == "还没有乡镇、街道或部门负责项目或事项，暂无排名。"
    assert rank_text("en", empty).startswith("No township, sub-district or department")
    idle = replace(empty, groups=[RankGroup(Group.TOWNS, [], ["青山镇"])])
    assert rank_text("zh", idle).startswith(
        "本月（2026-12-01 至 2026-12-03）各单位都没有可评的事项"
    )
    assert "Nothing" not in rank_text("en", idle) and "no unit has anything" in rank_text(
        "en", idle
    )


# --- two groups: townships and sub-districts, departments ------------------------------


async def two_groups(s: AsyncSession) -> City:
    """Two townships with results and a slip or two, two departments on diligence alone:
    自然资源局 kept 3 of 3 answers this month, 住建局 1 of 2; November had 住建局 ahead."""
    c = await City(s).setup()
    await c.unit("青山镇")
    await c.unit("城东街道", UnitKind.SUBDISTRICT)
    await c.unit("自然资源局", UnitKind.DEPARTMENT)
    await c.unit("住建局", UnitKind.DEPARTMENT)
    await c.project("QS1", "青山镇", (Stage.SIGNED, d(12, 3)))
    await c.project("QS2", "青山镇")
    await c.project("CD1", "城东街道")
    await c.project("CD2", "城东街道")
    await c.milestone("QS1", d(12, 4), d(12, 4))
    await c.milestone("CD1", d(12, 4), d(12, 7))
    for day in (d(12, 2), d(12, 3), d(12, 4)):
        await c.problem("QS2", "自然资源局", day - timedelta(days=1), deadline=day,
                        answered=at(day))  # fmt: skip
    await c.problem("CD1", "住建局", d(12, 1), deadline=d(12, 2), answered=at(d(12, 2)))
    await c.problem("CD2", "住建局", d(12, 1), deadline=d(12, 3))
    # November: 住建局 on time, 自然资源局 late.
    await c.problem("CD1", "住建局", d(11, 2), deadline=d(11, 4), answered=at(d(11, 4)))
    await c.problem("QS1", "自然资源局", d(11, 2), deadline=d(11, 4), answered=at(d(11, 6)))
    return c


async def test_departments_are_ranked_apart_on_diligence(session: AsyncSession) -> None:
    c = await two_groups(session)
    r = await c.rank()
    assert [g.group for g in r.groups] == [Group.TOWNS, Group.DEPARTMENTS]
    towns, depts = r.groups
    # 3 of 3 on time no longer tops the townships: each group ranks from 1.
    assert [(row.rank, row.unit) for row in towns.rows] == [(1, "青山镇"), (2, "城东街道")]
    assert [(row.rank, row.unit) for row in depts.rows] == [(1, "自然资源局"), (2, "住建局")]
    assert all(row.group is Group.TOWNS for row in towns.rows)
    assert all(row.group is Group.DEPARTMENTS for row in depts.rows)
    assert r.rows == towns.rows + depts.rows
    assert depts.figures == DILIGENCE and towns.figures == FIGURES
    # Results never apply to departments: not "left out" there, simply not theirs.
    assert not set(RESULTS) & set(depts.left_out)
    assert depts.left_out == dict.fromkeys(("milestones", "instructions", "reports"), LEFT_OUT_CITY)
    assert "problems" in towns.left_out and "signed" not in towns.left_out
    # The prior is the group's own: the departments kept 4 of 5 answers.
    land = by_name(r)["自然资源局"]
    assert land.figures["problems"].score == pytest.approx(ots(3, 3, 4 / 5))
    assert land.score == pytest.approx(100 * ots(3, 3, 4 / 5))
    assert land.figures["signed"] == Figure(0, 0, None, None)
    # Previous ranks per group: 住建局 was first of the departments in November.
    assert [(row.prev_rank, row.change) for row in depts.rows] == [(2, 1), (1, -1)]
    # The townships' November (weekly reports alone, none came) ranks them among themselves.
    assert [row.prev_rank for row in towns.rows] == [1, 1]
    # Left out in every group a figure applies to: nobody started or put into operation.
    assert r.left_out == dict.fromkeys(("started", "operating", "instructions"), LEFT_OUT_CITY)

    zh = rank_text("zh", r)
    lines = zh.splitlines()
    head_towns = lines.index("🏘 <b>乡镇、街道</b>（比成果、比作风）")
    head_depts = lines.index("🏛 <b>市直部门</b>（比作风：部门不负责项目，不比成果）")
    first = f"1. <b>青山镇</b> ＝  <b>{by_name(r)['青山镇'].score:.1f}</b> 分"
    assert head_towns < lines.index(first) < head_depts
    assert head_depts > lines.index("问题按期答复 —（本期全市无到期问题，不计分）")
    dept_lines = lines[head_depts:]
    assert "1. <b>自然资源局</b> ▲1  <b>" + f"{land.score:.1f}" + "</b> 分" in dept_lines
    assert (
        "2. <b>住建局</b> ▼1  <b>" + f"{by_name(r)['住建局'].score:.1f}" + "</b> 分" in dept_lines
    )
    assert "  作风：问题按期答复 3/3（100%）" in dept_lines
    dept_lines = dept_lines[
        1 : dept_lines.index("名次变化与上月（2026-11-01 至 2026-11-30）比较；— 为上期未上榜。")
    ]
    assert not [line for line in dept_lines if "成果" in line or "签约" in line]
    assert "节点按期 —（本期各部门无到期节点，不计分）" in dept_lines
    assert zh.count("批示按期办结 —（") == 2  # one per group, each in its own words
    en = rank_text("en", r)
    assert "<b>Townships and sub-districts</b>" in en and "<b>Departments</b>" in en
    assert "milestones on time — (no milestone due for any department this period" in en

    pictures = rank_pictures("zh", r)
    assert [p.title for p in pictures] == [
        "本月单位排名 · 乡镇街道 2026-12-01 至 2026-12-15",
        "本月单位排名 · 市直部门 2026-12-01 至 2026-12-15",
    ]
    assert [b.label for b in pictures[1].bars] == ["1. 自然资源局", "2. 住建局"]
    assert [b.note for b in pictures[1].bars] == ["▲1", "▼1"]


async def test_a_city_without_departments_has_one_section(session: AsyncSession) -> None:
    c = await City(session).setup()
    await c.unit("青山镇")
    await c.unit("法院", UnitKind.DEPARTMENT)  # nothing to answer for: not a candidate
    await c.project("QS1", "青山镇", (Stage.SIGNED, d(12, 3)))
    r = await c.rank()
    assert [g.group for g in r.groups] == [Group.TOWNS]
    assert r.group(Group.DEPARTMENTS) is None
    zh = rank_text("zh", r)
    assert "🏘 <b>乡镇、街道</b>" in zh and "🏛" not in zh
    assert len(rank_pictures("zh", r)) == 1


async def test_rank_sends_both_groups_as_an_album(h: Harness) -> None:
    await december(h)
    async with h.sessions() as s:
        set_actor(s, None)
        land = await s.scalar(select(Unit).where(Unit.name == "自然资源局"))
        west = await s.scalar(select(Project).where(Project.code == "SW02"))
        coord = await s.scalar(select(Member).where(Member.tg_user_id == COORD))
        assert land is not None and west is not None and coord is not None
        s.add(
            Problem(
                project_id=west.id,
                raiser_id=coord.id,
                text="用地",
                category=ProblemCategory.LAND,
                unit_id=land.id,
                reply_deadline=d(12, 2),
                status=ProblemStatus.ANSWERED,
                created_at=at(d(12, 1)),
                answered_at=at(d(12, 2)),
            )
        )
        await s.commit()
    text = "\n".join(await h.send(COORD, "/rank"))
    assert text.index("乡镇、街道") < text.index("城西镇") < text.index("市直部门")
    assert "1. <b>城东街道</b>" in text and "1. <b>自然资源局</b> —" in text
    assert "作风：问题按期答复 1/1（100%）" in text
    photos = [m for m in h.api.media if m["kind"] == "photo"]
    assert [p["caption"] for p in photos] == [
        "本月单位排名 · 乡镇街道（2026-12-01 至 2026-12-03），共 2 个单位；名次变化与上月比较",
        "本月单位排名 · 市直部门（2026-12-01 至 2026-12-03），共 1 个单位；名次变化与上月比较",
    ]
    assert all(p["data"].startswith(b"\x89PNG") for p in photos)
