"""Booking rooms through the HTTP app: every rule and error code, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from resources.rules import BookerKind
from resources.store import Closure
from tests import builders

MONDAY_EVENING = {"start": "2026-11-30T18:00:00+01:00", "end": "2026-11-30T20:00:00+01:00"}


def at(day: str, start: str, end: str) -> dict[str, str]:
    return {"start": f"{day}T{start}:00+01:00", "end": f"{day}T{end}:00+01:00"}


async def book(client, auth, resource_id, **fields):
    return await client.post("/api/v1/bookings", json={"resource_id": resource_id, **fields}, headers=auth)


async def mine(client, auth) -> list[dict]:
    return (await client.get("/api/v1/bookings?mine=true", headers=auth)).json()["items"]


def assert_problem(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code


async def test_a_resident_books_a_free_evening_slot(client, alice, room_id):
    _, auth = alice
    response = await book(client, auth, room_id, title="Lesesirkel", **MONDAY_EVENING)
    assert response.status_code == 201, response.text
    booking = response.json()
    assert (booking["status"], booking["start"], booking["end"]) == ("confirmed", *MONDAY_EVENING.values())
    fetched = await client.get(f"/api/v1/bookings/{booking['id']}", headers=auth)
    assert fetched.json()["title"] == "Lesesirkel"
    assert [b["id"] for b in await mine(client, auth)] == [booking["id"]]


async def test_an_overlapping_booking_is_refused_as_taken_and_nothing_is_written(client, alice, bob, room_id):
    assert (await book(client, alice[1], room_id, **MONDAY_EVENING)).status_code == 201
    second = await book(client, bob[1], room_id, **at("2026-11-30", "19:00", "21:00"))
    assert_problem(second, 409, "slot_taken")
    assert await mine(client, bob[1]) == []


async def test_the_cleaning_buffer_keeps_the_next_booking_away(client, db, alice, bob):
    room = await builders.room(db, key="kjokken", policy=builders.room_policy(buffer_after=timedelta(minutes=30)))
    assert (await book(client, alice[1], room, **MONDAY_EVENING)).status_code == 201
    assert_problem(await book(client, bob[1], room, **at("2026-11-30", "20:00", "21:00")), 409, "slot_taken")
    assert (await book(client, bob[1], room, **at("2026-11-30", "20:30", "21:30"))).status_code == 201


@pytest.mark.parametrize(
    ("when", "code"),
    [
        (at("2026-11-30", "15:00", "16:00"), "outside_booking_window"),
        (at("2026-11-30", "21:00", "22:30"), "outside_booking_window"),
        (at("2026-12-25", "18:00", "20:00"), "resource_closed"),  # første juledag
        (at("2026-11-30", "18:00", "18:30"), "too_short"),
        (at("2026-12-05", "10:00", "15:00"), "too_long"),
        (at("2026-11-30", "18:10", "19:10"), "off_grid"),
        (at("2027-06-07", "18:00", "20:00"), "too_far_ahead"),
        (at("2026-11-20", "18:00", "20:00"), "in_the_past"),
        ({"start": "2026-11-30T20:00:00+01:00", "end": "2026-11-30T18:00:00+01:00"}, "invalid_interval"),
        ({"start": "2026-11-30T18:00:00", "end": "2026-11-30T20:00:00"}, "naive_timestamp"),
    ],
)
async def test_a_booking_against_the_policy_is_refused_with_its_own_code(client, alice, room_id, when, code):
    assert_problem(await book(client, alice[1], room_id, **when), 422, code)
    assert await mine(client, alice[1]) == []


async def test_a_booking_inside_the_lead_time_is_too_soon(client, clock, alice, room_id):
    clock.now = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # 17:00 in Oslo, one hour before
    assert_problem(await book(client, alice[1], room_id, **MONDAY_EVENING), 422, "too_soon")


async def test_a_closure_closes_the_room(client, db, alice, room_id):
    async with db.write() as s:
        s.add(
            Closure(
                resource_id=room_id, start=datetime(2026, 11, 30, 0, tzinfo=UTC), end=datetime(2026, 12, 1, tzinfo=UTC), reason="Maling"
            )
        )
    response = await book(client, alice[1], room_id, **MONDAY_EVENING)
    assert_problem(response, 422, "resource_closed")


async def test_a_room_for_associations_only_refuses_a_resident(client, db, alice):
    room = await builders.room(db, key="sal", policy=builders.room_policy(bookable_by=frozenset({BookerKind.ASSOCIATION})))
    assert_problem(await book(client, alice[1], room, **MONDAY_EVENING), 403, "booker_not_allowed")


async def test_more_attendees_than_seats_is_over_capacity(client, alice, room_id):
    assert_problem(await book(client, alice[1], room_id, attendees=21, **MONDAY_EVENING), 422, "over_capacity")
    assert (await book(client, alice[1], room_id, attendees=20, **MONDAY_EVENING)).status_code == 201


async def test_an_association_cannot_book_beyond_its_weekly_hours(client, db, alice):
    room = await builders.room(db, key="quota", policy=builders.room_policy(association_hours_per_week=3))
    club = await builders.association(db, "Sjakklubben", "974760673", {alice[0]: "member"})
    first = await book(client, alice[1], room, organisation_id=club, **MONDAY_EVENING)
    assert first.status_code == 201, first.text
    assert_problem(await book(client, alice[1], room, organisation_id=club, **at("2026-12-01", "18:00", "20:00")), 422, "over_quota")
    assert (await book(client, alice[1], room, organisation_id=club, **at("2026-12-07", "18:00", "20:00"))).status_code == 201


async def test_an_association_quota_counts_only_its_hours_in_that_room_never_loans_or_other_rooms(client, db, alice):
    # Each room carries its own policy: even a second room with the very same rules keeps its own count.
    music_room = await builders.room(db, key="musikkrom", policy=builders.room_policy(association_hours_per_week=4))
    hall = await builders.room(db, key="sal", policy=builders.room_policy(association_hours_per_week=4))
    tent = await builders.item(db, "telt", stock=2)
    band = await builders.association(db, "Bandet", "974760673", {alice[0]: "member"})
    tent_loan = {"start": "2026-11-30T12:00:00+01:00", "end": "2026-12-01T12:00:00+01:00"}  # 24 hours
    assert (await book(client, alice[1], tent, organisation_id=band, **tent_loan)).status_code == 201
    assert (await book(client, alice[1], hall, organisation_id=band, **at("2026-11-30", "18:00", "22:00"))).status_code == 201
    first = await book(client, alice[1], music_room, organisation_id=band, **at("2026-12-01", "18:00", "19:00"))
    assert first.status_code == 201, first.text
    assert (await book(client, alice[1], music_room, organisation_id=band, **at("2026-12-02", "18:00", "21:00"))).status_code == 201
    over = await book(client, alice[1], music_room, organisation_id=band, **at("2026-12-03", "18:00", "19:00"))
    assert_problem(over, 422, "over_quota")
    assert (over.json()["quota_hours"], over.json()["booked_hours"]) == (4.0, 4.0)


async def test_a_person_cannot_hold_more_active_bookings_than_allowed(client, db, alice):
    room = await builders.room(db, key="limit", policy=builders.room_policy(max_active_bookings_per_person=1))
    assert (await book(client, alice[1], room, **MONDAY_EVENING)).status_code == 201
    assert_problem(await book(client, alice[1], room, **at("2026-12-01", "18:00", "20:00")), 422, "over_quota")


async def test_booking_for_an_association_one_is_not_a_member_of_is_forbidden(client, db, alice, bob, room_id):
    club = await builders.association(db, "Korpset", "974760673", {bob[0]: "admin"})
    assert_problem(await book(client, alice[1], room_id, organisation_id=club, **MONDAY_EVENING), 403, "not_a_member")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"resource_id": "one"},
        {"resource_id": 1, "start": "tomorrow", "end": "2026-11-30T20:00:00+01:00"},
        {"resource_id": 1, "colour": "red", **MONDAY_EVENING},
    ],
)
async def test_malformed_requests_are_unprocessable(client, alice, room_id, body):
    response = await client.post("/api/v1/bookings", json=body, headers=alice[1])
    assert_problem(response, 422, "invalid_input")


async def test_an_unknown_resource_or_booking_is_not_found(client, alice):
    assert_problem(await book(client, alice[1], 999, **MONDAY_EVENING), 404, "not_found")
    assert_problem(await client.get("/api/v1/bookings/999", headers=alice[1]), 404, "not_found")


async def test_booking_without_signing_in_is_refused(client, room_id):
    response = await client.post("/api/v1/bookings", json={"resource_id": room_id, **MONDAY_EVENING})
    assert_problem(response, 401, "not_authenticated")


async def test_someone_elses_booking_can_be_neither_seen_nor_cancelled(client, alice, bob, room_id):
    booking = (await book(client, alice[1], room_id, **MONDAY_EVENING)).json()
    assert_problem(await client.get(f"/api/v1/bookings/{booking['id']}", headers=bob[1]), 403, "forbidden")
    assert_problem(await client.post(f"/api/v1/bookings/{booking['id']}/cancel", json={}, headers=bob[1]), 403, "forbidden")


async def test_a_retry_with_the_same_idempotency_key_books_once(client, alice, room_id):
    headers = {**alice[1], "Idempotency-Key": "c0ffee-1"}
    first = await client.post("/api/v1/bookings", json={"resource_id": room_id, **MONDAY_EVENING}, headers=headers)
    again = await client.post("/api/v1/bookings", json={"resource_id": room_id, **MONDAY_EVENING}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert again.headers.get("idempotent-replayed") == "true"
    assert len(await mine(client, alice[1])) == 1


async def test_an_idempotency_key_reused_for_another_request_is_refused(client, alice, room_id):
    headers = {**alice[1], "Idempotency-Key": "c0ffee-2"}
    await client.post("/api/v1/bookings", json={"resource_id": room_id, **MONDAY_EVENING}, headers=headers)
    other = await client.post("/api/v1/bookings", json={"resource_id": room_id, **at("2026-12-01", "18:00", "20:00")}, headers=headers)
    assert_problem(other, 422, "idempotency_key_reused")
    assert len(await mine(client, alice[1])) == 1


@pytest.mark.parametrize(
    "path", ["/api/v1/bookings/36547176556153045660991488", "/api/v1/bookings?organisation_id=-7141416026239808831488"]
)
async def test_numbers_no_column_can_hold_are_unprocessable_not_a_server_error(client, staff, path):
    assert_problem(await client.get(path, headers=staff[1]), 422, "invalid_input")


async def test_an_id_past_postgresqls_integer_range_is_refused_cleanly_on_both_backends(client, alice):
    response = await client.get("/api/v1/bookings/4294967296", headers=alice[1])
    assert (response.status_code, response.json()["code"]) in {(404, "not_found"), (422, "invalid_input")}
