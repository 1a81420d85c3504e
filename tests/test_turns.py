"""The chain presses the party whose turn it is, and no one else (issue: the chain points at
the right people). Frozen days in the week after National Day 2026, through the real
Application: problems raised, answered and acknowledged in chat, then the daily tick.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from storage.db import set_actor
from storage.models import (
    AuditLog,
    Milestone,
    Outbox,
    Problem,
    ProblemStatus,
    ProgressReport,
    Project,
    Stage,
    Unit,
    UnitKind,
)
from tests.harness import (
    COORD,
    HEAD,
    LAND_OFFICER,
    LEADER,
    OFFICER,
    OTHER_OFFICER,
    Harness,
)
from tests.test_scheduler import at, level_of, october, run_day, texts_to


@pytest.fixture
async def h(h: Harness) -> Harness:
    """The sample city (conftest's `h`) in the week after National Day."""
    h.ids |= await october(h)
    return h


async def raise_problem(h: Harness, uid: int, text: str, unit_name: str) -> tuple[int, list[str]]:
    """/problem XNY01 TEXT, then the tap on the unit; the problem's id and the replies."""
    await h.send(uid, f"/problem XNY01 {text}")
    async with h.sessions() as s:
        unit = await s.scalar(select(Unit).where(Unit.name == unit_name))
        assert unit is not None
    replies = await h.press(uid, f"f:unit:{unit.id}")
    async with h.sessions() as s:
        pid = await s.scalar(select(func.max(Problem.id)))
    assert pid is not None
    return int(pid), replies


def mentions(h: Harness, chat: int, pid: int) -> list[str]:
    return [x for x in h.api.texts(chat) if f"#{pid}" in x]


# --- an answered problem waits for its raiser -------------------------------------------


async def test_an_answered_problem_never_presses_the_unit_that_answered(h: Harness) -> None:
    h.clock.now = at(date(2026, 10, 8), 10)
    pid, _ = await raise_problem(h, OFFICER, "用地指标还没有落实", "自然资源局")
    assert mentions(h, LAND_OFFICER, pid)  # the first notice reached the land bureau
    await h.send(LAND_OFFICER, f"/reply {pid} 指标已下达，下周挂牌")
    told_before = len(mentions(h, LAND_OFFICER, pid))
    levels = []
    for day in (8, 9, 10, 12, 13, 14, 15, 16, 19, 20, 21, 22, 23, 26):
        await run_day(h, date(2026, 10, day))
        levels.append(await level_of(h, Problem, pid))
    # The answering unit heard nothing more: no prompt, no notice, no digest naming it late.
    assert len(mentions(h, LAND_OFFICER, pid)) == told_before
    # The raiser was reminded from the first day, with the buttons to sign off or reopen.
    prompts = texts_to(h, OFFICER, "等您确认办结")
    assert prompts and f"#{pid}" in prompts[0]
    assert f"go:reopen:{pid}" in h.api.all_buttons(OFFICER)
    # Answered Thu 8th; 5 working days to sign off (to Wed 14th, the make-up Saturday
    # counts); then the raiser's side climbs: 1 working day late on the 15th (the raiser's
    # head), 3 on the 19th (the center), 5 on the 21st (the leader).
    assert levels == [0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 3, 3]
    # The raiser's head is asked to remind the raiser; only the raiser gets the buttons.
    blue = [x for x in mentions(h, HEAD, pid) if "已提级至单位负责人" in x]
    assert blue and "请提醒 王专员 确认办结" in blue[0]
    assert f"go:reopen:{pid}" not in h.api.all_buttons(HEAD)
    raiser = [x for x in mentions(h, OFFICER, pid) if "已提级至单位负责人" in x]
    assert raiser and "等待提出人 王专员 确认办结" in raiser[0]
    coord = [x for x in texts_to(h, COORD, "每日简报") if f"#{pid}" in x]
    assert coord and "待 王专员 确认办结" in coord[0] and "城东街道" in coord[0]
    assert "自然资源局" not in coord[0].split(f"#{pid}")[1].split("\n")[0]
    leader = [x for x in texts_to(h, LEADER, "每日简报") if f"#{pid}" in x]
    assert leader and "🟥问题" in leader[0] and "待 王专员 确认办结" in leader[0]


async def test_urge_on_an_answered_problem_urges_the_raiser(h: Harness) -> None:
    h.clock.now = at(date(2026, 10, 8), 10)
    pid, _ = await raise_problem(h, OFFICER, "用地指标还没有落实", "自然资源局")
    await h.send(LAND_OFFICER, f"/reply {pid} 已落实")
    land_before = len(h.api.texts(LAND_OFFICER))
    assert "已催办" in (await h.send(COORD, f"/urge {pid}"))[0]
    assert len(h.api.texts(LAND_OFFICER)) == land_before
    urged = texts_to(h, OFFICER, "催办")
    assert urged and "确认办结或退回" in urged[-1]
    assert f"go:reopen:{pid}" in h.api.buttons(OFFICER)


async def test_reopen_gives_the_turn_back_to_the_unit_with_a_new_deadline(h: Harness) -> None:
    h.clock.now = at(date(2026, 10, 8), 10)
    pid, _ = await raise_problem(h, OFFICER, "用地指标还没有落实", "自然资源局")
    await h.send(LAND_OFFICER, f"/reply {pid} 已落实")
    assert "没有权限" in (await h.press(LAND_OFFICER, f"go:reopen:{pid}"))[0]
    # the button asks why, and the unit reads the reason with the new deadline
    asked = await h.press(OFFICER, f"go:reopen:{pid}")
    assert "退回理由" in asked[0] and f"#{pid}" in asked[0]
    replies = await h.send(OFFICER, "没有写明供地时间")
    assert "已退回问题" in replies[0] and "2026-10-12" in replies[0]
    back = h.api.texts(LAND_OFFICER)[-1]
    assert "被退回" in back and "没有写明供地时间" in back
    assert f"ack:{pid}" not in h.api.buttons(LAND_OFFICER)  # it was acknowledged already
    async with h.sessions() as s:
        problem = await s.get(Problem, pid)
        assert problem is not None
        assert problem.status is ProblemStatus.ACKNOWLEDGED
        assert problem.reply_deadline == date(2026, 10, 12)
        assert problem.answered_at is None
    assert "还没有答复" in (await h.send(OFFICER, f"/reopen {pid} 还是不行"))[0]
    # the unit is pressed again only once the new deadline is missed
    for day in (9, 10, 12):
        await run_day(h, date(2026, 10, day))
    assert await level_of(h, Problem, pid) == 0
    await run_day(h, date(2026, 10, 13))
    assert await level_of(h, Problem, pid) == 1


async def test_what_is_over_cannot_be_acknowledged_or_reopened(h: Harness) -> None:
    h.clock.now = at(date(2026, 10, 8), 10)
    pid, _ = await raise_problem(h, OFFICER, "用地指标还没有落实", "自然资源局")
    await h.send(LAND_OFFICER, f"/reply {pid} 供地时间为下月10日")
    late_ack = (await h.send(LAND_OFFICER, f"/ack {pid}"))[0]
    assert "已答复" in late_ack and "已受理" not in late_ack
    await h.send(OFFICER, f"/resolve {pid}")
    closed = (await h.send(OFFICER, f"/reopen {pid} 再看看"))[0]
    assert "已解决" in closed and "还没有答复" not in closed
    async with h.sessions() as s:
        problem = await s.get(Problem, pid)
        assert problem is not None and problem.status is ProblemStatus.RESOLVED


# --- every climb is measured against the item's own deadline ----------------------------


@pytest.mark.parametrize(
    ("text", "deadline"),
    [
        ("用地指标还没有落实，请下下周五前答复", date(2026, 10, 23)),
        ("供电线路迁改，10月20日前给出方案", date(2026, 10, 20)),
        ("please reply by Oct 22 on the land quota", date(2026, 10, 22)),
    ],
)
async def test_a_problem_with_a_written_deadline_does_not_climb_before_it(
    h: Harness, text: str, deadline: date
) -> None:
    h.clock.now = at(date(2026, 10, 8), 10)
    pid, replies = await raise_problem(h, OFFICER, text, "自然资源局")
    assert deadline.isoformat() in replies[0]
    day = date(2026, 10, 9)
    while day <= deadline:
        await run_day(h, day)
        assert await level_of(h, Problem, pid) == 0, day
        day = date.fromordinal(day.toordinal() + 1)
    assert not [x for x in mentions(h, LAND_OFFICER, pid) if "已提级" in x]
    # the first working day after it: the unit missed it, its head hears (here: nobody is
    # the land bureau's head, so its officer)
    while not await run_day(h, day):
        day = date.fromordinal(day.toordinal() + 1)
    assert await level_of(h, Problem, pid) == 1


async def test_acknowledged_from_the_first_notice_it_does_not_climb_to_the_head(
    h: Harness,
) -> None:
    h.clock.now = at(date(2026, 10, 8), 10)
    pid, _ = await raise_problem(h, OFFICER, "用地指标还没有落实", "自然资源局")
    first = mentions(h, LAND_OFFICER, pid)[0]
    assert "新问题" in first
    buttons = h.api.buttons(LAND_OFFICER)
    assert buttons == [f"ack:{pid}", f"go:reply:{pid}", f"go:extend:p:{pid}"]
    assert "已受理问题" in (await h.press(LAND_OFFICER, f"ack:{pid}"))[0]
    for day in (8, 9, 10, 12):
        await run_day(h, date(2026, 10, day))
    assert await level_of(h, Problem, pid) == 0
    # and without it, the receipt is owed after a working day
    other, _ = await raise_problem(h, OFFICER, "环评批复还没有下来", "自然资源局")
    h.clock.now = at(date(2026, 10, 12), 10)
    await h.send(LAND_OFFICER, f"/ack {other}")
    async with h.sessions() as s:
        problem = await s.get(Problem, other)
        assert problem is not None and problem.status is ProblemStatus.ACKNOWLEDGED
    assert "用法" in (await h.send(LAND_OFFICER, "/ack"))[0]


async def test_an_approved_extension_starts_the_problem_over(h: Harness) -> None:
    h.clock.now = at(date(2026, 10, 8), 10)
    pid, _ = await raise_problem(h, OFFICER, "用地指标还没有落实", "自然资源局")
    for day in (9, 10, 12, 13):
        await run_day(h, date(2026, 10, day))
    assert await level_of(h, Problem, pid) == 1
    h.clock.now = at(date(2026, 10, 13), 11)
    await h.press(LAND_OFFICER, f"go:extend:p:{pid}")
    await h.send(LAND_OFFICER, "10月30日")
    approve = next(b for b in h.api.buttons(COORD) if b.startswith("xa:"))
    assert "已批准" in (await h.press(COORD, approve))[0]
    assert await level_of(h, Problem, pid) == 0
    for day in (14, 15, 16, 19, 20, 21, 22, 23, 26, 27, 28, 29, 30):
        await run_day(h, date(2026, 10, day))
        assert await level_of(h, Problem, pid) in (0, 1)  # the receipt, if still owed
    assert not [x for x in mentions(h, COORD, pid) if "已提级至招商服务中心" in x]


async def test_a_new_milestone_date_starts_its_climb_over(h: Harness) -> None:
    ms1 = h.ids["ms1"]
    for day in (9, 10, 12):
        await run_day(h, date(2026, 10, day))
    assert await level_of(h, Milestone, ms1) == 2
    h.clock.now = at(date(2026, 10, 12), 11)
    assert "2026-10-16" in (await h.send(HEAD, "/due XNY01 1 10月16日"))[0]
    assert await level_of(h, Milestone, ms1) == 0
    for day in (13, 14, 15, 16):
        await run_day(h, date(2026, 10, day))
        assert await level_of(h, Milestone, ms1) == 0


# --- a problem routed to a unit nobody has joined ---------------------------------------


async def test_a_problem_for_an_empty_unit_reaches_someone_the_day_it_is_raised(
    h: Harness,
) -> None:
    async with h.sessions() as s:
        set_actor(s, None)
        s.add(Unit(name="住建局", kind=UnitKind.DEPARTMENT, parent_id=h.ids["center"]))
        await s.commit()
    h.clock.now = at(date(2026, 10, 8), 10)
    pid, replies = await raise_problem(h, OFFICER, "园区道路还没有贯通", "住建局")
    # the raiser is warned at once, and the center's coordinator has it the same day
    assert any("住建局 目前还没有人注册" in r for r in replies)
    assert any("招商服务中心" in r for r in replies)
    assert mentions(h, COORD, pid) and "新问题" in mentions(h, COORD, pid)[0]
    assert f"ack:{pid}" in h.api.all_buttons(COORD)
    # and the coordinators' digest lists the unit nobody has joined
    await run_day(h, date(2026, 10, 8))
    digest = texts_to(h, COORD, "每日简报")[-1]
    assert "尚无人注册的单位" in digest and "住建局：1 项" in digest
    assert "尚无人注册" not in texts_to(h, LEADER, "每日简报")[-1]


async def test_a_problem_for_the_service_center_reaches_its_coordinators(h: Harness) -> None:
    h.clock.now = at(date(2026, 10, 8), 10)
    pid, replies = await raise_problem(h, OFFICER, "企业注册遇到困难", "招商服务中心")
    assert not any("还没有人注册" in r for r in replies)
    assert mentions(h, COORD, pid)
    # the coordinator's /today has it as theirs to answer
    today = (await h.send(COORD, "/today"))[0]
    assert "待本单位答复的问题 1 个" in today and f"#{pid}" in today


# --- the stage targets from the ledger --------------------------------------------------


async def test_a_passed_target_is_shown_listed_and_climbs(h: Harness) -> None:
    async with h.sessions() as s:
        set_actor(s, None)
        project = await s.get(Project, h.ids["p1"])
        assert project is not None  # signed: heads for 开工
        project.target_signed = date(2026, 3, 1)
        project.target_started = date(2026, 10, 9)
        project.target_operating = date(2027, 12, 31)
        await s.commit()
    h.clock.now = at(date(2026, 10, 8), 10)
    card = (await h.send(OFFICER, "/project XNY01"))[0]
    assert "✅ 签约：2026-03-01" in card
    assert "🟡 开工：2026-10-09" in card
    assert "🟢 投产：2027-12-31" in card
    levels = []
    for day in (9, 10, 12, 13, 14):
        await run_day(h, date(2026, 10, day))
        async with h.sessions() as s:
            project = await s.get(Project, h.ids["p1"])
            assert project is not None
            levels.append(project.target_level)
    assert levels == [0, 1, 1, 2, 2]  # 1 working day past on the 10th, 3 on the 13th
    prompt = texts_to(h, OFFICER, "今日提醒")[-1]
    assert "已过目标日期的项目 1 个" in prompt and "计划开工 2026-10-09" in prompt
    assert any("计划开工" in x for x in texts_to(h, COORD, "每日简报"))
    card = (await h.send(OFFICER, "/project XNY01"))[0]
    assert "🔴 开工：2026-10-09" in card
    # reaching the stage ends it; the next target starts from nothing
    assert "开工" in (await h.send(HEAD, "/stage XNY01 开工"))[0]
    async with h.sessions() as s:
        project = await s.get(Project, h.ids["p1"])
        assert project is not None and project.stage is Stage.STARTED
        assert project.target_level == 0
        logged = await s.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.entity == "projects", AuditLog.after["target_level"].isnot(None))
        )
        assert logged and logged >= 2


