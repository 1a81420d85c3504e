"""storage.flows: a guided flow's state, written with every step (one statement each),
and SQLite's planner statistics (storage.migrate.analyse_sqlite)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import flows
from storage.db import refresh_statistics
from storage.migrate import upgrade
from storage.models import ChatState, Milestone, Project, Stage, Unit, UnitKind


async def _rows(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(ChatState)) or 0)


async def test_a_key_holds_its_latest_data_in_one_row(session: AsyncSession) -> None:
    await flows.save(session, "conv:flows", "[1, 2]", 3)
    await flows.save(session, "conv:flows", "[1, 2]", 5)
    await flows.save(session, "user", "2", {"flow": "progress", "fields": {"code": "P001"}})
    await flows.save(session, "user", "2", {"flow": "problem", "fields": {"text": "道路未通"}})
    await session.commit()
    assert await flows.load(session, "conv:flows") == {"[1, 2]": 5}
    assert await flows.load(session, "user") == {
        "2": {"flow": "problem", "fields": {"text": "道路未通"}}
    }
    assert await _rows(session) == 2


async def test_none_forgets_the_key_and_only_that_key(session: AsyncSession) -> None:
    await flows.save(session, "user", "2", {"a": 1})
    await flows.save(session, "user", "3", {"b": 2})
    await flows.save(session, "conv:flows", "2", 1)
    await flows.save(session, "user", "2", None)
    # Forgetting what is not there is no error (a flow ended twice).
    await flows.save(session, "user", "9", None)
    await session.commit()
    assert await flows.load(session, "user") == {"3": {"b": 2}}
    assert await flows.load(session, "conv:flows") == {"2": 1}
    await flows.save(session, "user", "2", {"again": True})
    await session.commit()
    assert (await flows.load(session, "user"))["2"] == {"again": True}


async def test_refreshing_statistics_is_harmless_on_either_store(session: AsyncSession) -> None:
    await flows.save(session, "user", "1", {"x": 1})
    await refresh_statistics(session)
    await session.commit()
    assert await flows.load(session, "user") == {"1": {"x": 1}}


def test_a_sqlite_store_gets_planner_statistics_when_it_is_opened(tmp_path: Path) -> None:
    # Most milestones have no owner of their own (the project's unit owns them): without
    # statistics SQLite reads them all through the owner index for one unit's list.
    file = tmp_path / "city.sqlite3"
    url = f"sqlite:///{file}"
    upgrade(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            insert(Unit.__table__),
            [{"id": u, "name": f"单位{u}", "kind": UnitKind.TOWNSHIP} for u in range(1, 51)],
        )
        conn.execute(
            insert(Project.__table__),
            [
                {
                    "id": i,
                    "code": f"P{i:05d}",
                    "name": f"项目{i}",
                    "industry": "新能源",
                    "stage": Stage.STARTED,
                    "unit_id": 1 + i % 50,
                }
                for i in range(1, 2001)
            ],
        )
        conn.execute(
            insert(Milestone.__table__),
            [
                {
                    "project_id": 1 + i % 2000,
                    "seq": i,
                    "title": "开工",
                    "planned_date": date(2026, 12, 1),
                    "owner_unit_id": 7 if i % 10 == 0 else None,
                }
                for i in range(1, 20001)
            ],
        )
    engine.dispose()
    upgrade(url)  # as every start does
    query = (
        "SELECT m.id FROM milestones m JOIN projects p ON p.id = m.project_id"
        " WHERE p.unit_id = ? AND m.owner_unit_id IS NULL"
    )
    with closing(sqlite3.connect(file)) as conn:
        stats = {row[0] for row in conn.execute("SELECT tbl FROM sqlite_stat1")}
        plan = " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {query}", (3,)))
    assert {"milestones", "projects"} <= stats
    assert "ix_projects_unit_id" in plan and "ix_milestones_project_id" in plan, plan
