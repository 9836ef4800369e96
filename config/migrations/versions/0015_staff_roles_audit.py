"""Staff roles per place (today's staff become operators), the append-only audit trail, and what retention needs.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

import infra.database

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

REFUSE_PG = [
    """CREATE FUNCTION audit_entry_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % of audit_entry refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$""",
    "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry FOR EACH ROW EXECUTE FUNCTION audit_entry_is_append_only()",
    "CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_is_append_only()",
]
REFUSE_SQLITE = [
    f"CREATE TRIGGER audit_entry_no_{verb.lower()} BEFORE {verb} ON audit_entry "
    f"BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: {verb} of audit_entry refused'); END"
    for verb in ("UPDATE", "DELETE")
]


def upgrade() -> None:
    op.create_table(
        "staff_grant",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False, index=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("location_id", sa.Integer(), sa.ForeignKey("location.id"), nullable=True),
        sa.Column("granted_by", sa.Integer(), nullable=True),
        sa.Column("created_at", infra.database.UtcDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("person_id", "role", "location_id"),
    )
    op.execute(
        "INSERT INTO staff_grant (person_id, role, location_id, granted_by, created_at) "
        "SELECT id, 'operator', NULL, NULL, created_at FROM person WHERE is_staff"
    )
    # Plain ALTER TABLE on both backends (SQLite since 3.35): a copied person table would trip every key naming it.
    op.execute("ALTER TABLE person DROP COLUMN is_staff")
    op.add_column("person", sa.Column("last_seen_at", infra.database.UtcDateTime(timezone=True), nullable=True))
    op.add_column("person", sa.Column("erased_at", infra.database.UtcDateTime(timezone=True), nullable=True))
    # Anyone who ever signed in or holds a token counts as seen then: nobody is taken for never having come.
    op.execute(
        "UPDATE person SET last_seen_at = (SELECT max(c.created_at) FROM credential c "
        "WHERE c.person_id = person.id AND c.kind IN ('session', 'api'))"
    )
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", infra.database.UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("object_kind", sa.String(20), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(2000), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
    )
    op.create_index("ix_audit_entry_at", "audit_entry", ["at"])
    op.create_index("ix_audit_entry_object", "audit_entry", ["object_kind", "object_id"])
    op.create_index("ix_audit_entry_actor", "audit_entry", ["actor_id"])
    op.create_index("ix_audit_entry_subject", "audit_entry", ["subject_id"])
    op.create_index("ix_audit_entry_location", "audit_entry", ["location_id"])
    for statement in REFUSE_PG if op.get_bind().dialect.name == "postgresql" else REFUSE_SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_entry_no_truncate ON audit_entry")
        op.execute("DROP TRIGGER audit_entry_append_only ON audit_entry")
        op.execute("DROP FUNCTION audit_entry_is_append_only()")
    op.drop_table("audit_entry")
    op.execute("ALTER TABLE person DROP COLUMN erased_at")
    op.execute("ALTER TABLE person DROP COLUMN last_seen_at")
    op.add_column("person", sa.Column("is_staff", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE person SET is_staff = TRUE WHERE id IN (SELECT person_id FROM staff_grant)")
    op.drop_table("staff_grant")
