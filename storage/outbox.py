"""The notification outbox: write a message once, however often the tick that makes it runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Outbox, OutboxStatus, utcnow

Buttons = list[list[list[str]]]  # rows of [label, callback data]


@dataclass(frozen=True)
class Message:
    """One message for the outbox; `key` makes it unique (member, item, level, day…)."""

    key: str
    chat_id: int
    kind: str
    text: str
    member_id: int | None = None
    buttons: Buttons | None = None
    not_before: datetime | None = None


async def enqueue(
    session: AsyncSession, messages: Sequence[Message], now: datetime | None = None
) -> int:
    """Add the messages whose keys are new; returns how many were added.

    The insert skips existing keys in the database itself (ON CONFLICT DO NOTHING), so two
    scheduler processes or a tick run twice cannot queue a message twice.
    """
    if not messages:
        return 0
    keys = [m.key[:200] for m in messages]
    existing: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        existing |= set(
            await session.scalars(select(Outbox.dedupe_key).where(Outbox.dedupe_key.in_(chunk)))
        )
    fresh: dict[str, Message] = {}
    for m in messages:
        if m.key[:200] not in existing:
            fresh.setdefault(m.key[:200], m)
    if not fresh:
        return 0
    now = now or utcnow()
    rows = [
        {
            "dedupe_key": key,
            "chat_id": m.chat_id,
            "member_id": m.member_id,
            "kind": m.kind,
            "text": m.text,
            "buttons": m.buttons,
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "not_before": m.not_before or now,
            "created_at": now,
        }
        for key, m in fresh.items()
    ]
    dialect = session.bind.dialect.name if session.bind is not None else ""
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(Outbox).on_conflict_do_nothing(index_elements=["dedupe_key"])
    elif dialect == "sqlite":
        stmt = sqlite.insert(Outbox).on_conflict_do_nothing(index_elements=["dedupe_key"])
    else:  # pragma: no cover - only the two backends above are supported
        stmt = insert(Outbox)
    # Chunks keep each statement under the backends' parameter limits. Keys checked above
    # are skipped cheaply; the ON CONFLICT clause covers a concurrent writer.
    for start in range(0, len(rows), 500):
        await session.execute(stmt, rows[start : start + 500])
    return len(rows)


async def pending_count(session: AsyncSession) -> int:
    """Messages not yet sent nor given up."""
    return int(
        await session.scalar(select(func.count()).where(Outbox.status == OutboxStatus.PENDING)) or 0
    )
