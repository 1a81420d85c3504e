"""Stored state of half-done guided flows (the bot's PTB persistence reads and writes it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChatState


async def load(session: AsyncSession, scope: str) -> dict[str, Any]:
    """Every key's data in SCOPE."""
    rows = await session.scalars(select(ChatState).where(ChatState.scope == scope))
    return {row.key: row.data for row in rows}


async def save(session: AsyncSession, scope: str, key: str, data: Any) -> None:
    """Keep DATA under SCOPE and KEY; None forgets the key."""
    row = await session.scalar(
        select(ChatState).where(ChatState.scope == scope, ChatState.key == key)
    )
    if data is None:
        if row is not None:
            await session.delete(row)
    elif row is None:
        session.add(ChatState(scope=scope, key=key, data=data))
    else:
        row.data = data
