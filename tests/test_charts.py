"""The wall chart (/chart), the funnel (/board) and the pictures: content first.

A fixed city is built in the store (SQLite and PostgreSQL) and the data the pictures are
drawn from is checked: which projects, which colours, in which order and groups, what
each filter gives, the funnel's figures and median days. Then the pictures themselves:
they decode, stay within Telegram's photo limits, draw Chinese without a missing glyph
(a warning made an error here, and shown to fire with a font that lacks CJK), and keep
long names inside their column. Last, the commands through the bot.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from matplotlib.font_manager import FontProperties
from matplotlib.text import Text
from PIL import Image
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

import bot.charts as charts
from bot.charts import (
    LABEL_W,
    Bar,
    funnel_png,
    left_out_note,
    number_labels,
    rank_png,
    wall_chart_figure,
    wall_chart_pngs,
)
from storage.db import set_actor
from storage.errors import Refused
from storage.models import (
    Instruction,
    Member,
    Milestone,
    Problem,
    ProblemCategory,
    ProblemStatus,
    Project,
    Role,
    Stage,
    StageMove,
    Unit,
    UnitKind,
)
from storage.projects import normal_code
from storage.rules import Light
from storage.wallchart import (
    ALL,
    MAX_ROWS,
    ChartFilter,
    ChartMilestone,
    ChartRow,
    ChartTarget,
    FilterChoices,
    GroupBy,
    MarkKind,
    MilestoneState,
    RowMark,
    WallChart,
    default_window,
    fit_rows,
    funnel,
    narrowers,
    pages,
    project_light,
    read_filter,
    wall_chart,
)
from tests.harness import COORD, LEADER, OFFICER, Harness

TODAY = date(2026, 12, 3)  # a Thursday
TZ = ZoneInfo("Asia/Shanghai")
SOON = 7
INDUSTRIES = ("新能源", "新材料", "生物医药")
ALIASES = {"光伏": "新能源"}


def local(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=TZ).astimezone(UTC)


# --- the light of a project, as a plain rule -------------------------------------------


def light(**kw: Any) -> Light:
    args: dict[str, Any] = {
        "stage": Stage.SIGNED,
        "targets": {},
        "milestones": [],
        "problem_levels": [],
        "instructions": [],
        "today": TODAY,
        "soon_days": SOON,
    }
    return project_light(**{**args, **kw})


def test_project_light_rule() -> None:
    d = TODAY
    assert light() is Light.GREEN
    # red: an open milestone overdue; done or far ahead is green; due soon yellow
    assert light(milestones=[(d - timedelta(days=1), None, 0)]) is Light.RED
    assert light(milestones=[(d - timedelta(days=9), d - timedelta(days=5), 0)]) is Light.GREEN
    assert light(milestones=[(d + timedelta(days=7), None, 0)]) is Light.YELLOW
    assert light(milestones=[(d + timedelta(days=8), None, 0)]) is Light.GREEN
    assert light(milestones=[(None, None, 0)]) is Light.GREEN
    # a stage target passed and not reached is red; reached is not
    assert light(targets={Stage.STARTED: d - timedelta(days=1)}) is Light.RED
    assert light(stage=Stage.STARTED, targets={Stage.STARTED: d - timedelta(days=1)}) is Light.GREEN
    assert light(targets={Stage.OPERATING: d + timedelta(days=3)}) is Light.YELLOW
    # problems by their escalation level: 3 red, 1–2 yellow
    assert light(problem_levels=[0]) is Light.GREEN
    assert light(problem_levels=[1]) is Light.YELLOW
    assert light(problem_levels=[2, 0]) is Light.YELLOW
    assert light(problem_levels=[3]) is Light.RED
    # an open milestone escalated is yellow at least (a done one's level is history)
    assert light(milestones=[(d + timedelta(days=30), None, 2)]) is Light.YELLOW
    assert light(milestones=[(d + timedelta(days=30), d, 2)]) is Light.GREEN
    # instructions: past the deadline red, due soon yellow
    assert light(instructions=[(d - timedelta(days=1), 0)]) is Light.RED
    assert light(instructions=[(d + timedelta(days=2), 0)]) is Light.YELLOW
    assert light(instructions=[(d + timedelta(days=20), 0)]) is Light.GREEN
    # milestones of a paused or operating project are not chased; problems still count
    late = [(d - timedelta(days=1), None, 0)]
    assert light(stage=Stage.PAUSED, milestones=late) is Light.GREEN
    assert light(stage=Stage.OPERATING, milestones=late) is Light.GREEN
    assert light(stage=Stage.PAUSED, problem_levels=[3]) is Light.RED
    # nobody chases a dropped project
    assert light(stage=Stage.DROPPED, problem_levels=[3], milestones=late) is Light.NONE


def test_default_window_is_a_month_back_to_six_ahead() -> None:
    assert default_window(TODAY) == (date(2026, 11, 3), date(2027, 6, 3))
    assert default_window(date(2026, 3, 31)) == (date(2026, 2, 28), date(2026, 9, 30))
    assert default_window(date(2026, 8, 31)) == (date(2026, 7, 31), date(2027, 2, 28))


# --- a fixed city in the store ------------------------------------------------------------


class City:
    """Three working units with ten projects of known lights, one dropped, one unit with
    none; stage moves at known moments."""

    def __init__(self, s: AsyncSession) -> None:
        self.s = s
        self.ids: dict[str, int] = {}

    async def build(self) -> City:
        s = self.s
        set_actor(s, None)
        lead = Unit(name="市领导", kind=UnitKind.LEADERSHIP)
        s.add(lead)
        await s.flush()
        center = Unit(name="招商服务中心", kind=UnitKind.CENTER, parent_id=lead.id)
        s.add(center)
        await s.flush()
        units = {
            "east": Unit(name="城东街道", kind=UnitKind.SUBDISTRICT, parent_id=center.id),
            "west": Unit(name="城西镇", kind=UnitKind.TOWNSHIP, parent_id=center.id),
            "land": Unit(name="自然资源局", kind=UnitKind.DEPARTMENT, parent_id=center.id),
            "empty": Unit(name="空白乡", kind=UnitKind.TOWNSHIP, parent_id=center.id),
        }
        s.add_all(units.values())
        await s.flush()
        self.ids |= {k: u.id for k, u in units.items()}
        leader = Member(tg_user_id=1, name="刘", unit_id=lead.id, role=Role.LEADER)
        officer = Member(tg_user_id=2, name="王", unit_id=units["east"].id, role=Role.OFFICER)
        s.add_all([leader, officer])
        await s.flush()
        self.ids["officer"] = officer.id
        d = TODAY
        specs: list[tuple[str, str, Stage, str, int, dict[str, Any]]] = [
            # code, unit, stage, industry, investment (万元), extras
            ("CD01", "east", Stage.SIGNED, "新能源", 1000, {"ms": [(d - timedelta(days=13), None)]}),
            ("CD02", "east", Stage.STARTED, "新能源", 2000, {"ms": [(d + timedelta(days=5), None)]}),
            ("CD03", "east", Stage.NEGOTIATING, "新材料", 300,
             {"ms": [(d - timedelta(days=20), d - timedelta(days=21)), (date(2027, 3, 1), None)]}),
            ("CD04", "east", Stage.SIGNED, "新材料", 400, {"target_started": d - timedelta(days=3)}),
            ("XC01", "west", Stage.STARTED, "生物医药", 5000,
             {"ms": [(date(2027, 2, 1), None)], "problem": 3}),
            ("XC02", "west", Stage.NEGOTIATING, "生物医药", 600, {"problem": 1}),
            ("XC03", "west", Stage.OPERATING, "新能源", 7000,
             {"target_signed": date(2025, 1, 1), "target_started": date(2025, 6, 1),
              "target_operating": date(2026, 4, 1)}),
            ("XC04", "west", Stage.PAUSED, "新材料", 800, {"ms": [(d - timedelta(days=40), None)]}),
            ("ZR01", "land", Stage.SIGNED, "新能源", 900, {"instruction": d - timedelta(days=1)}),
            ("ZR02", "land", Stage.SIGNED, "新材料", 1100, {"instruction": d + timedelta(days=4)}),
            ("CD09", "east", Stage.DROPPED, "新能源", 50, {"ms": [(d - timedelta(days=40), None)]}),
        ]  # fmt: skip
        for code, unit, stage, industry, money, extra in specs:
            p = Project(
                code=code,
                name=f"{code}项目",
                industry=industry,
                investment=money,
                stage=stage,
                unit_id=self.ids[unit],
                target_signed=extra.get("target_signed"),
                target_started=extra.get("target_started"),
                target_operating=extra.get("target_operating"),
                created_at=local(date(2026, 5, 1)) if code == "ZR02" else local(date(2024, 1, 2)),
            )
            s.add(p)
            await s.flush()
            self.ids[code] = p.id
            for n, (planned, done) in enumerate(extra.get("ms", []), start=1):
                s.add(
                    Milestone(
                        project_id=p.id,
                        seq=n,
                        title=f"节点{n}",
                        kind="other",
                        planned_date=planned,
                        done_date=done,
                        owner_unit_id=p.unit_id,
                    )
                )
            if "problem" in extra:
                s.add(
                    Problem(
                        project_id=p.id,
                        raiser_id=officer.id,
                        text="用地指标",
                        category=ProblemCategory.LAND,
                        unit_id=units["land"].id,
                        status=ProblemStatus.OPEN,
                        escalation_level=extra["problem"],
                    )
                )
            if "instruction" in extra:
                s.add(
                    Instruction(
                        leader_id=leader.id,
                        project_id=p.id,
                        text="月底前完成摘牌",
                        unit_id=p.unit_id,
                        deadline=extra["instruction"],
                    )
                )
        # A resolved problem at level 3 and an instruction done past its deadline are history.
        s.add(
            Problem(
                project_id=self.ids["CD03"],
                raiser_id=officer.id,
                text="已解决",
                category=ProblemCategory.OTHER,
                unit_id=units["east"].id,
                status=ProblemStatus.RESOLVED,
                escalation_level=3,
            )
        )
        s.add(
            Instruction(
                leader_id=leader.id,
                project_id=self.ids["CD03"],
                text="已办结",
                unit_id=units["east"].id,
                deadline=d - timedelta(days=9),
                done_at=local(d - timedelta(days=10)),
            )
        )
        await s.flush()
        await self.moves()
        return self

    async def moves(self) -> None:
        """The stage history, replacing what the flush hook wrote at the real time."""
        await self.s.execute(delete(StageMove))
        N, S, B, OP = Stage.NEGOTIATING, Stage.SIGNED, Stage.STARTED, Stage.OPERATING
        history: list[tuple[str, Stage | None, Stage, datetime]] = [
            ("CD01", None, N, local(date(2026, 1, 10))),
            ("CD01", N, S, local(date(2026, 3, 1))),
            ("CD04", None, N, local(date(2025, 11, 1))),
            # 01:00 on 1 December in the city, still 30 November in UTC: this month.
            ("CD04", N, S, datetime(2026, 11, 30, 17, 0, tzinfo=UTC)),
            ("ZR01", None, S, local(date(2026, 2, 1))),  # entered signed: no transition
            ("ZR02", N, S, local(date(2026, 6, 10))),  # no entry on record: from created_at
            ("CD02", None, N, local(date(2025, 6, 1))),
            ("CD02", N, S, local(date(2025, 9, 1))),
            ("CD02", S, B, local(date(2026, 11, 15))),
            ("XC01", None, S, local(date(2026, 1, 5))),
            ("XC01", S, B, local(date(2026, 12, 2))),
            ("XC03", None, B, local(date(2025, 3, 1))),
            ("XC03", B, OP, local(date(2026, 4, 1))),
            ("XC04", None, N, local(date(2026, 2, 1))),
            ("XC04", N, Stage.PAUSED, local(date(2026, 7, 1))),
            ("CD09", None, S, local(date(2026, 1, 1))),
            ("CD09", S, Stage.DROPPED, local(date(2026, 12, 2))),
            ("CD03", None, N, local(date(2026, 8, 1))),
            ("XC02", None, N, local(date(2026, 9, 1))),
            # After the end of today: not counted yet.
            ("CD02", B, OP, local(date(2026, 12, 4), 1)),
        ]
        for code, before, after, at in history:
            self.s.add(
                StageMove(project_id=self.ids[code], from_stage=before, to_stage=after, at=at)
            )
        await self.s.flush()


@pytest.fixture
async def city(session: AsyncSession) -> City:
    return await City(session).build()


async def chart_of(
    s: AsyncSession, flt: ChartFilter = ALL, unit_id: int | None = None
) -> WallChart:
    start, end = default_window(TODAY)
    return await wall_chart(
        s, unit_id=unit_id, flt=flt, today=TODAY, soon_days=SOON, start=start, end=end
    )


def layout(chart: WallChart) -> list[tuple[str, str, Light]]:
    return [(r.group, r.code, r.light) for r in chart.rows]


R, Y, G = Light.RED, Light.YELLOW, Light.GREEN


async def test_city_chart_groups_units_worst_first_and_red_first_within(
    session: AsyncSession, city: City
) -> None:
    chart = await chart_of(session)
    assert chart.group_by is GroupBy.UNIT
    # 城东 has two reds; 城西 and 自然资源局 one red and one yellow each, then by name.
    assert chart.groups == ("城东街道", "城西镇", "自然资源局")
    assert layout(chart) == [
        ("城东街道", "CD01", R),  # overdue milestone
        ("城东街道", "CD04", R),  # start target passed
        ("城东街道", "CD02", Y),  # milestone due in 5 days
        ("城东街道", "CD03", G),  # done, and one far ahead; its old problem is resolved
        ("城西镇", "XC01", R),  # problem at level 3
        ("城西镇", "XC02", Y),  # problem at level 1
        ("城西镇", "XC03", G),  # operating, every target reached
        ("城西镇", "XC04", G),  # paused: its overdue milestone is not chased
        ("自然资源局", "ZR01", R),  # instruction past its deadline
        ("自然资源局", "ZR02", Y),  # instruction due in 4 days
    ]
    assert "CD09" not in {r.code for r in chart.rows}  # dropped: off the wall
    assert dict(chart.counts) == {R: 4, Y: 3, G: 3, Light.NONE: 0}
    assert chart.scope is None and not chart.too_many

    cd03 = next(r for r in chart.rows if r.code == "CD03")
    assert [(m.seq, m.state) for m in cd03.milestones] == [
        (1, MilestoneState.DONE),
        (2, MilestoneState.PLANNED),
    ]
    assert cd03.milestones[0].day == TODAY - timedelta(days=21)  # where it was done
    cd01 = next(r for r in chart.rows if r.code == "CD01")
    assert [m.state for m in cd01.milestones] == [MilestoneState.OVERDUE]
    xc03 = next(r for r in chart.rows if r.code == "XC03")
    assert [(t.stage, t.light) for t in xc03.targets] == [
        (Stage.SIGNED, Light.DONE),
        (Stage.STARTED, Light.DONE),
        (Stage.OPERATING, Light.DONE),
    ]
    cd04 = next(r for r in chart.rows if r.code == "CD04")
    assert [(t.stage, t.day, t.light) for t in cd04.targets] == [
        (Stage.STARTED, TODAY - timedelta(days=3), Light.RED)
    ]
    assert cd04.milestones == ()  # no milestones: a clean row


async def test_filters(session: AsyncSession, city: City) -> None:
    async def read(word: str, unit_id: int | None = None) -> ChartFilter:
        return await read_filter(
            session, word, unit_id=unit_id, industries=INDUSTRIES, aliases=ALIASES
        )

    assert await read("") == ALL
    east = await read("城东")  # part of a name, when only one unit has it
    assert east == ChartFilter(unit="城东街道", unit_id=city.ids["east"])
    assert await read("城东街道") == east
    assert await read("开工") == ChartFilter(stage=Stage.STARTED)
    assert await read("Started") == ChartFilter(stage=Stage.STARTED)
    assert await read("under construction") == ChartFilter(stage=Stage.STARTED)
    assert await read("在建") == ChartFilter(stage=Stage.STARTED)
    assert await read("新能源") == ChartFilter(industry="新能源")
    assert await read("光伏") == ChartFilter(industry="新能源")
    assert await read("ｃｄ０１") == ChartFilter(code="CD01", project_id=city.ids["CD01"])

    # The unit's projects grouped by stage, in the order projects move through them.
    chart = await chart_of(session, east)
    assert chart.group_by is GroupBy.STAGE
    assert chart.groups == ("negotiating", "signed", "started")
    assert layout(chart) == [
        ("negotiating", "CD03", G),
        ("signed", "CD01", R),
        ("signed", "CD04", R),
        ("started", "CD02", Y),
    ]
    started = await chart_of(session, await read("开工"))
    assert layout(started) == [("城西镇", "XC01", R), ("城东街道", "CD02", Y)]
    energy = await chart_of(session, await read("光伏"))
    # 城东 one red and one yellow, 自然资源局 one red, 城西 all green
    assert layout(energy) == [
        ("城东街道", "CD01", R),
        ("城东街道", "CD02", Y),
        ("自然资源局", "ZR01", R),
        ("城西镇", "XC03", G),
    ]
    one = await chart_of(session, await read("CD04"))
    assert [r.code for r in one.rows] == ["CD04"]
    # dropped projects show when asked for by stage or code, grey
    dropped = await chart_of(session, await read("终止"))
    assert [(r.code, r.light) for r in dropped.rows] == [("CD09", Light.NONE)]
    assert dropped.counts[Light.NONE] == 1
    # a unit with no projects: an empty chart, not an error
    empty = await chart_of(session, await read("空白乡"))
    assert empty.rows == () and empty.groups == ()

    with pytest.raises(Refused) as info:
        await read("城")
    assert info.value.key == "err.chart_ambiguous"
    assert info.value.params["units"] == ("城东街道", "城西镇")
    with pytest.raises(Refused) as info:
        await read("火星<b>")
    assert info.value.key == "err.chart_filter"
    choices = info.value.params["choices"]
    assert isinstance(choices, FilterChoices)
    assert "城西镇" in choices.units and choices.industries == INDUSTRIES


async def test_an_officer_sees_their_own_unit_only(session: AsyncSession, city: City) -> None:
    east = city.ids["east"]

    async def read(word: str) -> ChartFilter:
        return await read_filter(session, word, unit_id=east, industries=INDUSTRIES)

    chart = await chart_of(session, await read(""), unit_id=east)
    assert chart.scope == "城东街道"
    assert [r.code for r in chart.rows] == ["CD03", "CD01", "CD04", "CD02"]
    signed = await chart_of(session, await read("签约"), unit_id=east)
    assert [r.code for r in signed.rows] == ["CD01", "CD04"]
    with pytest.raises(Refused) as info:
        await read("城西镇")
    assert info.value.key == "err.chart_not_yours"
    # another unit's code: not among the officer's projects, with no word of whose it is;
    # a code that names nothing gets the same answer, so nothing is disclosed
    for code in ("XC01", "ｘｃ０１", "ZZ99"):
        with pytest.raises(Refused) as info:
            await read(code)
        assert info.value.key == "err.chart_code_not_yours"
        assert info.value.params["code"] == normal_code(code)
        assert info.value.params["unit"] == "城东街道"
        assert "城西镇" not in str(info.value.params)
        choices = info.value.params["choices"]
        assert choices.units == ("城东街道",) and choices.code == "CD01"
    # a word that is no code still names nothing
    with pytest.raises(Refused) as info:
        await read("火星")
    assert info.value.key == "err.chart_filter"
    assert info.value.params["choices"].units == ("城东街道",)
    # "城" is a part of the officer's own unit's name only, as far as they may look
    assert (await read("城")).unit_id == east


async def test_funnel_figures_and_median_days(session: AsyncSession, city: City) -> None:
    f = await funnel(session, TODAY, TZ)
    rows = {
        s.stage: (s.projects, s.investment, s.moved_month, s.moved_year, s.red) for s in f.stages
    }
    assert rows == {
        Stage.NEGOTIATING: (2, Decimal(900), 0, 0, 0),
        # CD04 signed at 01:00 local on 1 December (30 November in UTC): this month.
        Stage.SIGNED: (4, Decimal(3400), 1, 3, 3),
        # CD02 moves on to operating tomorrow: not counted today.
        Stage.STARTED: (2, Decimal(7000), 1, 2, 1),
        Stage.OPERATING: (1, Decimal(7000), 0, 1, 0),
        Stage.PAUSED: (1, Decimal(800), 0, 1, 0),
        Stage.DROPPED: (1, Decimal(50), 1, 1, 0),
    }
    assert f.projects == 11 and f.investment == Decimal(19150)
    medians = {(t.from_stage, t.to_stage): (t.median_days, t.count) for t in f.transitions}
    assert medians == {
        # CD01 50 days, CD04 395, ZR02 40 (from created_at); ZR01 entered signed.
        (Stage.NEGOTIATING, Stage.SIGNED): (50.0, 3),
        # CD02 440, XC01 331
        (Stage.SIGNED, Stage.STARTED): (385.5, 2),
        (Stage.STARTED, Stage.OPERATING): (396.0, 1),
    }
    assert f.scope is None

    land = await funnel(session, TODAY, TZ, unit_id=city.ids["land"])
    assert land.scope == "自然资源局"
    assert [(s.stage, s.projects, s.red) for s in land.stages if s.projects] == [
        (Stage.SIGNED, 2, 1)
    ]
    assert land.transition(Stage.SIGNED).median_days == 40.0
    # no transition this year: no median, not zero
    assert land.transition(Stage.STARTED) == replace(
        land.transition(Stage.STARTED), median_days=None, count=0
    )
    # Next year nothing has moved yet.
    later = await funnel(session, date(2027, 1, 5), TZ)
    assert all(t.median_days is None for t in later.transitions)
    assert all(s.moved_year == 0 for s in later.stages)


async def test_page_split_at_25_rows(session: AsyncSession, city: City) -> None:
    for n in range(16):  # 10 on the wall already: 26
        session.add(
            Project(code=f"P{n:03d}", name="批量", industry="新能源", unit_id=city.ids["empty"])
        )
    await session.flush()
    chart = await chart_of(session)
    assert len(chart.rows) == 26
    assert [len(p) for p in pages(chart)] == [25, 1]
    assert not chart.too_many
    for n in range(16, 241):  # 251
        session.add(
            Project(code=f"P{n:03d}", name="批量", industry="新能源", unit_id=city.ids["empty"])
        )
    await session.flush()
    chart = await chart_of(session)
    assert len(chart.rows) == MAX_ROWS + 1 and chart.too_many


async def test_filters_combine(session: AsyncSession, city: City) -> None:
    """A unit, a stage and an industry together, separated by spaces or a Chinese
    keyboard's punctuation; each part read as it is alone."""

    async def read(word: str, unit_id: int | None = None) -> ChartFilter:
        return await read_filter(
            session, word, unit_id=unit_id, industries=INDUSTRIES, aliases=ALIASES
        )

    east, land = city.ids["east"], city.ids["land"]
    signed_east = ChartFilter(unit="城东街道", unit_id=east, stage=Stage.SIGNED)
    for typed in ("城东街道 签约", "城东街道，签约", "城东街道、签约", "签约 城东", "城东：签约"):
        assert await read(typed) == signed_east, typed
    assert await read("签约 光伏") == ChartFilter(stage=Stage.SIGNED, industry="新能源")
    assert await read("自然资源局；新材料") == ChartFilter(
        unit="自然资源局", unit_id=land, industry="新材料"
    )
    assert await read("城东 under construction 新能源") == ChartFilter(
        unit="城东街道", unit_id=east, stage=Stage.STARTED, industry="新能源"
    )

    # All parts must hold: the rows are those of every part at once.
    assert layout(await chart_of(session, signed_east)) == [
        ("signed", "CD01", R),
        ("signed", "CD04", R),
    ]
    energy = await chart_of(session, await read("签约 新能源"))
    assert layout(energy) == [("城东街道", "CD01", R), ("自然资源局", "ZR01", R)]
    assert (await chart_of(session, await read("城西镇 签约"))).rows == ()
    # an officer combines within their own unit
    mine = await read("签约 新材料", unit_id=east)
    assert [r.code for r in (await chart_of(session, mine, unit_id=east)).rows] == ["CD04"]
    with pytest.raises(Refused) as info:
        await read("城西镇 签约", unit_id=east)
    assert info.value.key == "err.chart_not_yours"

    # Two of a kind, or a code with anything else, is refused with both words.
    for typed, first, word in (
        ("签约 开工", "签约", "开工"),
        ("城东街道 城西镇", "城东街道", "城西镇"),
        ("CD01 签约", "CD01", "签约"),
        ("新能源 CD01", "新能源", "CD01"),
    ):
        with pytest.raises(Refused) as info:
            await read(typed)
        assert info.value.key == "err.chart_twice", typed
        assert (info.value.params["first"], info.value.params["word"]) == (first, word)
    # The word that names nothing is the one the refusal repeats.
    with pytest.raises(Refused) as info:
        await read("城东街道 火星 签约")
    assert info.value.key == "err.chart_filter" and info.value.params["word"] == "火星"


