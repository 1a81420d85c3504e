"""The Alembic migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

import asyncio

from alembic import command
from sqlalchemy import text

from storage.db import make_engine
from storage.migrate import alembic_config, upgrade
from tests.stores import NewStore


def test_models_and_migrations_agree(db_url: str) -> None:
    # Raises if autogenerate would find anything to add, drop or alter.
    command.check(alembic_config(db_url))


def test_upgrade_twice_is_harmless(db_url: str) -> None:
    upgrade(db_url)
    command.check(alembic_config(db_url))


async def test_upgrade_keeps_the_data_of_an_older_store(new_store: NewStore) -> None:
    """A store filled under the first schema upgrades in place, rows and all."""
    url = await new_store("old", migrated=False)
    await asyncio.to_thread(upgrade, url, "0001")
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO units (id, name, kind, created_at) VALUES (1, '镇', 'township', '2026-01-01')"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO members (id, tg_user_id, name, unit_id, role, lang, active, created_at) VALUES (1, 5, '王', 1, 'officer', 'zh', TRUE, '2026-01-01')"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO projects (id, code, name, enterprise, industry, investment, stage, unit_id, created_at) VALUES (1, 'A1', '项目', '', '新能源', 10, 'signed', 1, '2026-01-01')"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO milestones (id, project_id, seq, title, kind) VALUES (1, 1, 1, '选址', 'site')"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO audit_log (at, action, entity, entity_id, before, after) VALUES "
                "('2026-01-01 00:00:00', 'create', 'projects', '1', NULL, '{\"stage\": \"negotiating\"}'),"
                "('2026-02-01 00:00:00', 'update', 'projects', '1', '{\"last_progress_at\": null}', '{\"last_progress_at\": \"2026-02-01\"}'),"
                "('2026-03-01 00:00:00', 'update', 'projects', '1', '{\"stage\": \"negotiating\"}', '{\"stage\": \"signed\"}')"
            )
        )
    await engine.dispose()
    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT reachable FROM members"))).scalar_one() in (1, True)
        assert (
            await conn.execute(text("SELECT escalation_level FROM milestones"))
        ).scalar_one() == 0
        assert (await conn.execute(text("SELECT count(*) FROM projects"))).scalar_one() == 1
        # The stage history is read back from the audit log the older store kept.
        moves = (
            await conn.execute(text("SELECT from_stage, to_stage, at FROM stage_moves ORDER BY id"))
        ).all()
        assert [tuple(m[:2]) for m in moves] == [(None, "negotiating"), ("negotiating", "signed")]
        if engine.dialect.name == "sqlite":
            # PostgreSQL checked every foreign key as the rows went in; SQLite checks none.
            assert (await conn.execute(text("PRAGMA foreign_key_check"))).all() == []
    await engine.dispose()
