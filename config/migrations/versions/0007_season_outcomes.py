"""A season application's outcome as a code with parameters, told to residents in their language, and the message
staff may write to a resident about an adjustment; the audit text (reason, staff note) stays for staff.

Revision ID: 0007
Revises: 0006
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

APPLICATION = sa.table(
    "season_application",
    sa.column("id", sa.Integer()),
    sa.column("tier", sa.Integer()),
    sa.column("lottery_rank", sa.Integer()),
    sa.column("bed_id", sa.Integer()),
    sa.column("reason", sa.String()),
    sa.column("outcome", sa.String()),
    sa.column("outcome_params", sa.JSON()),
)
# The draw's audit texts as written until now (booking/seasons/rules.py), and the outcome each one meant.
DRAWN = re.compile(r"tier \d+, lottery rank \d+: (?P<why>.*?)(?P<adjusted>; adjusted by staff:.*)?", re.DOTALL)
WHY = (
    (re.compile(r"got wished bed \d+"), "won_wished_bed"),
    (re.compile(r"the wished beds were taken; got (raised )?bed \d+"), "won_other_bed"),
    (re.compile(r"got (raised )?bed \d+"), "won_bed"),
    (re.compile(r"the wished beds were taken"), "wishes_taken"),
    (re.compile(r"no suitable bed was left"), "no_bed_left"),
    (re.compile(r"the household already has a bed"), "household_has_bed"),
)


def outcome_of(reason: str, bed_id: int | None) -> str:
    if re.fullmatch(r"renewed bed \d+", reason):
        return "renewed"
    drawn = DRAWN.fullmatch(reason)
    if drawn is None:  # not drawn (a renewal confirmed or lapsed): nothing to tell
        return ""
    if drawn["adjusted"]:
        return "moved_by_staff" if bed_id is not None else "no_bed_by_staff"
    return next((outcome for pattern, outcome in WHY if pattern.fullmatch(drawn["why"])), "")


def upgrade() -> None:
    # Plain ADD COLUMN on both backends: SQLite need not copy the table for columns with a default.
    op.add_column("season_application", sa.Column("outcome", sa.String(length=24), nullable=False, server_default=""))
    op.add_column("season_application", sa.Column("outcome_params", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
    op.add_column("season_application", sa.Column("message_to_resident", sa.String(), nullable=False, server_default=""))
    bind = op.get_bind()
    rows = bind.execute(sa.select(APPLICATION.c.id, APPLICATION.c.tier, APPLICATION.c.lottery_rank, APPLICATION.c.bed_id, APPLICATION.c.reason))
    for id_, tier, rank, bed_id, reason in rows.all():
        if outcome := outcome_of(reason or "", bed_id):
            params = {"tier": tier, "rank": rank, "bed_id": bed_id}
            bind.execute(APPLICATION.update().where(APPLICATION.c.id == id_).values(outcome=outcome, outcome_params=params))


def downgrade() -> None:
    with op.batch_alter_table("season_application") as batch:
        batch.drop_column("message_to_resident")
        batch.drop_column("outcome_params")
        batch.drop_column("outcome")