# --- overseers' /today ------------------------------------------------------------------


async def test_leaders_today_is_what_reached_them_and_an_honest_overview(h: Harness) -> None:
    h.clock.now = at(date(2026, 10, 8), 10)
    await raise_problem(h, OFFICER, "用地指标还没有落实", "自然资源局")
    leader = (await h.send(LEADER, "/today"))[0]
    assert "待本单位答复" not in leader and "等您确认" not in leader
    assert "您今天没有需要亲自处理的事项" in leader
    assert "全市概况" in leader and "不是您的待办" in leader and "待答复问题 2 个" in leader
    for day in (9, 10, 12, 13, 14):
        await run_day(h, date(2026, 10, day))
    leader = (await h.send(LEADER, "/today"))[0]
    assert "已升级到您这里的事项 1 个" in leader and "XNY01 节点1「选址」" in leader
    coord = (await h.send(COORD, "/today"))[0]
    assert "已升级到您这里的事项" in coord and "全市概况" in coord
    assert "待本单位答复的问题" not in coord  # nothing is routed to the center itself
    officer = (await h.send(OFFICER, "/today"))[0]
    assert "全市概况" not in officer and "个工作日" in officer
    await h.send(OTHER_OFFICER, "/lang en")
    assert "climbed" not in (await h.send(OTHER_OFFICER, "/today"))[0]


