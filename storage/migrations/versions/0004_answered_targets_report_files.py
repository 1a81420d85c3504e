"""answered_at on problems, target escalation on projects, files on progress reports

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 23:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("problems", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("answered_at", storage.models.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("target_level", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "target_escalated_at", storage.models.UTCDateTime(timezone=True), nullable=True
            )
        )
    with op.batch_alter_table("progress_reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("file_id", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("file_kind", sa.String(length=12), nullable=True))
    # Problems answered before this column existed: the answer is their latest reply.
    op.execute(
        "UPDATE problems SET answered_at = (SELECT max(r.created_at) FROM problem_replies r "
        "WHERE r.problem_id = problems.id) WHERE status = 'answered'"
    )


def downgrade() -> None:
    with op.batch_alter_table("progress_reports", schema=None) as batch_op:
        batch_op.drop_column("file_kind")
        batch_op.drop_column("file_id")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("target_escalated_at")
        batch_op.drop_column("target_level")
    with op.batch_alter_table("problems", schema=None) as batch_op:
        batch_op.drop_column("answered_at")