async def test_refusals_offer_what_the_store_has(session: AsyncSession, city: City) -> None:
    """Units that own no project (leadership, the center, an empty township) are not
    offered; the example code and the combined example are real ones."""
    with pytest.raises(Refused) as info:
        await read_filter(session, "火星", unit_id=None, industries=INDUSTRIES)
    choices = info.value.params["choices"]
    assert choices == FilterChoices(
        units=("城东街道", "城西镇", "自然资源局"),
        industries=INDUSTRIES,
        code="CD01",
        # two signed projects each in 城东街道 and 自然资源局: the first unit made
        combined=("城东街道", Stage.SIGNED),
    )
    west = city.ids["west"]
    with pytest.raises(Refused) as info:
        await read_filter(session, "火星", unit_id=west, industries=INDUSTRIES)
    assert info.value.params["choices"] == FilterChoices(
        ("城西镇",), INDUSTRIES, "XC01", ("城西镇", Stage.NEGOTIATING)
    )
    # a unit with no projects: nothing to offer but the words
    with pytest.raises(Refused) as info:
        await read_filter(session, "火星", unit_id=city.ids["empty"], industries=())
    assert info.value.params["choices"] == FilterChoices((), (), None, None)


async def test_narrowers_cut_the_rows_and_never_repeat_the_filter(
    session: AsyncSession, city: City
) -> None:
    def offered(chart: WallChart) -> list[tuple[str | None, Stage | None, str | None, int]]:
        return [(n.flt.unit, n.flt.stage, n.flt.industry, n.count) for n in narrowers(chart)]

    # The city: three units, then the stages, then the industries, most rows first.
    assert offered(await chart_of(session)) == [
        ("城东街道", None, None, 4),
        ("城西镇", None, None, 4),
        ("自然资源局", None, None, 2),
        (None, Stage.SIGNED, None, 4),
        (None, Stage.NEGOTIATING, None, 2),
        (None, Stage.STARTED, None, 2),
        (None, None, "新材料", 4),  # equals by name
        (None, None, "新能源", 4),
        (None, None, "生物医药", 2),
    ]
    # One unit: its stages and industries with the unit kept, never the unit alone.
    east = ChartFilter(unit="城东街道", unit_id=city.ids["east"])
    assert offered(await chart_of(session, east)) == [
        ("城东街道", Stage.SIGNED, None, 2),
        ("城东街道", Stage.NEGOTIATING, None, 1),
        ("城东街道", Stage.STARTED, None, 1),
        ("城东街道", None, "新材料", 2),
        ("城东街道", None, "新能源", 2),
    ]
    # 城东 signed: both industries split it; the stage is not offered again.
    assert offered(await chart_of(session, replace(east, stage=Stage.SIGNED))) == [
        ("城东街道", Stage.SIGNED, "新材料", 1),
        ("城东街道", Stage.SIGNED, "新能源", 1),
    ]
    # Nothing splits 自然资源局's new-energy projects (one), and a code is one project.
    land = ChartFilter(unit="自然资源局", unit_id=city.ids["land"], industry="新能源")
    assert offered(await chart_of(session, land)) == []
    assert (
        offered(await chart_of(session, ChartFilter(code="CD01", project_id=city.ids["CD01"])))
        == []
    )

    # Past the limit, those that bring it under come first (most rows first), then the
    # ones that only cut it (fewest first): never a filter that keeps every row.
    start, end = default_window(TODAY)
    rows = tuple(
        ChartRow(i, f"B{i:03d}", "批量", "大镇" if i < 260 else "小镇", Stage.SIGNED if i < 200
                 else Stage.STARTED, "新能源", G, (), (), "", unit_id=1 if i < 260 else 2)
        for i in range(300)
    )  # fmt: skip
    big = WallChart(TODAY, start, end, ALL, GroupBy.UNIT, (), rows)
    assert big.too_many
    assert offered(big) == [
        ("小镇", None, None, 40),
        ("大镇", None, None, 260),
        (None, Stage.SIGNED, None, 200),
        (None, Stage.STARTED, None, 100),
    ]
    town = replace(big, flt=ChartFilter(unit="大镇", unit_id=1), rows=rows[:260])
    assert offered(town) == [("大镇", Stage.SIGNED, None, 200), ("大镇", Stage.STARTED, None, 60)]