# --- no change today ---------------------------------------------------------------------


async def test_no_change_for_all_in_one_tap_and_never_twice(h: Harness) -> None:
    async with h.sessions() as s:
        set_actor(s, None)
        s.add(
            Project(
                code="XNY02",
                name="储能电站",
                industry="新能源",
                investment=1000,
                unit_id=h.ids["east"],
            )
        )
        await s.commit()
    await run_day(h, date(2026, 10, 26))
    buttons = h.api.buttons(OFFICER)
    assert buttons[-5:] and "nc:*" in buttons
    assert "nc:XNY01" in buttons
    replies = await h.press(OFFICER, "nc:*")
    assert "2 个项目" in replies[0] and "XNY01" in replies[0] and "XNY02" in replies[0]
    again = await h.press(OFFICER, "nc:*")
    assert "已经记录过了" in again[0]
    assert "已经记录过了" in (await h.press(HEAD, "nc:XNY01"))[0]
    async with h.sessions() as s:
        checks = await s.scalar(
            select(func.count())
            .select_from(ProgressReport)
            .where(ProgressReport.kind == "no_change")
        )
        assert checks == 2
    # the card keeps the last real report and notes the check apart
    h.clock.now = at(date(2026, 10, 27), 10)
    await h.send(OFFICER, "/progress XNY01 完成土地预审")
    h.clock.now = at(date(2026, 10, 28), 10)
    await h.press(OFFICER, "nc:XNY01")
    card = (await h.send(OFFICER, "/project XNY01"))[0]
    assert "完成土地预审" in card and "已查看，无变化" in card
    # an ordinary prompt, without quiet projects, still carries the buttons
    async with h.sessions() as s:
        queued = (await s.scalars(select(Outbox).where(Outbox.kind == "prompt"))).all()
        assert all(
            ["✔ 全部今日无变化", "nc:*"] in [b for row in (o.buttons or []) for b in row]
            for o in queued
            if o.chat_id in (OFFICER, HEAD)
        )


