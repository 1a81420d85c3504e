"""Alembic environment: runs the migrations over the async engine of the configured URL."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import event
from sqlalchemy.engine import Connection

from storage.db import make_engine
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode rebuilds a table by copying it; with foreign keys enforced, dropping
        # the old copy of a referenced table (members, units) would fail. SQLite ignores
        # this pragma inside a transaction, so it comes before Alembic begins one.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
        # The sqlite3 module runs DDL outside any transaction, so a failed migration
        # would leave half its tables behind; an explicit BEGIN makes it all or nothing.
        event.listen(connection, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables the portable way.
        render_as_batch=sqlite,
        compare_type=True,
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    async with engine.connect() as conn:
        await conn.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
