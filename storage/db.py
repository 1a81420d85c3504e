"""Engine and session factory. Callers open sessions (one per update or job); helpers never do."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage import audit as _audit  # noqa: F401  (registers the audit hook on every Session)

SessionMaker = async_sessionmaker[AsyncSession]
T = TypeVar("T")
log = logging.getLogger(__name__)


def normalise_url(url: str) -> str:
    """Accept plain `sqlite:///` and `postgresql://` URLs and pick the async driver for them."""
    u = make_url(url)
    if u.drivername in ("sqlite", "sqlite+pysqlite"):
        u = u.set(drivername="sqlite+aiosqlite")
    elif u.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        u = u.set(drivername="postgresql+asyncpg")
    return u.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for the URL; SQLite gets foreign keys, WAL and a busy timeout."""
    url = normalise_url(url)
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            # WAL lets the scheduler read while a handler writes; the timeout waits out a writer.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=5000")
            cur.close()

    return engine


def make_sessionmaker(engine: AsyncEngine) -> SessionMaker:
    return async_sessionmaker(engine, expire_on_commit=False)


def upsert(session: AsyncSession, model: type[Any]) -> Any:
    """An INSERT into MODEL's table in the session's dialect, so that the caller can add
    `on_conflict_do_nothing` or `on_conflict_do_update` (PostgreSQL and SQLite spell
    them alike in SQLAlchemy)."""
    dialect = session.bind.dialect.name if session.bind is not None else ""
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"no upsert for the {dialect!r} store")  # pragma: no cover


async def core(session: AsyncSession, statement: Any, params: Any = None) -> Any:
    """Run a Core INSERT, UPDATE or DELETE in the session's transaction, past the ORM.

    For the rows written on every update (the inbox's marks, the outbox's rows and marks,
    a flow's state) whose objects no session holds: the ORM's bulk path would first look
    for them among the session's objects to keep those in step, about half the cost of
    the statement. Returns the CursorResult.
    """
    connection = await session.connection()
    return await connection.execute(statement, params)


async def refresh_statistics(session: AsyncSession) -> None:
    """Let SQLite re-ANALYZE the tables whose size has moved since their statistics were
    taken (`PRAGMA optimize`, as sqlite.org advises for long-lived connections); nothing
    on PostgreSQL, whose autovacuum does it. See storage.migrate.analyse_sqlite."""
    if session.bind is not None and session.bind.dialect.name == "sqlite":
        await session.execute(text("PRAGMA optimize"))


def set_actor(session: AsyncSession, member_id: int | None) -> None:
    """Name the member whose changes this session will write to the audit log."""
    session.info["actor_id"] = member_id


def lost_connection(exc: BaseException) -> bool:
    """Whether EXC is the store's connection dropping (or SQLite's lock not coming free in
    time): a failure that running the same transaction again on a new connection cures."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        if isinstance(exc, OperationalError) and "database is locked" in str(exc.orig):
            return True
        orig = exc.orig
        # asyncpg raises these when the server went away or the socket broke mid-query.
        return type(orig).__name__ in _DROPPED or isinstance(orig, ConnectionError | OSError)
    return isinstance(exc, ConnectionError)


# SQLSTATE of a deadlock and of a serialization failure (PostgreSQL): the transaction
# may well pass if run again a moment later.
_TRY_AGAIN = frozenset({"40P01", "40001"})


def deadlocked(exc: DBAPIError) -> bool:
    """Whether EXC is PostgreSQL's deadlock or serialization failure."""
    return getattr(exc.orig, "sqlstate", None) in _TRY_AGAIN


_DROPPED = frozenset(
    {
        "ConnectionDoesNotExistError",
        "ConnectionFailureError",
        "InterfaceError",
        "AdminShutdownError",
        "CannotConnectNowError",
    }
)


async def retrying(sessions: SessionMaker, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run WORK in a new session and commit it; once more, on a new connection, if the
    connection dropped (`lost_connection`). Any other error, or a second drop, is raised.

    WORK must be safe to run twice: the first run's transaction was rolled back.
    """
    for attempt in (1, 2):
        try:
            async with sessions() as session:
                result = await work(session)
                await session.commit()
                return result
        except Exception as exc:
            if attempt == 2 or not lost_connection(exc):
                raise
            log.warning("the store's connection dropped; trying once more: %s", exc)
    raise AssertionError("unreachable")  # pragma: no cover