# --- the officer's taps -----------------------------------------------------------------


class Taps:
    """Counts what an officer does in chat: messages typed and buttons pressed."""

    def __init__(self, h: Harness, uid: int) -> None:
        self.h, self.uid = h, uid
        self.typed = self.pressed = 0

    async def type(self, text: str) -> list[str]:
        self.typed += 1
        return await self.h.send(self.uid, text)

    async def tap(self, data: str) -> list[str]:
        assert data in self.h.api.buttons(self.uid), (data, self.h.api.buttons(self.uid))
        self.pressed += 1
        return await self.h.press(self.uid, data)


async def test_the_officers_daily_actions_take_the_taps_the_aims_allow(h: Harness) -> None:
    async with h.sessions() as s:
        set_actor(s, None)
        for n in range(2, 5):
            s.add(
                Project(
                    code=f"XNY0{n}",
                    name=f"项目{n}",
                    industry="新能源",
                    investment=1000,
                    unit_id=h.ids["east"],
                )
            )
        await s.commit()
    await run_day(h, date(2026, 10, 26))
    assert texts_to(h, OFFICER, "今日提醒")

    # "Nothing new today" for all four of the unit's projects: one tap, one answer.
    taps = Taps(h, OFFICER)
    before = len(h.api.texts(OFFICER))
    await taps.tap("nc:*")
    assert (taps.typed, taps.pressed) == (0, 1)
    assert len(h.api.texts(OFFICER)) == before + 1
    async with h.sessions() as s:
        checked = (
            await s.scalars(
                select(Project.code)
                .join(ProgressReport, ProgressReport.project_id == Project.id)
                .where(ProgressReport.kind == "no_change")
            )
        ).all()
    assert sorted(checked) == ["XNY01", "XNY02", "XNY03", "XNY04"]

    # A progress report: one message, one answer.
    h.clock.now = at(date(2026, 10, 26), 11)
    taps = Taps(h, OFFICER)
    replies = await taps.type("/progress XNY02 完成土地预审")
    assert (taps.typed, taps.pressed) == (1, 0) and len(replies) == 1 and "已记录" in replies[0]

    # A problem routed: the command with its text, then at most three taps in all; the
    # flow says back what was picked.
    taps = Taps(h, OFFICER)
    await taps.type("/problem")
    await taps.tap("f:project:XNY02")
    question = h.api.texts(OFFICER)[-1]
    assert "XNY02" in question
    await taps.type("用地指标还没有落实")
    async with h.sessions() as s:
        land = await s.scalar(select(Unit).where(Unit.name == "自然资源局"))
        assert land is not None
    assert f"f:unit:{land.id}" == h.api.buttons(OFFICER)[0]  # the routed unit comes first
    replies = await taps.tap(f"f:unit:{land.id}")
    assert "已转 自然资源局" in replies[0]
    assert taps.pressed <= 3 and taps.typed == 2
    # typed in one go, it is one message and one tap
    taps = Taps(h, OFFICER)
    await taps.type("/problem XNY03 供电线路需要迁改")
    buttons = h.api.buttons(OFFICER)
    await taps.tap(buttons[0])
    assert (taps.typed, taps.pressed) == (1, 1)
    async with h.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Problem)) == 3


