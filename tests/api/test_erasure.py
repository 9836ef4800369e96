"""Erasure: a person's account becomes a pseudonym in one transaction, and nothing anywhere still names them."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import JSON, String, Text, select
from sqlmodel import SQLModel

import config.tables  # noqa: F401  (every table on the metadata)
from booking.store import Booking
from infra import outbox
from infra.audit import AuditEntry
from people import service as people_service
from people.store import Association, Person
from tests import builders

MONDAY_EVENING = {"start": "2026-11-30T18:00:00+01:00", "end": "2026-11-30T20:00:00+01:00"}
TUESDAY_EVENING = {"start": "2026-12-01T18:00:00+01:00", "end": "2026-12-01T20:00:00+01:00"}
NAME, STREET, PHONE, EMAIL = "Åse Ålesund", "Storgata 12", "+47 912 34 567", "ase@example.no"


def assert_problem(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


async def book(client, auth, resource_id, **fields):
    response = await client.post("/api/v1/bookings", json={"resource_id": resource_id, **fields}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


async def texts_naming(db, *needles: str) -> list[str]:
    """Every String, Text and JSON value of every table that holds one of these (as written or as JSON escapes it)."""
    spelled = {form.lower() for n in needles for form in (n, json.dumps(n)[1:-1])}
    found = []
    async with db.read() as s:
        for table in SQLModel.metadata.sorted_tables:
            columns = [c for c in table.c if isinstance(c.type, (String, Text, JSON))]
            for row in (await s.execute(select(*columns))).all() if columns else []:
                for column, value in zip(columns, row, strict=True):
                    text = json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else str(value or "")
                    if any(n in text.lower() or n in json.dumps(value).lower() for n in spelled):
                        found.append(f"{table.name}.{column.name}: {text[:80]}")
    return found


async def a_full_life(client, db, settings, clock, room_id, bob, carol):
    """Åse: an address, bookings past and coming, a waiting place, an association she alone admins, an invitation,
    a feed, a token, a sign-in link, and a staff digest that quotes her name."""
    ase, auth = await builders.person(db, EMAIL, name=NAME)
    async with db.write() as s:
        person = await s.get(Person, ase)
        person.street, person.postal_code, person.city = STREET, "3044", "Drammen"
    club = await builders.association(db, "Strømsø Sjakklubb", "111111111", {ase: "admin", bob[0]: "member"})
    other = await builders.association(db, "Korpset", "222222222", {bob[0]: "admin"})
    async with db.write() as s:
        (await s.get(Association, club)).contact_email = EMAIL
        (await s.get(Association, club)).contact_phone = PHONE
        s.add(Booking(resource_id=room_id, person_id=ase, title=f"{NAME} fyller 50", start=clock.now - timedelta(days=30),
                      end=clock.now - timedelta(days=30, hours=-2), block_start=clock.now - timedelta(days=30),
                      block_end=clock.now - timedelta(days=30, hours=-2), status="confirmed", created_at=clock.now, updated_at=clock.now))  # fmt: skip
        outbox.record(s, "staff_digest", person_id=bob[0], at=clock.now, requests=[{"asker": NAME, "id": 1}], waiting=1)
    mine = await book(client, auth, room_id, title="Åses lesesirkel", **MONDAY_EVENING)
    await book(client, bob[1], room_id, title="Bobs kveld", **TUESDAY_EVENING)
    waiting = await client.post("/api/v1/waitlist", json={"resource_id": room_id, **TUESDAY_EVENING}, headers=auth)
    assert waiting.status_code == 201, waiting.text
    carols = await client.post("/api/v1/waitlist", json={"resource_id": room_id, **MONDAY_EVENING}, headers=carol[1])
    assert carols.status_code == 201, carols.text
    invited = await client.post(f"/api/v1/associations/{other}/members", json={"email": EMAIL}, headers=bob[1])
    assert invited.status_code == 202, invited.text
    assert (await client.post("/api/v1/me/calendar-feed", headers=auth)).status_code == 201
    await people_service.request_signin(db, settings, EMAIL, now=clock.now)
    return ase, auth, mine, carols.json(), club


async def test_after_erasure_no_text_anywhere_names_the_person_and_others_data_is_intact(
    client, db, settings, clock, room_id, bob, backend
):
    carol = await builders.person(db, "carol@example.no")
    ase, auth, mine, carols, club = await a_full_life(client, db, settings, clock, room_id, bob, carol)
    assert await texts_naming(db, EMAIL, NAME, STREET, PHONE)  # the scan finds her before
    response = await client.delete("/api/v1/me", headers=auth)
    assert response.status_code == 200, response.text
    done = response.json()
    assert done["cancelled"] == [mine["id"]] and done["left_lines"] == 1 and done["left_without_admin"] == [club]
    assert await texts_naming(db, EMAIL, NAME, STREET, PHONE) == []
    async with db.read() as s:
        person = await s.get(Person, ase)
        bobs = (await s.execute(select(Booking).where(Booking.person_id == bob[0]))).scalar_one()
        past = (await s.execute(select(Booking).where(Booking.person_id == ase, Booking.status == "confirmed"))).scalar_one()
        trail = list((await s.execute(select(AuditEntry.action).where(AuditEntry.subject_id == ase))).scalars())
    assert (person.email, person.name, person.street, person.erased_at) == (f"erased-{ase}@invalid", "", "", clock.now)
    assert past.title == "" and bobs.title == "Bobs kveld"  # the past kept for statistics, without its words
    assert "person.erased" in trail
    offered = await client.get(f"/api/v1/waitlist/{carols['id']}", headers=carol[1])
    assert offered.json()["status"] == "offered"  # the freed evening went to the next in line
    assert (await client.get("/api/v1/me", headers=auth)).status_code == 401
    assert len(list((settings.mail_dir).glob("*"))) >= 2  # the sign-in link, then word that it was done


async def test_erasure_waits_for_borrowed_equipment_to_come_back_and_changes_nothing_meanwhile(client, db, settings, clock, alice, staff):
    projector = await builders.item(db, "projektor", stock=1)
    lent = await book(client, alice[1], projector, start="2026-11-23T12:00:00+01:00", end="2026-11-24T12:00:00+01:00")
    assert (await client.post(f"/api/v1/bookings/{lent['id']}/check-out", json={}, headers=staff[1])).status_code == 200
    assert_problem(await client.delete("/api/v1/me", headers=alice[1]), 409, "loans_out")
    assert (await client.get("/api/v1/me", headers=alice[1])).json()["email"] == "alice@example.no"


async def test_the_last_operator_cannot_be_erased(client, staff):
    assert_problem(await client.delete("/api/v1/me", headers=staff[1]), 409, "last_operator")


async def test_staff_who_manage_people_erase_on_request_saying_why_and_residents_may_not(client, db, alice, bob, staff):
    assert_problem(
        await client.request("DELETE", f"/api/v1/people/{alice[0]}", json={"reason": "Ba om det"}, headers=bob[1]), 403, "staff_only"
    )
    assert_problem(
        await client.request("DELETE", f"/api/v1/people/{alice[0]}", json={"reason": " "}, headers=staff[1]), 422, "reason_required"
    )
    erased = await client.request("DELETE", f"/api/v1/people/{alice[0]}", json={"reason": "Brev 2. des."}, headers=staff[1])
    assert erased.status_code == 200, erased.text
    async with db.read() as s:
        entry = (await s.execute(select(AuditEntry).where(AuditEntry.action == "person.erased"))).scalar_one()
    assert (entry.actor_id, entry.subject_id, entry.reason) == (staff[0], alice[0], "Brev 2. des.")
    assert_problem(
        await client.request("DELETE", f"/api/v1/people/{alice[0]}", json={"reason": "igjen"}, headers=staff[1]), 404, "person_not_found"
    )


async def test_an_offer_held_for_the_erased_person_passes_to_the_next_in_line_and_an_associations_booking_stays(
    client, db, room_id, alice, bob, backend
):
    carol = await builders.person(db, "carol@example.no")
    club = await builders.association(db, "Korpset", "222222222", {alice[0]: "admin", bob[0]: "admin"})
    held = await book(client, bob[1], room_id, **MONDAY_EVENING)
    for waiter in (alice, carol):
        assert (
            await client.post("/api/v1/waitlist", json={"resource_id": room_id, **MONDAY_EVENING}, headers=waiter[1])
        ).status_code == 201
    assert (await client.post(f"/api/v1/bookings/{held['id']}/cancel", headers=bob[1])).status_code == 200
    practice = await book(client, alice[1], room_id, organisation_id=club, title="Korpsøving", **TUESDAY_EVENING)
    done = (await client.delete("/api/v1/me", headers=alice[1])).json()
    assert len(done["withdrawn"]) == 1 and done["kept_for_associations"] == [practice["id"]] and done["left_without_admin"] == []
    carols = (await client.get("/api/v1/waitlist", headers=carol[1])).json()["items"]
    assert [e["status"] for e in carols] == ["offered"]
    kept = await client.get(f"/api/v1/bookings/{practice['id']}", headers=bob[1])
    assert (kept.json()["status"], kept.json()["title"]) == ("confirmed", "Korpsøving")
