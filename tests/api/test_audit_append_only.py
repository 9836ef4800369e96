"""The audit trail is append-only in the database itself: an UPDATE or a DELETE of an entry fails on both backends,
even as raw SQL on the app's own connection, and the entry stays as it was written."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from infra import audit
from infra.audit import Action, AuditEntry

CHANGES = [
    "UPDATE audit_entry SET reason = 'rewritten'",
    "UPDATE audit_entry SET actor_id = NULL WHERE id = :id",
    "DELETE FROM audit_entry WHERE id = :id",
    "DELETE FROM audit_entry",
]


@pytest.fixture
async def entry(db, clock) -> int:
    async with db.write() as s:
        audit.record(s, Action.BOOKING_APPROVED, actor_id=1, at=clock.now, object_id=7, subject_id=2, reason="Godkjent")
    async with db.read() as s:
        return (await s.execute(select(AuditEntry.id))).scalar_one()


async def written(db) -> list[tuple]:
    async with db.read() as s:
        return [(e.id, e.actor_id, e.reason) for e in (await s.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars()]


@pytest.mark.parametrize("sql", CHANGES)
async def test_an_entry_cannot_be_changed_or_deleted_in_a_write_transaction(db, entry, sql):
    with pytest.raises(DBAPIError, match="append-only"):
        async with db.write() as s:
            await s.execute(text(sql), {"id": entry})
    assert await written(db) == [(entry, 1, "Godkjent")]


@pytest.mark.parametrize("sql", CHANGES)
async def test_nor_as_raw_sql_on_the_apps_connection(db, entry, sql):
    with pytest.raises(DBAPIError, match="append-only"):
        async with db.engine.begin() as conn:
            await conn.exec_driver_sql(sql.replace(":id", str(entry)))
    assert await written(db) == [(entry, 1, "Godkjent")]


async def test_truncating_the_trail_fails_too_on_postgresql(db, backend, entry):
    if backend != "postgresql":
        pytest.skip("SQLite has no TRUNCATE (its DELETE without WHERE is refused above)")
    with pytest.raises(DBAPIError, match="append-only"):
        async with db.engine.begin() as conn:
            await conn.exec_driver_sql("TRUNCATE audit_entry")
    assert await written(db) == [(entry, 1, "Godkjent")]


async def test_entries_are_still_added(db, clock, entry):
    async with db.write() as s:
        audit.record(s, Action.BOOKING_DECLINED, actor_id=1, at=clock.now, object_id=8, reason="Fullt")
    assert [reason for _, _, reason in await written(db)] == ["Godkjent", "Fullt"]
