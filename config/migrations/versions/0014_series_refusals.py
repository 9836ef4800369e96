"""The dates a weekly series could not get, kept with the series (date, times, the refusal's code and numbers).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("booking_series", schema=None) as batch_op:
        batch_op.add_column(sa.Column("refused", sa.JSON(), server_default="[]", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("booking_series", schema=None) as batch_op:
        batch_op.drop_column("refused")
