"""Fresh migrated stores for tests, on the backend WALLCHART_TEST_STORE names.

`sqlite` (the default): each store is a copy of a migrated template file in the test's
tmp_path. `postgresql`: each store is a database on the server of WALLCHART_TEST_PG,
named after that URL's database (NAME_s0, NAME_s1, … for the stores a test takes, in
order), emptied when a test takes it; see `PgStores` for why so.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from storage.migrate import upgrade

BACKENDS = ("sqlite", "postgresql")
BACKEND = os.environ.get("WALLCHART_TEST_STORE", "sqlite")
PG_URL = os.environ.get("WALLCHART_TEST_PG", "postgresql://postgres@127.0.0.1:5432/wallchart_test")

# A test's fresh store: `await new_store("name")` gives its URL; migrated=False gives an
# empty database (for a test that builds an older schema itself).
NewStore = Callable[..., Awaitable[str]]


def on_postgresql() -> bool:
    """Whether this run's stores (the harness's, the CLI's, …) are PostgreSQL databases."""
    return BACKEND == "postgresql"


def _dsn(url: str) -> str:
    """URL as asyncpg takes it (no SQLAlchemy driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(server: str, *statements: str) -> list[str]:
    """Run STATEMENTS on the server's maintenance database; the first column of the last."""
    conn = await asyncpg.connect(_dsn(f"{server}/postgres"))
    try:
        rows: list[str] = []
        for statement in statements:
            rows = [str(r[0]) for r in await conn.fetch(statement)]
        return rows
    finally:
        await conn.close()


def module_database(pg_url: str, suffix: str) -> Iterator[str]:
    """A migrated PostgreSQL database of a test module's own (PG_URL's name + SUFFIX),
    dropped afterwards: for modules whose code under test commits freely. Sync, like
    conftest's pg_url: asyncio.run cannot run inside the tests' event loop."""
    server, name = pg_url.rsplit("/", 1)
    own = f"{name}_{suffix}"
    drop = f'DROP DATABASE IF EXISTS "{own}" WITH (FORCE)'
    asyncio.run(_admin(server, drop, f'CREATE DATABASE "{own}"'))
    upgrade(f"{server}/{own}")
    yield f"{server}/{own}"
    asyncio.run(_admin(server, drop))


# Each table of the schema with the tables it refers to (itself left out).
_TABLES = """
SELECT c.relname, array_remove(array_agg(f.relname), NULL)
FROM pg_class c
LEFT JOIN pg_constraint k ON k.conrelid = c.oid AND k.contype = 'f' AND k.confrelid <> c.oid
LEFT JOIN pg_class f ON f.oid = k.confrelid
WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace
  AND c.relname <> 'alembic_version'
GROUP BY c.relname
"""


def _emptying(refers: dict[str, set[str]]) -> str:
    """SQL that empties the tables REFERS names and sets every sequence back to its start.

    The tables are emptied with DELETE, those no other table refers to first: a test leaves
    a few rows, and deleting them is several times faster than TRUNCATE, which gives every
    table and index new files. A cycle of foreign keys would leave no order: TRUNCATE then.
    """
    order: list[str] = []
    left = {table: set(refs) for table, refs in refers.items()}
    while left:
        free = sorted(t for t in left if not any(t in refs for refs in left.values()))
        if not free:
            order = []
            break
        order += free
        for t in free:
            del left[t]
    if order:
        empty = "; ".join(f'DELETE FROM "{t}"' for t in order)
    else:
        tables = ", ".join(f'"{t}"' for t in sorted(refers))
        empty = f"TRUNCATE {tables} CASCADE"
    return (
        # A connection an earlier test left open (one that failed before its engine was
        # disposed) could hold a lock that the emptying would wait for forever.
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid(); "
        f"{empty}; "
        # Ids start again at 1, as in a new SQLite file, for the tests that name them.
        "SELECT setval(format('%I.%I', schemaname, sequencename), start_value, false) "
        "FROM pg_sequences WHERE schemaname = current_schema()"
    )


class PgStores:
    """Migrated PostgreSQL databases for the tests that need a store of their own.

    Each is cloned once from a migrated template (CREATE DATABASE … TEMPLATE); when a later
    test takes it again it is emptied in one round trip (`_emptying`). Measured with the
    sample city in the store (2 cores under load, PostgreSQL 15), per store: DELETE and
    setval about 35 ms, TRUNCATE … RESTART IDENTITY CASCADE 250 to 530 ms, DROP DATABASE
    and cloning anew about 900 ms.
    """

    def __init__(self, url: str) -> None:
        self.server, self.name = url.rsplit("/", 1)
        self.template = f"{self.name}_template"
        self.cloned: set[str] = set()
        self.empty = ""

    def url(self, index: int) -> str:
        return f"{self.server}/{self.name}_s{index}"

    async def _leftovers(self) -> list[str]:
        pattern = f"^{re.escape(self.name)}_(s[0-9]+|template)$"
        return await _admin(
            self.server, f"SELECT datname FROM pg_database WHERE datname ~ '{pattern}'"
        )

    async def start(self) -> None:
        """Drop what an earlier run left, then build and migrate the template."""
        await self.stop()
        await _admin(self.server, f'CREATE DATABASE "{self.template}"')
        await asyncio.to_thread(upgrade, f"{self.server}/{self.template}")
        conn = await asyncpg.connect(_dsn(f"{self.server}/{self.template}"))
        try:
            refers = {str(r[0]): set(r[1]) for r in await conn.fetch(_TABLES)}
        finally:
            await conn.close()
        self.empty = _emptying(refers)

    async def stop(self) -> None:
        """Drop every database of this run's (those of a crashed run too)."""
        for name in await self._leftovers():
            await _admin(self.server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.cloned.clear()

    async def take(self, index: int, *, migrated: bool = True) -> str:
        """The URL of store INDEX, as new: migrated and empty, or (not MIGRATED) bare."""
        url = self.url(index)
        name = url.rsplit("/", 1)[1]
        if not migrated:
            self.cloned.discard(name)  # the test builds a schema of its own there
            await _admin(
                self.server,
                f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                f'CREATE DATABASE "{name}"',
            )
        elif name not in self.cloned:
            await _admin(
                self.server,
                f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"',
            )
            self.cloned.add(name)
        else:
            conn = await asyncpg.connect(_dsn(url))
            try:
                await conn.execute(self.empty)  # several statements, one transaction
            finally:
                await conn.close()
        return url


def sqlite_store(template: Path, folder: Path, name: str, *, migrated: bool = True) -> str:
    """The URL of a new SQLite store FOLDER/NAME.sqlite3: a copy of TEMPLATE, or no file yet."""
    path = folder / f"{name}.sqlite3"
    if migrated:
        shutil.copy(template, path)
    return f"sqlite:///{path}"
