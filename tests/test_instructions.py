"""Leaders' instructions (批示) as tracked work, on frozen days through the real bot.

The week after National Day 2026 (1–7 October off, Saturday 10 a make-up working day,
Sunday 11 off): a leader gives an instruction, the unit has it with its buttons,
acknowledges it, sees it in every daily prompt until it is done, it climbs on its own
timers, more time is asked for and approved, and the leader hears when it is done.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Config
from bot.scheduler import tell_moved_instructions
from storage import agenda, extensions, instructions, schedule
from storage.db import set_actor
from storage.demo import build_demo
from storage.errors import Refused
from storage.escalation import InstructionClock, Thresholds, instruction_target
from storage.models import (
    AuditLog,
    Extension,
    ExtensionStatus,
    Instruction,
    Member,
    Milestone,
    Outbox,
    Problem,
    ProblemCategory,
    ProblemStatus,
    Project,
    Role,
    Unit,
    UnitKind,
)
from storage.workdays import WorkCalendar
from tests.harness import (
    COORD,
    HEAD,
    LAND_OFFICER,
    LEADER,
    OFFICER,
    OTHER_OFFICER,
    Harness,
)
from tests.test_scheduler import at, run_day, texts_to

CAL = WorkCalendar()
TH = Thresholds()  # instruction_ack_days 1, instruction_done_days (1, 2, 3)
INSTRUCTION_DAYS = 5  # [work] instruction_days by default
THU = date(2026, 10, 8)


def d(day: int, month: int = 10) -> date:
    return date(2026, month, day)


@pytest.fixture
async def h(h: Harness) -> Harness:
    """The sample city (conftest's `h`) in the week after National Day, its milestones
    planned far ahead so that only instructions climb."""
    async with h.sessions() as s:
        set_actor(s, None)
        for project in (await s.scalars(select(Project))).all():
            project.created_at = project.last_progress_at = at(d(8))
        for ms in (await s.scalars(select(Milestone))).all():
            ms.planned_date = date(2027, 3, 1)
        await s.commit()
    h.clock.now = at(THU, 10)
    return h


async def give(h: Harness, text: str, code: str = "XNY01", uid: int = LEADER) -> tuple[int, str]:
    """/instruct CODE TEXT as the leader: the new instruction's id and the reply."""
    replies = await h.send(uid, f"/instruct {code} {text}")
    async with h.sessions() as s:
        iid = await s.scalar(select(func.max(Instruction.id)))
    assert iid is not None, replies
    return int(iid), replies[0]


async def stored(h: Harness, iid: int) -> Instruction:
    async with h.sessions() as s:
        found = await s.get(Instruction, iid)
        assert found is not None
        return found


async def level(h: Harness, iid: int) -> int:
    return (await stored(h, iid)).escalation_level


def about(h: Harness, chat: int, iid: int) -> list[str]:
    """What CHAT was sent that names instruction IID."""
    return [x for x in h.api.texts(chat) if f"批示 #{iid}" in x or f"instruction #{iid}" in x]


# --- given -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "deadline"),
    [
        ("月底前完成摘牌", d(31)),
        ("3个工作日内完成土地摘牌", d(12)),  # the make-up Saturday counts
        ("12月10日前完成供电线路迁改", d(10, 12)),
        ("务必下周五前完成选址", d(16)),
        ("加快推进土地摘牌", d(14)),  # none written: instruction_days (5) working days
    ],
)
async def test_the_deadline_is_read_from_the_text_else_the_default(
    h: Harness, text: str, deadline: date
) -> None:
    iid, reply = await give(h, text)
    assert (await stored(h, iid)).deadline == deadline
    assert f"批示 #{iid} 已送达 XNY01 的责任单位 城东街道" in reply
    assert f"完成期限 {deadline.isoformat()}" in reply
    assert ("按默认 5 个工作日" in reply) is (text == "加快推进土地摘牌")


@pytest.mark.parametrize(
    ("text", "deadline"),
    [
        ("please finish the land deal by Oct 30", d(30)),
        ("complete the land transfer within 5 working days", d(14)),
        ("finish site selection by next Friday", d(16)),
        ("speed up the land transfer", d(14)),
    ],
)
async def test_english_deadlines_and_the_echo(h: Harness, text: str, deadline: date) -> None:
    await h.send(LEADER, "/lang en")
    iid, reply = await give(h, text)
    assert (await stored(h, iid)).deadline == deadline
    assert f"Instruction #{iid} sent to 城东街道, responsible for XNY01; due {deadline}" in reply
    assert ("default of 5 working days" in reply) is text.startswith("speed")


async def test_the_unit_gets_it_with_its_buttons(h: Harness) -> None:
    await h.send(HEAD, "/lang en")
    iid, _ = await give(h, "3个工作日内完成土地摘牌")
    note = h.api.texts(OFFICER)[-1]
    assert f"领导批示 #{iid}" in note and "刘市长" in note and "3个工作日内完成土地摘牌" in note
    assert "请于 2026-10-12 前办结" in note and f"/fulfil {iid}" in note
    buttons = [f"in:ack:{iid}", f"go:fulfil:{iid}", f"go:extend:i:{iid}"]
    assert h.api.buttons(OFFICER) == buttons
    # the head reads it in English, with the same buttons
    assert f"Leader's instruction #{iid}" in h.api.texts(HEAD)[-1]
    assert h.api.buttons(HEAD) == buttons
    labels = [
        b["text"] for row in h.api.sent(HEAD)[-1]["reply_markup"]["inline_keyboard"] for b in row
    ]
    assert labels == ["✔ Acknowledge", "✅ Report done", "⏳ More time"]
    # other units hear nothing of it
    assert not about(h, OTHER_OFFICER, iid) and not about(h, LAND_OFFICER, iid)


# --- acknowledged --------------------------------------------------------------------------


async def test_acknowledged_by_the_button_and_by_text(h: Harness) -> None:
    first, _ = await give(h, "3个工作日内完成土地摘牌")
    second, _ = await give(h, "月底前完成供电线路迁改")
    third, _ = await give(h, "加快环评")
    reply = await h.press(OFFICER, f"in:ack:{first}")
    assert f"已收到批示 #{first}" in reply[0] and "2026-10-12" in reply[0]
    assert "已经收到过了" in (await h.press(HEAD, f"in:ack:{first}"))[0]
    assert f"已收到批示 #{second}" in (await h.send(HEAD, f"/ack i{second}"))[0]
    assert f"已收到批示 #{third}" in (await h.send(OFFICER, f"/ack 批示＃{third}"))[0]
    for iid in (first, second, third):
        assert (await stored(h, iid)).acknowledged_at is not None
    # /ack with a bare number is still a problem's
    assert "找不到问题 #99" in (await h.send(OFFICER, "/ack 99"))[0]
    assert "i批示号" in (await h.send(OFFICER, "/ack"))[0]


# --- the daily prompt, every working day until done ---------------------------------------


