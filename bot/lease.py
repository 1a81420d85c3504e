"""Exactly one active process per bot: it fetches the updates, ticks and sends.

Two processes polling with one token get Telegram's 409 Conflict and may handle an update
twice; two tickers or senders may send twice. Every process first takes the lease; the
ones that cannot stand by and try again every `[serve] standby_interval` seconds.

- PostgreSQL: a session-level advisory lock, held on a connection of its own. When the
  holder dies, however it dies, its connection closes and the server frees the lock.
  When that connection closes under a holder that lives on (the server restarted, the
  backend was terminated), a standby may take the lock at once: `lost` is set the moment
  the connection closes, so that the holder stops working before the standby starts.
- SQLite: an exclusive lock (flock) on a file beside the store, which the kernel frees
  when the process dies. SQLite serves one machine, so that is enough.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import socket
import zlib
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

# High bits that mark the advisory lock as Wallchart's; the low ones are the bot's id.
_KEY_BASE = 0x5743 << 48


def holder_name() -> str:
    """This process as `host:pid`, as the health endpoint and the leases table show it."""
    return f"{socket.gethostname()}:{os.getpid()}"


def lock_key(token: str) -> int:
    """The advisory lock's key for the bot with TOKEN: one lease per bot, not per store."""
    bot_id = token.split(":", 1)[0]
    number = int(bot_id) if bot_id.isdigit() else zlib.crc32(token.encode())
    return _KEY_BASE | (number & ((1 << 48) - 1))


class Lease(Protocol):
    # Set when the lease is known to be gone without a check (its connection closed).
    lost: asyncio.Event

    async def try_take(self) -> bool:
        """Take the lease if it is free; True if this process now holds it."""

    async def still_held(self) -> bool:
        """Whether this process still holds it (its connection may have dropped)."""

    async def release(self) -> None:
        """Give it up (a clean stop); a dead process gives it up by dying."""


class AdvisoryLease:
    """PostgreSQL's pg_try_advisory_lock on a dedicated connection."""

    def __init__(self, engine: AsyncEngine, key: int) -> None:
        self.engine = engine
        self.key = key
        self.conn: AsyncConnection | None = None
        self.lost = asyncio.Event()
        self._listening: tuple[Any, Any] | None = None  # (asyncpg connection, listener)

    async def try_take(self) -> bool:
        conn = await self.engine.connect()
        try:
            # Autocommit: the lock belongs to the session and must not keep a transaction
            # open for as long as the process lives.
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            got = await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key})
        except BaseException:
            await conn.close()
            raise
        if got:
            self.conn = conn
            self.lost.clear()
            await self._watch(conn)
            return True
        await conn.close()
        return False

    async def _watch(self, conn: AsyncConnection) -> None:
        """Set `lost` as soon as the lock's connection closes: the holder checks the lock
        only every few seconds, and a standby may hold it well before then."""
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        if hasattr(driver, "add_termination_listener"):  # asyncpg's

            def closed(_connection: object) -> None:
                self.lost.set()

            driver.add_termination_listener(closed)
            self._listening = (driver, closed)

    async def still_held(self) -> bool:
        if self.conn is None:
            return False
        try:
            held = await self.conn.scalar(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND pid = pg_backend_pid() AND granted "
                    "AND ((classid::bigint << 32) | objid::bigint) = :k"
                ),
                {"k": self.key},
            )
        except Exception:
            return False
        return bool(held)

    async def release(self) -> None:
        if self._listening is not None:
            # The connection goes back to the pool: its closing later says nothing.
            driver, closed = self._listening
            driver.remove_termination_listener(closed)
            self._listening = None
        if self.conn is None:
            return
        with contextlib.suppress(Exception):
            await self.conn.scalar(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
        with contextlib.suppress(Exception):
            await self.conn.close()
        self.conn = None


class FileLease:
    """An exclusive flock on `<store>.lock`, for a SQLite store."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None
        # Never set: the kernel keeps the lock as long as this process lives.
        self.lost = asyncio.Event()

    async def try_take(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    async def still_held(self) -> bool:
        return self.fd is not None

    async def release(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def make_lease(url: str, engine: AsyncEngine, token: str) -> Lease:
    """The lease for the store at URL: an advisory lock on PostgreSQL, else a file lock.

    An in-memory SQLite store is one process's own: its lock file is in the current
    directory, named after the bot.
    """
    if engine.dialect.name == "postgresql":
        return AdvisoryLease(engine, lock_key(token))
    database = make_url(url).database or ""
    if database and database != ":memory:":
        return FileLease(Path(database + ".lock"))
    return FileLease(Path(f"wallchart-{lock_key(token):x}.lock"))
