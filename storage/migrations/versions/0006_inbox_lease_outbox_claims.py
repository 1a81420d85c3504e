"""the inbox of updates, the lease of the active process, outbox claims, priority and
replies; indexes for a unit's own projects and milestones

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 05:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_inbox")),
        sa.UniqueConstraint("chat_id", "message_id", name=op.f("uq_inbox_chat_id")),
    )
    op.create_index("ix_inbox_done_at", "inbox", ["done_at"], unique=False)
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("since", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("beat_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("priority", sa.SmallInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("claimed_until", storage.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("reply_to", sa.BigInteger(), nullable=True))
    # A unit's /today read every milestone of the city without these.
    op.create_index("ix_projects_unit_id", "projects", ["unit_id"], unique=False)
    op.create_index("ix_milestones_owner_unit_id", "milestones", ["owner_unit_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_milestones_owner_unit_id", table_name="milestones")
    op.drop_index("ix_projects_unit_id", table_name="projects")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("reply_to")
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("priority")
    op.drop_table("leases")
    op.drop_index("ix_inbox_done_at", table_name="inbox")
    op.drop_table("inbox")
