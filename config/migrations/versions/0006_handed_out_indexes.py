"""Partial indexes of the loans a borrower has out now, so the overdue check never reads their past loans.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

HANDED_OUT = "status IN ('checked_out', 'overdue')"
INDEXES = {"ix_booking_person_handed_out": "person_id", "ix_booking_association_handed_out": "association_id"}


def upgrade() -> None:
    for name, column in INDEXES.items():
        op.create_index(name, "booking", [column], sqlite_where=sa.text(HANDED_OUT), postgresql_where=sa.text(HANDED_OUT))


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="booking")