async def test_in_the_units_prompt_each_working_day_until_done(h: Harness) -> None:
    iid, _ = await give(h, "月底前完成土地摘牌")
    ran = [day for day in (d(8), d(9), d(10), d(11), d(12)) if await run_day(h, day)]
    assert ran == [d(8), d(9), d(10), d(12)]
    prompts = texts_to(h, OFFICER, "今日提醒")
    assert len(prompts) == 4 and all(f"批示 #{iid}" in p for p in prompts)
    assert "待本单位办结的领导批示 1 个" in prompts[0]
    assert "刘市长，2026-10-31（周六） 前办结，待受理" in prompts[0]
    assert [f"in:ack:{iid}", f"go:fulfil:{iid}"] == h.api.buttons(OFFICER)[:2]
    assert texts_to(h, HEAD, "今日提醒")[-1].count(f"批示 #{iid}") == 1
    await h.press(OFFICER, f"in:ack:{iid}")
    await run_day(h, d(13))
    assert "已受理" in texts_to(h, OFFICER, "今日提醒")[-1]
    assert f"in:ack:{iid}" not in h.api.buttons(OFFICER)
    assert f"go:fulfil:{iid}" in h.api.buttons(OFFICER)
    # the other unit's prompt never carries it
    assert not about(h, OTHER_OFFICER, iid)
    h.clock.now = at(d(13), 11)
    await h.send(OFFICER, f"/fulfil {iid} 已完成土地摘牌")
    await run_day(h, d(14))
    assert not [x for x in texts_to(h, OFFICER, "今日提醒") if "2026-10-14" in x and f"#{iid}" in x]


# --- climbing on its own timers ---------------------------------------------------------------


def rule(given: date, deadline: date, today: date, acknowledged: bool) -> int:
    clock = InstructionClock(given, deadline, acknowledged)
    return instruction_target(clock, today, CAL, TH, INSTRUCTION_DAYS)


@pytest.mark.parametrize(
    ("deadline", "acknowledged", "today", "expected"),
    [
        (d(12), False, d(8), 0),  # the day it is given
        (d(12), False, d(9), 1),  # no receipt after a working day: the head
        (d(12), True, d(9), 0),  # acknowledged: nothing before the deadline
        (d(12), True, d(12), 0),  # the deadline day itself is not late
        (d(12), True, d(13), 1),  # 1 working day late
        (d(12), True, d(14), 2),  # 2
        (d(12), True, d(15), 3),  # 3: the leader
        (d(31), False, d(9), 0),  # a deadline beyond the term owes no early receipt
        (d(31), False, d(30), 0),
        (d(31), False, d(2, 11), 1),  # Saturday 31st is off: Monday is 1 working day late
        (d(14), False, d(9), 1),  # the term itself still owes the receipt
    ],
)
def test_the_rules(deadline: date, acknowledged: bool, today: date, expected: int) -> None:
    assert rule(THU, deadline, today, acknowledged) == expected


def test_a_missing_deadline_is_the_configured_term() -> None:
    clock = InstructionClock(THU, None, True)
    assert instruction_target(clock, d(14), CAL, TH, INSTRUCTION_DAYS) == 0
    assert instruction_target(clock, d(15), CAL, TH, INSTRUCTION_DAYS) == 1


async def test_the_receipt_then_one_step_a_day_past_the_deadline(h: Harness) -> None:
    iid, _ = await give(h, "3个工作日内完成土地摘牌")  # due Monday 12th
    levels = []
    for day in (8, 9, 10, 12, 13, 14, 15, 16):
        await run_day(h, d(day))
        levels.append(await level(h, iid))
    assert levels == [0, 1, 1, 1, 1, 2, 3, 3]
    # the receipt reaches the head, with the buttons to act on it
    blue = [x for x in about(h, HEAD, iid) if "已提级至单位负责人" in x]
    assert blue and "尚未受理" in blue[0] and "刘市长" in blue[0]
    buttons = h.api.all_buttons(HEAD)
    assert {f"in:ack:{iid}", f"go:fulfil:{iid}", f"go:extend:i:{iid}"} <= set(buttons)
    yellow = [x for x in about(h, HEAD, iid) if "已提级至招商服务中心" in x]
    assert yellow and "期限 2026-10-12（周一） 已过 2 个工作日" in yellow[0]
    # level 2 reaches the center's digest, level 3 the leaders'
    coord = [x for x in texts_to(h, COORD, "每日简报") if f"批示 #{iid}" in x]
    assert coord and "🟨批示" in coord[0] and "责任：城东街道" in coord[0]
    leader = texts_to(h, LEADER, "每日简报")
    assert "您批示、已逾期未办结的事项 1 个" in leader[-1]
    assert f"🟥批示 #{iid} XNY01 → 城东街道：期限 2026-10-12（周一），逾期 4 个工作日" in leader[-1]
    # his own instruction is not also listed as "climbed to you" on the day it reached him
    assert leader[-2].count(f"批示 #{iid}") == 1
    async with h.sessions() as s:
        steps = await s.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.entity == "instructions", AuditLog.entity_id == str(iid))
            .where(AuditLog.after["escalation_level"].isnot(None))
        )
    assert steps == 3


async def test_acknowledged_it_climbs_only_once_the_deadline_is_missed(h: Harness) -> None:
    iid, _ = await give(h, "加快推进土地摘牌")  # the default: Wednesday 14th
    await h.press(OFFICER, f"in:ack:{iid}")
    levels = []
    for day in (8, 9, 10, 12, 13, 14, 15, 16, 19, 20):
        await run_day(h, d(day))
        levels.append(await level(h, iid))
    assert levels == [0, 0, 0, 0, 0, 0, 1, 2, 3, 3]
    late = [x for x in about(h, HEAD, iid) if "已提级至单位负责人" in x]
    assert late and "期限 2026-10-14（周三） 已过 1 个工作日，尚未办结" in late[0]


async def test_a_later_deadline_owes_no_early_receipt(h: Harness) -> None:
    iid, _ = await give(h, "月底前完成土地摘牌")
    day = d(9)
    while day <= d(30):
        await run_day(h, day)
        assert await level(h, iid) == 0, day
        day += timedelta(days=1)
    await run_day(h, d(2, 11))
    assert await level(h, iid) == 1


async def test_none_on_holidays_and_never_more_than_a_step_a_day(h: Harness) -> None:
    h.clock.now = at(d(21, 9), 10)
    iid, reply = await give(h, "3个工作日内完成土地摘牌")  # Thursday 24 September
    assert "2026-09-24" in reply
    await h.press(OFFICER, f"in:ack:{iid}")
    # the bot was down from the 24th: National Day and the Mid-Autumn days pass
    for day in [d(25, 9), d(26, 9), d(27, 9), *(d(n) for n in range(1, 8))]:
        assert not await run_day(h, day), day
    assert await level(h, iid) == 0
    # four working days late on the 8th, yet one step a day: 1, 2, 3
    levels = []
    for day in (8, 9, 10):
        await run_day(h, d(day))
        levels.append(await level(h, iid))
    assert levels == [1, 2, 3]


# --- more time ---------------------------------------------------------------------------


