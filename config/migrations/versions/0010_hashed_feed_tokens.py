"""Calendar feed tokens are kept as their SHA-256, like every other credential: the feeds made before keep working.

Revision ID: 0010
Revises: 0009
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A token as made (token_urlsafe(32)) is 43 characters; its hash in hex is 64. Only the former need hashing.
    feed = sa.table("calendar_feed", sa.column("id", sa.Integer), sa.column("token", sa.String))
    bind = op.get_bind()
    for row_id, token in bind.execute(sa.select(feed.c.id, feed.c.token).where(sa.func.length(feed.c.token) < 64)).all():
        hashed = hashlib.sha256(token.encode()).hexdigest()
        bind.execute(feed.update().where(feed.c.id == row_id).values(token=hashed))


def downgrade() -> None:
    # A hash cannot be turned back into its token: the rows stay hashed, which the code before this revision cannot
    # open, so feeds made before must be made again after a downgrade.
    pass
