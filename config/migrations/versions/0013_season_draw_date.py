"""The day a garden season's draw is held, told to residents on the garden page beside the application deadline.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

import infra.database

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("season", schema=None) as batch_op:
        batch_op.add_column(sa.Column("draw_at", infra.database.UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("season", schema=None) as batch_op:
        batch_op.drop_column("draw_at")