async def add_green(s: AsyncSession, unit_id: int, n: int, prefix: str = "G") -> None:
    """N projects with nothing due: green rows."""
    s.add_all(
        Project(code=f"{prefix}{i:03d}", name="绿灯项目", industry="新能源", unit_id=unit_id)
        for i in range(n)
    )
    await s.flush()


async def test_the_meeting_chart_draws_every_red_and_yellow_and_says_what_it_leaves_out(
    session: AsyncSession, city: City
) -> None:
    """More projects than ten pictures hold: every red and yellow row is drawn, the
    green ones are left out and counted, and the counts stay the whole city's."""
    await add_green(session, city.ids["empty"], 290)  # 300 on the wall: 4 red, 3 yellow
    whole = await chart_of(session)
    assert len(whole.rows) == 300 and whole.too_many
    cut = fit_rows(whole)
    assert layout(cut) == [
        ("城东街道", "CD01", R),
        ("城东街道", "CD04", R),
        ("城东街道", "CD02", Y),
        ("城西镇", "XC01", R),
        ("城西镇", "XC02", Y),
        ("自然资源局", "ZR01", R),
        ("自然资源局", "ZR02", Y),
    ]
    assert cut.groups == ("城东街道", "城西镇", "自然资源局")
    assert dict(cut.counts) == dict(whole.counts) == {R: 4, Y: 3, G: 293, Light.NONE: 0}
    assert dict(cut.left_out) == {G: 293}
    assert cut.example_unit == "空白乡"  # 290 of the 293 left out
    assert (cut.group_size("城东街道"), cut.group_size("城西镇")) == (4, 4)
    assert len(pages(cut)) == 1
    note = left_out_note("zh", cut)
    assert note is not None
    assert note.startswith("另有 293 个绿灯项目未画出") and "/chart 空白乡" in note
    assert "293 green projects are not drawn" in (left_out_note("en", cut) or "")
    assert left_out_note("zh", whole) is None

    # Even the red and yellow rows are too many: the worst first, and how many are out.
    worst = fit_rows(whole, limit=5)
    assert [r.code for r in worst.rows] == ["CD01", "CD04", "CD02", "XC01", "ZR01"]
    assert dict(worst.left_out) == {Y: 2, G: 293}
    note = left_out_note("zh", worst) or ""
    assert "先画最严重的" in note and "2 个黄灯、293 个绿灯项目未画出" in note
    # a chart within the limit is left as it is
    small = await chart_of(session, ChartFilter(unit="城东街道", unit_id=city.ids["east"]))
    assert fit_rows(small) is small


