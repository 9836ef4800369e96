"""Notifications: leases and dedupe keys on the outbox, claimed ticks of periodic jobs, private calendar feeds.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import infra.database

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("tick", infra.database.UtcDateTime(timezone=True), nullable=False),
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("started_at", infra.database.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("job", "tick", name="uq_job_run_tick"),
    )
    op.create_table(
        "calendar_feed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=True),
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", infra.database.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", infra.database.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["association_id"], ["association.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("calendar_feed", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calendar_feed_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_calendar_feed_token"), ["token"], unique=True)

    with op.batch_alter_table("notification", schema=None) as batch_op:
        # Rows already in the outbox get an empty lease owner: nobody holds them.
        batch_op.add_column(sa.Column("lease_owner", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("last_attempt_at", infra.database.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("dedupe_key", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True))
        batch_op.create_index("ix_notification_dedupe_key", ["dedupe_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_dedupe_key")
        batch_op.drop_column("dedupe_key")
        batch_op.drop_column("last_attempt_at")
        batch_op.drop_column("lease_owner")

    with op.batch_alter_table("calendar_feed", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendar_feed_token"))
        batch_op.drop_index(batch_op.f("ix_calendar_feed_person_id"))

    op.drop_table("calendar_feed")
    op.drop_table("job_run")
