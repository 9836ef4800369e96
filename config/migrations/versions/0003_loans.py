"""Equipment loans: the kit a loan belongs to and the hand-over (check-out and check-in) at the counter.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

import infra.database

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

FOREIGN_KEYS = {"fk_booking_checked_out_by_person": "checked_out_by", "fk_booking_returned_by_person": "returned_by"}


def upgrade() -> None:
    with op.batch_alter_table("booking") as batch:
        batch.add_column(sa.Column("kit_loan_id", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("checked_out_at", infra.database.UtcDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("checked_out_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("check_out_note", sa.String(), nullable=False, server_default=""))
        batch.add_column(sa.Column("returned_at", infra.database.UtcDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("returned_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("return_condition", sa.String(length=20), nullable=False, server_default=""))
        batch.add_column(sa.Column("return_note", sa.String(), nullable=False, server_default=""))
        batch.add_column(sa.Column("missing_units", sa.Integer(), nullable=False, server_default="0"))
        batch.create_index("ix_booking_kit_loan_id", ["kit_loan_id"], unique=False)
        for name, column in FOREIGN_KEYS.items():
            batch.create_foreign_key(name, "person", [column], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("booking") as batch:
        for name in FOREIGN_KEYS:
            batch.drop_constraint(name, type_="foreignkey")
        batch.drop_index("ix_booking_kit_loan_id")
        for column in ("missing_units", "return_note", "return_condition", "returned_by", "returned_at", "check_out_note", "checked_out_by", "checked_out_at", "kit_loan_id"):
            batch.drop_column(column)