# --- the pictures -------------------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the PNG header (IHDR), after checking the signature."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def within_telegram_limits(data: bytes) -> tuple[int, int]:
    width, height = png_size(data)
    assert width + height <= 10_000
    assert max(width, height) / min(width, height) <= 20
    with Image.open(io.BytesIO(data)) as image:
        image.load()  # decodes every pixel
        assert image.size == (width, height)
    return width, height


@pytest.fixture
def strict_glyphs() -> Iterator[None]:
    """A missing glyph only warns in matplotlib: here it fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


LONG = "年产10GWh储能电池<b>&amp;</b> $x^2$ 项目" + "很长" * 150  # 300+ characters


def synthetic(n: int, *, name: str = "光伏组件智造基地") -> WallChart:
    """N rows drawn straight from data: milestones in every state, some past the edges."""
    start, end = default_window(TODAY)
    rows = []
    for i in range(n):
        ms = (
            ChartMilestone(1, "选址", "site", date(2026, 8, 1), date(2026, 8, 1), MilestoneState.DONE),
            ChartMilestone(2, "土地", "land", TODAY - timedelta(days=5), None, MilestoneState.OVERDUE),
            ChartMilestone(3, "开工", "groundbreaking", date(2027, 9, 1), None, MilestoneState.PLANNED),
            ChartMilestone(4, "环评", "eia", TODAY + timedelta(days=i), None, MilestoneState.PLANNED),
        )  # fmt: skip
        targets = (ChartTarget(Stage.STARTED, TODAY + timedelta(days=60), Light.GREEN),)
        unit = "城东街道" if i % 2 else "经济技术开发区管理委员会招商服务局" * 3
        rows.append(
            ChartRow(i, f"XM{i:04d}", name if i else LONG, unit, Stage.SIGNED, "新能源",
                     (R, Y, G)[i % 3], ms if i % 5 else (), targets, unit)
        )  # fmt: skip
    rows.sort(key=lambda r: r.group)
    groups = tuple(dict.fromkeys(r.group for r in rows))
    counts = {light: sum(r.light is light for r in rows) for light in (R, Y, G)}
    return WallChart(TODAY, start, end, ALL, GroupBy.UNIT, groups, tuple(rows), counts)


def test_wall_chart_pictures_decode_and_stay_within_limits(strict_glyphs: None) -> None:
    for lang in ("zh", "en"):
        pngs = wall_chart_pngs(lang, synthetic(26))
        assert len(pngs) == 2
        sizes = [within_telegram_limits(p) for p in pngs]
        assert all(w == 1280 for w, _ in sizes)
        assert sizes[0][1] > sizes[1][1]  # 25 rows against one
    # the tallest page: 25 rows, each under a group header of its own
    start, end = default_window(TODAY)
    rows = tuple(replace(r, group=f"U{i}") for i, r in enumerate(synthetic(25).rows))
    worst = WallChart(TODAY, start, end, ALL, GroupBy.UNIT, tuple(r.group for r in rows), rows)
    (png,) = wall_chart_pngs("zh", worst)
    within_telegram_limits(png)
    # an empty chart is one clean picture that says so
    empty = WallChart(TODAY, start, end, ALL, GroupBy.UNIT, (), ())
    (png,) = wall_chart_pngs("zh", empty)
    within_telegram_limits(png)


def test_long_names_with_html_stay_inside_their_column(strict_glyphs: None) -> None:
    chart = synthetic(3)
    fig = wall_chart_figure("zh", chart, chart.rows)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    width, height = fig.bbox.width, fig.bbox.height
    texts = [t for t in fig.findobj(Text) if t.get_text() and t.get_visible()]
    for text in texts:
        box = text.get_window_extent(renderer)
        assert box.x0 >= -1 and box.x1 <= width + 1, text.get_text()
        assert box.y0 >= -1 and box.y1 <= height + 1, text.get_text()
    label = next(t for t in texts if t.get_text().startswith("XM0000"))
    assert label.get_window_extent(renderer).x1 <= LABEL_W
    # drawn as typed (no HTML escapes, no mathtext), cut with an ellipsis
    assert "<b>&amp;</b> $x" in label.get_text() and label.get_text().endswith("…")
    # the second line of the label (the unit, in the smaller font) is cut too
    unit = next(
        t for t in texts if t.get_text().startswith("经济技术开发区") and t.get_fontsize() == 9
    )
    assert unit.get_window_extent(renderer).x1 <= LABEL_W and unit.get_text().endswith("…")


def test_chinese_renders_without_a_missing_glyph(strict_glyphs: None) -> None:
    from storage.wallchart import Funnel, StageFigures, Transition

    pngs = wall_chart_pngs("zh", synthetic(4))
    assert all(png_size(p) for p in pngs)
    figures = tuple(
        StageFigures(s, n, Decimal(n * 1000), 1, n, 0)
        for s, n in zip(
            (Stage.NEGOTIATING, Stage.SIGNED, Stage.STARTED, Stage.OPERATING, Stage.PAUSED,
             Stage.DROPPED),
            (9, 5, 3, 1, 1, 0),
            strict=True,
        )
    )  # fmt: skip
    transitions = (
        Transition(Stage.NEGOTIATING, Stage.SIGNED, 45.5, 4),
        Transition(Stage.SIGNED, Stage.STARTED, None, 0),
        Transition(Stage.STARTED, Stage.OPERATING, 120.0, 1),
    )
    for lang in ("zh", "en"):
        within_telegram_limits(funnel_png(lang, Funnel(TODAY, figures, transitions, "城东街道")))
    bars = [
        Bar("城东街道（3个项目）", 87.5, "▲2"),
        Bar("城西镇", 92.0, "▼1"),
        Bar("自然资源局", 0, "—"),
    ]
    within_telegram_limits(rank_png("zh", "单位排名 · 2026年11月", bars))


def test_the_glyph_check_fails_with_a_font_without_chinese(
    monkeypatch: pytest.MonkeyPatch, strict_glyphs: None
) -> None:
    monkeypatch.setattr(
        charts, "font", lambda size: FontProperties(family="DejaVu Sans", size=size)
    )
    with pytest.raises(UserWarning, match="missing from font"):
        wall_chart_pngs("zh", synthetic(2))


def test_rank_bars_best_on_top_and_long_lists_within_limits(strict_glyphs: None) -> None:
    from matplotlib.colors import to_hex
    from matplotlib.patches import Rectangle

    drawn: list[Any] = []
    real = charts.Canvas.png

    def keep(canvas: charts.Canvas) -> bytes:
        drawn.append(canvas.fig)
        return real(canvas)

    bars = [
        Bar("乙", 40.0, "▼1"),
        Bar("甲", 90.0, "▲1"),
        Bar("丙", 40.0, "—"),
        Bar("丁", 75.0, "—"),
    ]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(charts.Canvas, "png", keep)
        rank_png("zh", "排名", bars)
    labels = [
        t.get_text() for t in drawn[0].findobj(Text) if t.get_text() in {"甲", "乙", "丙", "丁"}
    ]
    assert labels == ["甲", "丁", "乙", "丙"]  # by value; equal values keep their order
    bar_colours = {charts.PLANNED, "#174ea6"}
    widths = [
        p.get_width()
        for p in drawn[0].findobj(Rectangle)
        if to_hex(p.get_facecolor()) in bar_colours
    ]
    assert len(widths) == 4
    assert widths == sorted(widths, reverse=True)
    many = rank_png("en", "Ranking", [Bar(f"unit {i}", 100 - i / 5, "—") for i in range(400)])
    within_telegram_limits(many)


async def test_rows_say_what_colours_them(session: AsyncSession, city: City) -> None:
    """A row coloured by a problem, an instruction or an urged milestone carries a mark
    for it; every red or yellow row shows something of that colour."""
    chart = await chart_of(session)
    marks = {r.code: r.marks for r in chart.rows if r.marks}
    assert marks == {
        "XC01": (RowMark(MarkKind.PROBLEM, 1, R),),  # level 3
        "XC02": (RowMark(MarkKind.PROBLEM, 1, Y),),  # level 1: the row's only reason
        "ZR01": (RowMark(MarkKind.INSTRUCTION, 1, R),),  # past its deadline
        "ZR02": (RowMark(MarkKind.INSTRUCTION, 1, Y),),  # due in 4 days
    }
    # A milestone urged before its date (CD03's second, due in March) turns the row
    # yellow: marked so. Two more open problems at level 0 are counted, weighing nothing.
    await session.execute(
        update(Milestone)
        .where(Milestone.project_id == city.ids["CD03"], Milestone.seq == 2)
        .values(escalation_level=2)
    )
    for _ in range(2):
        session.add(
            Problem(project_id=city.ids["XC02"], raiser_id=city.ids["officer"], text="又一个",
                    category=ProblemCategory.OTHER, unit_id=city.ids["west"],
                    status=ProblemStatus.ANSWERED)
        )  # fmt: skip
    await session.flush()
    chart = await chart_of(session)
    rows = {r.code: r for r in chart.rows}
    assert rows["CD03"].light is Y and rows["CD03"].marks == (RowMark(MarkKind.URGED, 1, Y),)
    assert rows["XC02"].marks == (RowMark(MarkKind.PROBLEM, 3, Y),)

    def shown(row: ChartRow) -> set[Light]:
        seen = {m.light for m in row.marks}
        seen |= {t.light for t in row.targets}
        for m in row.milestones:
            if m.state is MilestoneState.OVERDUE:
                seen.add(R)
            elif m.state is MilestoneState.PLANNED and m.planned is not None:
                seen.add(Y if m.planned <= TODAY + timedelta(days=SOON) else G)
        return seen

    for row in chart.rows:
        if row.light in (R, Y):
            assert row.light in shown(row), row.code


def test_number_labels_never_cover_each_other() -> None:
    def w(text: str) -> float:
        return 6.0 * len(text)

    def place(items: list[tuple[float, int]], **kw: Any) -> list[tuple[float, int, str]]:
        found = number_labels(items, w, join="、", lo=400, hi=1240, **kw)
        for lane in (0, 1):
            spans = sorted(label.span for label in found if label.lane == lane)
            assert all(a[1] <= b[0] for a, b in pairwise(spans))
        return [(label.x, label.lane, label.text) for label in found]

    # one day, and a day so close its marker overlaps: one label, numbers apart
    assert place([(500, 3), (500, 2), (500, 4), (505, 5)]) == [(502.5, 0, "2、3、4、5")]
    # neighbours that would touch: the second goes below the line, the third above
    assert place([(600, 10), (611, 11), (622, 12), (633, 13)]) == [
        (600, 0, "10"),
        (611, 1, "11"),
        (622, 0, "12"),
        (633, 1, "13"),
    ]
    # below the line is a target's letter: the crowd shares one label above
    assert place([(600, 10), (611, 11)], blocked=[(605, 620)]) == [(609, 0, "10、11")]
    # kept inside the picture at its edges
    assert place([(1240, 9), (380, 1)]) == [(403, 0, "1"), (1237, 0, "9")]


def text_items(fig: Any) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_text() and t.get_visible()]


def test_numbers_stay_legible_on_target_bars(strict_glyphs: None) -> None:
    """Milestones due on one day share a label with the numbers apart; a number over a
    target bar sits on a ground of the row's colour, above the bar."""
    from matplotlib.collections import LineCollection
    from matplotlib.colors import to_hex
    from matplotlib.patches import Rectangle

    start, end = default_window(TODAY)
    day = TODAY + timedelta(days=20)
    ms = tuple(
        ChartMilestone(n, "节点", "other", d, None, MilestoneState.PLANNED)
        for n, d in ((2, day), (3, day), (4, day), (5, day + timedelta(days=2)),
                     (6, day + timedelta(days=30)), (7, day + timedelta(days=34)))
    )  # fmt: skip
    targets = (ChartTarget(Stage.STARTED, day, Light.GREEN),)
    row = ChartRow(
        1, "XM01", "光伏", "城东街道", Stage.SIGNED, "新能源", G, ms, targets, "城东街道"
    )
    chart = WallChart(TODAY, start, end, ALL, GroupBy.UNIT, ("城东街道",), (row,), {G: 1})
    fig = wall_chart_figure("zh", chart, chart.rows)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    numbers = [
        t
        for t in text_items(fig)
        if t.get_text()[0].isdigit()
        and t.get_fontsize() == 8
        and t.get_window_extent(renderer).y0 > charts.BOTTOM  # not the legend's sample
    ]
    assert sorted(t.get_text() for t in numbers) == ["2、3、4、5", "6", "7"]
    boxes = [t.get_window_extent(renderer) for t in numbers]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b)
    bar_z = max(c.get_zorder() for c in fig.findobj(LineCollection) if c.get_linewidth()[0] == 2.6)
    grounds = [
        p.get_window_extent(renderer)
        for p in fig.findobj(Rectangle)
        if to_hex(p.get_facecolor()) == charts.BANDS[G] and p.get_zorder() > bar_z
    ]
    for text, box in zip(numbers, boxes, strict=True):
        assert text.get_zorder() > bar_z
        assert any(g.x0 <= box.x0 and g.x1 >= box.x1 for g in grounds), text.get_text()