async def test_more_time_asked_and_approved_starts_the_climb_over(h: Harness) -> None:
    iid, _ = await give(h, "3个工作日内完成土地摘牌")
    for day in (8, 9, 10, 12, 13, 14):
        await run_day(h, d(day))
    assert await level(h, iid) == 2
    h.clock.now = at(d(14), 11)
    asked = await h.press(OFFICER, f"go:extend:i:{iid}")
    assert f"批示 #{iid}（XNY01）" in asked[0] and "延期到的日期" in asked[0]
    again = await h.send(OFFICER, "今天")
    assert "必须晚于今天和原定日期" in again[0]
    replies = await h.send(OFFICER, "10月30日")
    assert "已提交延期申请" in replies[0] and "2026-10-30（周五）" in replies[0]
    listed = (await h.send(OFFICER, "/instructions"))[0]
    assert "延期待批" in listed
    ask = [x for x in h.api.texts(HEAD) if "延期申请" in x][-1]
    assert f"批示 #{iid}（XNY01）" in ask and "2026-10-12（周一）" in ask
    approve = next(b for b in h.api.buttons(HEAD) if b.startswith("xa:"))
    assert "没有权限" in (await h.press(OFFICER, approve))[0]
    approved = await h.press(HEAD, approve)
    assert "已批准" in approved[0] and "2026-10-30（周五）" in approved[0]
    assert "已批准" in h.api.texts(OFFICER)[-1]
    found = await stored(h, iid)
    assert found.deadline == d(30) and found.escalation_level == 0
    assert found.acknowledged_at is not None  # asking for time shows it was received
    day = d(15)
    while day <= d(30):
        await run_day(h, day)
        assert await level(h, iid) == 0, day
        day += timedelta(days=1)
    prompt = texts_to(h, OFFICER, "今日提醒")[-1]
    assert f"批示 #{iid}" in prompt and "2026-10-30（周五） 前办结" in prompt
    assert "2026-10-30（周五）" in (await h.send(OFFICER, "/instructions"))[0]
    await run_day(h, d(2, 11))
    assert await level(h, iid) == 1
    async with h.sessions() as s:
        ext = await s.scalar(select(Extension))
        assert ext is not None and ext.item_kind == "instruction"
        assert ext.status is ExtensionStatus.APPROVED and ext.old_date == d(12)


async def test_an_approval_of_more_time_can_be_undone(h: Harness) -> None:
    """The approver's Undo puts the old deadline, the request and the climb back."""
    iid, _ = await give(h, "3个工作日内完成土地摘牌")
    for day in (8, 9, 10, 12, 13):
        await run_day(h, d(day))
    before = await stored(h, iid)
    assert before.escalation_level == 1
    h.clock.now = at(d(13), 11)
    await h.press(OFFICER, f"go:extend:i:{iid}")
    await h.send(OFFICER, "10月30日")
    approve = next(b for b in h.api.buttons(HEAD) if b.startswith("xa:"))
    await h.press(HEAD, approve)
    assert (await stored(h, iid)).deadline == d(30)
    undo = next(b for b in h.api.buttons(HEAD) if b.startswith("un:"))
    undone = await h.press(HEAD, undo)
    assert "已撤销" in undone[0] and f"批示 #{iid}" in undone[0]
    found = await stored(h, iid)
    assert found.deadline == d(12) and found.escalation_level == 1
    async with h.sessions() as s:
        ext = await s.scalar(select(Extension))
        assert ext is not None and ext.status is ExtensionStatus.PENDING
    # Done meanwhile: the date stays, and Undo says so.
    await h.press(HEAD, approve)
    await h.send(OFFICER, f"/fulfil {iid} 已完成摘牌")
    undo = [b for b in h.api.buttons(HEAD) if b.startswith("un:")][-1]
    assert "不能撤销" in (await h.press(HEAD, undo))[0]
    assert (await stored(h, iid)).deadline == d(30)


async def test_a_coordinator_urges_an_instruction_until_it_is_done(h: Harness) -> None:
    iid, _ = await give(h, "3个工作日内完成土地摘牌")
    for typed in (f"/urge i{iid}", f"/urge 批示{iid}", f"/urge ｉ{iid}", f"/urge 批示＃{iid}"):
        h.api.clear()
        assert "通知了" in (await h.send(COORD, typed))[0], typed
        urged = [x for x in h.api.texts(OFFICER) if "催办" in x]
        assert len(urged) == 1 and f"批示 #{iid}（XNY01）" in urged[0], typed
        assert f"go:fulfil:{iid}" in h.api.buttons(OFFICER)
    # A bare number stays a problem's; an instruction's number may not exist as one.
    assert "问题" in (await h.send(COORD, f"/urge {iid + 100}"))[0]
    assert "没有权限" in (await h.send(OFFICER, f"/urge i{iid}"))[0]
    await h.send(OFFICER, f"/fulfil {iid} 已完成摘牌")
    h.api.clear()
    done = (await h.send(COORD, f"/urge i{iid}"))[0]
    assert "已报告办结" in done and not h.api.texts(OFFICER)
    async with h.sessions() as s:
        logged = await s.scalar(
            select(func.count()).where(AuditLog.action == "urge", AuditLog.entity == "instructions")
        )
    assert logged == 4


# --- done, and the leader told ---------------------------------------------------------------


async def test_reported_done_with_a_line_the_leader_is_told_and_it_stops(h: Harness) -> None:
    iid, _ = await give(h, "3个工作日内完成土地摘牌")
    for day in (8, 9):
        await run_day(h, d(day))
    assert await level(h, iid) == 1
    h.clock.now = at(d(9), 15)
    asked = await h.press(OFFICER, f"go:fulfil:{iid}")
    assert "办理情况" in asked[-1] and f"批示 #{iid}（XNY01）" in asked[-1]
    replies = await h.send(OFFICER, "已完成土地摘牌，待验收")
    assert f"已报告批示 #{iid}（XNY01）办结，刘市长 会收到通知" in replies[0]
    told = h.api.texts(LEADER)[-1]
    assert f"批示 #{iid} 已办结" in told and "城东街道 王专员：已完成土地摘牌，待验收" in told
    assert "原批示（2026-10-08（周四））：3个工作日内完成土地摘牌" in told
    found = await stored(h, iid)
    assert found.done_text == "已完成土地摘牌，待验收" and found.done_at is not None
    async with h.sessions() as s:
        officer = await s.scalar(select(Member).where(Member.tg_user_id == OFFICER))
        assert officer is not None and found.done_by_id == officer.id
    before = len(about(h, OFFICER, iid)) + len(about(h, HEAD, iid))
    for day in (10, 12, 13, 14, 15, 16):
        await run_day(h, d(day))
    assert await level(h, iid) == 1  # no more climbs
    assert len(about(h, OFFICER, iid)) + len(about(h, HEAD, iid)) == before  # no more prompts
    assert f"批示 #{iid}" not in (await h.send(LEADER, "/today"))[0]
    # done twice, or acknowledged or given more time after it, is refused
    assert "已报告办结" in (await h.send(HEAD, f"/fulfil {iid} 再报一次"))[0]
    assert "已报告办结" in (await h.press(HEAD, f"in:ack:{iid}"))[0]
    assert "已报告办结" in (await h.press(OFFICER, f"go:extend:i:{iid}"))[0]
    assert "没有未办结" in (await h.send(OFFICER, "/instructions"))[0]


async def test_the_typed_report_keeps_its_words_as_written(h: Harness) -> None:
    iid, _ = await give(h, "月底前完成选址")
    replies = await h.send(HEAD, f"/fulfil {iid}，选址已确定：A地块（120亩）")
    assert f"已报告批示 #{iid}" in replies[0]
    assert (await stored(h, iid)).done_text == "选址已确定：A地块（120亩）"
    # and typed after the picker, the id and the words in one answer
    other, _ = await give(h, "月底前完成环评")
    await h.send(OFFICER, "/fulfil")
    assert f"f:item:i:{other}" in h.api.buttons(OFFICER)
    await h.send(OFFICER, f"{other}，环评已批复")
    assert (await stored(h, other)).done_text == "环评已批复"
    assert "目前没有需要您办结的领导批示" in (await h.send(OFFICER, "/fulfil"))[0]


