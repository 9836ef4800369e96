"""Booking rooms through the HTTP app, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests import builders

MONDAY_EVENING = {"start": "2026-11-30T18:00:00+01:00", "end": "2026-11-30T20:00:00+01:00"}


@pytest.fixture
async def alice(db):
    return await builders.person(db, "alice@example.no")


@pytest.fixture
async def room_id(db):
    return await builders.room(db)


async def test_a_resident_books_a_free_evening_slot(client, alice, room_id):
    _, auth = alice
    response = await client.post("/api/v1/bookings", json={"resource_id": room_id, "title": "Lesesirkel", **MONDAY_EVENING}, headers=auth)
    assert response.status_code == 201, response.text
    booking = response.json()
    assert booking["status"] == "confirmed"
    assert booking["start"] == "2026-11-30T18:00:00+01:00"
    fetched = await client.get(f"/api/v1/bookings/{booking['id']}", headers=auth)
    assert fetched.json()["title"] == "Lesesirkel"


async def test_a_second_booking_of_the_same_slot_is_refused_as_taken(client, db, alice, room_id):
    _, auth = alice
    _, bob_auth = await builders.person(db, "bob@example.no")
    first = await client.post("/api/v1/bookings", json={"resource_id": room_id, **MONDAY_EVENING}, headers=auth)
    assert first.status_code == 201
    second = await client.post("/api/v1/bookings", json={"resource_id": room_id, "start": "2026-11-30T19:00:00+01:00", "end": "2026-11-30T21:00:00+01:00"}, headers=bob_auth)
    assert second.status_code == 409
    assert second.headers["content-type"].startswith("application/problem+json")
    assert second.json()["code"] == "slot_taken"
