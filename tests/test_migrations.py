"""The Alembic migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from alembic import command

from storage.migrate import alembic_config, upgrade


def test_models_and_migrations_agree(db_url: str) -> None:
    # Raises if autogenerate would find anything to add, drop or alter.
    command.check(alembic_config(db_url))


def test_upgrade_twice_is_harmless(db_url: str) -> None:
    upgrade(db_url)
    command.check(alembic_config(db_url))