# --- who sees what --------------------------------------------------------------------------


async def test_instructions_for_each_role(h: Harness) -> None:
    east, _ = await give(h, "3个工作日内完成土地摘牌")
    west, _ = await give(h, "月底前完成规划调整", code="SW02")
    await h.press(OTHER_OFFICER, f"in:ack:{west}")
    for day in (8, 9, 10, 12, 13, 14):
        await run_day(h, d(day))
    h.clock.now = at(d(14), 11)
    officer = (await h.send(OFFICER, "/instructions"))[0]
    assert "未办结的领导批示 1 个" in officer
    assert f"1. 批示 #{east} <code>XNY01</code> → 城东街道（刘市长）" in officer
    assert "期限 2026-10-12（周一） · 逾期 2 个工作日" in officer
    assert "SW02" not in officer and "/fulfil" in officer
    assert [f"in:ack:{east}", f"go:fulfil:{east}"] == h.api.buttons(OFFICER)
    assert "XNY01" in (await h.send(HEAD, "/instructions"))[0]
    west_list = (await h.send(OTHER_OFFICER, "/instructions"))[0]
    assert "SW02" in west_list and "XNY01" not in west_list and "已受理" in west_list
    assert "没有未办结" in (await h.send(LAND_OFFICER, "/instructions"))[0]
    for uid in (COORD, LEADER):
        both = (await h.send(uid, "/instructions"))[0]
        assert "未办结的领导批示 2 个" in both
        # nearest deadline first, numbered
        assert both.index(f"1. 批示 #{east}") < both.index(f"2. 批示 #{west}")
        assert "待受理" not in both and "已受理" in both and "逾期 2 个工作日" in both
    assert "/fulfil" not in (await h.send(LEADER, "/instructions"))[0]  # leaders give them
    assert h.api.buttons(LEADER) == []
    await h.send(OTHER_OFFICER, "/lang en")
    english = (await h.send(OTHER_OFFICER, "/instructions"))[0]
    assert "1 open leader's instruction" in english and "acknowledged" in english


async def test_today_shows_the_units_instructions_and_the_leaders_overdue(h: Harness) -> None:
    iid, _ = await give(h, "3个工作日内完成土地摘牌")
    today = (await h.send(OFFICER, "/today"))[0]
    assert "待本单位办结的领导批示 1 个" in today and f"批示 #{iid} XNY01" in today
    assert f"in:ack:{iid}" in h.api.buttons(OFFICER)
    assert "您批示" not in (await h.send(LEADER, "/today"))[0]
    for day in (9, 10, 12, 13, 14):
        await run_day(h, d(day))
    h.clock.now = at(d(14), 11)
    leader = (await h.send(LEADER, "/today"))[0]
    assert "您批示、已逾期未办结的事项 1 个" in leader
    assert f"批示 #{iid} XNY01 → 城东街道：期限 2026-10-12（周一），逾期 2 个工作日" in leader
    assert "逾期未办结的领导批示 1 个" in leader  # the overview counts it too
    coord = (await h.send(COORD, "/today"))[0]
    assert "已升级到您这里的事项 1 个" in coord and f"🟨批示 #{iid}" in coord


async def test_the_card_shows_the_projects_open_instructions(h: Harness) -> None:
    iid, _ = await give(h, "月底前完成土地摘牌")
    card = (await h.send(OFFICER, "/project XNY01"))[0]
    assert "<b>领导批示</b>" in card
    assert f"批示 #{iid} [待受理] → 城东街道：月底前完成土地摘牌（期限 2026-10-31（周六））" in card
    assert "领导批示" not in (await h.send(COORD, "/project SW02"))[0]
    await h.send(OFFICER, f"/fulfil {iid} 已摘牌")
    assert "领导批示" not in (await h.send(OFFICER, "/project XNY01"))[0]


async def test_only_his_own_overdue_instructions_in_a_leaders_digest(h: Harness) -> None:
    async with h.sessions() as s:
        set_actor(s, None)
        lead = await s.scalar(select(Unit).where(Unit.kind == UnitKind.LEADERSHIP))
        assert lead is not None
        s.add(Member(tg_user_id=402, name="周副市长", unit_id=lead.id, role=Role.LEADER))
        await s.commit()
    mine, _ = await give(h, "3个工作日内完成土地摘牌")
    theirs, _ = await give(h, "3个工作日内完成规划调整", code="SW02", uid=402)
    for day in (9, 10, 12, 13):
        await run_day(h, d(day))
    digest = texts_to(h, LEADER, "每日简报")[-1]
    assert "您批示、已逾期未办结的事项 1 个" in digest
    assert f"批示 #{mine} XNY01" in digest and f"批示 #{theirs}" not in digest
    other = texts_to(h, 402, "每日简报")[-1]
    assert f"批示 #{theirs} SW02 → 城西镇" in other and f"批示 #{mine}" not in other
    # the first day it is not past the deadline yet, nothing of it is in the digest
    assert "您批示" not in texts_to(h, LEADER, "每日简报")[0]


# --- refused -------------------------------------------------------------------------------


async def test_a_forged_button_for_another_units_instruction_is_refused(h: Harness) -> None:
    iid, _ = await give(h, "3个工作日内完成土地摘牌")
    for data in (f"in:ack:{iid}", f"go:fulfil:{iid}", f"go:extend:i:{iid}"):
        reply = (await h.press(OTHER_OFFICER, data))[0]
        assert ("找不到批示" in reply or "找不到该事项" in reply) and "出错" not in reply, data
    assert "找不到批示 #99999" in (await h.press(OFFICER, "in:ack:99999"))[0]
    assert "按钮无效" in (await h.press(OFFICER, "in:ack:abc"))[0]
    assert "按钮无效" in (await h.press(OFFICER, "in:ack:13800138000"))[0]
    refused = (await h.press(LEADER, f"in:ack:{iid}"))[0]
    assert "没有权限" in refused and "请联系" in refused
    assert (await stored(h, iid)).acknowledged_at is None
    # a coordinator may act for any unit
    assert "已收到批示" in (await h.press(COORD, f"in:ack:{iid}"))[0]


async def test_bad_input_gets_a_clear_answer(h: Harness) -> None:
    assert "找不到批示 #999" in (await h.send(OFFICER, "/fulfil 999 已完成"))[0]
    assert "不是有效的编号" in (await h.send(OFFICER, "/fulfil abc"))[0]
    assert "找不到批示 #999" in (await h.send(OFFICER, "/ack i999"))[0]
    assert "目前没有需要您办结的领导批示" in (await h.send(OFFICER, "/fulfil"))[0]
    assert h.api.buttons(OFFICER) == []
    refused = (await h.send(LEADER, "/fulfil"))[0]
    assert "没有权限" in refused
    assert "没有权限" in (await h.send(OFFICER, "/instruct XNY01 加快"))[0]
    # a deadline already past: refused, and the text asked for again
    past = await h.send(LEADER, "/instruct XNY01 2026年10月1日前完成摘牌")
    assert "2026-10-01（周四） 已经过去" in past[0] and "批示内容" in past[-1]
    async with h.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Instruction)) == 0
    done = await h.send(LEADER, "月底前完成摘牌")
    assert "完成期限 2026-10-31" in done[0]
    assert "找不到项目" in (await h.send(LEADER, "/instruct NOPE01 加快"))[0]
    empty = await h.send(LEADER, "/instruct XNY01")
    assert "请输入批示内容" in empty[-1]
    await h.send(LEADER, "/cancel")
    long = await h.send(LEADER, "/instruct XNY01 " + "快" * 2001)
    assert "内容太长" in long[0]


