"""PostgreSQL: a loan locked, checked and inserted in one call (`allmenning_locked_insert`), in place of BEGIN, a row
lock, the insert and COMMIT as four round trips.

The function locks the resource's row if it is as the caller remembered it, then runs the caller's insert as a new
statement: in READ COMMITTED that statement sees every loan committed by whoever held the lock before, so its stock
and borrower checks are exact. It returns the new booking's id, or NULL when the row changed or the insert's checks
did not clearly pass (nothing written; the caller then takes its careful way).

Revision ID: 0016
Revises: 0015
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

LOCKED_INSERT = """CREATE FUNCTION allmenning_locked_insert(
    p_resource integer, p_seen_updated_at timestamptz, p_seen_policy jsonb, p_statement text, p_params jsonb
) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    booked integer;
BEGIN
    PERFORM 1 FROM resource
        WHERE id = p_resource AND updated_at = p_seen_updated_at AND policy::jsonb = p_seen_policy FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    EXECUTE p_statement INTO booked USING p_params;
    RETURN booked;
END $$"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(LOCKED_INSERT)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION allmenning_locked_insert(integer, timestamptz, jsonb, text, jsonb)")
