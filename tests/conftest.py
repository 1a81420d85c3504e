"""Shared fixtures: a migrated store on SQLite and PostgreSQL, a rolled-back transaction per test.

PostgreSQL is at WALLCHART_TEST_PG (default postgresql://postgres@127.0.0.1:5432/wallchart_test).
Where it cannot be reached the PostgreSQL variants are skipped and the run says so at the end,
unless WALLCHART_REQUIRE_PG=1 (as in .ci/run), which makes that a failure.

WALLCHART_TEST_STORE=postgresql runs the whole suite on PostgreSQL: the chat harness, the
command line and every other test that makes a store of its own get a database
(tests/stores.py), and the store tests run on PostgreSQL only (SQLite had its run). A few
tests stay on SQLite in both runs because SQLite is what they test; each says why.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import make_engine
from storage.migrate import upgrade
from tests.harness import Harness, seed, start_harness
from tests.stores import BACKEND, BACKENDS, PG_URL, NewStore, PgStores, on_postgresql, sqlite_store

REQUIRE_PG = os.environ.get("WALLCHART_REQUIRE_PG") == "1" or on_postgresql()
_pg_problem: str | None = None


def pytest_configure(config: pytest.Config) -> None:
    if BACKEND not in BACKENDS:
        raise pytest.UsageError(
            f"WALLCHART_TEST_STORE={BACKEND!r}: say {' or '.join(BACKENDS)} (default sqlite)"
        )


def pytest_report_header() -> str:
    both = "PostgreSQL" if on_postgresql() else "SQLite and PostgreSQL"
    return f"stores: {BACKEND} (WALLCHART_TEST_STORE); the store tests on {both}"


async def _prepare_pg() -> str | None:
    """Create the test database if needed; return why PostgreSQL is unusable, or None."""
    admin = make_engine(PG_URL.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    name = PG_URL.rsplit("/", 1)[1]
    try:
        async with admin.connect() as conn:
            exists = await conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            )
            if exists:
                await conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any failure to connect means: no PostgreSQL here
        return f"{type(exc).__name__}: {exc}"
    finally:
        await admin.dispose()
    return None


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that chat tests copy: much faster than migrating each store."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_stores(pg_url: str) -> Iterator[PgStores]:
    """The PostgreSQL databases that tests take as stores of their own (tests/stores.py)."""
    stores = PgStores(pg_url)
    # Sync, like pg_url: asyncio.run cannot run inside the tests' event loop.
    asyncio.run(stores.start())
    yield stores
    asyncio.run(stores.stop())


@pytest.fixture
def new_store(tmp_path: Path, request: pytest.FixtureRequest) -> NewStore:
    """Make this test's stores: `await new_store("name")` is the URL of a new migrated,
    empty store on this run's backend (`migrated=False`: no schema at all)."""
    # Resolved here, not inside `make`: their setup runs asyncio.run, which cannot run
    # inside the test's event loop.
    stores: PgStores | None = None
    template: Path | None = None
    if on_postgresql():
        stores = request.getfixturevalue("pg_stores")
    else:
        template = request.getfixturevalue("template_db")
    numbers = itertools.count()
    names: set[str] = set()

    async def make(name: str = "store", *, migrated: bool = True) -> str:
        if name in names:
            raise ValueError(f"this test already has a store named {name!r}")
        names.add(name)
        if stores is not None:
            return await stores.take(next(numbers), migrated=migrated)
        assert template is not None
        return sqlite_store(template, tmp_path, name, migrated=migrated)

    return make


@pytest.fixture
async def h(new_store: NewStore) -> AsyncIterator[Harness]:
    """The real Application over the fake Bot API, on the sample city (tests.harness.seed)."""
    harness = await start_harness(await new_store("bot"))
    harness.ids = await seed(harness.sessions)
    yield harness
    await harness.stop()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = Path(tmp_path_factory.mktemp("db")) / "test.sqlite3"
    url = f"sqlite:///{path}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def pg_url() -> str:
    global _pg_problem
    _pg_problem = asyncio.run(_prepare_pg())
    if _pg_problem is not None:
        if REQUIRE_PG:
            why = "WALLCHART_TEST_STORE=postgresql" if on_postgresql() else "WALLCHART_REQUIRE_PG=1"
            pytest.fail(f"PostgreSQL is required ({why}) but: {_pg_problem}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {_pg_problem}")
    upgrade(PG_URL)
    return PG_URL


@pytest.fixture(
    scope="session", params=["postgresql"] if on_postgresql() else ["sqlite", "postgresql"]
)
def db_url(request: pytest.FixtureRequest) -> str:
    """The URL of a migrated store; every store test runs once per backend (on PostgreSQL
    only in the run with WALLCHART_TEST_STORE=postgresql)."""
    return str(request.getfixturevalue(f"{'sqlite' if request.param == 'sqlite' else 'pg'}_url"))


@pytest.fixture
async def session(db_url: str, tmp_path: Path) -> AsyncIterator[AsyncSession]:
    """A session on a store that no other test sees.

    On PostgreSQL the test runs inside a transaction that is rolled back afterwards (the
    session joins it with savepoints, so code under test may commit as in production).
    SQLite's driver cannot be trusted with savepoints, so there each test gets its own
    copy of the migrated file instead.
    """
    if db_url.startswith("sqlite"):
        path = tmp_path / "store.sqlite3"
        shutil.copy(db_url.removeprefix("sqlite:///"), path)
        engine = make_engine(f"sqlite:///{path}")
        try:
            async with AsyncSession(engine, expire_on_commit=False) as s:
                yield s
        finally:
            await engine.dispose()
        return
    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            trans = await conn.begin()
            s = AsyncSession(
                bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint"
            )
            try:
                yield s
            finally:
                await s.close()
                await trans.rollback()
    finally:
        await engine.dispose()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    if any("PostgreSQL not reachable" in str(r.longrepr) for r in skipped):
        terminalreporter.write_line(
            f"NOTE: PostgreSQL was skipped (not reachable at {PG_URL}); "
            "the store tests ran on SQLite only.",
            yellow=True,
            bold=True,
        )
