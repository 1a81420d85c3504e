"""The meeting's briefing: its data from a fixed store (SQLite and PostgreSQL), the workbook
read back cell by cell in both languages, `/report` in chat, and the meeting's own send on
frozen days (the configured Monday, a Monday off, twice, and who gets it).

The fixed store, on Thursday 3 December 2026 (the week: the seven days 27 November –
3 December; the month: 1–3 December, the calendar month as /rank's):

| project | unit | stage | 万元 | what makes its light |
|---|---|---|---|---|
| XNY01 光伏组件<智造>基地 | 城东街道 | signed | 120,000 | milestone 2 due 1 Dec, not done: red |
| SW02 生物医药产业园 | 城西镇 | negotiating | 50,000 | signing target 8 Dec, within 7 days: yellow |
| ZB03 =1+1 装备园 | 城东街道 | started (moved from signed on 1 Dec) | 30,000 | green |
| OP05 投产项目 | 城西镇 | operating | 8,000 | green |
| OLD04 已终止项目 | 城西镇 | dropped | 1,000 | (not in the progress sheet) |

Problems: #P1 on XNY01 for 自然资源局, open since 24 Nov, climbed to the leader on 2 Dec;
#P2 on SW02 for 城西镇, acknowledged, one reply; #P3 resolved (not shown). Instructions:
I1 on XNY01 (城东街道, due 2 Dec, acknowledged, not done: overdue), I2 on SW02 done on
2 Dec, I3 done in October (not shown), I4 on ZB03 (due 20 Dec, not acknowledged).
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from telegram.ext import CallbackContext

from bot.briefing import LEVEL_FILLS, LIGHT_FILLS, caption, file_name, render, workbook_bytes
from bot.config import Config, MeetingConfig, WorkConfig
from bot.handlers.report import parse_period
from bot.meeting import due, meeting_for, meeting_job, prepare, send_day
from bot.texts import CATALOG
from storage import briefing as store
from storage.briefing import Briefing, briefing, period_of
from storage.db import set_actor
from storage.errors import Refused
from storage.models import (
    Attachment,
    Extension,
    Instruction,
    Member,
    Milestone,
    Outbox,
    Problem,
    ProblemCategory,
    ProblemReply,
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
    FIGURES,
    LEFT_OUT_CITY,
    LEFT_OUT_WEIGHT,
    Figure,
    Group,
    RankGroup,
    Ranking,
    UnitScore,
    Weights,
    period_bounds,
    ranking,
)
from storage.ranking import Period as RankPeriod
from storage.rules import Light
from storage.workdays import WorkCalendar
from tests.harness import ADMIN, COORD, HEAD, LEADER, OFFICER, Harness, start_harness
from tests.stores import NewStore

TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 12, 3)  # a Thursday
CAL = WorkCalendar()
RED, YELLOW, GREEN = LIGHT_FILLS[Light.RED], LIGHT_FILLS[Light.YELLOW], LIGHT_FILLS[Light.GREEN]


def at(d: date, hour: int = 10, minute: int = 0) -> datetime:
    """A local time of the city as the aware UTC datetime the store keeps."""
    return datetime.combine(d, time(hour, minute), tzinfo=TZ).astimezone(UTC)


# --- the fixed store ----------------------------------------------------------------------


async def build(s: AsyncSession) -> dict[str, int]:
    """The store of the module's docstring; returns ids by name."""
    set_actor(s, None)
    lead = Unit(name="市领导", kind=UnitKind.LEADERSHIP)
    s.add(lead)
    await s.flush()
    center = Unit(name="招商服务中心", kind=UnitKind.CENTER, parent_id=lead.id)
    s.add(center)
    await s.flush()
    east = Unit(name="城东街道", kind=UnitKind.SUBDISTRICT, parent_id=center.id)
    west = Unit(name="城西镇", kind=UnitKind.TOWNSHIP, parent_id=center.id)
    land = Unit(name="自然资源局", kind=UnitKind.DEPARTMENT, parent_id=center.id)
    s.add_all([east, west, land])
    await s.flush()
    people = {
        "wang": Member(tg_user_id=OFFICER, name="王专员", unit_id=east.id, role=Role.OFFICER),
        "li": Member(tg_user_id=HEAD, name="李主任", unit_id=east.id, role=Role.HEAD),
        "zhao": Member(tg_user_id=201, name="赵专员", unit_id=west.id, role=Role.OFFICER),
        "chen": Member(tg_user_id=COORD, name="陈科长", unit_id=center.id, role=Role.COORDINATOR),
        "liu": Member(tg_user_id=LEADER, name="刘市长", unit_id=lead.id, role=Role.LEADER),
        "admin": Member(tg_user_id=ADMIN, name="管理员", unit_id=center.id, role=Role.ADMIN),
        "sun": Member(tg_user_id=601, name="孙科员", unit_id=land.id, role=Role.OFFICER),
    }
    s.add_all(people.values())
    created = at(date(2026, 9, 1))
    xny = Project(code="XNY01", name="光伏组件<智造>基地", industry="新能源",
                  investment=Decimal(120000), stage=Stage.SIGNED, unit_id=east.id,
                  created_at=created)  # fmt: skip
    sw = Project(code="SW02", name="生物医药产业园", industry="生物医药",
                 investment=Decimal(50000), stage=Stage.NEGOTIATING, unit_id=west.id,
                 target_signed=date(2026, 12, 8), created_at=created)  # fmt: skip
    zb = Project(code="ZB03", name="=1+1 装备园", industry="高端装备制造",
                 investment=Decimal(30000), stage=Stage.STARTED, unit_id=east.id,
                 created_at=created)  # fmt: skip
    old = Project(code="OLD04", name="已终止项目", industry="新材料", investment=Decimal(1000),
                  stage=Stage.DROPPED, unit_id=west.id, created_at=created)  # fmt: skip
    op = Project(code="OP05", name="投产项目", industry="新材料", investment=Decimal(8000),
                 stage=Stage.OPERATING, unit_id=west.id, created_at=created)  # fmt: skip
    s.add_all([xny, sw, zb, old, op])
    await s.flush()
    s.add_all(
        [
            Milestone(project_id=xny.id, seq=1, title="选址", kind="site",
                      planned_date=date(2026, 11, 20), done_date=date(2026, 11, 19)),
            Milestone(project_id=xny.id, seq=2, title="土地摘牌", kind="land",
                      planned_date=date(2026, 12, 1), owner_unit_id=land.id),
            Milestone(project_id=xny.id, seq=3, title="开工建设", kind="groundbreaking",
                      planned_date=date(2027, 3, 1)),
            Milestone(project_id=zb.id, seq=1, title="设备安装", kind="equipment",
                      planned_date=date(2027, 2, 1)),
            # Stage moves: in the week, and before it (in the month only).
            StageMove(project_id=zb.id, from_stage=Stage.SIGNED, to_stage=Stage.STARTED,
                      at=at(date(2026, 12, 1))),
            StageMove(project_id=xny.id, from_stage=Stage.NEGOTIATING, to_stage=Stage.SIGNED,
                      at=at(date(2026, 11, 20))),
        ]
    )  # fmt: skip
    await s.flush()
    p1 = Problem(project_id=xny.id, raiser_id=people["wang"].id, text="用地指标还没有落实",
                 category=ProblemCategory.LAND, unit_id=land.id,
                 reply_deadline=date(2026, 11, 27), status=ProblemStatus.OPEN,
                 escalation_level=3, escalated_at=at(date(2026, 12, 2), 9),
                 created_at=at(date(2026, 11, 24)))  # fmt: skip
    p2 = Problem(project_id=sw.id, raiser_id=people["chen"].id, text="环评批复等待省厅意见",
                 category=ProblemCategory.PERMITS, unit_id=west.id,
                 reply_deadline=date(2026, 12, 4), status=ProblemStatus.ACKNOWLEDGED,
                 created_at=at(date(2026, 12, 1), 9))  # fmt: skip
    p3 = Problem(project_id=sw.id, raiser_id=people["zhao"].id, text="已解决的问题",
                 category=ProblemCategory.OTHER, unit_id=west.id,
                 status=ProblemStatus.RESOLVED, created_at=at(date(2026, 11, 2)))  # fmt: skip
    s.add_all([p1, p2, p3])
    await s.flush()
    s.add(ProblemReply(problem_id=p2.id, author_id=people["zhao"].id, text="已对接省厅",
                       created_at=at(date(2026, 12, 2), 15)))  # fmt: skip
    liu = people["liu"].id
    i1 = Instruction(leader_id=liu, project_id=xny.id, text="月底前完成摘牌", unit_id=east.id,
                     deadline=date(2026, 12, 2), acknowledged_at=at(date(2026, 11, 30)),
                     escalation_level=1, created_at=at(date(2026, 11, 26)))  # fmt: skip
    i2 = Instruction(leader_id=liu, project_id=sw.id, text="加快签约", unit_id=west.id,
                     deadline=date(2026, 12, 10), done_at=at(date(2026, 12, 2)),
                     done_text="已完成摘牌", created_at=at(date(2026, 11, 27)))  # fmt: skip
    i3 = Instruction(leader_id=liu, project_id=sw.id, text="旧批示", unit_id=west.id,
                     deadline=date(2026, 10, 20), done_at=at(date(2026, 10, 10)),
                     created_at=at(date(2026, 10, 1)))  # fmt: skip
    i4 = Instruction(leader_id=liu, project_id=zb.id, text="确保按期投产", unit_id=east.id,
                     deadline=date(2026, 12, 20), created_at=at(date(2026, 12, 2)))  # fmt: skip
    s.add_all([i1, i2, i3, i4])
    s.add_all(
        [
            ProgressReport(project_id=xny.id, author_id=people["wang"].id, text="完成土地预审",
                           report_date=date(2026, 12, 2)),
            ProgressReport(project_id=xny.id, author_id=people["wang"].id, text="企业考察",
                           report_date=date(2026, 11, 28)),
            ProgressReport(project_id=xny.id, author_id=people["wang"].id, text="上月的进展",
                           report_date=date(2026, 11, 10)),
            # A "no change" check is no report.
            ProgressReport(project_id=xny.id, author_id=people["wang"].id, text="",
                           report_date=date(2026, 12, 3), kind="no_change"),
            ProgressReport(project_id=sw.id, author_id=people["zhao"].id, text="洽谈中",
                           report_date=date(2026, 11, 30)),
        ]
    )  # fmt: skip
    await s.flush()
    return {
        "p1": p1.id,
        "p2": p2.id,
        "i1": i1.id,
        "i2": i2.id,
        "i4": i4.id,
        **{k: m.id for k, m in people.items()},
    }