def test_a_long_name_shortens_in_the_title_but_the_filter_and_date_stay(
    strict_glyphs: None,
) -> None:
    start, end = default_window(TODAY)
    name = "经济技术开发区管理委员会" * 9  # 99 characters
    for lang, stage, day in (
        ("zh", "阶段：签约", "2026-12-03（周四）"),
        ("en", "stage: signed", "2026-12-03 (Thu)"),
    ):
        flt = ChartFilter(unit=name, unit_id=1, stage=Stage.SIGNED)
        chart = WallChart(TODAY, start, end, flt, GroupBy.STAGE, (), ())
        fig = wall_chart_figure(lang, chart, (), page=2, of=3)
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        (title,) = [t for t in text_items(fig) if t.get_fontsize() == 16]
        text = title.get_text()
        assert name[:10] in text and name not in text and "…" in text
        assert f"{stage} · {day}" in text and text.endswith(("（2/3）", " (2/3)"))
        assert title.get_window_extent(renderer).x1 <= fig.bbox.width - 16


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_legend_explains_every_sign(lang: str, strict_glyphs: None) -> None:
    from matplotlib.lines import Line2D

    fig = wall_chart_figure(lang, synthetic(3), synthetic(3).rows)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    height = fig.bbox.height
    legend = [t for t in text_items(fig) if t.get_window_extent(renderer).y1 < charts.BOTTOM]
    words = " ".join(t.get_text() for t in legend)
    expected = {
        "zh": ("节点在时间轴外", "未到", "7 天内到期", "已过未达成", "已达成", "未解决问题",
               "未办结批示", "已催办的节点", "序号", "行底色"),
        "en": ("before/after the time shown", "ahead", "due within 7 days", "passed, not reached",
               "reached", "open problems", "open instructions", "milestones urged", "No.",
               "Row colour"),
    }[lang]  # fmt: skip
    for word in expected:
        assert word in words, word
    for t in legend:
        box = t.get_window_extent(renderer)
        assert box.x1 <= fig.bbox.width and box.y0 >= 0, t.get_text()
    # samples of the edge triangles and of the four colours of a target bar
    edges = {
        line.get_marker()
        for line in fig.findobj(Line2D)
        if line.get_marker() in ("<", ">") and line.get_window_extent(renderer).y1 < charts.BOTTOM
    }
    assert edges == {"<", ">"}
    assert height > 0