# --- the leader who gave it, and only him, at the top step ---------------------------------

OTHER_LEADER = 402


async def add_leader(h: Harness, tg: int = OTHER_LEADER, name: str = "张副市长") -> None:
    async with h.sessions() as s:
        set_actor(s, None)
        lead = await s.scalar(select(Unit).where(Unit.kind == UnitKind.LEADERSHIP))
        assert lead is not None
        s.add(Member(tg_user_id=tg, name=name, unit_id=lead.id, role=Role.LEADER))
        await s.commit()


async def set_active(h: Harness, tg: int, active: bool) -> None:
    async with h.sessions() as s:
        set_actor(s, None)
        member = await s.scalar(select(Member).where(Member.tg_user_id == tg))
        assert member is not None
        member.active = active
        await s.commit()


async def test_an_instructions_top_step_is_the_leader_who_gave_it(h: Harness) -> None:
    await add_leader(h)
    async with h.sessions() as s:
        set_actor(s, None)
        project = await s.scalar(select(Project).where(Project.code == "XNY01"))
        officer = await s.scalar(select(Member).where(Member.tg_user_id == OFFICER))
        assert project is not None and officer is not None
        first = await s.scalar(
            select(Milestone).where(Milestone.project_id == project.id, Milestone.seq == 1)
        )
        assert first is not None
        first.planned_date = d(8)  # late from the 9th: level 3 on the 14th
        problem = Problem(
            project_id=project.id,
            raiser_id=officer.id,
            text="园区道路未贯通",
            category=ProblemCategory.UTILITIES,
            unit_id=h.ids["land"],
            reply_deadline=d(8),
            status=ProblemStatus.ACKNOWLEDGED,
            created_at=at(d(8), 8),
        )
        s.add(problem)
        await s.commit()
        pid = problem.id
    iid, _ = await give(h, "3个工作日内完成土地摘牌")  # 刘市长's, due Monday 12th
    await h.press(OFFICER, f"in:ack:{iid}")
    for day in (8, 9, 10, 12, 13, 14, 15):
        await run_day(h, d(day))
    assert await level(h, iid) == 3
    liu = texts_to(h, LEADER, "每日简报")
    zhang = texts_to(h, OTHER_LEADER, "每日简报")
    # The 14th: a milestone and a problem reach level 3, and every leader, as before.
    for digest in (liu[-2], zhang[-2]):
        assert "今日升级到您这里的事项 2 个" in digest
        assert "🟥XNY01 节点1「选址」" in digest and f"🟥问题 #{pid} XNY01" in digest
    # The 15th: the instruction reaches the leader who gave it, told once, as a climb.
    assert "今日升级到您这里的事项 1 个" in liu[-1] and "今日无新增" not in liu[-1]
    assert (
        f"🟥批示 #{iid} XNY01：3个工作日内完成土地摘牌（刘市长，期限 2026-10-12（周一），"
        "逾期 3 个工作日）· 责任：城东街道"
    ) in liu[-1]
    assert liu[-1].count(f"批示 #{iid}") == 1 and "您批示、已逾期未办结" not in liu[-1]
    # The other leader hears nothing of it, that day or any other.
    assert "今日无新增逾期和升级事项" in zhang[-1]
    assert not about(h, OTHER_LEADER, iid)
    # The next day it is one of his overdue instructions.
    await run_day(h, d(16))
    assert f"🟥批示 #{iid} XNY01 → 城东街道" in texts_to(h, LEADER, "每日简报")[-1]
    assert not about(h, OTHER_LEADER, iid)
    # /today: his own as climbed to him, once; the other leader's without it.
    h.clock.now = at(d(16), 11)
    mine = (await h.send(LEADER, "/today"))[0]
    assert "已升级到您这里的事项 3 个" in mine and mine.count(f"批示 #{iid}") == 1
    assert f"🟥批示 #{iid} XNY01：3个工作日内完成土地摘牌（刘市长" in mine
    assert "您批示、已逾期未办结" not in mine
    theirs = (await h.send(OTHER_LEADER, "/today"))[0]
    assert "已升级到您这里的事项 2 个" in theirs and f"批示 #{iid}" not in theirs
    assert "节点1「选址」" in theirs and f"问题 #{pid}" in theirs
    # The service center still sees it (level 2 and up are its).
    assert f"🟥批示 #{iid}" in (await h.send(COORD, "/today"))[0]


async def test_a_leader_who_left_leaves_his_instructions_to_every_leader(h: Harness) -> None:
    await add_leader(h)
    iid, _ = await give(h, "3个工作日内完成土地摘牌")
    await h.press(OFFICER, f"in:ack:{iid}")
    for day in (8, 9, 10, 12, 13, 14):
        await run_day(h, d(day))
    assert not about(h, OTHER_LEADER, iid)
    await set_active(h, LEADER, False)
    await run_day(h, d(15))
    digest = texts_to(h, OTHER_LEADER, "每日简报")[-1]
    assert "今日升级到您这里的事项 1 个" in digest and f"🟥批示 #{iid} XNY01" in digest
    h.clock.now = at(d(15), 11)
    assert f"🟥批示 #{iid} XNY01" in (await h.send(OTHER_LEADER, "/today"))[0]


# --- the leader told when more time moves his deadline ------------------------------------


async def test_the_leader_is_told_when_more_time_moves_his_deadline(h: Harness) -> None:
    iid, _ = await give(h, "3个工作日内完成土地摘牌")
    h.clock.now = at(d(9), 11)
    await h.press(OFFICER, f"go:extend:i:{iid}")
    await h.send(OFFICER, "10月30日")
    h.api.clear()
    async with h.sessions() as s:
        ext = await s.scalar(select(Extension).order_by(Extension.id.desc()))
        assert ext is not None
    await h.press(HEAD, f"xa:{ext.id}")
    told = h.api.texts(LEADER)
    assert len(told) == 1
    assert (
        f"您的批示 #{iid}（XNY01）期限由 2026-10-12（周一） 延至 2026-10-30（周五），"
        "李主任（城东街道）批准" in told[0]
    )
    assert "原批示：3个工作日内完成土地摘牌" in told[0]
    # Undone by the approver: told again, the old date back.
    undo = next(b for b in h.api.buttons(HEAD) if b.startswith("un:"))
    await h.press(HEAD, undo)
    back = h.api.texts(LEADER)[-1]
    assert f"您的批示 #{iid}（XNY01）的延期已被 李主任（城东街道）撤销" in back
    assert "期限由 2026-10-30（周五） 恢复为 2026-10-12（周一）" in back
    assert (await stored(h, iid)).deadline == d(12)
    # A refusal moves nothing, and tells the leader nothing.
    await h.press(HEAD, f"xr:{ext.id}")
    assert len(h.api.texts(LEADER)) == 2
    # A head's request is the service center's to approve; the leader reads English.
    await h.send(LEADER, "/lang en")
    other, _ = await give(h, "月底前完成供电线路迁改")
    await h.send(HEAD, f"/extend i:{other} 11月20日")
    async with h.sessions() as s:
        ext = await s.scalar(select(Extension).order_by(Extension.id.desc()))
        assert ext is not None and ext.item_id == other
    h.api.clear()
    await h.press(COORD, f"xa:{ext.id}")
    told = h.api.texts(LEADER)
    assert len(told) == 1
    assert f"Your instruction #{other} (XNY01) is now due 2026-11-20 (Fri) instead of" in told[0]
    assert "2026-10-31 (Sat)" in told[0] and "approved by 陈科长 (招商服务中心)" in told[0]