async def make(session: AsyncSession, period: str = "week") -> tuple[Briefing, dict[str, int]]:
    ids = await build(session)
    return await briefing(session, period, TODAY, TZ, CAL), ids


def read(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def rows(ws: Worksheet, first: int = 3) -> list[tuple[Any, ...]]:
    """The sheet's values from row FIRST on (the list sheets: after the title and header)."""
    return [tuple(r) for r in ws.iter_rows(min_row=first, values_only=True)]


def fill(ws: Worksheet, ref: str) -> str | None:
    cell = ws[ref]
    return str(cell.fill.fgColor.rgb)[-6:] if cell.fill.fill_type == "solid" else None


def day(value: Any) -> date:
    assert isinstance(value, datetime), value
    return value.date()


# --- the data -----------------------------------------------------------------------------


def test_periods() -> None:
    assert period_of("week", TODAY) == store.Period("week", date(2026, 11, 27), TODAY)
    # The calendar month up to the day, as /rank's month.
    assert period_of("month", TODAY) == store.Period("month", date(2026, 12, 1), TODAY)
    assert period_of("month", date(2027, 3, 31)).start == date(2027, 3, 1)
    assert period_of("month", date(2027, 1, 1)) == store.Period(
        "month", date(2027, 1, 1), date(2027, 1, 1)
    )
    for day in (TODAY, date(2027, 1, 1), date(2028, 2, 29)):
        assert (period_of("month", day).start, day) == period_bounds(RankPeriod.MONTH, day)
    with pytest.raises(Refused) as refused:
        period_of("year", TODAY)
    assert refused.value.key == "err.report_period"


async def test_summary_counts_by_stage_and_unit(session: AsyncSession) -> None:
    b, _ids = await make(session)
    # The dropped project is counted nowhere, only said apart: the same projects as the
    # progress sheet's.
    assert (b.projects, b.investment, b.dropped) == (4, Decimal(208000), 1)
    assert b.projects == len(b.progress)
    assert [(r.stage, r.projects, r.investment) for r in b.by_stage] == [
        (Stage.NEGOTIATING, 1, Decimal(50000)),
        (Stage.SIGNED, 1, Decimal(120000)),
        (Stage.STARTED, 1, Decimal(30000)),
        (Stage.OPERATING, 1, Decimal(8000)),
        (Stage.PAUSED, 0, Decimal(0)),
    ]
    # The unit with the most projects first, then by name.
    assert [(u.unit, u.projects, u.investment, u.red) for u in b.by_unit] == [
        ("城东街道", 2, Decimal(150000), 1),
        ("城西镇", 2, Decimal(58000), 0),
    ]
    assert not b.by_unit[1].by_stage.get(Stage.DROPPED)
    assert b.by_unit[0].by_stage[Stage.STARTED] == 1


async def test_what_moved_and_what_went_red_in_the_week(session: AsyncSession) -> None:
    b, ids = await make(session)
    # Entering the store at a stage is no move; XNY01 signed before the week.
    assert [(m.code, m.from_stage, m.to_stage, m.day) for m in b.moved] == [
        ("ZB03", Stage.SIGNED, Stage.STARTED, date(2026, 12, 1))
    ]
    assert [(r.kind, r.code, r.unit, r.day, r.seq, r.ref) for r in b.went_red] == [
        ("instruction", "XNY01", "城东街道", date(2026, 12, 2), None, ids["i1"]),
        ("milestone", "XNY01", "城东街道", date(2026, 12, 1), 2, None),
        # the unit whose turn it is: the answering one
        ("problem", "XNY01", "自然资源局", date(2026, 12, 2), None, ids["p1"]),
    ]


async def test_the_month_is_the_calendar_month_as_the_rankings(session: AsyncSession) -> None:
    b, _ids = await make(session, "month")
    assert (b.period.start, b.period.end) == (date(2026, 12, 1), TODAY)
    assert b.ranking is not None
    assert (b.ranking.period, b.ranking.start, b.ranking.end) == ("month", b.period.start, TODAY)
    # November's move (XNY01 signed on 20 November) and reports are last month's.
    assert [m.code for m in b.moved] == ["ZB03"]
    xny = next(p for p in b.progress if p.code == "XNY01")
    assert [r.text for r in xny.reports] == ["完成土地预审"]
    # The week reaches back into November.
    week = await briefing(session, "week", TODAY, TZ, CAL)
    xny = next(p for p in week.progress if p.code == "XNY01")
    assert [r.text for r in xny.reports] == ["完成土地预审", "企业考察"]


async def test_progress_rows_lights_reports_and_next_milestones(session: AsyncSession) -> None:
    b, _ids = await make(session)
    # By unit, red first; the dropped project is left out.
    assert [(p.unit, p.code, p.light) for p in b.progress] == [
        ("城东街道", "XNY01", Light.RED),
        ("城东街道", "ZB03", Light.GREEN),
        ("城西镇", "SW02", Light.YELLOW),
        ("城西镇", "OP05", Light.GREEN),
    ]
    xny = b.progress[0]
    assert [(r.day, r.author, r.text) for r in xny.reports] == [
        (date(2026, 12, 2), "王专员", "完成土地预审"),
        (date(2026, 11, 28), "王专员", "企业考察"),
    ]
    assert [(m.seq, m.planned, m.light) for m in xny.next_milestones] == [
        (2, date(2026, 12, 1), Light.RED),
        (3, date(2027, 3, 1), Light.GREEN),
    ]
    assert xny.open_problems == 1
    assert b.lights()[Light.RED] == 1 and b.lights()[Light.GREEN] == 2


async def test_open_problems_with_unit_wait_level_and_replies(session: AsyncSession) -> None:
    b, ids = await make(session)
    # The highest level first; resolved ones are left out.
    assert [(p.id, p.unit, p.status, p.waited, p.level) for p in b.problems] == [
        (ids["p1"], "自然资源局", ProblemStatus.OPEN, 7, 3),
        (ids["p2"], "城西镇", ProblemStatus.ACKNOWLEDGED, 2, 0),
    ]
    assert b.problems[0].raiser == "王专员" and b.problems[0].deadline == date(2026, 11, 27)
    assert [(r.day, r.unit, r.author, r.text) for r in b.problems[1].replies] == [
        (date(2026, 12, 2), "城西镇", "赵专员", "已对接省厅")
    ]


async def test_instructions_open_and_done_in_the_period(session: AsyncSession) -> None:
    b, ids = await make(session)
    found = [(i.id, i.unit, i.state, i.deadline, i.level) for i in b.instructions]
    assert found == [
        (ids["i1"], "城东街道", "overdue", date(2026, 12, 2), 1),
        (ids["i4"], "城东街道", "open", date(2026, 12, 20), 0),
        (ids["i2"], "城西镇", "done", date(2026, 12, 10), 0),
    ]
    i1, i4, i2 = b.instructions
    # The unit's latest report on the project; none for ZB03.
    assert i1.last_report is not None and i1.last_report.text == "完成土地预审"
    assert i4.last_report is None
    assert i2.done == date(2026, 12, 2) and i2.done_text == "已完成摘牌"
    assert i2.last_report is not None and i2.last_report.author == "赵专员"


async def test_a_failing_ranking_leaves_the_rest(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(session: AsyncSession, *args: Any, **kw: Any) -> Any:
        await session.execute(select(func.nosuchfunction()))
        raise AssertionError("unreachable")

    monkeypatch.setattr(store, "ranking", broken)
    b, _ids = await make(session)
    assert b.ranking is None
    # The session is still usable after the failed query (a savepoint took it).
    assert len(b.instructions) == 3
    assert await session.scalar(select(func.count()).select_from(Project)) == 5
    summary = read(workbook_bytes("zh", b, "示范市"))["摘要"]
    assert "排名暂时无法生成。" in [r[0] for r in rows(summary, 1)]


async def test_an_empty_store_makes_an_empty_briefing(session: AsyncSession) -> None:
    b = await briefing(session, "week", TODAY, TZ, CAL)
    assert b.projects == 0 and b.progress == () and b.problems == ()
    wb = read(workbook_bytes("en", b, "Demo City"))
    assert rows(wb["Progress"]) == [("(none)",) + (None,) * 10]


# --- the workbook -------------------------------------------------------------------------


def trimmed(ws: Worksheet, first: int = 1) -> list[tuple[Any, ...]]:
    """The sheet's rows from FIRST on without their trailing empty cells: a summary's
    sections are of different widths."""
    found = []
    for r in ws.iter_rows(min_row=first, values_only=True):
        cells = list(r)
        while cells and cells[-1] is None:
            cells.pop()
        found.append(tuple(cells))
    return found


def section(table: list[tuple[Any, ...]], title: str) -> list[tuple[Any, ...]]:
    """The rows of a summary section after its title line (header first), up to the blank."""
    at = next(i for i, r in enumerate(table) if r and str(r[0]).startswith(title))
    rows_ = []
    for r in table[at + 1 :]:
        if not r:
            break
        rows_.append(r)
    return rows_


async def test_workbook_in_chinese(session: AsyncSession) -> None:
    b, ids = await make(session)
    wb = read(workbook_bytes("zh", b, "示范市"))
    assert wb.sheetnames == ["摘要", "进展", "问题", "批示"]
    title = "示范市招商例会简报 · 本周（2026-11-27 至 2026-12-03）"

    summary = wb["摘要"]
    table = trimmed(summary)
    assert table[0] == (title,)
    assert table[1] == ("项目 4 个，计划投资 208,000 万元（不含已终止项目）；截至 2026-12-03",)
    # What each count counts, with the numbers the caption gives.
    assert section(table, "统计口径") == [
        ("事项", "数量", "统计口径"),
        ("项目", 4, "在推项目，不含已终止的 1 个；“进展”表逐个列出，"
                   "其中红灯 1 个、黄灯 1 个、绿灯 2 个"),
        ("计划投资（万元）", 208000, "上述项目的计划投资合计"),
        ("未结问题", 2, "待责任单位答复、或已答复待提出人确认的问题，见“问题”表"),
        ("批示", 3, "未办结的 2 条，加本期办结的 1 条，见“批示”表"),
    ]  # fmt: skip
    assert section(table, "按阶段") == [
        ("阶段", "项目数", "计划投资（万元）"),
        ("洽谈", 1, 50000),
        ("签约", 1, 120000),
        ("开工", 1, 30000),
        ("投产", 1, 8000),
        ("暂停", 0, 0),
        ("合计", 4, 208000),
    ]
    units = section(table, "按责任单位")
    assert units == [
        ("责任单位", "洽谈", "签约", "开工", "投产", "暂停", "合计", "计划投资（万元）",
         "红灯项目"),
        ("城东街道", 0, 1, 1, 0, 0, 2, 150000, 1),
        ("城西镇", 1, 0, 0, 1, 0, 2, 58000, 0),
    ]  # fmt: skip
    # The red count of a unit with red projects is filled red.
    at = table.index(units[1]) + 1
    assert fill(summary, f"I{at}") == RED and fill(summary, f"I{at + 1}") is None
    moved = section(table, "本期阶段变化（1）")
    assert moved[1][:5] == ("ZB03", "=1+1 装备园", "城东街道", "签约", "开工")
    assert day(moved[1][5]) == date(2026, 12, 1)
    red = section(table, "本期转红（3）")
    assert red[0] == ("项目编号", "项目名称", "责任单位", "类别", "事项", "日期")
    assert [r[:5] for r in red[1:]] == [
        ("XNY01", "光伏组件<智造>基地", "城东街道", "批示逾期", f"#{ids['i1']} 月底前完成摘牌"),
        ("XNY01", "光伏组件<智造>基地", "城东街道", "节点逾期", "2. 土地摘牌"),
        ("XNY01", "光伏组件<智造>基地", "自然资源局", "问题升至市领导",
         f"#{ids['p1']} 用地指标还没有落实"),
    ]  # fmt: skip
    # The ranking titled with its own dates: the calendar month, as /rank's.
    ranking = section(table, "单位排名 · 本月（2026-12-01 至 2026-12-03）")
    assert ranking[0] == ("🏘 乡镇、街道（比成果、比作风）",)
    assert ranking[1][:5] == ("名次", "责任单位", "得分", "上期名次", "变化")

    progress = wb["进展"]
    assert rows(progress, 1)[0][0] == title
    assert rows(progress, 2)[0] == (
        "责任单位", "项目编号", "项目名称", "产业", "阶段", "计划投资（万元）", "状态",
        "本期进展", "下一步节点", "未结问题", "最近报送",
    )  # fmt: skip
    body = rows(progress)
    assert [(r[0], r[1], r[4], r[6]) for r in body] == [
        ("城东街道", "XNY01", "签约", "红"),
        ("城东街道", "ZB03", "开工", "绿"),
        ("城西镇", "SW02", "洽谈", "黄"),
        ("城西镇", "OP05", "投产", "绿"),
    ]
    # A name that looks like a formula stays text.
    assert body[1][2] == "=1+1 装备园" and progress["C4"].data_type == "s"
    assert (
        body[0][7]
        == "2026-12-02 王专员（城东街道）：完成土地预审\n2026-11-28 王专员（城东街道）：企业考察"
    )
    assert body[0][8] == "2. 土地摘牌 2026-12-01\n3. 开工建设 2027-03-01"
    assert body[0][9] == 1 and body[2][7] == "2026-11-30 赵专员（城西镇）：洽谈中"
    assert [fill(progress, f"G{n}") for n in range(3, 7)] == [RED, GREEN, YELLOW, GREEN]
    assert progress["G3"].font.b is False and progress["A2"].font.b is True

    problems = wb["问题"]
    assert rows(problems, 2)[0] == (
        "问题号", "项目编号", "项目名称", "问题", "类别", "提出人", "答复单位", "状态",
        "提出日期", "答复期限", "已等待（工作日）", "督办级别", "答复记录",
    )  # fmt: skip
    first, second = rows(problems)
    assert first[:8] == (ids["p1"], "XNY01", "光伏组件<智造>基地", "用地指标还没有落实",
                         "土地", "王专员", "自然资源局", "待受理")  # fmt: skip
    assert day(first[8]) == date(2026, 11, 24) and day(first[9]) == date(2026, 11, 27)
    assert first[10:] == (7, "红（市领导）", "—")
    assert second[6:8] == ("城西镇", "已受理") and second[10:12] == (2, "—")
    assert second[12] == "2026-12-02 城西镇 赵专员：已对接省厅"
    assert fill(problems, "L3") == RED and fill(problems, "L4") is None
    assert problems["I3"].number_format == "yyyy-mm-dd"

    instructions = wb["批示"]
    assert rows(instructions, 2)[0][:10] == (
        "批示号", "项目编号", "项目名称", "批示领导", "批示内容", "承办单位", "批示日期",
        "完成期限", "办理状态", "督办级别",
    )  # fmt: skip
    i1, i4, i2 = rows(instructions)
    assert i1[:6] == (ids["i1"], "XNY01", "光伏组件<智造>基地", "刘市长", "月底前完成摘牌",
                      "城东街道")  # fmt: skip
    assert day(i1[6]) == date(2026, 11, 26) and day(i1[7]) == date(2026, 12, 2)
    # The chat's words for each state (/today, /instructions).
    assert i1[8:] == (
        "逾期 1 个工作日",
        "蓝（单位负责人）",
        "—",
        "2026-12-02 王专员（城东街道）：完成土地预审",
    )
    assert i4[8] == "待受理" and i4[11] == "—"
    assert i2[8:11] == ("已办结", "—", "2026-12-02：已完成摘牌")
    assert [fill(instructions, f"I{n}") for n in range(3, 6)] == [RED, None, GREEN]
    assert fill(instructions, "J3") == LEVEL_FILLS[1]


async def test_workbook_in_english(session: AsyncSession) -> None:
    b, _ids = await make(session)
    wb = read(workbook_bytes("en", b, "Demo City"))
    assert wb.sheetnames == ["Summary", "Progress", "Problems", "Instructions"]
    summary = trimmed(wb["Summary"])
    assert summary[0] == (
        "Demo City promotion meeting briefing · this week (2026-11-27 to 2026-12-03)",
    )
    assert ("By stage",) in summary
    assert ("Turned red in the period (3)",) in summary
    assert section(summary, "What is counted")[1:] == [
        ("Projects", 4, "projects in play, not the 1 dropped; each on the Progress sheet: "
                        "1 red, 1 yellow, 2 green"),
        ("Planned investment (10k CNY)", 208000, "the planned investment of those projects"),
        ("Open problems", 2, "waiting for the unit's answer, or answered and waiting for the "
                             "raiser's sign-off; see the Problems sheet"),
        ("Instructions", 3, "the 2 not done, and the 1 done in the period; see the "
                            "Instructions sheet"),
    ]  # fmt: skip
    ranking = section(summary, "Units ranked · This month (2026-12-01 to 2026-12-03)")
    assert ranking[0] == ("🏘 Townships and sub-districts (results and diligence)",)
    assert ranking[1][:5] == ("Rank", "Responsible unit", "Score", "Previous rank", "Change")
    assert rows(wb["Progress"], 2)[0][:7] == (
        "Responsible unit", "Code", "Project", "Industry", "Stage",
        "Planned investment (10k CNY)", "Light",
    )  # fmt: skip
    body = rows(wb["Progress"])
    assert [(r[1], r[4], r[6]) for r in body] == [
        ("XNY01", "signed", "Red"),
        ("ZB03", "started", "Green"),
        ("SW02", "negotiating", "Yellow"),
        ("OP05", "operating", "Green"),
    ]
    # Standard milestones are named in English; the project's own words stay as written.
    assert body[0][8] == "2. Land acquired 2026-12-01\n3. Groundbreaking 2027-03-01"
    assert rows(wb["Problems"], 2)[0][10:12] == ("Waiting (working days)", "Escalation")
    assert rows(wb["Problems"])[0][11] == "red (city leader)"
    assert [r[8] for r in rows(wb["Instructions"])] == ["overdue 1 working day", "new", "done"]


async def test_the_caption_counts_what_the_summary_counts(session: AsyncSession) -> None:
    """One definition of each count: the caption's numbers are the summary's, and the
    sheets list exactly that many."""
    b, _ids = await make(session)
    text = caption("zh", b, "示范市")
    assert text == (
        "📊 示范市招商例会简报 · 本周（2026-11-27 至 2026-12-03）\n"
        "项目 4 个：🔴 1 🟡 1 🟢 2；未结问题 2 个；批示 3 条（未办结 2，本期办结 1）。"
    )
    wb = read(workbook_bytes("zh", b, "示范市"))
    counts = {r[0]: r[1] for r in section(trimmed(wb["摘要"]), "统计口径")[1:]}
    assert counts == {"项目": 4, "计划投资（万元）": 208000, "未结问题": 2, "批示": 3}
    assert len(rows(wb["进展"])) == 4
    assert len(rows(wb["问题"])) == 2
    assert len(rows(wb["批示"])) == 3
    stages = section(trimmed(wb["摘要"]), "按阶段")
    assert stages[-1] == ("合计", 4, 208000)
    assert sum(r[1] for r in stages[1:-1]) == 4
    english = caption("en", b, "Demo City")
    assert english.endswith(
        "4 projects: 🔴 1 🟡 1 🟢 2; 2 open problems; 3 instructions (2 not done, 1 done in "
        "the period)."
    )


async def test_instruction_states_are_the_chats_words(session: AsyncSession) -> None:
    """More time asked, a dropped project's instruction, and the states the chat names:
    the words come from the same catalog keys as /today and /instructions."""
    ids = await build(session)
    old = await session.scalar(select(Project).where(Project.code == "OLD04"))
    assert old is not None
    # An instruction on the dropped project, past its deadline: it runs no more.
    i5 = Instruction(leader_id=ids["liu"], project_id=old.id, text="妥善处置", unit_id=old.unit_id,
                     deadline=date(2026, 12, 1), created_at=at(date(2026, 11, 20)))  # fmt: skip
    session.add(i5)
    session.add(Extension(item_kind="instruction", item_id=ids["i4"], requester_id=ids["wang"],
                          old_date=date(2026, 12, 20), new_date=date(2027, 1, 10)))  # fmt: skip
    await session.flush()
    b = await briefing(session, "week", TODAY, TZ, CAL)
    states = {i.id: (i.state, i.late, i.pending) for i in b.instructions}
    assert states == {
        ids["i1"]: ("overdue", 1, False),
        ids["i4"]: ("open", 0, True),
        i5.id: ("dropped", 0, False),
        ids["i2"]: ("done", 0, False),
    }
    # The dropped project's instruction did not "turn red".
    assert [r.ref for r in b.went_red if r.kind == "instruction"] == [ids["i1"]]
    words = CATALOG["zh"]
    zh = {r[0]: r[8] for r in rows(read(workbook_bytes("zh", b, "示范市")).worksheets[3])}
    assert zh == {
        ids["i1"]: words["instr.state.overdue"].format(late=1),
        ids["i4"]: f"{words['instr.state.new']} · {words['instr.state.pending']}",
        i5.id: words["instr.state.dropped"],
        ids["i2"]: words["brief.state.done"],
    }
    assert zh[ids["i4"]] == "待受理 · 延期待批" and zh[i5.id] == "项目已终止，办结后请报告"
    en = {r[0]: r[8] for r in rows(read(workbook_bytes("en", b, "示范市")).worksheets[3])}
    assert en[ids["i1"]] == "overdue 1 working day" and en[ids["i4"]] == "new · more time asked"


async def test_amounts_have_thousands_separators(session: AsyncSession) -> None:
    await build(session)
    op = await session.scalar(select(Project).where(Project.code == "OP05"))
    assert op is not None
    op.investment = Decimal("8000.5")
    await session.flush()
    b = await briefing(session, "week", TODAY, TZ, CAL)
    wb = read(workbook_bytes("zh", b, "示范市"))
    progress = wb["进展"]
    formats = {r[1].value: r[5].number_format for r in progress.iter_rows(min_row=3)}
    assert formats == {"XNY01": "#,##0", "ZB03": "#,##0", "SW02": "#,##0", "OP05": "#,##0.00"}
    assert progress["F3"].value == 120000
    summary = wb["摘要"]
    money = {
        (r[0].value, c.value): c.number_format
        for r in summary.iter_rows()
        for c in r
        if isinstance(c.value, int | float) and c.number_format != "General"
    }
    assert money[("合计", 208000.5)] == "#,##0.00" and money[("签约", 120000)] == "#,##0"
    assert money[("城东街道", 150000)] == "#,##0"


def fake_ranking() -> Ranking:
    """A ranking as storage.ranking gives it: townships judged on most figures, one with
    nothing due on some, a department on diligence alone, a department with nothing to
    judge, figures left out per group and one left out by weight for both."""
    figures = {
        "signed": Figure(2, 5, 0.4, 0.6),
        "started": Figure(0, 3, 0.0, None),
        "operating": Figure(0, 0, None, None),
        "investment": Figure(52000, 6, 8666.7, 0.7),
        "milestones": Figure(29, 30, 29 / 30, 0.9),
        "problems": Figure(1, 1, 1.0, 0.7),
        "instructions": Figure(0, 0, None, None),
        "reports": Figure(7, 8, 7 / 8, 0.8),
    }
    small = dict(figures, milestones=Figure(1, 1, 1.0, 0.6), problems=Figure(0, 0, None, None))
    nothing = Figure(0, 0, None, None)
    dept = dict(dict.fromkeys(FIGURES, nothing), milestones=Figure(1, 1, 1.0, 0.6))
    towns = RankGroup(
        Group.TOWNS,
        [
            UnitScore(1, "城东街道", figures, 80.04, 1, prev_rank=2),
            UnitScore(2, "城西镇", small, 61.0, 2, prev_rank=None),
        ],
        [],
        {"started": LEFT_OUT_CITY, "operating": LEFT_OUT_CITY, "instructions": LEFT_OUT_WEIGHT},
    )
    depts = RankGroup(
        Group.DEPARTMENTS,
        [UnitScore(3, "自然资源局", dept, 60.96, 1, prev_rank=2, group=Group.DEPARTMENTS)],
        ["财政局"],
        {"instructions": LEFT_OUT_WEIGHT, "reports": LEFT_OUT_CITY},
    )
    return Ranking(
        RankPeriod.MONTH,
        date(2026, 12, 1),
        TODAY,
        [towns, depts],
        date(2026, 11, 1),
        date(2026, 11, 30),
    )


async def test_the_ranking_shows_both_groups_with_their_counts(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As /rank shows them: two tables under their headings, each with its own ranks and
    figures (no results columns for departments), the counts beside each rate, — where a
    unit had nothing due, figures left out named once per group (a weight of 0 once for
    both), the idle units in their group."""

    async def fixed(*_args: Any, **_kw: Any) -> Ranking:
        return fake_ranking()

    monkeypatch.setattr(store, "ranking", fixed)
    b, _ids = await make(session)
    assert b.ranking is not None
    towns, depts = b.ranking.groups
    assert towns.figures == ("signed", "investment", "milestones", "problems", "reports")
    assert depts.figures == ("milestones", "problems")
    # Left out wherever they apply: results only the townships', a weight of 0 both.
    assert b.ranking.left_out == {
        "started": LEFT_OUT_CITY,
        "operating": LEFT_OUT_CITY,
        "instructions": LEFT_OUT_WEIGHT,
    }
    table = trimmed(read(workbook_bytes("zh", b, "示范市"))["摘要"])
    ranking = section(table, "单位排名 · 本月（2026-12-01 至 2026-12-03）")
    assert ranking == [
        ("🏘 乡镇、街道（比成果、比作风）",),
        ("名次", "责任单位", "得分", "上期名次", "变化", "签约", "投资", "节点按期",
         "问题按期答复", "周报按时"),
        (1, "城东街道", 80.0, 2, "▲1", "2/5（40%）", "52,000 万元/6 个在推项目", "29/30（97%）",
         "1/1（100%）", "7/8（88%）"),
        (2, "城西镇", 61.0, "—", "—", "2/5（40%）", "52,000 万元/6 个在推项目", "1/1（100%）",
         "—", "7/8（88%）"),
        ("开工 —（本期全市无开工，不计分）",),
        ("投产 —（本期全市无投产，不计分）",),
        ("🏛 市直部门（比作风：部门不负责项目，不比成果）",),
        ("名次", "责任单位", "得分", "上期名次", "变化", "节点按期", "问题按期答复"),
        (1, "自然资源局", 61.0, 2, "▲1", "1/1（100%）", "—"),
        ("本期没有可评事项：财政局",),
        ("周报按时 —（本期各部门无应报周报，不计分）",),
        ("批示按期办结 —（权重为 0，不计分）",),
        ("名次变化与上月（2026-11-01 至 2026-11-30）比较；— 为上期未上榜。",),
        (CATALOG["zh"]["rank.method"].replace("<i>", "").replace("</i>", ""),),
    ]  # fmt: skip
    english = trimmed(read(workbook_bytes("en", b, "Demo City"))["Summary"])
    ranked = section(english, "Units ranked · This month (2026-12-01 to 2026-12-03)")
    assert ranked[1][5:] == (
        "signed", "investment", "milestones on time", "problems answered on time",
        "weekly reports",
    )  # fmt: skip
    assert ranked[2][5:8] == ("2/5 (40%)", "52,000 (10k CNY) / 6 projects in play", "29/30 (97%)")
    at = ranked.index(("🏛 Departments (diligence: they own no projects, so no results)",))
    assert ranked[at + 1][5:] == ("milestones on time", "problems answered on time")
    assert ("Nothing to judge this period: 财政局",) in ranked[at:]


def group_tables(table: list[tuple[Any, ...]]) -> dict[str, list[tuple[Any, ...]]]:
    """The ranking section's tables by group heading: header first, then the units."""
    shown = section(table, "单位排名")
    found: dict[str, list[tuple[Any, ...]]] = {}
    current: list[tuple[Any, ...]] | None = None
    for r in shown:
        if len(r) == 1 and str(r[0]).startswith(("🏘", "🏛")):
            current = found.setdefault(str(r[0])[:1], [])
        elif current is not None and len(r) > 1:
            current.append(r)
    return found


async def test_the_ranking_is_the_one_rank_gives(session: AsyncSession) -> None:
    """The same groups, units, ranks and counts as storage.ranking's month, the same terms:
    the townships' table and the departments' apart, each ranked from 1."""
    b, _ids = await make(session)
    assert b.ranking is not None
    expected = await ranking(session, "month", TODAY, TZ, CAL, Weights())
    assert [g.group for g in b.ranking.groups] == [g.group.value for g in expected.groups]
    assert [(r.rank, r.unit, r.prev_rank) for r in b.ranking.rows] == [
        (r.rank, r.unit, r.prev_rank) for r in expected.rows
    ]
    for got, want in zip(b.ranking.groups, expected.groups, strict=True):
        assert got.idle == tuple(want.idle)
        assert set(got.figures) | set(got.left_out) == set(want.figures)
    tables = group_tables(trimmed(read(workbook_bytes("zh", b, "示范市"))["摘要"]))
    assert list(tables) == ["🏘", "🏛"][: len(expected.groups)]
    for (_, shown), got, want in zip(
        tables.items(), b.ranking.groups, expected.groups, strict=True
    ):
        header = shown[0]
        assert [r[:2] for r in shown[1:]] == [(r.rank, r.unit) for r in want.rows]
        for row, unit in zip(shown[1:], want.rows, strict=True):
            for name in got.figures:
                f = unit.figures[name]
                cell = row[header.index(CATALOG["zh"][f"rank.fig.{name}"])]
                if f.rate is None:
                    assert cell == "—"
                elif name != "investment":
                    assert cell.startswith(f"{f.count}/{f.of}（"), (name, cell)


async def test_every_sheet_prints_on_a4_landscape_fit_to_width(session: AsyncSession) -> None:
    b, _ids = await make(session)
    wb = read(workbook_bytes("zh", b, "示范市"))
    for ws in wb.worksheets:
        setup = ws.page_setup
        assert setup.orientation == "landscape", ws.title
        assert int(setup.paperSize) == int(ws.PAPERSIZE_A4) == 9
        assert int(setup.fitToWidth) == 1 and int(setup.fitToHeight) == 0
        assert ws.sheet_properties.pageSetUpPr.fitToPage is True
        assert ws.oddFooter.center.text == "第 &P 页，共 &N 页"
    # The title and the header row repeat on every page and stay on screen.
    for name in ("进展", "问题", "批示"):
        assert wb[name].print_title_rows == "$1:$2"
        assert wb[name].freeze_panes == "A3"
        assert wb[name]["A3"].alignment.wrap_text is True
    assert wb["摘要"].print_title_rows == "$1:$1" and wb["摘要"].freeze_panes == "A2"
    widths = wb["进展"].column_dimensions
    assert widths["C"].width == 28 and widths["H"].width == 50


async def test_names_and_texts_are_kept_as_written(session: AsyncSession) -> None:
    await build(session)
    xny = await session.scalar(select(Project).where(Project.code == "XNY01"))
    assert xny is not None
    xny.name = "名" * 190 + "\x07<b>&amp;"
    await session.flush()
    b = await briefing(session, "week", TODAY, TZ, CAL)
    body = rows(read(workbook_bytes("zh", b, "示范市"))["进展"])
    # Control characters cannot be in a cell; everything else is as typed, not escaped.
    assert body[0][2] == "名" * 190 + "<b>&amp;"
    assert body[2][2] == "生物医药产业园"


# --- /report in chat ----------------------------------------------------------------------


async def test_report_week_sends_a_workbook(h: Harness) -> None:
    replies = await h.send(COORD, "/report week")
    assert replies == []
    [sent] = h.api.media
    assert sent["chat_id"] == COORD and sent["kind"] == "document"
    assert "招商例会简报" in sent["caption"] and "项目 2 个" in sent["caption"]
    wb = read(sent["data"])
    assert wb.sheetnames == ["摘要", "进展", "问题", "批示"]
    assert [r[1] for r in rows(wb["进展"])] == ["XNY01", "SW02"]
    actions = [p["action"] for m, p in h.api.calls if m == "sendChatAction"]
    assert actions == ["upload_document"]


async def test_report_month_and_chinese_words(h: Harness) -> None:
    await h.send(LEADER, "/report 本月")
    await h.send(ADMIN, "/report")
    await h.send(COORD, "/report ＷＥＥＫ")
    assert [m["chat_id"] for m in h.api.media] == [LEADER, ADMIN, COORD]
    titles = [rows(read(m["data"]).worksheets[0], 1)[0][0] for m in h.api.media]
    assert "本月（2026-12-01 至 2026-12-03）" in titles[0]
    assert "本周（2026-11-27 至 2026-12-03）" in titles[1] and "本周" in titles[2]


async def test_report_in_the_members_language(h: Harness) -> None:
    await h.send(COORD, "/report 月")
    await h.send(COORD, "/lang en")
    await h.send(COORD, "/report week")
    assert "本月（2026-12-01 至 2026-12-03）" in h.api.media[0]["caption"]
    assert "this week (2026-11-27 to 2026-12-03)" in h.api.media[1]["caption"]
    assert read(h.api.media[1]["data"]).sheetnames[0] == "Summary"


async def test_file_names(session: AsyncSession) -> None:
    await build(session)
    config = Config()
    week = await render(session, config, "zh", "week", TODAY, CAL)
    month = await render(session, config, "en", "month", TODAY, CAL)
    assert week.name == "招商例会简报_2026-12-03.xlsx"
    assert month.name == "briefing_month_2026-12-03.xlsx"
    assert file_name("en", week.briefing) == "briefing_2026-12-03.xlsx"
    assert read(month.data).sheetnames[0] == "Summary"


async def test_report_with_an_unknown_period_says_which_words_work(h: Harness) -> None:
    [answer] = await h.send(COORD, "/report foo")
    assert "foo" in answer and "/report 周" in answer and "/report 月" in answer
    assert h.api.media == []
    await h.send(COORD, "/lang en")
    [answer] = await h.send(COORD, "/report <b>year</b>")
    assert "&lt;b&gt;year" in answer and "/report week" in answer and "/report month" in answer


async def test_officers_and_heads_may_not_report(h: Harness) -> None:
    for uid in (OFFICER, HEAD):
        [answer] = await h.send(uid, "/report week")
        assert "招商服务中心" in answer or "您没有权限" in answer
    assert h.api.media == []


def test_period_words() -> None:
    assert parse_period("") == "week"
    for word in ("周", "本周", "week", "WEEK", "this week", "周报"):
        assert parse_period(word) == "week", word
    for word in ("月", "本月", "month", "Monthly"):
        assert parse_period(word) == "month", word
    with pytest.raises(Refused):
        parse_period("年")


# --- the meeting's send -------------------------------------------------------------------

MONDAY = date(2026, 12, 7)


async def meeting_harness(new_store: NewStore, **work: Any) -> Harness:
    from tests.harness import seed

    config = Config(
        meeting=MeetingConfig(weekday="monday", time=time(8, 30)),
        work=WorkConfig(**work),
    )
    h = await start_harness(await new_store(), config)
    h.ids = await seed(h.sessions)
    # The leader reads English: the workbook comes in each reader's language.
    async with h.sessions() as s:
        leader = await s.scalar(select(Member).where(Member.tg_user_id == LEADER))
        assert leader is not None
        leader.lang = "en"
        await s.commit()
    return h


async def run_meeting(h: Harness, when: datetime) -> int:
    """What the job does at WHEN: the messages queued, then delivered."""
    h.clock.now = when
    async with h.sessions() as s:
        result = await prepare(s, h.config, h.app.bot_data["services"].calendar, when)
        await s.commit()
    await h.drain()
    return result.queued


def test_send_day_is_the_working_day_before_a_day_off() -> None:
    config = Config(meeting=MeetingConfig(weekday="monday"))
    assert send_day(MONDAY, CAL) == MONDAY
    assert meeting_for(config, CAL, MONDAY) == MONDAY
    assert meeting_for(config, CAL, date(2026, 12, 4)) is None
    # National Day 2026: Monday 5 October is off, and so is the week-end before it back to
    # 1 October: the briefing goes out on Wednesday 30 September.
    assert send_day(date(2026, 10, 5), CAL) == date(2026, 9, 30)
    assert meeting_for(config, CAL, date(2026, 9, 30)) == date(2026, 10, 5)
    assert meeting_for(config, CAL, date(2026, 10, 5)) is None
    sunday = Config(meeting=MeetingConfig(weekday="sunday"))
    assert meeting_for(sunday, CAL, date(2026, 12, 4)) == date(2026, 12, 6)
    at_time = datetime.combine(MONDAY, time(8, 29), tzinfo=TZ)
    assert due(config, CAL, at_time) is None
    assert due(config, CAL, at_time + timedelta(minutes=1)) == MONDAY
    off = Config(meeting=MeetingConfig(enabled=False))
    assert due(off, CAL, at_time + timedelta(hours=1)) is None


async def test_the_meeting_sends_workbook_and_chart_to_coordinators_and_leaders_once(
    new_store: NewStore,
) -> None:
    h = await meeting_harness(new_store)
    try:
        # Before the time: nothing.
        assert await run_meeting(h, at(MONDAY, 8, 0)) == 0
        queued = await run_meeting(h, at(MONDAY, 8, 30))
        media = list(h.api.media)
        assert {m["chat_id"] for m in media} == {COORD, LEADER}
        assert queued == len(media)
        for reader in (COORD, LEADER):
            mine = [m for m in media if m["chat_id"] == reader]
            assert mine[0]["kind"] == "document"
            pictures = mine[1:]
            assert pictures and all(m["kind"] == "photo" for m in pictures)
            assert all(m["data"].startswith(b"\x89PNG") for m in pictures)
        coord_book = read(next(m for m in media if m["chat_id"] == COORD)["data"])
        leader_book = read(next(m for m in media if m["chat_id"] == LEADER)["data"])
        assert coord_book.sheetnames[0] == "摘要" and leader_book.sheetnames[0] == "Summary"
        assert "本周（2026-12-01 至 2026-12-07）" in rows(coord_book["摘要"], 1)[0][0]
        caption = next(m for m in media if m["chat_id"] == COORD)["caption"]
        assert caption.startswith("📅 2026-12-07（周一） 招商例会简报\n📊 ")
        assert "项目 2 个" in caption

        # Again the same day (a restart, the catch-up, a second process): nothing more.
        h.api.clear()
        assert await run_meeting(h, at(MONDAY, 15, 0)) == 0
        assert h.api.media == []
        async with h.sessions() as s:
            # The files were stored once per language, not once per reader.
            assert (
                await s.scalar(select(func.count()).select_from(Attachment))
                == len([m for m in media if m["chat_id"] == COORD]) * 2
            )
            keys = set(await s.scalars(select(Outbox.dedupe_key)))
        assert f"meeting:2026-12-07:{await member_id(h, COORD)}:0" in keys
        # Tuesday: no meeting, and no catch-up of Monday's.
        assert await run_meeting(h, at(date(2026, 12, 8), 9, 0)) == 0
    finally:
        await h.stop()


async def member_id(h: Harness, tg: int) -> int:
    async with h.sessions() as s:
        found = await s.scalar(select(Member.id).where(Member.tg_user_id == tg))
        assert found is not None
        return found


async def test_a_monday_off_sends_on_the_friday_before(new_store: NewStore) -> None:
    h = await meeting_harness(new_store, extra_holidays=(MONDAY,))
    try:
        friday = date(2026, 12, 4)
        assert await run_meeting(h, at(date(2026, 12, 3), 9, 0)) == 0
        assert await run_meeting(h, at(friday, 8, 45)) > 0
        assert {m["chat_id"] for m in h.api.media} == {COORD, LEADER}
        h.api.clear()
        assert await run_meeting(h, at(MONDAY, 9, 0)) == 0
        assert h.api.media == []
        async with h.sessions() as s:
            keys = set(await s.scalars(select(Outbox.dedupe_key)))
        assert all(k.startswith("meeting:2026-12-07:") for k in keys if k.startswith("meeting"))
    finally:
        await h.stop()


async def test_the_job_catches_up_the_same_day_and_a_newcomer_gets_it_too(
    new_store: NewStore,
) -> None:
    h = await meeting_harness(new_store)
    try:
        context = CallbackContext(h.app)
        h.clock.now = at(MONDAY, 11, 0)  # the bot was down at 08:30
        await meeting_job(context)
        await h.drain()
        assert {m["chat_id"] for m in h.api.media} == {COORD, LEADER}
        # Sent after the meeting began: the caption claims no "before the meeting".
        captions = [m["caption"] for m in h.api.media if m["kind"] == "document"]
        firsts = sorted(c.splitlines()[0] for c in captions)
        assert firsts[0] == "📅 2026-12-07（周一） 招商例会简报"
        assert firsts[1].startswith("📅 Briefing for the promotion meeting of 2026-12-07")
        assert not any("会前" in c or "ahead" in c for c in captions)
        # A second leader joins; the next run serves only them.
        async with h.sessions() as s:
            set_actor(s, None)
            lead = await s.scalar(select(Unit).where(Unit.kind == UnitKind.LEADERSHIP))
            assert lead is not None
            s.add(Member(tg_user_id=402, name="副市长", unit_id=lead.id, role=Role.LEADER))
            await s.commit()
        h.api.clear()
        await meeting_job(context)
        await h.drain()
        assert {m["chat_id"] for m in h.api.media} == {402}
    finally:
        await h.stop()


async def test_a_chart_that_fails_still_sends_the_workbook(
    new_store: NewStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.meeting

    async def broken(*_args: Any) -> list[bytes]:
        raise RuntimeError("no font")

    monkeypatch.setattr(bot.meeting, "render_city_chart", broken)
    h = await meeting_harness(new_store)
    try:
        await run_meeting(h, at(MONDAY, 9, 0))
        assert sorted((m["chat_id"], m["kind"]) for m in h.api.media) == [
            (COORD, "document"),
            (LEADER, "document"),
        ]
    finally:
        await h.stop()


async def test_meeting_job_is_scheduled(new_store: NewStore) -> None:
    h = await meeting_harness(new_store)
    try:
        queue = h.app.job_queue
        assert queue is not None
        names = {job.name for job in queue.jobs()}
        assert {"meeting", "meeting-catch-up"} <= names
    finally:
        await h.stop()


async def test_no_meeting_job_when_disabled(new_store: NewStore) -> None:
    config = Config(meeting=MeetingConfig(enabled=False))
    h = await start_harness(await new_store(), config)
    try:
        assert h.app.job_queue is not None
        assert "meeting" not in {job.name for job in h.app.job_queue.jobs()}
    finally:
        await h.stop()
