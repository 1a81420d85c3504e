"""The scheduler over a frozen clock: the week after National Day 2026.

1–7 October are holidays, Saturday 10 October is a make-up working day, Sunday 11 is off.
Each "day" below sets the clock to 09:00 local and runs what the daily job runs.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot import scheduler
from bot.cli import main as cli_main
from bot.scheduler import due, next_prompt_at, run_tick, tick
from storage.db import set_actor
from storage.models import (
    AuditLog,
    Extension,
    ExtensionStatus,
    Milestone,
    Outbox,
    OutboxStatus,
    Problem,
    ProblemCategory,
    ProblemStatus,
    ProgressReport,
    Project,
    SchedulerRun,
)
from storage.workdays import WorkCalendar
from tests.harness import COORD, HEAD, LEADER, OFFICER, Harness, start_harness

TZ = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()


def at(d: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.combine(d, time(hour, minute), tzinfo=TZ).astimezone(UTC)


async def october(h: Harness) -> dict[str, int]:
    """Dates for the week: XNY01's milestone 1 due on Thursday 8 October, milestone 2 on
    Wednesday 14; a problem raised on the 8th for 城东街道 to answer; everything else fresh."""
    async with h.sessions() as s:
        set_actor(s, None)
        project = await s.scalar(select(Project).where(Project.code == "XNY01"))
        assert project is not None
        project.created_at = at(date(2026, 9, 30))
        project.last_progress_at = at(date(2026, 10, 8))
        sw = await s.scalar(select(Project).where(Project.code == "SW02"))
        assert sw is not None
        sw.created_at = sw.last_progress_at = at(date(2026, 10, 8))
        # In their order: without it, PostgreSQL returns rows as they lie in the table, which
        # after rows were deleted and added is not the order they were made in.
        milestones = select(Milestone).where(Milestone.project_id == project.id)
        ms = (await s.scalars(milestones.order_by(Milestone.seq))).all()
        ms[0].planned_date = date(2026, 10, 8)
        ms[1].planned_date = date(2026, 10, 14)
        ms[1].owner_unit_id = project.unit_id
        ms[2].planned_date = date(2027, 3, 1)
        problem = Problem(
            project_id=project.id,
            raiser_id=1,
            text="园区道路未贯通",
            category=ProblemCategory.UTILITIES,
            unit_id=project.unit_id,
            created_at=at(date(2026, 10, 8), 10),
        )
        s.add(problem)
        await s.commit()
        return {"problem": problem.id, "ms1": ms[0].id, "ms2": ms[1].id}


@pytest.fixture
async def h(h: Harness) -> Harness:
    """The sample city (conftest's `h`) in the week after National Day."""
    h.ids |= await october(h)
    return h


async def run_day(h: Harness, d: date, hour: int = 9) -> bool:
    """What the daily job does at HOUR on day D: tick if owed, commit, deliver."""
    h.clock.now = at(d, hour)
    if not due(h.config, CAL, h.clock.now):
        return False
    result = await run_tick(h.sessions, h.config, CAL, h.clock.now)
    await h.drain()
    return result.ran


def texts_to(h: Harness, chat: int, marker: str) -> list[str]:
    return [x for x in h.api.texts(chat) if marker in x]


async def level_of(h: Harness, model: type, item_id: int) -> int:
    async with h.sessions() as s:
        row = await s.get(model, item_id)
        assert row is not None
        return int(row.escalation_level)


WEEK = [date(2026, 10, d) for d in range(5, 15)]


async def test_prompts_on_working_days_only_including_the_make_up_saturday(h: Harness) -> None:
    ran = [d for d in WEEK if await run_day(h, d)]
    assert ran == [date(2026, 10, d) for d in (8, 9, 10, 12, 13, 14)]
    prompts = texts_to(h, OFFICER, "今日提醒")
    assert len(prompts) == 6  # one message a working day, never more
    assert "2026-10-10（周六）" in prompts[2]
    # leaders and coordinators get the digest instead of a prompt
    assert texts_to(h, LEADER, "今日提醒") == []
    assert len(texts_to(h, LEADER, "每日简报")) == 6
    assert len(texts_to(h, COORD, "每日简报")) == 6


async def test_before_prompt_time_nothing_is_owed(h: Harness) -> None:
    assert not await run_day(h, date(2026, 10, 9), hour=8)
    assert await run_day(h, date(2026, 10, 9), hour=9)


async def test_escalation_steps_at_the_right_days(h: Harness) -> None:
    pid, ms1 = h.ids["problem"], h.ids["ms1"]
    levels = {}
    for d in [*WEEK, date(2026, 10, 15)]:
        await run_day(h, d)
        levels[d.day] = (await level_of(h, Problem, pid), await level_of(h, Milestone, ms1))
    # The problem, raised Thu 8th with the configured 3 working days, must be answered by
    # Mon 12th (the make-up Saturday counts). Not acknowledged on Fri 9th: the head. Then
    # nothing climbs until the deadline is missed: 3 working days late (Thu 15th) it
    # reaches the service center. The milestone, due Thu 8th: 1 working day late on the
    # 9th, 3 on the 12th, 5 on the 14th.
    assert levels[8] == (0, 0)
    assert levels[9] == (1, 1)
    assert levels[10] == (1, 1)
    assert levels[12] == (1, 2)
    assert levels[13] == (1, 2)
    assert levels[14] == (1, 3)
    assert levels[15] == (2, 3)
    # one notice a day, however many items climbed: the problem and the milestone together
    blue = texts_to(h, HEAD, "已提级至单位负责人")
    assert len(blue) == 2 and "今日提级事项 2 个" in blue[0]  # the 9th; the 15th: milestone 2
    assert "问题 #" in blue[0] and "尚未受理" in blue[0] and "XNY01 节点1「选址」" in blue[0]
    yellow = texts_to(h, HEAD, "已提级至招商服务中心")
    assert len(yellow) == 2  # the milestone on the 12th, the problem on the 15th
    assert "答复期限 2026-10-12（周一） 已过 3 个工作日" in yellow[1]
    assert sum("今日提级" in x or "已提级" in x for x in h.api.texts(HEAD)) == 4  # 9, 12, 14, 15
    coord_digest = texts_to(h, COORD, "每日简报")
    assert "今日升级到您这里的事项 1 个" in coord_digest[3]  # Monday the 12th
    assert "待答复：城东街道" in coord_digest[-1]  # the 15th: the problem, naming its unit
    leader_digest = texts_to(h, LEADER, "每日简报")
    assert "🟥XNY01 节点1「选址」逾期 5 个工作日" in leader_digest[-2]


async def test_acknowledge_button_stops_the_first_climb(h: Harness) -> None:
    pid = h.ids["problem"]
    await run_day(h, date(2026, 10, 8))
    # the daily prompt already offers Acknowledge for a problem nobody acknowledged
    assert f"ack:{pid}" in h.api.all_buttons(OFFICER)
    reply = await h.press(OFFICER, f"ack:{pid}")
    assert "已受理问题" in reply[0]
    async with h.sessions() as s:
        problem = await s.get(Problem, pid)
        assert problem is not None and problem.status is ProblemStatus.ACKNOWLEDGED
    for d in (9, 10, 12):
        await run_day(h, date(2026, 10, d))
        assert await level_of(h, Problem, pid) == 0, d
    assert not texts_to(h, HEAD, f"问题 #{pid}")
    # acknowledging is not answering: a missed deadline still climbs
    await run_day(h, date(2026, 10, 13))
    assert await level_of(h, Problem, pid) == 1


async def test_a_restart_mid_week_repeats_nothing(h: Harness) -> None:
    await run_day(h, date(2026, 10, 9))
    sent_before = len(h.api.sent())
    # the same day again, as after a restart: the store says it is done
    assert not await run_day(h, date(2026, 10, 9), hour=15)
    assert len(h.api.sent()) == sent_before
    # a crash after the tick committed but before delivery: the outbox keeps the messages
    h.clock.now = at(date(2026, 10, 10))
    async with h.sessions() as s:
        await tick(s, h.config, CAL, h.clock.now)
        await s.commit()
    await h.stop()
    again = await start_harness(h.url)
    again.clock.now = h.clock.now
    try:
        assert not await run_day(again, date(2026, 10, 10), hour=10)
        await again.drain()
        saturday = texts_to(again, OFFICER, "今日提醒")
        assert len(saturday) == 1
        async with again.sessions() as s:
            keys = (await s.scalars(select(Outbox.dedupe_key))).all()
            assert len(keys) == len(set(keys))
            pending = await s.scalar(
                select(func.count()).where(Outbox.status == OutboxStatus.PENDING)
            )
            assert pending == 0
        # the escalation did not climb twice on one day either
        assert await level_of(again, Problem, again.ids.get("problem", h.ids["problem"])) == 1
    finally:
        await again.stop()
        h.app = again.app  # the fixture's stop() must not shut the first app down twice
        h.engine = again.engine


async def test_catch_up_once_when_the_bot_starts_late(h: Harness) -> None:
    """The JobQueue, started for real: at 11:00 on a working day with no tick, it ticks once."""
    h.clock.now = at(date(2026, 10, 9), 11)
    jobs = {j.name: j for j in h.app.job_queue.jobs()}
    assert jobs["daily-tick"].job.misfire_grace_time == 6 * 3600
    await h.app.start()
    try:
        for _ in range(100):
            async with h.sessions() as s:
                if await s.scalar(select(func.count()).select_from(SchedulerRun)):
                    break
            await asyncio.sleep(0.05)
        for _ in range(100):
            if texts_to(h, OFFICER, "今日提醒"):
                break
            await asyncio.sleep(0.05)
    finally:
        await h.app.stop()
    async with h.sessions() as s:
        runs = (await s.scalars(select(SchedulerRun))).all()
    assert [r.day for r in runs] == [date(2026, 10, 9)]
    assert len(texts_to(h, OFFICER, "今日提醒")) == 1


async def test_a_tick_that_stopped_midway_is_finished_by_the_catch_up_at_start(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process dies while the tick queues its messages, after the day's climbs were
    written: the bot started again finishes the day. Each gets one prompt, the head the
    notice of what climbed (rebuilt from the store), and nothing climbs a second time."""
    h.clock.now = at(date(2026, 10, 9))
    real = scheduler.enqueue
    calls = 0

    async def dies_at_the_second_chunk(*args: Any, **kwargs: Any) -> int:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise SystemExit("the process dies")
        return await real(*args, **kwargs)

    monkeypatch.setattr(scheduler, "enqueue", dies_at_the_second_chunk)
    with pytest.raises(SystemExit):
        await run_tick(h.sessions, h.config, CAL, h.clock.now, chunk=1)
    monkeypatch.undo()
    async with h.sessions() as s:
        run = await s.scalar(select(SchedulerRun))
        assert run is not None and run.finished_at is None
        assert await s.scalar(select(func.count()).select_from(Outbox)) == 1
    assert await level_of(h, Problem, h.ids["problem"]) == 1

    h.clock.now = at(date(2026, 10, 9), 10)
    await h.app.start()
    try:
        for _ in range(200):
            async with h.sessions() as s:
                run = await s.scalar(select(SchedulerRun))
            assert run is not None
            if run.finished_at is not None and texts_to(h, HEAD, "已提级至单位负责人"):
                break
            await asyncio.sleep(0.05)
    finally:
        await h.app.stop()
    await h.drain()
    assert len(texts_to(h, OFFICER, "今日提醒")) == 1
    blue = texts_to(h, HEAD, "已提级至单位负责人")
    assert len(blue) == 1 and "今日提级事项 2 个" in blue[0]
    assert len(texts_to(h, COORD, "每日简报")) == 1
    assert await level_of(h, Problem, h.ids["problem"]) == 1
    assert await level_of(h, Milestone, h.ids["ms1"]) == 1
    async with h.sessions() as s:
        runs = (await s.scalars(select(SchedulerRun))).all()
        keys = (await s.scalars(select(Outbox.dedupe_key))).all()
        changes = await s.execute(
            select(AuditLog.entity, AuditLog.entity_id, AuditLog.after).where(
                AuditLog.action == "update"
            )
        )
        climbs = [(e, i) for e, i, after in changes if after and "escalation_level" in after]
    assert [(r.day, r.finished_at is not None) for r in runs] == [(date(2026, 10, 9), True)]
    assert runs[0].messages == len(keys) == len(set(keys))
    assert sorted(climbs) == sorted(
        [("milestones", str(h.ids["ms1"])), ("problems", str(h.ids["problem"]))]
    )


async def test_a_failing_tick_is_tried_again_a_minute_later_a_few_times(
    h: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    h.clock.now = at(date(2026, 10, 9))

    async def fails(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the store went away")

    monkeypatch.setattr(scheduler, "run_tick", fails)
    queue = h.app.job_queue
    assert queue is not None
    for tried in (None, 1, scheduler.JOB_RETRIES):
        job = SimpleNamespace(data=tried)
        context = SimpleNamespace(bot_data=h.app.bot_data, job=job, job_queue=queue)
        await scheduler.daily_job(context)  # type: ignore[arg-type]
    retries = [j for j in queue.jobs() if j.name == "tick-retry"]
    assert sorted(j.data for j in retries) == [1, 2]  # the last try gave up
    for j in retries:  # a minute from now, by the job queue's own clock
        wait = (j.job.trigger.run_date - datetime.now(UTC)).total_seconds()
        assert scheduler.JOB_RETRY_SECONDS - 10 < wait <= scheduler.JOB_RETRY_SECONDS
    assert "the store went away" in caplog.text
    for j in retries:
        j.schedule_removal()


async def test_no_change_button_quiets_a_stale_project(h: Harness) -> None:
    await run_day(h, date(2026, 10, 26))  # XNY01's last report was on the 8th
    assert "nc:XNY01" in h.api.buttons(OFFICER)
    assert "已记录" in (await h.press(OFFICER, "nc:XNY01"))[0]
    async with h.sessions() as s:
        report = await s.scalar(select(ProgressReport))
        assert report is not None and report.kind == "no_change"
    await run_day(h, date(2026, 10, 27))
    assert "XNY01 光伏" not in texts_to(h, OFFICER, "今日提醒")[-1]
    assert "已查看，无变化" in (await h.send(OFFICER, "/project XNY01"))[0]


async def test_more_time_requested_by_an_officer_and_approved_by_the_head(h: Harness) -> None:
    await run_day(h, date(2026, 10, 9))
    ms1 = h.ids["ms1"]
    await h.press(OFFICER, f"go:extend:m:{ms1}")
    assert "延期到的日期" in h.api.texts(OFFICER)[-1]
    replies = await h.send(OFFICER, "下周五")
    assert "→ 2026-10-16（周五）" in replies[0] or "2026-10-16（周五）" in replies[0]
    ask = texts_to(h, HEAD, "延期申请")
    assert ask and "2026-10-16" in ask[-1]
    buttons = h.api.buttons(HEAD)
    assert buttons[0].startswith("xa:") and buttons[1].startswith("xr:")
    assert "没有权限" in (await h.press(OFFICER, buttons[0]))[0]
    assert "已批准" in (await h.press(HEAD, buttons[0]))[0]
    assert "已批准" in h.api.texts(OFFICER)[-1]
    async with h.sessions() as s:
        ms = await s.get(Milestone, ms1)
        ext = await s.scalar(select(Extension))
        assert ms is not None and ms.planned_date == date(2026, 10, 16)
        assert ms.escalation_level == 0
        assert ext is not None and ext.status is ExtensionStatus.APPROVED
    assert "已经处理过" in (await h.press(HEAD, buttons[1]))[0]
    # a leader sees everything but asks no unit's extension
    assert "没有权限" in (await h.press(LEADER, f"go:extend:m:{ms1}"))[0]


async def test_urge_sends_at_once_and_is_logged(h: Harness) -> None:
    assert "没有权限" in (await h.send(OFFICER, "/urge XNY01 1"))[0]
    replies = await h.send(COORD, "/urge XNY01 1")
    assert "已催办" in replies[0]
    assert texts_to(h, OFFICER, "催办") and texts_to(h, HEAD, "催办")
    assert h.api.buttons(OFFICER) == [f"md:{h.ids['ms1']}", f"go:extend:m:{h.ids['ms1']}"]
    async with h.sessions() as s:
        logged = await s.scalar(select(AuditLog).where(AuditLog.action == "urge"))
        assert logged is not None and logged.entity == "milestones"
    assert "已催办" in (await h.send(COORD, f"/urge {h.ids['problem']}"))[0]
    assert "用法" in (await h.send(COORD, "/urge"))[0]


async def test_done_button_on_a_notice(h: Harness) -> None:
    await run_day(h, date(2026, 10, 9))
    assert "已完成" in (await h.press(OFFICER, f"md:{h.ids['ms1']}"))[0]
    assert "找不到该事项" in (await h.press(OFFICER, "md:99999"))[0]


def test_next_prompt_time_skips_days_off() -> None:
    from bot.config import Config

    config = Config()
    assert next_prompt_at(config, CAL, at(date(2026, 9, 30), 10)) == datetime(
        2026, 10, 8, 9, 0, tzinfo=TZ
    )
    assert next_prompt_at(config, CAL, at(date(2026, 10, 9), 8)) == datetime(
        2026, 10, 9, 9, 0, tzinfo=TZ
    )


async def test_tick_command_dry_run_prints_by_member_and_saves_nothing(
    h: Harness, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "tick.toml"
    config.write_text(f'[store]\nurl = "{h.url}"\n')
    tick = ["--config", str(config), "tick", "--dry-run", "--at"]
    code = await asyncio.to_thread(cli_main, [*tick, "2026-10-12T09:00"])
    out = capsys.readouterr().out
    assert code == 0
    assert "=== 王专员 · 城东街道 · officer" in out
    assert "--- prompt" in out and "--- digest" in out and "--- notice" in out
    assert "[✔ 收到 #" in out
    assert "Dry run: nothing was saved" in out
    async with h.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(SchedulerRun)) == 0
        assert await s.scalar(select(func.count()).select_from(Outbox)) == 0
        assert await level_of(h, Problem, h.ids["problem"]) == 0
    code = await asyncio.to_thread(cli_main, [*tick, "2026-10-11T09:00"])
    assert code == 0
    assert "not a working day" in capsys.readouterr().out


async def test_every_climb_is_in_the_audit_log(h: Harness) -> None:
    await run_day(h, date(2026, 10, 9))
    async with h.sessions() as s:
        rows = (
            await s.scalars(
                select(AuditLog).where(AuditLog.action == "update").order_by(AuditLog.id)
            )
        ).all()
    climbed = {
        (r.entity, r.entity_id): r for r in rows if r.after and "escalation_level" in r.after
    }
    problem = climbed[("problems", str(h.ids["problem"]))]
    assert problem.before == {"escalation_level": 0, "escalated_at": None}
    assert problem.after is not None and problem.after["escalation_level"] == 1
    assert ("milestones", str(h.ids["ms1"])) in climbed


def test_digest_keeps_to_the_busiest_units() -> None:
    from bot.scheduler import DIGEST_UNITS, digest
    from storage.models import Stage

    counts = {f"单位{i:03}": {Stage.SIGNED: i} for i in range(1, 31)}
    text = digest("zh", date(2026, 10, 9), counts, [], [], {})
    assert "全市：0/465/0/0/0" in text
    assert "单位030：0/30/0/0/0" in text and "单位001" not in text
    assert f"另有 {30 - DIGEST_UNITS} 个单位" in text
