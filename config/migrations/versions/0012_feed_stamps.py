"""Indexes that find an owner's newest booking change in one seek: a feed's version (ETag) starts from it.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

INDEXES = {f"ix_booking_{owner}_changed": [f"{owner}_id", "updated_at"] for owner in ("person", "association", "resource")}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "booking", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="booking")