def test_row_marks_are_drawn_in_their_colour(strict_glyphs: None) -> None:
    from matplotlib.colors import to_hex

    start, end = default_window(TODAY)
    marks = (RowMark(MarkKind.PROBLEM, 2, R), RowMark(MarkKind.INSTRUCTION, 1, Y))
    row = ChartRow(1, "XM01", "光伏", "城东街道", Stage.SIGNED, "新能源", R, (), (), "城东街道",
                   marks)  # fmt: skip
    chart = WallChart(TODAY, start, end, ALL, GroupBy.UNIT, ("城东街道",), (row,), {R: 1})
    for lang, signs in (("zh", ("⚠2", "批1")), ("en", ("⚠2", "★1"))):
        fig = wall_chart_figure(lang, chart, chart.rows)
        drawn = {t.get_text(): to_hex(t.get_color()) for t in text_items(fig)}
        assert drawn[signs[0]] == charts.COLOURS[R]
        assert drawn[signs[1]] == charts.AMBER


# --- through the bot --------------------------------------------------------------------


def photos(h: Harness, chat_id: int) -> list[dict[str, Any]]:
    return [m for m in h.api.media if m["chat_id"] == chat_id and m["kind"] == "photo"]


async def add_projects(h: Harness, n: int, unit: str = "west") -> None:
    async with h.sessions() as s:
        set_actor(s, None)
        s.add_all(
            Project(code=f"BULK{i:03d}", name=f"批量项目{i}", industry="新材料",
                    unit_id=h.ids[unit])
            for i in range(n)
        )  # fmt: skip
        await s.commit()