# --- a dropped project ----------------------------------------------------------------------


async def test_a_dropped_project_takes_no_instruction_and_keeps_its_open_ones(h: Harness) -> None:
    iid, _ = await give(h, "月底前完成土地摘牌")
    await h.send(COORD, "/stage XNY01 dropped")
    # Given before the project was dropped: still listed, marked, until reported done.
    listed = (await h.send(OFFICER, "/instructions"))[0]
    assert f"批示 #{iid} <code>XNY01</code>" in listed and "项目已终止，办结后请报告" in listed
    assert f"go:fulfil:{iid}" in h.api.buttons(OFFICER)
    assert "项目已终止" in (await h.send(LEADER, "/instructions"))[0]
    card = (await h.send(OFFICER, "/project XNY01"))[0]
    assert f"批示 #{iid} [项目已终止，办结后请报告] → 城东街道" in card
    # It no longer prompts or climbs.
    for day in (9, 10, 12):
        await run_day(h, d(day))
    assert not [x for x in texts_to(h, OFFICER, "今日提醒") if f"批示 #{iid}" in x]
    assert await level(h, iid) == 0
    # No new instruction on it: refused with the reason, nothing stored, nobody told.
    h.api.clear()
    refused = await h.send(LEADER, "/instruct XNY01 加快推进")
    assert len(refused) == 1 and "项目 XNY01 已终止，不能再下达批示" in refused[0]
    assert not h.api.texts(OFFICER) and not h.api.texts(HEAD)
    async with h.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Instruction)) == 1
    # …nor offered in the picker.
    await h.send(LEADER, "/instruct")
    assert h.api.buttons(LEADER) == ["f:project:SW02", "f:cancel"]
    await h.send(LEADER, "/cancel")
    await h.send(LEADER, "/lang en")
    assert "Project XNY01 was dropped" in (await h.send(LEADER, "/instruct XNY01 hurry"))[0]
    # The unit closes it, and the leader is told as ever.
    h.clock.now = at(d(12), 11)
    await h.send(OFFICER, f"/fulfil {iid} 项目已终止，摘牌不再办理")
    assert f"Instruction #{iid} done" in h.api.texts(LEADER)[-1]
    assert "没有未办结" in (await h.send(OFFICER, "/instructions"))[0]


# --- reported done by the service center --------------------------------------------------


async def test_reported_done_for_a_unit_names_the_reporters_own_unit(h: Harness) -> None:
    west, _ = await give(h, "月底前完成规划调整", code="SW02")
    h.api.clear()
    replies = await h.send(COORD, f"/fulfil {west} 已完成规划调整（服务中心代报）")
    assert f"已报告批示 #{west}（SW02）办结" in replies[0]
    told = h.api.texts(LEADER)[-1]
    assert "陈科长（招商服务中心，代城西镇）：已完成规划调整（服务中心代报）" in told
    assert "城西镇 陈科长" not in told
    # The unit hears that its instruction was reported done for it, and what was said.
    note = h.api.texts(OTHER_OFFICER)
    assert len(note) == 1
    assert f"批示 #{west}（SW02）已由 陈科长（招商服务中心）代本单位报告办结" in note[0]
    assert "办理情况：已完成规划调整（服务中心代报）" in note[0]
    assert not h.api.texts(OFFICER) and not h.api.texts(HEAD)
    # Reported by its own unit, nobody is told it was done for them.
    await h.send(LEADER, "/lang en")
    east, _ = await give(h, "月底前完成摘牌")
    h.api.clear()
    await h.send(OFFICER, f"/fulfil {east} 已摘牌")
    assert "城东街道, 王专员: 已摘牌" in h.api.texts(LEADER)[-1]
    assert not h.api.texts(HEAD)
    # In English, the reporter of another unit likewise.
    third, _ = await give(h, "月底前完成环评", code="SW02")
    await h.send(COORD, f"/fulfil {third} 环评已批复")
    assert "陈科长 (招商服务中心, for 城西镇): 环评已批复" in h.api.texts(LEADER)[-1]


# --- a deadline on a day off ------------------------------------------------------------------


async def test_a_deadline_on_a_day_off_is_kept_and_said(h: Harness) -> None:
    h.clock.now = at(d(3), 10)  # Saturday 3 October, National Day
    iid, reply = await give(h, "下周一前报送", code="SW02")
    assert (await stored(h, iid)).deadline == d(5)  # kept as written
    assert "完成期限 2026-10-05（周一）" in reply and "该日为国庆节假期" in reply
    # An ordinary weekend; the make-up Saturday and the default term are working days.
    h.clock.now = at(THU, 10)
    _, reply = await give(h, "10月17日前完成选址")
    assert "2026-10-17（周六） 该日为休息日，不是工作日" in reply
    for text in ("10月10日前完成选址", "加快推进选址"):
        _, reply = await give(h, text)
        assert "不是工作日" not in reply, text
    await h.send(LEADER, "/lang en")
    h.clock.now = at(d(3), 10)
    _, reply = await give(h, "finish by October 5")
    assert "is a day off (National Day)" in reply
    # A problem's deadline echo says it too.
    async with h.sessions() as s:
        land = await s.get(Unit, h.ids["land"])
        assert land is not None
    await h.send(OFFICER, "/problem XNY01 请下周一前答复用地指标")
    replies = await h.press(OFFICER, f"f:unit:{land.id}")
    assert "答复期限 2026-10-05（周一）" in replies[0] and "该日为国庆节假期" in replies[0]


# --- a project that changes hands ---------------------------------------------------------------


