"""Unlinking a unit's work group that removed the bot, and telling its head and the
coordinators once. Below both the handlers and the sender, which each learn of a removal
their own way (a `my_chat_member` update, a 403 from the group)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.texts import t
from storage.db import set_actor
from storage.models import Role, Unit
from storage.outbox import Message, enqueue
from storage.people import members_with_role, unit_members, unlink_chat


async def removed_notices(
    session: AsyncSession, unit: Unit, chat_id: int, at: datetime
) -> list[Message]:
    """One notice to each reachable head of UNIT and each coordinator, in their language.

    The key names the chat, the event and the day (AT, UTC): the same removal told twice
    (the update and a 403, a retried update) is queued once; a later removal after a new
    /link is told again.
    """
    heads = await unit_members(session, unit.id, [Role.HEAD])
    people = {m.id: m for m in [*heads, *await members_with_role(session, Role.COORDINATOR)]}
    return [
        Message(
            key=f"group-removed:{chat_id}:{m.id}:{at.date().isoformat()}",
            chat_id=m.tg_user_id,
            kind="group_removed",
            text=t(m.lang, "note.group_removed", unit=unit.name),
            member_id=m.id,
            not_before=at,
        )
        for m in people.values()
        if m.reachable
    ]


async def bot_left(session: AsyncSession, chat_id: int, at: datetime) -> Unit | None:
    """Unlink the group CHAT_ID from its unit and queue the notices; None if no unit had it.

    The caller commits. The system acts here (the audit log names no member).
    """
    set_actor(session, None)
    unit = await unlink_chat(session, chat_id)
    if unit is not None:
        await enqueue(session, await removed_notices(session, unit, chat_id, at), at)
    return unit
