"""Saying back a date before it counts (issue "Real-world input"): which date of several was
taken, and the one-tap Undo under every echo of a date, through the real Application."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from bot.dates import Deadline
from bot.handlers.undo import taken_note
from storage.models import (
    AuditLog,
    Extension,
    ExtensionStatus,
    Member,
    Milestone,
    Problem,
)
from tests.harness import COORD, HEAD, OFFICER, Harness, start_harness


async def planned(h: Harness, seq: int) -> date | None:
    async with h.sessions() as s:
        ms = await s.scalar(
            select(Milestone).where(Milestone.project_id == h.ids["p1"], Milestone.seq == seq)
        )
        assert ms is not None
        return ms.planned_date


async def member_id(h: Harness, tg: int) -> int:
    async with h.sessions() as s:
        found = await s.scalar(select(Member.id).where(Member.tg_user_id == tg))
        assert found is not None
        return int(found)


def undo_button(h: Harness, chat: int) -> str:
    found = [b for b in h.buttons(chat) if b.startswith("un:")]
    assert len(found) == 1, h.buttons(chat)
    return found[0]


async def test_due_is_said_back_with_undo_that_restores_and_is_logged(h: Harness) -> None:
    echo = await h.send(HEAD, "/due XNY01 3 下周五")
    assert "2027-03-01" in echo[0] and "2026-12-11" in echo[0]
    button = undo_button(h, HEAD)
    assert await planned(h, 3) == date(2026, 12, 11)
    h.clock.now += timedelta(minutes=9)
    said = await h.press(HEAD, button)
    assert "已撤销" in said[0] and "2027-03-01" in said[0]
    assert await planned(h, 3) == date(2027, 3, 1)
    # The undo is an update back in the audit trail, with its actor, and is taken once.
    head = await member_id(h, HEAD)
    async with h.sessions() as s:
        rows = (await s.scalars(select(AuditLog).order_by(AuditLog.id))).all()
    back = [r for r in rows if r.action == "update" and r.entity == "milestones"][-1]
    assert back.actor_id == head and back.after == {"planned_date": "2027-03-01"}
    assert sorted(r.action for r in rows[-2:]) == ["undo", "update"]
    assert "已经撤销过" in (await h.press(HEAD, button))[0]
    assert await planned(h, 3) == date(2027, 3, 1)


async def test_undo_is_refused_after_the_window(h: Harness) -> None:
    await h.send(HEAD, "/due XNY01 3 下周五")
    button = undo_button(h, HEAD)
    h.clock.now += timedelta(minutes=10, seconds=1)
    assert "已超过 10 分钟" in (await h.press(HEAD, button))[0]
    assert await planned(h, 3) == date(2026, 12, 11)


async def test_undo_is_refused_to_others_but_not_to_a_coordinator(h: Harness) -> None:
    await h.send(HEAD, "/due XNY01 3 下周五")
    button = undo_button(h, HEAD)
    assert "只有做出这项修改的人" in (await h.press(OFFICER, button))[0]
    assert await planned(h, 3) == date(2026, 12, 11)
    assert "已撤销" in (await h.press(COORD, button))[0]
    assert await planned(h, 3) == date(2027, 3, 1)


async def test_undo_is_refused_when_the_date_changed_again_meanwhile(h: Harness) -> None:
    await h.send(HEAD, "/due XNY01 3 下周五")
    first = undo_button(h, HEAD)
    await h.send(HEAD, "/due XNY01 3 月底")
    second = undo_button(h, HEAD)
    assert "再次修改" in (await h.press(HEAD, first))[0]
    assert await planned(h, 3) == date(2026, 12, 31)
    # Even when it was set back to the very value the undo expects.
    await h.send(HEAD, "/due XNY01 3 下周五")
    assert "再次修改" in (await h.press(HEAD, second))[0]
    assert await planned(h, 3) == date(2026, 12, 11)


async def test_undo_survives_a_restart(h: Harness) -> None:
    """What to restore is in the store: a new process over the same file undoes it."""
    await h.send(HEAD, "/due XNY01 3 下周五")
    button = undo_button(h, HEAD)
    again = await start_harness(h.url)
    try:
        again.clock.now = h.clock.now + timedelta(minutes=1)
        assert "已撤销" in (await again.press(HEAD, button))[0]
    finally:
        await again.stop()
    assert await planned(h, 3) == date(2027, 3, 1)


async def test_echo_says_which_of_several_dates_was_taken(h: Harness) -> None:
    echo = (await h.send(HEAD, "/due XNY01 3 12月8日至12日"))[0]
    assert "2026-12-12" in echo and "未取 2026-12-08" in echo
    assert "12月8日至12日" in echo
    plain = (await h.send(HEAD, "/due XNY01 3 2027-03-05"))[0]
    assert "文中有多个日期" not in plain
    note = taken_note("en", Deadline(date(2026, 12, 31), "月底", (date(2026, 12, 11),)))
    assert "took 2026-12-31" in note and "not 2026-12-11" in note


async def test_plan_undo_puts_every_moved_milestone_back(h: Harness) -> None:
    # The first plan adds the template's missing milestones: nothing to undo (no deletes).
    await h.send(COORD, "/plan XNY01 2027-12-31")
    assert not [b for b in h.buttons(COORD) if b.startswith("un:")]
    before = [await planned(h, n) for n in range(1, 7)]
    await h.send(COORD, "/plan XNY01 2027-09-30")
    button = undo_button(h, COORD)
    assert [await planned(h, n) for n in range(1, 7)] != before
    said = (await h.press(COORD, button))[0]
    assert "已撤销" in said
    assert [await planned(h, n) for n in range(1, 7)] == before


async def test_approved_extension_undo_restores_the_date_and_the_request(h: Harness) -> None:
    async with h.sessions() as s:
        ms1 = await s.scalar(
            select(Milestone.id).where(Milestone.project_id == h.ids["p1"], Milestone.seq == 1)
        )
    await h.press(OFFICER, f"go:extend:m:{ms1}")
    await h.send(OFFICER, "12月20日")
    approve = next(b for b in h.buttons(HEAD) if b.startswith("xa:"))
    echo = await h.press(HEAD, approve)
    assert "已批准" in echo[0]
    button = undo_button(h, HEAD)
    assert await planned(h, 1) == date(2026, 12, 20)
    said = await h.press(HEAD, button)
    assert "已撤销" in said[0] and "2026-11-20" in said[0] and "待审批" in said[0]
    assert await planned(h, 1) == date(2026, 11, 20)
    async with h.sessions() as s:
        ext = await s.scalar(select(Extension))
        assert ext is not None
        assert ext.status is ExtensionStatus.PENDING and ext.decided_by_id is None
    assert any("撤销了对您延期申请的批准" in x for x in h.api.texts(OFFICER))
    # The request can be decided again.
    assert "待您审批的延期申请 1 个" in (await h.send(HEAD, "/today"))[0]


async def test_problem_deadline_read_from_the_text_can_be_undone(h: Harness) -> None:
    await h.send(OFFICER, "/problem XNY01 用地指标还没有落实，请下周五前答复")
    unit = h.ids["land"]
    echo = await h.press(OFFICER, f"f:unit:{unit}")
    assert "2026-12-11" in echo[0]
    button = undo_button(h, OFFICER)
    said = await h.press(OFFICER, button)
    assert "已撤销" in said[0]
    async with h.sessions() as s:
        problem = await s.scalar(select(Problem))
        assert problem is not None
        # Back to the default term: reply_days working days from the day it was raised.
        default = h.app.bot_data["services"].calendar.add_workdays(
            date(2026, 12, 3), h.config.work.reply_days
        )
        assert problem.reply_deadline == default != date(2026, 12, 11)
    # A problem with no date in it has the default term and no Undo.
    await h.send(OFFICER, "/problem XNY01 环评审批还没有批下来")
    await h.press(OFFICER, f"f:unit:{unit}")
    assert not [b for b in h.buttons(OFFICER) if b.startswith("un:")]