async def test_a_project_moved_by_the_ledger_takes_its_open_instructions(h: Harness) -> None:
    iid, _ = await give(h, "3个工作日内完成土地摘牌")
    done, _ = await give(h, "月底前完成选址")
    await h.send(OFFICER, f"/fulfil {done} 已完成选址")
    await run_day(h, d(9))
    assert await level(h, iid) == 1  # no receipt: the head of 城东街道 heard of it
    h.clock.now = at(d(9), 11)
    h.api.clear()
    csv = "code,name,industry,investment,unit\nXNY01,光伏组件<智造>基地,新能源,120000,城西镇\n"
    replies = await h.upload(COORD, csv.encode(), "台账.csv")
    assert "台账导入完成" in replies[0] and "更新 1 个" in replies[0]
    moved, closed = await stored(h, iid), await stored(h, done)
    assert moved.unit_id == h.ids["west"] and moved.escalation_level == 0
    assert closed.unit_id == h.ids["east"]  # done is done: it stays where it was carried out
    # The new unit's people are told at once by the import, with the buttons, and only once.
    assert [x for x in about(h, OTHER_OFFICER, iid) if "转交" in x]
    await run_day(h, d(10))
    note = [x for x in about(h, OTHER_OFFICER, iid) if "转交" in x]
    assert len(note) == 1
    assert "随项目由 城东街道 转交 城西镇 办理" in note[0] and "3个工作日内完成土地摘牌" in note[0]
    assert "请于 2026-10-12（周一） 前办结" in note[0]
    assert {f"in:ack:{iid}", f"go:fulfil:{iid}", f"go:extend:i:{iid}"} <= set(
        h.api.all_buttons(OTHER_OFFICER)
    )
    assert f"批示 #{iid}" in texts_to(h, OTHER_OFFICER, "今日提醒")[-1]
    # The old unit is no longer pressed: no prompt, no urge, not in its list.
    assert not [x for x in texts_to(h, OFFICER, "今日提醒") if f"批示 #{iid}" in x]
    assert "没有未办结" in (await h.send(OFFICER, "/instructions"))[0]
    h.api.clear()
    await h.send(COORD, f"/urge i{iid}")
    assert not h.api.texts(OFFICER) and about(h, OTHER_OFFICER, iid)
    await run_day(h, d(12))
    async with h.sessions() as s:
        notes = await s.scalar(
            select(func.count()).select_from(Outbox).where(Outbox.dedupe_key.startswith("moved:"))
        )
    assert notes == 1  # one person of 城西镇, one move
    # The new unit carries it out.
    assert "已报告" in (await h.send(OTHER_OFFICER, f"/fulfil {iid} 已摘牌"))[0]


async def test_the_new_unit_can_be_told_at_once_and_only_once(h: Harness) -> None:
    """The import tells the new unit itself; `tell_moved_instructions` (and the next tick)
    then find nothing more to tell."""
    iid, _ = await give(h, "月底前完成土地摘牌")
    await h.press(OFFICER, f"in:ack:{iid}")
    h.api.clear()
    csv = "code,name,industry,investment,unit\nXNY01,光伏组件<智造>基地,新能源,120000,城西镇\n"
    await h.upload(COORD, csv.encode(), "台账.csv")
    async with h.sessions() as s:
        assert await tell_moved_instructions(s, h.clock()) == 0
    note = h.api.texts(OTHER_OFFICER)
    assert len(note) == 1 and f"领导批示 #{iid}" in note[0] and "转交 城西镇" in note[0]
    # acknowledged already: no Acknowledge button, the other two
    assert h.api.buttons(OTHER_OFFICER) == [f"go:fulfil:{iid}", f"go:extend:i:{iid}"]
    await run_day(h, d(9))
    assert len([x for x in h.api.texts(OTHER_OFFICER) if "转交" in x]) == 1


# --- small things ------------------------------------------------------------------------------


async def test_numbers_too_large_for_an_id_are_unknown_instructions(h: Harness) -> None:
    assert "找不到批示 #99999999999" in (await h.send(OFFICER, "/ack i99999999999"))[0]
    assert "找不到批示 #99999999999" in (await h.send(OFFICER, "/fulfil 99999999999 已办"))[0]
    assert "找不到批示 #99999999999" in (await h.send(COORD, "/urge i99999999999"))[0]
    assert "不是有效的编号" in (await h.send(OFFICER, "/fulfil " + "9" * 40))[0]


async def test_today_lists_the_instructions_first_as_the_prompt_does(h: Harness) -> None:
    async with h.sessions() as s:
        set_actor(s, None)
        first = await s.scalar(select(Milestone).where(Milestone.seq == 1))
        assert first is not None
        first.planned_date = d(8)
        await s.commit()
    iid, _ = await give(h, "月底前完成土地摘牌")
    h.clock.now = at(d(9), 11)
    today = (await h.send(OFFICER, "/today"))[0]
    assert "已逾期节点 1 个" in today
    assert today.index(f"批示 #{iid}") < today.index("已逾期节点")
    await run_day(h, d(12))
    prompt = texts_to(h, OFFICER, "今日提醒")[-1]
    assert prompt.index(f"批示 #{iid}") < prompt.index("选址")


async def test_more_time_on_an_item_done_since_it_was_picked(h: Harness) -> None:
    iid, _ = await give(h, "3个工作日内完成土地摘牌")
    await h.send(OFFICER, "/extend")
    await h.press(OFFICER, f"f:item:i:{iid}")
    await h.send(HEAD, f"/fulfil {iid} 已完成")
    replies = await h.send(OFFICER, "10月30日")
    assert "已报告办结" in replies[0] and "按钮无效" not in replies[0]
    # a date that would be refused for its own sake: the item's state is what counts
    await h.send(OFFICER, "/extend")
    await h.press(OFFICER, "f:item:m:1")
    await h.send(HEAD, "/done XNY01 1")
    replies = await h.send(OFFICER, "今天")
    assert "节点 1 已于 2026-10-08 完成" in replies[0]
    assert "按钮无效" not in replies[0] and "延期日期" not in replies[0]
    async with h.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Extension)) == 0
    assert h.api.buttons(OFFICER)[-1:] != ["f:cancel"]  # the flow ended


# --- the store on both backends -------------------------------------------------------------


