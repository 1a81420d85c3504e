"""Stored state of half-done guided flows (the bot's PTB persistence reads and writes it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import core, upsert
from storage.models import ChatState, utcnow


async def load(session: AsyncSession, scope: str) -> dict[str, Any]:
    """Every key's data in SCOPE."""
    rows = await session.scalars(select(ChatState).where(ChatState.scope == scope))
    return {row.key: row.data for row in rows}


async def save(session: AsyncSession, scope: str, key: str, data: Any) -> None:
    """Keep DATA (JSON-able) under SCOPE and KEY; None forgets the key. One statement:
    this runs with every step of every guided flow."""
    if data is None:
        await core(session, delete(ChatState).where(ChatState.scope == scope, ChatState.key == key))
        return
    now = utcnow()
    stmt = upsert(session, ChatState).values(scope=scope, key=key, data=data, updated_at=now)
    await core(
        session,
        stmt.on_conflict_do_update(
            index_elements=["scope", "key"], set_={"data": data, "updated_at": now}
        ),
    )