async def test_chart_is_a_photo_with_the_counts(h: Harness) -> None:
    assert await h.send(COORD, "/chart") == []  # no text: the picture says it
    (sent,) = photos(h, COORD)
    within_telegram_limits(sent["data"])
    # XNY01 has an overdue milestone; SW02 nothing due.
    assert "全市" in sent["caption"] and "2026-12-03（周四）" in sent["caption"]
    assert "🔴 1　🟡 0　🟢 1" in sent["caption"]
    calls = [m for m, _ in h.api.calls if m.startswith("send")]
    assert calls == ["sendPhoto"]

    await h.send(COORD, "/chart 城东")
    caption = photos(h, COORD)[-1]["caption"]
    assert "城东街道" in caption and "🔴 1　🟡 0　🟢 0" in caption
    await h.send(LEADER, "/chart 洽谈")
    caption = photos(h, LEADER)[-1]["caption"]
    assert "阶段：洽谈" in caption and "🟢 1" in caption

    # An officer gets their unit's chart, and may not look at another's.
    await h.send(OFFICER, "/chart")
    caption = photos(h, OFFICER)[-1]["caption"]
    assert "城东街道" in caption and "🔴 1　🟡 0　🟢 0" in caption
    (refused,) = await h.send(OFFICER, "/chart 城西镇")
    assert "只能查看本单位" in refused
    # Another unit's code: not among the officer's unit's projects, with their own as the
    # example, and nothing said of whose it is (the same answer as for no project at all).
    (foreign,) = await h.send(OFFICER, "/chart SW02")
    assert foreign == (
        "本单位的项目中没有“SW02”。您只能查看本单位（城东街道）的项目："
        "如 <code>/chart XNY01</code>，或发送 /chart 查看本单位的全部项目。"
    )
    (nowhere,) = await h.send(OFFICER, "/chart ZZ99")
    assert nowhere == foreign.replace("SW02", "ZZ99")


async def test_the_card_wears_the_light_of_its_chart_row(h: Harness) -> None:
    """XNY01 is red on the chart (an overdue milestone), SW02 green: so are their cards."""
    (red,) = await h.send(COORD, "/project XNY01")
    assert red.startswith("🔴 <b>XNY01")
    (green,) = await h.send(COORD, "/project SW02")
    assert green.startswith("🟢 <b>SW02")


async def test_chart_bad_input_gets_clear_answers(h: Harness) -> None:
    (unknown,) = await h.send(COORD, "/chart 火星<b>")
    assert "没有找到“火星&lt;b&gt;”" in unknown
    assert "“城东街道”" in unknown and "签约" in unknown and "“新能源”" in unknown
    (ambiguous,) = await h.send(COORD, "/chart 城")
    assert "多个单位" in ambiguous and "“城东街道”或“城西镇”" in ambiguous
    (nothing,) = await h.send(COORD, "/chart 自然资源局")
    assert nothing == "自然资源局：没有项目。"
    (none_in_stage,) = await h.send(COORD, "/chart 投产")
    assert "阶段：投产：没有项目" in none_in_stage
    assert photos(h, COORD) == []
    (long_word,) = await h.send(COORD, "/chart " + "火" * 300)
    assert "“" + "火" * 39 + "…”" in long_word and "火" * 41 not in long_word
    # a name with HTML at the longest the store keeps: a clean picture
    async with h.sessions() as s:
        set_actor(s, None)
        s.add(
            Project(
                code="HTML1",
                name="<b>&amp;" + "很长" * 96,
                industry="新能源",
                unit_id=h.ids["land"],
            )
        )
        await s.commit()
    assert await h.send(COORD, "/chart 自然资源局") == []
    (picture,) = photos(h, COORD)
    within_telegram_limits(picture["data"])
    assert "自然资源局" in picture["caption"] and "🟢 1" in picture["caption"]
    await h.send(COORD, "/lang en")
    (english,) = await h.send(COORD, "/chart mars")
    assert "Nothing found for “mars”" in english and "negotiating" in english


async def test_chart_of_26_projects_is_an_album_and_251_asks_for_a_filter(h: Harness) -> None:
    await add_projects(h, 24)  # 26 with the sample city's two
    await h.send(COORD, "/chart")
    assert [m for m, _ in h.api.calls if m.startswith("send")] == ["sendMediaGroup"]
    album = photos(h, COORD)
    assert len(album) == 2
    assert "共 26 个项目，2 张图" in album[0]["caption"] and album[1]["caption"] is None
    for item in album:
        within_telegram_limits(item["data"])

    h.api.clear()
    async with h.sessions() as s:
        set_actor(s, None)
        s.add_all(
            Project(code=f"MORE{i:03d}", name="又一个", industry="新能源", unit_id=h.ids["east"])
            for i in range(225)
        )
        await s.commit()
    (answer,) = await h.send(COORD, "/chart")
    assert "共有 251 个项目符合" in answer and "250 个项目" in answer
    assert "<code>/chart 城东街道</code>" in answer and "<code>/chart 城西镇</code>" in answer
    assert h.api.media == []
    # a filter brings it under the limit: 25 rows are one picture
    await h.send(COORD, "/chart 城西镇")
    (west,) = photos(h, COORD)
    assert "🟢 25" in west["caption"] and "张图" not in west["caption"]


