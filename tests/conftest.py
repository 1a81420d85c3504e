"""Shared fixtures: a migrated store on SQLite and PostgreSQL, a rolled-back transaction per test.

PostgreSQL is at WALLCHART_TEST_PG (default postgresql://postgres@127.0.0.1:5432/wallchart_test).
Where it cannot be reached the PostgreSQL variants are skipped and the run says so at the end,
unless WALLCHART_REQUIRE_PG=1 (as in .ci/run), which makes that a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import make_engine
from storage.migrate import upgrade
from tests.harness import Harness, seed, start_harness

PG_URL = os.environ.get("WALLCHART_TEST_PG", "postgresql://postgres@127.0.0.1:5432/wallchart_test")
REQUIRE_PG = os.environ.get("WALLCHART_REQUIRE_PG") == "1"
_pg_problem: str | None = None


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


@pytest.fixture
async def h(tmp_path: Path, template_db: Path) -> AsyncIterator[Harness]:
    """The real Application over the fake Bot API, on the sample city (tests.harness.seed)."""
    harness = await start_harness(tmp_path / "bot.sqlite3", template_db)
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
            pytest.fail(f"PostgreSQL is required (WALLCHART_REQUIRE_PG=1) but: {_pg_problem}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {_pg_problem}")
    upgrade(PG_URL)
    return PG_URL


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """The URL of a migrated store; every store test runs once per backend."""
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
