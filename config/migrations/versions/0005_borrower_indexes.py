"""Indexes that keep a borrower's quota and overdue checks bounded as their history grows.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

INDEXES = {"ix_booking_person_end": ["person_id", "end"], "ix_booking_association_end": ["association_id", "end"]}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "booking", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="booking")
