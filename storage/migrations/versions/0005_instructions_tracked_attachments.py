"""instructions tracked like problems; files the outbox sends (the meeting's workbook)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 02:20:00
"""

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


def downgrade() -> None:
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
