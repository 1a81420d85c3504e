"""The inbox: every update Telegram sends, kept before it is confirmed, until it is handled.

The bot confirms a batch of updates to Telegram (by asking for the next one, or by
answering a webhook with 200) only once the batch is committed here, and marks each row
done in the same transaction as the changes its handler made. A crash at any point
therefore leaves an update either handled and marked, or pending and handled again by the
next active process: none lost, none done twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import core, upsert
from storage.models import Inbox


@dataclass(frozen=True)
class Received:
    """One update as Telegram sent it (its JSON object), with what dedupes it."""

    update_id: int
    kind: str  # message, edited_message, callback_query… (the update's one field)
    payload: Mapping[str, Any]
    # A new message's chat and message id: the same message under a second update id is
    # a duplicate (two pollers, a redelivery after a crash). None for anything else.
    chat_id: int | None = None
    message_id: int | None = None


def received(payload: Mapping[str, Any]) -> Received:
    """Read an update's JSON object (a dict with `update_id` and one other field).

    Raises KeyError or ValueError for something that is not an update.
    """
    update_id = int(payload["update_id"])
    kinds = [k for k in payload if k != "update_id"]
    kind = kinds[0] if kinds else "unknown"
    chat_id = message_id = None
    if kind in ("message", "channel_post", "business_message"):
        message = payload[kind]
        chat_id = int(message["chat"]["id"])
        message_id = int(message["message_id"])
    return Received(update_id, kind[:30], dict(payload), chat_id, message_id)


async def keep(session: AsyncSession, updates: Sequence[Received], now: datetime) -> list[int]:
    """Store the updates not seen before; returns their update ids, in order.

    An update id already here, or a message (chat, message id) already here under
    another update id, is left out: the database's unique keys decide, so two processes
    storing the same update at once cannot both keep it. NOW is UTC.
    """
    if not updates:
        return []
    ids = [u.update_id for u in updates]
    before = set(await session.scalars(select(Inbox.update_id).where(Inbox.update_id.in_(ids))))
    rows = [
        {
            "update_id": u.update_id,
            "kind": u.kind,
            "chat_id": u.chat_id,
            "message_id": u.message_id,
            "payload": dict(u.payload),
            "received_at": now,
            "done_at": None,
        }
        for u in updates
        if u.update_id not in before
    ]
    if not rows:
        return []
    # One statement for the batch: the rows ON CONFLICT DO NOTHING let in come back
    # (SQLAlchemy's "insertmanyvalues" RETURNING), and which were kept is the point.
    stmt = upsert(session, Inbox).on_conflict_do_nothing().returning(Inbox.update_id)
    found = await core(session, stmt, rows)
    return sorted(int(uid) for uid in found.scalars())


async def pending(session: AsyncSession, limit: int = 500) -> list[tuple[int, dict[str, Any]]]:
    """Updates stored but not yet handled, oldest first: (update id, JSON object)."""
    result = await session.execute(
        select(Inbox.update_id, Inbox.payload)
        .where(Inbox.done_at.is_(None))
        .order_by(Inbox.update_id)
        .limit(limit)
    )
    return [(int(uid), dict(payload)) for uid, payload in result.all()]


async def finish(session: AsyncSession, update_id: int, now: datetime) -> bool:
    """Mark one update handled; False if it was handled already (or is not here).

    Called inside the handler's own transaction, so the mark and the changes it made
    commit together.
    """
    result = await core(
        session,
        update(Inbox)
        .where(Inbox.update_id == update_id, Inbox.done_at.is_(None))
        .values(done_at=now),
    )
    return bool(getattr(result, "rowcount", 0))


async def finish_many(session: AsyncSession, update_ids: Sequence[int], now: datetime) -> None:
    """Mark updates handled whose handlers wrote nothing (a stranger, a group's chatter)."""
    if update_ids:
        await core(
            session,
            update(Inbox)
            .where(Inbox.update_id.in_(list(update_ids)), Inbox.done_at.is_(None))
            .values(done_at=now),
        )


async def is_done(session: AsyncSession, update_id: int) -> bool:
    """Whether the update was handled already."""
    done = await session.scalar(select(Inbox.done_at).where(Inbox.update_id == update_id))
    return done is not None


async def last_update_id(session: AsyncSession) -> int | None:
    """The highest update id stored: getUpdates goes on after it."""
    found = await session.scalar(select(func.max(Inbox.update_id)))
    return int(found) if found is not None else None


async def prune(session: AsyncSession, before: datetime, keep_last: int = 1) -> int:
    """Forget handled updates older than BEFORE (UTC); returns how many.

    The newest KEEP_LAST rows stay whatever their age, so the next getUpdates still knows
    where to go on from.
    """
    newest = await session.scalar(
        select(Inbox.update_id).order_by(Inbox.update_id.desc()).offset(keep_last - 1).limit(1)
    )
    stmt = delete(Inbox).where(Inbox.done_at.is_not(None), Inbox.done_at < before)
    if newest is not None:
        stmt = stmt.where(Inbox.update_id < newest)
    result = await session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)
