"""My data: one map of every column naming a person, and the export of everything held about someone."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlmodel import SQLModel

import config.tables  # noqa: F401  (every table on the metadata)
from infra.audit import AuditEntry
from oversight.personal import PERSONAL, SECRET, Erase
from tests import builders

MONDAY_EVENING = {"start": "2026-11-30T18:00:00+01:00", "end": "2026-11-30T20:00:00+01:00"}
LOOKS_PERSONAL = re.compile(
    r"(person_id$|_by$|^email$|_email$|phone|_name$|^street$|^postal_code$|^city$|^address$|household|^actor_id$|^subject_id$)"
)


def names_a_person(column) -> bool:
    return any(fk.column.table.name == "person" for fk in column.foreign_keys) or bool(LOOKS_PERSONAL.search(column.name))


def test_every_column_that_names_a_person_says_what_export_and_erasure_do_there():
    missing = [
        f"{t.name}.{c.name}" for t in SQLModel.metadata.sorted_tables for c in t.c if names_a_person(c) and (t.name, c.name) not in PERSONAL
    ]
    assert missing == [], f"add these to oversight.personal.PERSONAL: {missing}"


def test_the_map_names_only_columns_that_exist_and_blanks_only_rows_someone_owns():
    tables = SQLModel.metadata.tables
    for (name, column), rule in PERSONAL.items():
        assert column in tables[name].c, f"{name}.{column}"
        if rule.erase is Erase.BLANK:
            assert rule.owner in tables[name].c, f"{name}.{column}: owner {rule.owner}"


async def export(client, auth) -> dict:
    response = await client.get("/api/v1/me/export", headers=auth)
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"].startswith("attachment;")
    return response.json()


async def test_my_export_holds_my_profile_bookings_tokens_and_mails_but_no_secret_and_nobody_else(client, db, alice, bob, room_id, backend):
    _, auth = alice
    booked = await client.post("/api/v1/bookings", json={"resource_id": room_id, "title": "Lesesirkel", **MONDAY_EVENING}, headers=auth)
    assert booked.status_code == 201, booked.text
    await client.post(
        "/api/v1/bookings", json={"resource_id": room_id, "title": "Bobs", **{"start": "2026-12-01T18:00:00+01:00", "end": "2026-12-01T20:00:00+01:00"}},
        headers=bob[1],
    )  # fmt: skip
    assert (await client.post("/api/v1/me/calendar-feed", headers=auth)).status_code == 201
    held = (await export(client, auth))["tables"]
    assert held["person"][0]["email"] == "alice@example.no"
    assert [b["title"] for b in held["booking"]] == ["Lesesirkel"]
    assert held["notification"][0]["kind"] == "booking_confirmed" and held["notification"][0]["payload"]["title"] == "Lesesirkel"
    assert {c["kind"] for c in held["credential"]} == {"api"} and len(held["calendar_feed"]) == 1
    every_key = {key for rows in held.values() for row in rows for key in row}
    assert not every_key & SECRET
    assert "bob@example.no" not in str(held)


async def test_an_export_is_in_the_audit_trail_and_so_appears_in_the_next_one(client, db, alice):
    await export(client, alice[1])
    held = (await export(client, alice[1]))["tables"]
    assert [(e["action"], e["actor_id"], e["subject_id"]) for e in held["audit_entry"]] == [("person.exported", alice[0], alice[0])]


async def test_staff_who_manage_people_export_a_person_on_request_and_it_is_audited(client, db, alice, staff):
    response = await client.get(f"/api/v1/people/{alice[0]}/export", headers=staff[1])
    assert response.status_code == 200, response.text
    assert response.json()["tables"]["person"][0]["email"] == "alice@example.no"
    async with db.read() as s:
        entry = (await s.execute(select(AuditEntry))).scalar_one()
    assert (entry.action, entry.actor_id, entry.subject_id) == ("person.exported", staff[0], alice[0])


async def test_someone_elses_export_is_refused_to_a_resident_and_to_staff_of_a_place_and_nothing_is_written(client, db, alice, bob):
    response = await client.get(f"/api/v1/people/{alice[0]}/export", headers=bob[1])
    assert (response.status_code, response.json()["code"]) == (403, "staff_only")
    place_staff, auth = await builders.person(db, "vakt@knutepunkt.no")
    from people.store import StaffGrant

    async with db.write() as s:
        s.add(StaffGrant(person_id=place_staff, role="reporting", created_at=builders.EPOCH))
    response = await client.get(f"/api/v1/people/{alice[0]}/export", headers=auth)
    assert (response.status_code, response.json()["code"]) == (403, "not_at_this_location")
    async with db.read() as s:
        assert (await s.execute(select(AuditEntry))).first() is None