# --- the routing names units that must exist ---------------------------------------------


async def test_missing_routed_units_are_told_and_never_recommended(h: Harness) -> None:
    from bot.app import check_routing
    from tests.harness import ADMIN

    # The sample city has no 行政审批局, 住建局 or 财政局, which the default routing names.
    await check_routing(h.app)
    await h.drain()
    told = [x for x in h.api.texts(ADMIN) if "配置中指定的单位在系统中不存在" in x]
    assert len(told) == 1
    assert "行政审批局" in told[0] and "住建局" in told[0] and "财政局" in told[0]
    assert "自然资源局" not in told[0]
    await check_routing(h.app)  # a restart the same day: told once
    await h.drain()
    assert len([x for x in h.api.texts(ADMIN) if "不存在" in x]) == 1

    # A permits problem: its routed unit is missing, so no unit gets the star.
    await h.send(OFFICER, "/problem XNY01 环评审批还没有批下来")
    labels = [
        b["text"] for row in h.api.sent(OFFICER)[-1]["reply_markup"]["inline_keyboard"] for b in row
    ]
    assert labels and not any("⭐" in label for label in labels)
    # A land problem: the land bureau is routed and exists, and it alone has the star.
    await h.send(OFFICER, "/cancel")
    await h.send(OFFICER, "/problem XNY01 用地指标还没有落实")
    labels = [
        b["text"] for row in h.api.sent(OFFICER)[-1]["reply_markup"]["inline_keyboard"] for b in row
    ]
    assert [label for label in labels if "⭐" in label] == ["⭐ 自然资源局 · 土地"]


