"""Who the active process is, for everyone to read (bot.lease holds the lock itself)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Lease

ACTIVE = "active"


@dataclass(frozen=True)
class Holder:
    """The process that holds a lease: `host:pid`, since when, and its last sign of life."""

    holder: str
    since: datetime
    beat_at: datetime


async def took(session: AsyncSession, holder: str, now: datetime, name: str = ACTIVE) -> None:
    """Record that HOLDER (`host:pid`) became the active process at NOW (UTC)."""
    row = await session.get(Lease, name)
    if row is None:
        session.add(Lease(name=name, holder=holder[:200], since=now, beat_at=now))
    else:
        row.holder, row.since, row.beat_at = holder[:200], now, now


async def beat(session: AsyncSession, holder: str, now: datetime, name: str = ACTIVE) -> None:
    """The holder is alive at NOW (UTC)."""
    await session.execute(
        update(Lease).where(Lease.name == name, Lease.holder == holder[:200]).values(beat_at=now)
    )


async def current(session: AsyncSession, name: str = ACTIVE) -> Holder | None:
    """Who holds the lease, as last recorded; None if no process ever took it."""
    row = (
        await session.execute(
            select(Lease.holder, Lease.since, Lease.beat_at).where(Lease.name == name)
        )
    ).first()
    return Holder(*row) if row is not None else None
