"""Waitlists, held offers and garden-bed seasons; offered bookings join the overlap constraint on PostgreSQL.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

import infra.database

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Utc = infra.database.UtcDateTime
CONSTRAINT = (
    "ALTER TABLE booking ADD CONSTRAINT booking_no_overlap EXCLUDE USING gist "
    "(resource_id WITH =, tstzrange(block_start, block_end, '[)') WITH &&) WHERE (exclusive AND status IN ({}))"
)
ACTIVE_BEFORE = "'requested', 'confirmed', 'checked_out', 'overdue'"
# An open offer holds its slot: no direct booking may take it, on the database's word too (invariant 4).
ACTIVE_NOW = ACTIVE_BEFORE + ", 'offered'"


def _constraint(statuses: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE booking DROP CONSTRAINT IF EXISTS booking_no_overlap")
        op.execute(CONSTRAINT.format(statuses))


def upgrade() -> None:
    op.create_table(
        "season",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("start", Utc(timezone=True), nullable=False),
        sa.Column("end", Utc(timezone=True), nullable=False),
        sa.Column("phase", sa.String(length=12), nullable=False),
        sa.Column("previous_season_id", sa.Integer(), sa.ForeignKey("season.id"), nullable=True),
        sa.Column("district_postal_codes", sa.JSON(), nullable=False),
        sa.Column("household_limit", sa.Integer(), nullable=False),
        sa.Column("offer_days", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("created_at", Utc(timezone=True), nullable=False),
        sa.Column("updated_at", Utc(timezone=True), nullable=False),
        sa.Column("published_at", Utc(timezone=True), nullable=True),
    )
    op.create_table(
        "season_application",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("season_id", sa.Integer(), sa.ForeignKey("season.id"), nullable=False, index=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("household_key", sa.String(length=200), nullable=False),
        sa.Column("street", sa.String(length=200), nullable=False),
        sa.Column("postal_code", sa.String(length=4), nullable=False),
        sa.Column("preferences", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("lottery_rank", sa.Integer(), nullable=True),
        sa.Column("bed_id", sa.Integer(), sa.ForeignKey("resource.id"), nullable=True),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("adjusted_by", sa.Integer(), sa.ForeignKey("person.id"), nullable=True),
        sa.Column("adjust_reason", sa.String(), nullable=False),
        sa.Column("booking_id", sa.Integer(), sa.ForeignKey("booking.id"), nullable=True),
        sa.Column("created_at", Utc(timezone=True), nullable=False),
        sa.Column("updated_at", Utc(timezone=True), nullable=False),
        sa.UniqueConstraint("season_id", "household_key", "kind", name="uq_season_application_household"),
    )
    op.create_table(
        "waitlist_entry",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("resource_id", sa.Integer(), sa.ForeignKey("resource.id"), nullable=True),
        sa.Column("season_id", sa.Integer(), sa.ForeignKey("season.id"), nullable=True),
        sa.Column("start", Utc(timezone=True), nullable=False),
        sa.Column("end", Utc(timezone=True), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False, index=True),
        sa.Column("association_id", sa.Integer(), sa.ForeignKey("association.id"), nullable=True),
        sa.Column("household_key", sa.String(length=200), nullable=False),
        sa.Column("preferences", sa.JSON(), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("declines", sa.Integer(), nullable=False),
        sa.Column("joined_at", Utc(timezone=True), nullable=False),
        sa.Column("updated_at", Utc(timezone=True), nullable=False),
        sa.Column("moved_by", sa.Integer(), sa.ForeignKey("person.id"), nullable=True),
        sa.Column("move_reason", sa.String(), nullable=False),
    )
    op.create_index("ix_waitlist_entry_line", "waitlist_entry", ["resource_id", "status"])
    op.create_index("ix_waitlist_entry_season_line", "waitlist_entry", ["season_id", "status"])
    op.create_table(
        "waitlist_offer",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("entry_id", sa.Integer(), sa.ForeignKey("waitlist_entry.id"), nullable=False, index=True),
        sa.Column("booking_id", sa.Integer(), sa.ForeignKey("booking.id"), nullable=False, unique=True),
        sa.Column("deadline", Utc(timezone=True), nullable=False, index=True),
        sa.Column("made_at", Utc(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("answered_at", Utc(timezone=True), nullable=True),
    )
    _constraint(ACTIVE_NOW)


def downgrade() -> None:
    _constraint(ACTIVE_BEFORE)
    op.drop_table("waitlist_offer")
    op.drop_index("ix_waitlist_entry_season_line", "waitlist_entry")
    op.drop_index("ix_waitlist_entry_line", "waitlist_entry")
    op.drop_table("waitlist_entry")
    op.drop_table("season_application")
    op.drop_table("season")