async def test_chart_is_drawn_off_the_event_loop(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.handlers.charts as handler

    threads: list[bool] = []
    real = handler.wall_chart_pngs

    def spy(lang: str, chart: WallChart) -> list[bytes]:
        threads.append(threading.current_thread() is threading.main_thread())
        return real(lang, chart)

    monkeypatch.setattr(handler, "wall_chart_pngs", spy)
    await h.send(COORD, "/chart")
    assert threads == [False]


async def test_board_is_a_picture_and_text(h: Harness) -> None:
    replies = await h.send(COORD, "/board")
    (sent,) = photos(h, COORD)
    within_telegram_limits(sent["data"])
    assert "项目漏斗" in sent["caption"] and "全市" in sent["caption"]
    assert [m for m, _ in h.api.calls if m.startswith("send")] == ["sendPhoto", "sendMessage"]
    (text,) = replies
    assert "洽谈：1 个 · 50,000 万元" in text
    assert "签约：1 个 · 120,000 万元 · 本月 +0 · 本年 +0 · 🔴 1" in text
    assert "合计 2 个项目 · 170,000 万元" in text
    assert "洽谈→签约：本年尚无" in text

    # An officer sees their unit's funnel.
    (mine,) = await h.send(OFFICER, "/board")
    assert "城东街道" in mine and "合计 1 个项目 · 120,000 万元" in mine
    await h.send(LEADER, "/lang en")
    (english,) = await h.send(LEADER, "/board")
    assert "signed: 1 · 120,000 (10k CNY)" in english


async def test_chart_filters_combine_through_the_bot(h: Harness) -> None:
    assert await h.send(COORD, "/chart 城东街道 签约") == []
    caption = photos(h, COORD)[-1]["caption"]
    assert "城东街道 · 阶段：签约 · 2026-12-03（周四）" in caption and "🔴 1　🟡 0　🟢 0" in caption
    assert await h.send(COORD, "/chart 城东街道，签约") == []
    assert photos(h, COORD)[-1]["caption"] == caption
    assert await h.send(COORD, "/chart 签约、新能源") == []
    assert "全市 · 阶段：签约 · 产业：新能源" in photos(h, COORD)[-1]["caption"]
    (nothing,) = await h.send(COORD, "/chart 城西镇 签约")
    assert nothing == "城西镇 · 阶段：签约：没有项目。"
    (twice,) = await h.send(COORD, "/chart 签约 开工")
    assert twice.startswith("“签约”和“开工”不能一起用")
    # an officer narrows their own unit's chart
    assert await h.send(OFFICER, "/chart 签约 新能源") == []
    assert "城东街道 · 阶段：签约 · 产业：新能源" in photos(h, OFFICER)[-1]["caption"]
    await h.send(COORD, "/lang en")
    assert await h.send(COORD, "/chart 城东街道 signed") == []
    assert "城东街道 · stage: signed" in photos(h, COORD)[-1]["caption"]


async def test_too_many_offers_filters_that_narrow_it(h: Harness) -> None:
    """城西镇 with 256 projects: the answer offers its stages and industries with their
    counts, never `/chart 城西镇` again; one of them is answered with a picture."""
    async with h.sessions() as s:
        set_actor(s, None)
        s.add_all(
            Project(code=f"W{i:03d}", name="西镇项目", unit_id=h.ids["west"],
                    stage=Stage.SIGNED if i < 235 else Stage.STARTED,
                    industry="新材料" if i < 235 else "新能源")
            for i in range(255)
        )  # fmt: skip
        await s.commit()
    (answer,) = await h.send(COORD, "/chart 城西镇")
    assert answer.startswith("共有 256 个项目符合")
    offered = answer.split("\n")[1:]
    assert offered == [
        "<code>/chart 城西镇 签约</code>（235）",
        "<code>/chart 城西镇 开工</code>（20）",
        "<code>/chart 城西镇 洽谈</code>（1）",
        "<code>/chart 城西镇 新材料</code>（235）",
        "<code>/chart 城西镇 新能源</code>（20）",
        "<code>/chart 城西镇 生物医药</code>（1）",
    ]
    assert h.api.media == []
    # what is offered is read back as offered
    assert await h.send(COORD, "/chart 城西镇 开工") == []
    (west,) = photos(h, COORD)
    assert "城西镇 · 阶段：开工" in west["caption"] and "🟢 20" in west["caption"]
    # the whole city: the units first, with what each would keep
    (city,) = await h.send(COORD, "/chart")
    assert "<code>/chart 城东街道</code>（1）" in city.split("\n")[1:]
    assert "<code>/chart 城西镇</code>（256）" in city.split("\n")[1:]


def test_too_many_of_one_kind_offers_a_code() -> None:
    """Rows that no unit, stage or industry splits: a project's code to look at."""
    from bot.handlers.charts import too_many

    start, end = default_window(TODAY)
    rows = tuple(
        ChartRow(i, f"B{i:03d}", "批量", "大镇", Stage.SIGNED, "新能源", G, (), (), "signed",
                 unit_id=1)
        for i in range(260)
    )  # fmt: skip
    flt = ChartFilter(unit="大镇", unit_id=1, stage=Stage.SIGNED)
    chart = WallChart(TODAY, start, end, flt, GroupBy.STAGE, ("signed",), rows)
    text = too_many("zh", chart)
    assert "无法再细分" in text and "<code>/chart B000</code>" in text
    assert "/chart 大镇" not in text


async def test_refusals_give_real_examples(h: Harness) -> None:
    """The examples come from the store; units that own no project are not offered."""
    (unknown,) = await h.send(COORD, "/chart 火星")
    assert "单位：“城东街道”、“城西镇”\n" in unknown
    for absent in ("市领导", "招商服务中心", "自然资源局", "XNY01"):
        assert absent not in unknown
    # the first code in order, and a unit with a stage its projects are at
    assert "项目：编号，如 <code>/chart SW02</code>" in unknown
    assert "组合：如 <code>/chart 城东街道 签约</code>" in unknown
    # an officer is offered their own unit and code
    (mine,) = await h.send(OFFICER, "/chart 火星")
    assert "单位：“城东街道”\n" in mine and "<code>/chart XNY01</code>" in mine
    assert "城西镇" not in mine and "SW02" not in mine
    await h.send(COORD, "/lang en")
    (english,) = await h.send(COORD, "/chart mars")
    assert "project: its code, e.g. <code>/chart SW02</code>" in english
    assert "combined: e.g. <code>/chart 城东街道 signed</code>" in english


async def test_the_meeting_sends_every_red_and_yellow_row_and_names_the_rest(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The city's chart sent before the meeting, with 301 projects: one picture (the one
    red project), saying on it how many green ones are not drawn; the counts are the
    whole city's."""
    from bot.meeting import prepare

    async with h.sessions() as s:
        set_actor(s, None)
        await add_green(s, h.ids["west"], 299)
        await s.commit()
    drawn: list[tuple[WallChart, list[str]]] = []
    real = charts.wall_chart_figure

    def spy(lang: str, chart: WallChart, rows: Any, page: int = 1, of: int = 1) -> Any:
        fig = real(lang, chart, rows, page, of)
        drawn.append((chart, [t.get_text() for t in text_items(fig)]))
        return fig

    monkeypatch.setattr(charts, "wall_chart_figure", spy)
    monday = datetime(2026, 12, 7, 8, 30, tzinfo=h.config.city.tz)
    h.clock.now = monday
    async with h.sessions() as s:
        result = await prepare(s, h.config, h.app.bot_data["services"].calendar, monday)
        await s.commit()
    await h.drain()
    assert result.queued
    pictures = [m for m in photos(h, COORD)]
    assert len(pictures) == 1
    within_telegram_limits(pictures[0]["data"])
    # drawn once per language read (the coordinator's and the leader's: both zh)
    chart, texts = drawn[0]
    assert [r.code for r in chart.rows] == ["XNY01"]
    assert dict(chart.counts) == {R: 1, Y: 0, G: 300, Light.NONE: 0}
    assert "■ 绿 300（未画出 300）" in texts
    note = next(t for t in texts if t.startswith("⚠ 另有"))
    assert note.startswith("⚠ 另有 300 个绿灯项目未画出") and "/chart 城西镇" in " ".join(texts)


def test_the_bot_starts_without_matplotlib_and_draws_with_it() -> None:
    # matplotlib (with its fonts) is a third of the running bot's memory: it comes with
    # the first picture, in the thread that draws it, not with the bot.
    import subprocess
    import sys

    probe = (
        "import sys, bot.app, bot.cli, bot.serve\n"
        "assert 'matplotlib' not in sys.modules, 'imported at start'\n"
        "from bot import charts\n"
        "png = charts.rank_png('zh', '排名', [])\n"
        "assert png.startswith(b'\\x89PNG') and 'matplotlib' in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
