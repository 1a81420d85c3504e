"""instructions tracked like problems; files the outbox sends (the meeting's workbook);
the history of stage moves

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 02:20:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("instructions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("acknowledged_at", storage.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("done_text", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("done_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("escalation_level", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("escalated_at", storage.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_instructions_done_by_id_members"), "members", ["done_by_id"], ["id"]
        )
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attachment_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_attachment_id_attachments"),
            "attachments",
            ["attachment_id"],
            ["id"],
        )

    op.create_table(
        "stage_moves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column(
            "from_stage",
            sa.Enum(*STAGES, name="stage", native_enum=False, length=16),
            nullable=True,
        ),
        sa.Column(
            "to_stage", sa.Enum(*STAGES, name="stage", native_enum=False, length=16), nullable=False
        ),
        sa.Column("at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["members.id"], name=op.f("fk_stage_moves_actor_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_stage_moves_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_moves")),
    )
    op.create_index("ix_stage_moves_at", "stage_moves", ["at"], unique=False)
    op.create_index(op.f("ix_stage_moves_project_id"), "stage_moves", ["project_id"], unique=False)
    _backfill_stage_moves()
    op.create_index(
        "ix_audit_log_entity_entity_id", "audit_log", ["entity", "entity_id"], unique=False
    )


STAGES = ("negotiating", "signed", "started", "operating", "paused", "dropped")


def _backfill_stage_moves() -> None:
    """The audit log already holds every stage a project was created at or moved to."""
    bind = op.get_bind()
    audit = sa.table(
        "audit_log",
        sa.column("id", sa.Integer()),
        sa.column("at", storage.models.UTCDateTime(timezone=True)),
        sa.column("actor_id", sa.Integer()),
        sa.column("entity", sa.String()),
        sa.column("entity_id", sa.String()),
        sa.column("before", sa.JSON()),
        sa.column("after", sa.JSON()),
    )
    moves = sa.table(
        "stage_moves",
        sa.column("project_id", sa.Integer()),
        sa.column("from_stage", sa.String()),
        sa.column("to_stage", sa.String()),
        sa.column("at", storage.models.UTCDateTime(timezone=True)),
        sa.column("actor_id", sa.Integer()),
    )
    rows = []
    query = sa.select(audit).where(audit.c.entity == "projects").order_by(audit.c.id)
    for r in bind.execute(query):
        after = r.after if isinstance(r.after, dict) else json.loads(r.after or "{}")
        before = r.before if isinstance(r.before, dict) else json.loads(r.before or "{}")
        new = (after or {}).get("stage")
        old = (before or {}).get("stage")
        if new in STAGES and new != old:
            rows.append(
                {
                    "project_id": int(r.entity_id),
                    "from_stage": old if old in STAGES else None,
                    "to_stage": new,
                    "at": r.at,
                    "actor_id": r.actor_id,
                }
            )
    if rows:
        op.bulk_insert(moves, rows)


def downgrade() -> None:
    op.drop_index("ix_audit_log_entity_entity_id", table_name="audit_log")
    op.drop_index(op.f("ix_stage_moves_project_id"), table_name="stage_moves")
    op.drop_index("ix_stage_moves_at", table_name="stage_moves")
    op.drop_table("stage_moves")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_outbox_attachment_id_attachments"), type_="foreignkey"
        )
        batch_op.drop_column("attachment_id")
    op.drop_table("attachments")
    with op.batch_alter_table("instructions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_instructions_done_by_id_members"), type_="foreignkey"
        )
        batch_op.drop_column("escalated_at")
        batch_op.drop_column("escalation_level")
        batch_op.drop_column("done_by_id")
        batch_op.drop_column("done_text")
        batch_op.drop_column("acknowledged_at")