async def test_an_import_says_which_routed_units_are_still_missing(h: Harness) -> None:
    csv = "code,name,industry,investment,unit\nQ1,甲,新能源,100,城东街道\n"
    replies = await h.upload(COORD, csv.encode(), "projects.csv")
    assert any("导入" in r for r in replies)
    assert any("行政审批局" in r and "不存在" in r for r in replies)


# --- found by trying it as an office would -----------------------------------------------


async def test_whoever_stands_in_for_an_empty_unit_is_told_whose_item_it_is(h: Harness) -> None:
    async with h.sessions() as s:
        set_actor(s, None)
        s.add(Unit(name="住建局", kind=UnitKind.DEPARTMENT, parent_id=h.ids["center"]))
        await s.commit()
    h.clock.now = at(date(2026, 10, 8), 10)
    pid, _ = await raise_problem(h, OFFICER, "园区道路还没有贯通", "住建局")
    assert "代 住建局 接收" in mentions(h, COORD, pid)[0]
    today = (await h.send(COORD, "/today"))[0]
    assert "待尚无人注册的单位答复的问题 1 个" in today and "住建局" in today
    assert "您今天没有需要亲自处理的事项" not in today
    await run_day(h, date(2026, 10, 9))  # not acknowledged: the climb reaches the center
    climbed = [x for x in mentions(h, COORD, pid) if "已提级" in x]
    assert climbed and "代 住建局 接收" in climbed[0]