async def test_the_store_on_both_backends(session: AsyncSession) -> None:
    set_actor(session, None)
    lead = Unit(name="市领导", kind=UnitKind.LEADERSHIP)
    session.add(lead)
    await session.flush()
    center = Unit(name="中心", kind=UnitKind.CENTER, parent_id=lead.id)
    session.add(center)
    await session.flush()
    east = Unit(name="城东", kind=UnitKind.SUBDISTRICT, parent_id=center.id)
    west = Unit(name="城西", kind=UnitKind.TOWNSHIP, parent_id=center.id)
    session.add_all([east, west])
    await session.flush()
    leader = Member(tg_user_id=1, name="刘", unit_id=lead.id, role=Role.LEADER)
    officer = Member(tg_user_id=2, name="王", unit_id=east.id, role=Role.OFFICER)
    head = Member(tg_user_id=3, name="李", unit_id=east.id, role=Role.HEAD)
    other = Member(tg_user_id=4, name="赵", unit_id=west.id, role=Role.OFFICER)
    coord = Member(tg_user_id=5, name="陈", unit_id=center.id, role=Role.COORDINATOR)
    session.add_all([leader, officer, head, other, coord])
    session.add(Project(code="AB1", name="甲", industry="新能源", unit_id=east.id))
    await session.flush()
    given = at(THU, 10)

    with pytest.raises(Refused) as caught:
        await instructions.give(session, leader, "AB1", "加快", d(7), THU, given)
    assert caught.value.key == "err.instruction_past"
    with pytest.raises(Refused):
        await instructions.give(session, officer, "AB1", "加快", d(12), THU, given)
    first = await instructions.give(session, leader, "AB1", "3个工作日内摘牌", d(12), THU, given)
    second = await instructions.give(session, leader, "AB1", "月底前开工", d(30), THU, given)
    assert first.unit_id == east.id and first.escalation_level == 0

    assert [r.instruction.id for r in await instructions.open_for(session, officer)] == [
        first.id,
        second.id,
    ]
    assert await instructions.open_for(session, other) == []
    assert len(await instructions.open_for(session, coord)) == 2
    with pytest.raises(Refused) as caught:
        await instructions.acknowledge(session, other, first.id)
    assert caught.value.key == "err.unknown_instruction"
    with pytest.raises(Refused) as caught:
        await instructions.acknowledge(session, leader, first.id)
    assert caught.value.key == "err.not_allowed"
    _, changed = await instructions.acknowledge(session, officer, first.id, given)
    assert changed and not (await instructions.acknowledge(session, head, first.id))[1]

    tz = Config().city.tz
    for day in (d(12), d(13), d(14)):
        now = at(day)
        climbs = await schedule.escalate(
            session, day, now, tz, CAL, TH, 3, instruction_days=INSTRUCTION_DAYS
        )
        assert [c.kind for c in climbs] == (["instruction"] if day > d(12) else [])
    assert first.escalation_level == 2 and second.escalation_level == 0
    climbed = climbs[0]
    assert (climbed.unit_id, climbed.party, climbed.late) == (east.id, "刘", 2)
    lists = await schedule.unit_lists(session, d(14), at(d(14)), tz, soon_days=7, stale_days=14)
    assert [i.id for i in lists[east.id].instructions] == [first.id, second.id]
    assert [i.id for i in schedule.overdue_by_leader(lists, d(14))[leader.id]] == [first.id]
    mine = await agenda.agenda(session, leader, d(14), at(d(14)), soon_days=7, stale_days=14)
    assert [r.instruction.id for r in mine.given_overdue] == [first.id]
    assert mine.overview is not None and mine.overview.instructions == 1
    center_list = await agenda.agenda(session, coord, d(14), at(d(14)), soon_days=7, stale_days=14)
    assert [r.instruction.id for r in center_list.climbed_instructions] == [first.id]

    # more time, approved: the model's event starts the climb over
    ext, item = await extensions.request(session, officer, "instruction", first.id, d(23), d(14))
    assert item.kind == "instruction" and item.due == d(12)
    assert [r.pending for r in await instructions.open_for(session, officer)] == [True, False]
    assert [(e.id, i.id) for e, i, _ in await extensions.pending_for(session, head)] == [
        (ext.id, first.id)
    ]
    ext, _, _ = await extensions.decide(session, head, ext.id, True, d(14))
    assert ext.status is ExtensionStatus.APPROVED
    assert first.deadline == d(23) and first.escalation_level == 0 and first.escalated_at is None

    done = await instructions.report_done(session, head, first.id, " 已摘牌 ", at(d(15)))
    assert (done.done_text, done.done_by_id) == ("已摘牌", head.id)
    with pytest.raises(Refused) as caught:
        await instructions.report_done(session, officer, first.id, "再报")
    assert caught.value.key == "err.instruction_done"
    assert [r.instruction.id for r in await instructions.open_for(session, officer)] == [second.id]
    assert (await instructions.leader_of(session, first)) is leader

    # The project changes hands: its open instruction follows it, the done one stays.
    project = await session.scalar(select(Project).where(Project.code == "AB1"))
    assert project is not None
    second.escalation_level = 2
    project.unit_id = west.id
    moved = await instructions.follow_project(session, project, east.id)
    assert [i.id for i in moved] == [second.id]
    assert (second.unit_id, second.escalation_level) == (west.id, 0)
    assert first.unit_id == east.id
    told = await schedule.moved_instructions(session)
    assert [(m.id, m.from_unit, m.unit_id) for m in told] == [(second.id, east.id, west.id)]
    assert await instructions.follow_project(session, project, west.id) == []


# --- the demo --------------------------------------------------------------------------------


async def test_the_demo_shows_one_overdue_and_one_new(session: AsyncSession) -> None:
    today = date(2026, 3, 2)
    city = await build_demo(session, today)
    # The past's instructions are all done; only today's two are open.
    open_ = select(Instruction).where(Instruction.done_at.is_(None)).order_by(Instruction.id)
    found = (await session.scalars(open_)).all()
    assert len(found) == 2
    late, new = found
    assert late.deadline is not None and late.deadline < today
    assert late.acknowledged_at is not None and late.escalation_level == 2
    assert new.deadline is not None and new.deadline > today
    assert new.acknowledged_at is None and new.escalation_level == 0
    officer = await session.scalar(
        select(Member).where(Member.tg_user_id == city.officer.tg_user_id)
    )
    assert officer is not None
    todo = await agenda.agenda(session, officer, today, at(today), soon_days=7, stale_days=14)
    assert [r.instruction.id for r in todo.instructions] == [new.id]


# --- a date just passed, typed without its year ----------------------------------------------


async def test_a_day_just_passed_in_the_text_is_refused_not_taken_as_next_years(
    h: Harness,
) -> None:
    """10月1日 on 8 October is a week ago: refused and asked again, not 1 October 2027,
    and not the default term as if the text held no date; 10-15 is read as 15 October."""
    for text in ("10月1日前完成摘牌", "请于9月30日前报送", "10.1完成摘牌", "Oct 1前反馈"):
        past = await h.send(LEADER, f"/instruct XNY01 {text}")
        assert "已经过去" in past[0] and "文中未写期限" not in past[0], text
        assert "批示内容" in past[-1]
        await h.send(LEADER, "/cancel")
    async with h.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Instruction)) == 0
    iid, said = await give(h, "10-15前完成摘牌")
    assert "完成期限 2026-10-15" in said
    assert (await stored(h, iid)).deadline == d(15)
    iid, said = await give(h, "截至10月20日")
    assert (await stored(h, iid)).deadline == d(20)
    iid, said = await give(h, "截至9月30日累计完成投资8亿，继续加快")
    assert "文中未写期限" in said  # a figure as of a past day: no deadline


async def test_more_time_to_a_day_just_passed_is_asked_again(h: Harness) -> None:
    iid, _ = await give(h, "3个工作日内完成土地摘牌")
    h.clock.now = at(d(14), 11)
    await h.press(OFFICER, f"go:extend:i:{iid}")
    again = await h.send(OFFICER, "10月13日")  # yesterday: not 13 October 2027
    assert "2026-10-13（周二） 已经过去" in again[0] and "延期到的日期" in again[-1]
    async with h.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Extension)) == 0
    replies = await h.send(OFFICER, "10-30")
    assert "已提交延期申请" in replies[0] and "2026-10-30（周五）" in replies[0]


async def test_every_date_said_back_warns_of_a_day_off(h: Harness) -> None:
    """/due, a request for more time and its approval name a day off as /instruct does."""
    due = await h.send(COORD, "/due XNY01 1 10月18日")  # a Sunday
    assert "2026-10-18（周日）" in due[0] and "休息日" in due[0]
    holiday = await h.send(COORD, "/due XNY01 1 2027-01-01")
    assert "元旦" in holiday[0]
    workday = await h.send(COORD, "/due XNY01 1 10月19日")
    assert "休息日" not in workday[0] and "假期" not in workday[0]
    iid, _ = await give(h, "3个工作日内完成土地摘牌")
    await h.press(OFFICER, f"go:extend:i:{iid}")
    asked = await h.send(OFFICER, "10月25日")  # a Sunday
    assert "已提交延期申请" in asked[0] and "休息日" in asked[0]
    approve = next(b for b in h.api.buttons(HEAD) if b.startswith("xa:"))
    approved = await h.press(HEAD, approve)
    assert "已批准" in approved[0] and "休息日" in approved[0]
