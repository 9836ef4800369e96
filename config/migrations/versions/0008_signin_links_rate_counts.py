"""Sign-in links kept apart from persons (the person is created when a link is followed, with the mail retried
while SMTP is away), and fixed-window request counters shared by every server process (sign-in rate limits).

Unused links of the old kind (`credential.kind = 'signin_link'`) are deleted: they lived 30 minutes (24 hours for
the operator's), nothing follows them any more, and asking again mints a new one.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from infra.database import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signin_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("used_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("mailed_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("next_mail_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("mail_attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("signin_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signin_link_email"), ["email"], unique=False)
        batch_op.create_index(batch_op.f("ix_signin_link_token_hash"), ["token_hash"], unique=True)
        batch_op.create_index(batch_op.f("ix_signin_link_next_mail_at"), ["next_mail_at"], unique=False)
    op.create_table(
        "rate_count",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("window_start", UtcDateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start"),
    )
    with op.batch_alter_table("rate_count", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rate_count_window_start"), ["window_start"], unique=False)
    credential = sa.table("credential", sa.column("kind", sa.String()), sa.column("used_at"))
    op.execute(credential.delete().where(credential.c.kind == "signin_link", credential.c.used_at.is_(None)))


def downgrade() -> None:
    with op.batch_alter_table("rate_count", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rate_count_window_start"))
    op.drop_table("rate_count")
    with op.batch_alter_table("signin_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signin_link_next_mail_at"))
        batch_op.drop_index(batch_op.f("ix_signin_link_token_hash"))
        batch_op.drop_index(batch_op.f("ix_signin_link_email"))
    op.drop_table("signin_link")
