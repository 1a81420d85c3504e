"""A unit's work group that removed the bot: unlinked, told once, members told directly."""

from __future__ import annotations

import itertools
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.texts import t
from storage.models import AuditLog, Outbox, OutboxStatus, Problem, Unit
from storage.outbox import Message, enqueue
from tests.fakebot import BOT_USER, chat, user
from tests.harness import COORD, HEAD, LAND_OFFICER, NOW, OFFICER, Harness

EAST_GROUP, LAND_GROUP, OTHER_GROUP = -100, -300, -777
_ids = itertools.count(50_000)
FAR = NOW + timedelta(days=1)


def bot_status(chat_id: int, status: str, by: int = HEAD) -> dict[str, Any]:
    """A my_chat_member update: the bot's own status in CHAT_ID became STATUS."""
    new: dict[str, Any] = {"user": BOT_USER, "status": status}
    if status == "kicked":
        new["until_date"] = 0
    return {
        "update_id": next(_ids),
        "my_chat_member": {
            "chat": chat(chat_id, "group"),
            "from": user(by),
            "date": int(time.time()),
            "old_chat_member": {"user": BOT_USER, "status": "member"},
            "new_chat_member": new,
        },
    }


async def linked(h: Harness, name: str) -> int | None:
    async with h.sessions() as s:
        unit = await s.scalar(select(Unit).where(Unit.name == name))
        assert unit is not None
        return unit.chat_id


async def test_kicked_unlinks_and_tells_head_and_coordinators_once(h: Harness) -> None:
    await h.send(HEAD, "/link", chat_id=EAST_GROUP, kind="group")
    assert await linked(h, "城东街道") == EAST_GROUP
    h.api.clear()
    await h.process(bot_status(EAST_GROUP, "kicked"))
    assert await linked(h, "城东街道") is None
    expected = t("zh", "note.group_removed", unit="城东街道")
    assert "/link" in expected
    assert h.api.texts(HEAD) == [expected]
    assert h.api.texts(COORD) == [expected]
    # Officers are not told; nothing goes to the group that removed the bot.
    assert h.api.texts(OFFICER) == []
    assert h.api.texts(EAST_GROUP) == []
    # The same removal again (left this time) tells nobody anything more.
    await h.process(bot_status(EAST_GROUP, "left"))
    await h.process(bot_status(EAST_GROUP, "kicked"))
    assert len(h.api.texts(HEAD)) == 1 and len(h.api.texts(COORD)) == 1
    async with h.sessions() as s:
        audit = (
            await s.scalars(
                select(AuditLog)
                .where(AuditLog.entity_id == str(h.ids["east"]), AuditLog.action == "update")
                .order_by(AuditLog.id)
            )
        ).all()
        assert audit[-1].after == {"chat_id": None}


async def test_added_back_does_not_relink(h: Harness) -> None:
    await h.send(HEAD, "/link", chat_id=EAST_GROUP, kind="group")
    await h.process(bot_status(EAST_GROUP, "left"))
    h.api.clear()
    await h.process(bot_status(EAST_GROUP, "member"))
    assert await linked(h, "城东街道") is None
    assert h.api.texts() == []


async def raise_land_problem(h: Harness, text: str) -> None:
    await h.send(OFFICER, f"/problem XNY01 {text}")
    await h.press(OFFICER, f"f:unit:{h.ids['land']}")


async def test_left_group_next_notice_goes_to_members_only(h: Harness) -> None:
    await h.send(COORD, "/link 自然资源局", chat_id=LAND_GROUP, kind="group")
    await raise_land_problem(h, "用地指标还没有落实")
    # Linked: the group gets its copy beside the members.
    assert any("用地指标" in x for x in h.api.texts(LAND_GROUP))
    await h.process(bot_status(LAND_GROUP, "left", by=LAND_OFFICER))
    assert await linked(h, "自然资源局") is None
    # The land bureau has no head: the coordinators are told.
    assert h.api.texts(COORD)[-1] == t("zh", "note.group_removed", unit="自然资源局")
    h.api.clear()
    await raise_land_problem(h, "施工许可卡住了")
    assert any("施工许可" in x for x in h.api.texts(LAND_OFFICER))
    assert h.api.texts(LAND_GROUP) == []


async def test_a_403_from_the_group_unlinks_the_same_way(h: Harness) -> None:
    await h.send(COORD, "/link 自然资源局", chat_id=LAND_GROUP, kind="group")
    h.api.blocked.add(LAND_GROUP)
    await raise_land_problem(h, "用地指标还没有落实")
    assert await linked(h, "自然资源局") is None
    # The notice was queued by the drain that met the 403: the next drain sends it.
    await h.drain()
    assert h.api.texts(COORD)[-1] == t("zh", "note.group_removed", unit="自然资源局")
    async with h.sessions() as s:
        # The bot's own replies in the group went out at once; the notice met the 403.
        notices = select(Outbox).where(Outbox.chat_id == LAND_GROUP, Outbox.kind != "reply")
        rows = (await s.scalars(notices)).all()
        assert [r.status for r in rows] == [OutboxStatus.UNREACHABLE]
    # The next problem reaches the officer and tries the group no more.
    calls = len(h.api.calls)
    await raise_land_problem(h, "施工许可卡住了")
    assert any("施工许可" in x for x in h.api.texts(LAND_OFFICER))
    tried = [p for m, p in h.api.calls[calls:] if int(p.get("chat_id", 0)) == LAND_GROUP]
    assert tried == []
    assert sum("移出" in x for x in h.api.texts(COORD)) == 1
    async with h.sessions() as s:
        assert len((await s.scalars(select(Problem))).all()) == 2


async def test_pending_rows_to_the_group_are_closed_not_sent(h: Harness) -> None:
    await h.send(COORD, "/link 自然资源局", chat_id=LAND_GROUP, kind="group")
    async with h.sessions() as s:
        # A copy for the group still waiting (its members got their own copies).
        await enqueue(s, [Message("later", LAND_GROUP, "notice", "稍后", not_before=FAR)])
        await s.commit()
    await h.process(bot_status(LAND_GROUP, "kicked", by=LAND_OFFICER))
    async with h.sessions() as s:
        row = await s.scalar(select(Outbox).where(Outbox.dedupe_key == "later"))
        assert row is not None and row.status is OutboxStatus.UNREACHABLE
        assert row.last_error == "group removed the bot"
    h.clock.now = FAR
    await h.drain()
    assert "稍后" not in h.api.texts(LAND_GROUP)


async def test_an_unrelated_group_changes_nothing(h: Harness) -> None:
    await h.send(HEAD, "/link", chat_id=EAST_GROUP, kind="group")
    h.api.clear()
    await h.process(bot_status(OTHER_GROUP, "kicked"))
    await h.process(bot_status(OTHER_GROUP, "left"))
    assert await linked(h, "城东街道") == EAST_GROUP
    assert h.api.texts() == []