async def test_a_request_for_more_time_waits_on_the_approvers_today(h: Harness) -> None:
    ms1 = h.ids["ms1"]
    await run_day(h, date(2026, 10, 9))
    h.clock.now = at(date(2026, 10, 9), 11)
    await h.press(OFFICER, f"go:extend:m:{ms1}")
    await h.send(OFFICER, "10月20日")
    today = await h.send(HEAD, "/today")
    assert "待您审批的延期申请 1 个" in today[0] and "王专员" in today[0]
    approve = next(b for b in h.api.buttons(HEAD) if b.startswith("xa:"))
    assert "已批准" in (await h.press(HEAD, approve))[0]
    assert "待您审批" not in (await h.send(HEAD, "/today"))[0]
    assert "待您审批" not in (await h.send(COORD, "/today"))[0]


@pytest.mark.parametrize(
    ("text", "deadline", "warned"),
    [
        ("用地指标，今天答复", date(2026, 10, 8), False),
        ("用地指标，今天下班前答复", date(2026, 10, 8), False),
        ("用地问题原定2026年10月1日前答复", date(2026, 10, 12), True),
    ],
)
async def test_a_written_deadline_of_today_holds_and_a_past_one_is_said(
    h: Harness, text: str, deadline: date, warned: bool
) -> None:
    h.clock.now = at(date(2026, 10, 8), 10)
    pid, replies = await raise_problem(h, OFFICER, text, "自然资源局")
    async with h.sessions() as s:
        problem = await s.get(Problem, pid)
        assert problem is not None and problem.reply_deadline == deadline
    assert any("已经过去" in r for r in replies) is warned


# --- found by the second trial -------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["/ack 13800138000", "/reply 13800138000 好", "/urge 2147483648", "/done XNY01 99999999999"],
)
async def test_a_number_too_big_for_an_id_is_no_id(h: Harness, typed: str) -> None:
    reply = (await h.send(COORD, typed))[0]
    assert "出错" not in reply
    pressed = (await h.press(HEAD, "xa:13800138000"))[0]
    assert "出错" not in pressed


async def test_an_extension_overtaken_before_the_decision_changes_nothing(h: Harness) -> None:
    ms1 = h.ids["ms1"]
    h.clock.now = at(date(2026, 10, 9), 11)
    await h.press(OFFICER, f"go:extend:m:{ms1}")
    await h.send(OFFICER, "10月20日")
    approve = next(b for b in h.api.buttons(HEAD) if b.startswith("xa:"))
    # meanwhile the head gives it another date himself
    await h.send(HEAD, "/due XNY01 1 10月30日")
    assert "已过时" in (await h.press(HEAD, approve))[0]
    assert "已过时" in h.api.texts(OFFICER)[-1]
    async with h.sessions() as s:
        ms = await s.get(Milestone, ms1)
        assert ms is not None and ms.planned_date == date(2026, 10, 30)
    # an answered problem's request, and one for a date already past, are void too
    pid, _ = await raise_problem(h, OFFICER, "用地指标还没有落实", "自然资源局")
    await h.press(LAND_OFFICER, f"go:extend:p:{pid}")
    assert "延期到的日期" in h.api.texts(LAND_OFFICER)[-1]
    again = await h.send(LAND_OFFICER, "10月13日")  # not after the current deadline, the 13th
    assert "必须晚于今天和原定日期 2026-10-13" in again[0] and "延期到的日期" in again[-1]
    await h.send(LAND_OFFICER, "10月28日")
    async with h.sessions() as s:
        problem = await s.get(Problem, pid)
        assert problem is not None and problem.status is ProblemStatus.ACKNOWLEDGED
    await h.send(LAND_OFFICER, f"/reply {pid} 已落实")
    approve = next(b for b in h.api.buttons(COORD) if b.startswith("xa:"))
    assert "已过时" in (await h.press(COORD, approve))[0]
    async with h.sessions() as s:
        problem = await s.get(Problem, pid)
        assert problem is not None and problem.reply_deadline == date(2026, 10, 13)


