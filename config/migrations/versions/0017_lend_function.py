"""PostgreSQL: a loan's lock, checks and insert as the static body of `allmenning_lend`, planned once per connection,
in place of `allmenning_locked_insert`, which ran the same insert given as text (parsed and planned at every call:
twice the loan's own work for the server).

The function locks the resource's row if it is as the caller remembered it, then runs the loan's insert with its
outbox event as a new statement: in READ COMMITTED that statement sees every loan committed by whoever held the lock
before, so its stock and borrower checks are exact. It returns the new booking's id, or NULL when the row changed or
the checks did not clearly pass (nothing written; the caller then takes its careful way). The body is the loan's
statement in `booking/inserts.py` as it was compiled for this migration (`LEND_FUNCTION_BODY`); a test fails when
the two differ.

Revision ID: 0017
Revises: 0016
"""

import importlib.util
from pathlib import Path

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

SIGNATURE = "allmenning_lend(p_resource integer, p_seen_updated_at timestamptz, p_seen_policy jsonb, p_params jsonb)"
BODY = """
DECLARE
    new_id integer;
BEGIN
    PERFORM 1 FROM resource
        WHERE id = p_resource AND updated_at = p_seen_updated_at AND policy::jsonb = p_seen_policy FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF p_params->>'association_id' IS NULL THEN
        WITH booked AS
(INSERT INTO booking (resource_id, person_id, association_id, series_id, title, start, "end", block_start, block_end,
exclusive, quantity, attendees, status, sequence, created_at, updated_at, decided_by, decided_at, decision_reason,
cancelled_by, cancelled_at, cancel_reason, kit_loan_id, checked_out_at, checked_out_by, check_out_note, returned_at,
returned_by, return_condition, return_note, missing_units) SELECT (p_params->>'resource_id')::INTEGER AS anon_14,
(p_params->>'person_id')::INTEGER AS anon_15, (p_params->>'association_id')::INTEGER AS anon_16,
(p_params->>'series_id')::INTEGER AS anon_17, (p_params->>'title')::VARCHAR AS anon_18, (p_params->>'start')::TIMESTAMP WITH
TIME ZONE AS anon_19, (p_params->>'end')::TIMESTAMP WITH TIME ZONE AS anon_20, (p_params->>'block_start')::TIMESTAMP WITH
TIME ZONE AS anon_21, (p_params->>'block_end')::TIMESTAMP WITH TIME ZONE AS anon_22, (p_params->>'exclusive')::BOOLEAN AS
anon_23, (p_params->>'quantity')::INTEGER AS anon_24, (p_params->>'attendees')::INTEGER AS anon_25,
(p_params->>'status')::VARCHAR AS anon_26, (p_params->>'sequence')::INTEGER AS anon_27, (p_params->>'created_at')::TIMESTAMP
WITH TIME ZONE AS anon_28, (p_params->>'updated_at')::TIMESTAMP WITH TIME ZONE AS anon_29,
(p_params->>'decided_by')::INTEGER AS anon_30, (p_params->>'decided_at')::TIMESTAMP WITH TIME ZONE AS anon_31,
(p_params->>'decision_reason')::VARCHAR AS anon_32, (p_params->>'cancelled_by')::INTEGER AS anon_33,
(p_params->>'cancelled_at')::TIMESTAMP WITH TIME ZONE AS anon_34, (p_params->>'cancel_reason')::VARCHAR AS anon_35,
(p_params->>'kit_loan_id')::VARCHAR AS anon_36, (p_params->>'checked_out_at')::TIMESTAMP WITH TIME ZONE AS anon_37,
(p_params->>'checked_out_by')::INTEGER AS anon_38, (p_params->>'check_out_note')::VARCHAR AS anon_39,
(p_params->>'returned_at')::TIMESTAMP WITH TIME ZONE AS anon_40, (p_params->>'returned_by')::INTEGER AS anon_41,
(p_params->>'return_condition')::VARCHAR AS anon_42, (p_params->>'return_note')::VARCHAR AS anon_43,
(p_params->>'missing_units')::INTEGER AS anon_44
WHERE (SELECT coalesce(sum(booking.quantity), (p_params->>'coalesce_2')::INTEGER) AS coalesce_1
FROM booking
WHERE booking.resource_id = (p_params->>'resource_id')::INTEGER AND booking.status IN ('checked_out', 'confirmed',
'offered', 'overdue', 'requested') AND booking.block_start < (p_params->>'block_end')::TIMESTAMP WITH TIME ZONE AND
booking.block_end > (p_params->>'block_start')::TIMESTAMP WITH TIME ZONE) + (p_params->>'quantity')::INTEGER <=
(p_params->>'stock')::INTEGER AND ((p_params->>'lends_freely')::BOOLEAN OR NOT (EXISTS (SELECT 1
FROM booking
WHERE booking.exclusive IS false AND booking.person_id = (p_params->>'person_id')::INTEGER AND booking.association_id IS
NULL AND booking.status IN ('checked_out', 'overdue') AND booking."end" <= (p_params->>'now')::TIMESTAMP WITH TIME ZONE))
AND ((p_params->>'max_loans')::INTEGER IS NULL OR (SELECT count(distinct(coalesce(booking.kit_loan_id, CAST(booking.id AS
VARCHAR)))) AS count_1
FROM booking
WHERE booking.exclusive IS false AND booking.person_id = (p_params->>'person_id')::INTEGER AND booking.association_id IS
NULL AND booking.status IN ('checked_out', 'confirmed', 'offered', 'overdue', 'requested') AND booking."end" >
(p_params->>'now')::TIMESTAMP WITH TIME ZONE) < (p_params->>'max_loans')::INTEGER)) RETURNING booking.id),
told AS
(INSERT INTO notification (kind, person_id, payload, status, attempts, created_at, next_attempt_at, lease_until,
lease_owner, sent_at, last_attempt_at, last_error, dedupe_key, booking_id) SELECT (p_params->>'event_kind')::VARCHAR AS
anon_1, (p_params->>'event_person_id')::INTEGER AS anon_2, (p_params->>'event_payload')::JSON AS anon_3,
(p_params->>'event_status')::VARCHAR AS anon_4, (p_params->>'event_attempts')::INTEGER AS anon_5,
(p_params->>'event_created_at')::TIMESTAMP WITH TIME ZONE AS anon_6, (p_params->>'event_next_attempt_at')::TIMESTAMP WITH
TIME ZONE AS anon_7, (p_params->>'event_lease_until')::TIMESTAMP WITH TIME ZONE AS anon_8,
(p_params->>'event_lease_owner')::VARCHAR AS anon_9, (p_params->>'event_sent_at')::TIMESTAMP WITH TIME ZONE AS anon_10,
(p_params->>'event_last_attempt_at')::TIMESTAMP WITH TIME ZONE AS anon_11, (p_params->>'event_last_error')::VARCHAR AS
anon_12, (p_params->>'event_dedupe_key')::VARCHAR AS anon_13, booked.id AS id
FROM booked)
 SELECT booked.id
FROM booked INTO new_id;
    ELSE
        WITH booked AS
(INSERT INTO booking (resource_id, person_id, association_id, series_id, title, start, "end", block_start, block_end,
exclusive, quantity, attendees, status, sequence, created_at, updated_at, decided_by, decided_at, decision_reason,
cancelled_by, cancelled_at, cancel_reason, kit_loan_id, checked_out_at, checked_out_by, check_out_note, returned_at,
returned_by, return_condition, return_note, missing_units) SELECT (p_params->>'resource_id')::INTEGER AS anon_14,
(p_params->>'person_id')::INTEGER AS anon_15, (p_params->>'association_id')::INTEGER AS anon_16,
(p_params->>'series_id')::INTEGER AS anon_17, (p_params->>'title')::VARCHAR AS anon_18, (p_params->>'start')::TIMESTAMP WITH
TIME ZONE AS anon_19, (p_params->>'end')::TIMESTAMP WITH TIME ZONE AS anon_20, (p_params->>'block_start')::TIMESTAMP WITH
TIME ZONE AS anon_21, (p_params->>'block_end')::TIMESTAMP WITH TIME ZONE AS anon_22, (p_params->>'exclusive')::BOOLEAN AS
anon_23, (p_params->>'quantity')::INTEGER AS anon_24, (p_params->>'attendees')::INTEGER AS anon_25,
(p_params->>'status')::VARCHAR AS anon_26, (p_params->>'sequence')::INTEGER AS anon_27, (p_params->>'created_at')::TIMESTAMP
WITH TIME ZONE AS anon_28, (p_params->>'updated_at')::TIMESTAMP WITH TIME ZONE AS anon_29,
(p_params->>'decided_by')::INTEGER AS anon_30, (p_params->>'decided_at')::TIMESTAMP WITH TIME ZONE AS anon_31,
(p_params->>'decision_reason')::VARCHAR AS anon_32, (p_params->>'cancelled_by')::INTEGER AS anon_33,
(p_params->>'cancelled_at')::TIMESTAMP WITH TIME ZONE AS anon_34, (p_params->>'cancel_reason')::VARCHAR AS anon_35,
(p_params->>'kit_loan_id')::VARCHAR AS anon_36, (p_params->>'checked_out_at')::TIMESTAMP WITH TIME ZONE AS anon_37,
(p_params->>'checked_out_by')::INTEGER AS anon_38, (p_params->>'check_out_note')::VARCHAR AS anon_39,
(p_params->>'returned_at')::TIMESTAMP WITH TIME ZONE AS anon_40, (p_params->>'returned_by')::INTEGER AS anon_41,
(p_params->>'return_condition')::VARCHAR AS anon_42, (p_params->>'return_note')::VARCHAR AS anon_43,
(p_params->>'missing_units')::INTEGER AS anon_44
WHERE (SELECT coalesce(sum(booking.quantity), (p_params->>'coalesce_2')::INTEGER) AS coalesce_1
FROM booking
WHERE booking.resource_id = (p_params->>'resource_id')::INTEGER AND booking.status IN ('checked_out', 'confirmed',
'offered', 'overdue', 'requested') AND booking.block_start < (p_params->>'block_end')::TIMESTAMP WITH TIME ZONE AND
booking.block_end > (p_params->>'block_start')::TIMESTAMP WITH TIME ZONE) + (p_params->>'quantity')::INTEGER <=
(p_params->>'stock')::INTEGER AND ((p_params->>'lends_freely')::BOOLEAN OR NOT (EXISTS (SELECT 1
FROM booking
WHERE booking.exclusive IS false AND booking.association_id = (p_params->>'association_id')::INTEGER AND booking.status IN
('checked_out', 'overdue') AND booking."end" <= (p_params->>'now')::TIMESTAMP WITH TIME ZONE)) AND
((p_params->>'max_loans')::INTEGER IS NULL OR (SELECT count(distinct(coalesce(booking.kit_loan_id, CAST(booking.id AS
VARCHAR)))) AS count_1
FROM booking
WHERE booking.exclusive IS false AND booking.association_id = (p_params->>'association_id')::INTEGER AND booking.status IN
('checked_out', 'confirmed', 'offered', 'overdue', 'requested') AND booking."end" > (p_params->>'now')::TIMESTAMP WITH TIME
ZONE) < (p_params->>'max_loans')::INTEGER)) RETURNING booking.id),
told AS
(INSERT INTO notification (kind, person_id, payload, status, attempts, created_at, next_attempt_at, lease_until,
lease_owner, sent_at, last_attempt_at, last_error, dedupe_key, booking_id) SELECT (p_params->>'event_kind')::VARCHAR AS
anon_1, (p_params->>'event_person_id')::INTEGER AS anon_2, (p_params->>'event_payload')::JSON AS anon_3,
(p_params->>'event_status')::VARCHAR AS anon_4, (p_params->>'event_attempts')::INTEGER AS anon_5,
(p_params->>'event_created_at')::TIMESTAMP WITH TIME ZONE AS anon_6, (p_params->>'event_next_attempt_at')::TIMESTAMP WITH
TIME ZONE AS anon_7, (p_params->>'event_lease_until')::TIMESTAMP WITH TIME ZONE AS anon_8,
(p_params->>'event_lease_owner')::VARCHAR AS anon_9, (p_params->>'event_sent_at')::TIMESTAMP WITH TIME ZONE AS anon_10,
(p_params->>'event_last_attempt_at')::TIMESTAMP WITH TIME ZONE AS anon_11, (p_params->>'event_last_error')::VARCHAR AS
anon_12, (p_params->>'event_dedupe_key')::VARCHAR AS anon_13, booked.id AS id
FROM booked)
 SELECT booked.id
FROM booked INTO new_id;
    END IF;
    RETURN new_id;
END
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE FUNCTION {SIGNATURE} RETURNS integer LANGUAGE plpgsql AS $$ {BODY} $$")
        op.execute("DROP FUNCTION allmenning_locked_insert(integer, timestamptz, jsonb, text, jsonb)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION allmenning_lend(integer, timestamptz, jsonb, jsonb)")
        op.execute(_revision_0016().LOCKED_INSERT)


def _revision_0016():
    spec = importlib.util.spec_from_file_location("revision_0016", Path(__file__).with_name("0016_locked_insert.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