async def test_the_leadership_is_no_answering_unit(h: Harness) -> None:
    await h.send(OFFICER, "/problem XNY01 需要市领导协调电网公司")
    async with h.sessions() as s:
        lead = await s.scalar(select(Unit).where(Unit.name == "市领导"))
        assert lead is not None
    assert f"f:unit:{lead.id}" not in h.api.buttons(OFFICER)
    refused = await h.send(OFFICER, "市领导")
    assert "不负责答复问题" in refused[0]


async def test_overseers_get_each_climb_once_and_see_the_owner_named(h: Harness) -> None:
    async with h.sessions() as s:
        set_actor(s, None)
        ms2 = await s.get(Milestone, h.ids["ms2"])
        assert ms2 is not None
        ms2.owner_unit_id = h.ids["land"]  # the land bureau's 土地摘牌
        await s.commit()
    for day in (9, 10, 12, 13, 14, 15, 16, 19):
        await run_day(h, date(2026, 10, day))
    h.clock.now = at(date(2026, 10, 19), 10)
    coord = (await h.send(COORD, "/today"))[0]
    # milestone 2 (土地摘牌) is the land bureau's, milestone 1 (选址) 城东街道's
    assert "🟨XNY01 节点2「土地摘牌」计划 2026-10-14（周三） · 责任：自然资源局" in coord
    assert "节点1「选址」计划 2026-10-08（周四） · 责任：城东街道" in coord
    # a problem routed to the center: its coordinator hears of each climb once a day
    pid, _ = await raise_problem(h, OFFICER, "企业注册遇到困难", "招商服务中心")
    for day in (20, 21, 22, 23, 26, 27):
        await run_day(h, date(2026, 10, day))
    digests = [x for x in texts_to(h, COORD, "每日简报") if f"问题 #{pid}" in x]
    notices = [x for x in mentions(h, COORD, pid) if "已提级" in x]
    assert notices and not digests


async def test_odd_presses_are_answered(h: Harness) -> None:
    before = len(h.api.calls)
    assert "按钮" in (await h.press(OFFICER, "garbage:1"))[0]
    assert any(m == "answerCallbackQuery" for m, _ in h.api.calls[before:])
    refused = (await h.press(LEADER, "nc:*"))[0]
    assert "没有权限" in refused and "请联系" in refused
    assert "没有在办的项目" in (await h.press(COORD, "nc:*"))[0]


async def test_english_names_milestones_in_english_everywhere(h: Harness) -> None:
    for uid in (OFFICER, HEAD, COORD):
        await h.send(uid, "/lang en")
    await run_day(h, date(2026, 10, 9))
    prompt = [x for x in h.api.texts(OFFICER) if "Today ·" in x][-1]
    assert "Site selection" in prompt and "选址" not in prompt
    notice = [x for x in h.api.texts(HEAD) if "Escalated" in x][-1]
    assert "Site selection" in notice and "选址" not in notice
    assert "Site selection" in [x for x in h.api.texts(COORD) if "Daily digest" in x][-1]
    await h.send(COORD, "/urge XNY01 1")
    assert "Site selection" in [x for x in h.api.texts(OFFICER) if "Urged" in x][-1]
    await h.send(OFFICER, "/extend")
    labels = [
        b["text"] for row in h.api.sent(OFFICER)[-1]["reply_markup"]["inline_keyboard"] for b in row
    ]
    assert any("Site selection" in label for label in labels)
    assert not any("选址" in label for label in labels)
