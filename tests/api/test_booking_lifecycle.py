"""After booking: approval, moving, cancelling, weekly series and availability, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests import builders
from tests.api.test_bookings import MONDAY_EVENING, assert_problem, at, book, mine


@pytest.fixture
async def hall_id(db):
    return await builders.room(db, key="storsal", policy=builders.room_policy(needs_approval=True))


async def test_a_room_that_needs_approval_holds_the_requested_slot_until_staff_decide(client, alice, bob, staff, hall_id):
    requested = (await book(client, alice[1], hall_id, **MONDAY_EVENING)).json()
    assert requested["status"] == "requested"
    assert_problem(await book(client, bob[1], hall_id, **MONDAY_EVENING), 409, "slot_taken")
    waiting = (await client.get("/api/v1/bookings/awaiting-approval", headers=staff[1])).json()["items"]
    assert [b["id"] for b in waiting] == [requested["id"]]
    approved = await client.post(f"/api/v1/bookings/{requested['id']}/approve", json={}, headers=staff[1])
    assert approved.json()["status"] == "confirmed"
    assert (await client.get("/api/v1/bookings/awaiting-approval", headers=staff[1])).json()["items"] == []
    assert_problem(await client.post(f"/api/v1/bookings/{requested['id']}/approve", json={}, headers=staff[1]), 409, "not_decidable")


async def test_staff_decline_a_request_with_a_reason_and_the_slot_is_free_again(client, alice, bob, staff, hall_id):
    requested = (await book(client, alice[1], hall_id, **MONDAY_EVENING)).json()
    no_reason = await client.post(f"/api/v1/bookings/{requested['id']}/decline", json={"reason": " "}, headers=staff[1])
    assert_problem(no_reason, 422, "reason_required")
    declined = await client.post(
        f"/api/v1/bookings/{requested['id']}/decline", json={"reason": "Salen er reservert til valg"}, headers=staff[1]
    )
    assert (declined.json()["status"], declined.json()["decision_reason"]) == ("declined", "Salen er reservert til valg")
    assert (await book(client, bob[1], hall_id, **MONDAY_EVENING)).status_code == 201


async def test_only_staff_approve(client, alice, hall_id):
    requested = (await book(client, alice[1], hall_id, **MONDAY_EVENING)).json()
    assert_problem(await client.post(f"/api/v1/bookings/{requested['id']}/approve", json={}, headers=alice[1]), 403, "staff_only")
    assert_problem(await client.get("/api/v1/bookings/awaiting-approval", headers=alice[1]), 403, "staff_only")


async def test_a_cancelled_booking_is_kept_with_who_when_and_why_and_frees_the_slot(client, clock, alice, bob, room_id):
    booking = (await book(client, alice[1], room_id, **MONDAY_EVENING)).json()
    cancelled = (await client.post(f"/api/v1/bookings/{booking['id']}/cancel", json={"reason": "Syk"}, headers=alice[1])).json()
    assert (cancelled["status"], cancelled["cancelled_by"], cancelled["cancel_reason"]) == ("cancelled", alice[0], "Syk")
    assert cancelled["cancelled_at"] == clock.now.astimezone(datetime.fromisoformat(cancelled["cancelled_at"]).tzinfo).isoformat()
    assert [b["status"] for b in await mine(client, alice[1])] == ["cancelled"]
    assert (await book(client, bob[1], room_id, **MONDAY_EVENING)).status_code == 201
    again = await client.post(f"/api/v1/bookings/{booking['id']}/cancel", json={}, headers=alice[1])
    assert_problem(again, 409, "not_cancellable")


async def test_a_booking_cannot_be_cancelled_after_the_deadline_but_staff_can_with_a_reason(client, clock, alice, staff, room_id):
    booking = (await book(client, alice[1], room_id, **MONDAY_EVENING)).json()
    clock.now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # ten hours before: inside the 24-hour notice
    assert_problem(await client.post(f"/api/v1/bookings/{booking['id']}/cancel", json={}, headers=alice[1]), 422, "cancellation_too_late")
    assert_problem(await client.post(f"/api/v1/bookings/{booking['id']}/cancel", json={}, headers=staff[1]), 422, "reason_required")
    by_staff = await client.post(f"/api/v1/bookings/{booking['id']}/cancel", json={"reason": "Vannlekkasje"}, headers=staff[1])
    assert (by_staff.json()["status"], by_staff.json()["cancelled_by"]) == ("cancelled", staff[0])


async def test_moving_a_booking_checks_the_same_rules_and_raises_its_sequence(client, alice, bob, room_id):
    mine_now = (await book(client, alice[1], room_id, **MONDAY_EVENING)).json()
    (await book(client, bob[1], room_id, **at("2026-12-01", "18:00", "20:00"))).json()
    url = f"/api/v1/bookings/{mine_now['id']}"
    assert_problem(await client.patch(url, json=at("2026-12-01", "19:00", "21:00"), headers=alice[1]), 409, "slot_taken")
    assert_problem(await client.patch(url, json=at("2026-12-01", "12:00", "14:00"), headers=alice[1]), 422, "outside_booking_window")
    moved = await client.patch(url, json=at("2026-11-30", "19:00", "21:00"), headers=alice[1])  # overlaps only itself
    assert moved.status_code == 200, moved.text
    assert (moved.json()["start"], moved.json()["sequence"]) == ("2026-11-30T19:00:00+01:00", 1)
    assert_problem(await client.patch(url, json={"title": "x"}, headers=bob[1]), 403, "forbidden")


async def test_a_weekly_series_books_what_it_can_and_names_each_date_it_could_not(client, alice, bob, room_id):
    taken = await book(client, bob[1], room_id, **at("2026-12-11", "18:00", "20:00"))
    assert taken.status_code == 201
    response = await client.post(
        "/api/v1/series",
        json={"resource_id": room_id, "title": "Kor", "until": "2027-01-08", **at("2026-12-04", "18:00", "20:00")},
        headers=alice[1],
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert [b["start"][:10] for b in body["bookings"]] == ["2026-12-04", "2026-12-18", "2027-01-08"]
    assert {r["date"]: r["code"] for r in body["refused"]} == {
        "2026-12-11": "slot_taken",
        "2026-12-25": "resource_closed",  # første juledag
        "2027-01-01": "resource_closed",  # nyttårsdag
    }
    assert {b["series_id"] for b in body["bookings"]} == {body["series"]["id"]}


async def test_a_series_keeps_its_wall_clock_time_across_the_spring_clock_change(client, clock, alice, room_id):
    clock.now = datetime(2027, 3, 1, 9, tzinfo=UTC)
    response = await client.post(
        "/api/v1/series",
        json={"resource_id": room_id, "until": "2027-04-06", "start": "2027-03-23T18:00:00+01:00", "end": "2027-03-23T20:00:00+01:00"},
        headers=alice[1],
    )
    starts = [b["start"] for b in response.json()["bookings"]]
    assert starts == ["2027-03-23T18:00:00+01:00", "2027-03-30T18:00:00+02:00", "2027-04-06T18:00:00+02:00"]


async def test_a_series_that_can_book_nothing_is_refused_with_every_reason(client, alice, room_id):
    response = await client.post(
        "/api/v1/series", json={"resource_id": room_id, "until": "2026-12-14", **at("2026-11-30", "12:00", "14:00")}, headers=alice[1]
    )
    assert_problem(response, 409, "series_unbookable")
    assert [r["code"] for r in response.json()["refused"]] == ["outside_booking_window"] * 3
    assert await mine(client, alice[1]) == []


async def test_cancelling_the_rest_of_a_series_keeps_what_has_passed(client, clock, alice, room_id):
    created = (
        await client.post("/api/v1/series", json={"resource_id": room_id, "until": "2026-12-21", **MONDAY_EVENING}, headers=alice[1])
    ).json()
    assert len(created["bookings"]) == 4
    clock.now = datetime(2026, 12, 8, 9, tzinfo=UTC)
    cancelled = (
        await client.post(f"/api/v1/series/{created['series']['id']}/cancel", json={"reason": "Sesongslutt"}, headers=alice[1])
    ).json()
    assert [b["start"][:10] for b in cancelled["items"]] == ["2026-12-14", "2026-12-21"]
    statuses = {b["start"][:10]: b["status"] for b in await mine(client, alice[1])}
    assert statuses == {"2026-11-30": "confirmed", "2026-12-07": "confirmed", "2026-12-14": "cancelled", "2026-12-21": "cancelled"}


async def test_availability_is_the_windows_minus_bookings_and_their_buffers(client, db, alice):
    room = await builders.room(db, key="buffer", policy=builders.room_policy(buffer_after=timedelta(minutes=30)))
    await book(client, alice[1], room, **MONDAY_EVENING)
    response = await client.get(
        f"/api/v1/resources/{room}/availability", params={"from": "2026-11-30T00:00:00+01:00", "to": "2026-12-01T00:00:00+01:00"}
    )
    assert response.json()["free"] == [
        # A new booking needs its own cleaning half hour before the 18:00 booking starts.
        {"start": "2026-11-30T17:00:00+01:00", "end": "2026-11-30T17:30:00+01:00"},
        {"start": "2026-11-30T20:30:00+01:00", "end": "2026-11-30T22:00:00+01:00"},
    ]


async def test_availability_follows_local_time_across_the_autumn_clock_change(client, clock, room_id):
    clock.now = datetime(2026, 10, 1, tzinfo=UTC)
    response = await client.get(
        f"/api/v1/resources/{room_id}/availability", params={"from": "2026-10-24T00:00:00+02:00", "to": "2026-10-26T00:00:00+01:00"}
    )
    assert response.json()["free"] == [
        {"start": "2026-10-24T10:00:00+02:00", "end": "2026-10-24T20:00:00+02:00"},
        {"start": "2026-10-25T10:00:00+01:00", "end": "2026-10-25T20:00:00+01:00"},
    ]


async def test_availability_on_a_public_holiday_is_empty(client, room_id):
    response = await client.get(
        f"/api/v1/resources/{room_id}/availability", params={"from": "2026-12-25T00:00:00+01:00", "to": "2026-12-26T00:00:00+01:00"}
    )
    assert response.json()["free"] == []


async def test_availability_refuses_naive_or_reversed_spans(client, room_id):
    url = f"/api/v1/resources/{room_id}/availability"
    assert_problem(await client.get(url, params={"from": "2026-12-02T00:00:00", "to": "2026-12-03T00:00:00"}), 422, "naive_timestamp")
    assert_problem(
        await client.get(url, params={"from": "2026-12-03T00:00:00+01:00", "to": "2026-12-02T00:00:00+01:00"}), 422, "invalid_interval"
    )
    assert_problem(await client.get(url, params={"from": "2026-12-03T00:00:00+01:00"}), 422, "invalid_input")


async def test_free_rooms_are_found_by_interval_seats_and_features(client, db, alice):
    small = await builders.room(db, key="lite", capacity=8, features=("projector",))
    big = await builders.room(db, key="stort", capacity=40, features=("projector", "hearing_loop"))
    await builders.room(db, key="uten", capacity=40)
    await book(client, alice[1], big, **MONDAY_EVENING)
    params = {"from": MONDAY_EVENING["start"], "to": MONDAY_EVENING["end"], "feature": "projector"}
    found = (await client.get("/api/v1/rooms/free", params=params)).json()["items"]
    assert [r["id"] for r in found] == [small]
    found = (
        await client.get(
            "/api/v1/rooms/free", params={**params, "from": "2026-12-01T18:00:00+01:00", "to": "2026-12-01T20:00:00+01:00", "seats": 10}
        )
    ).json()["items"]
    assert [r["id"] for r in found] == [big]


async def test_cancelling_the_rest_of_a_series_keeps_an_evening_already_past_its_deadline(client, clock, alice, room_id):
    created = (
        await client.post("/api/v1/series", json={"resource_id": room_id, "until": "2026-12-14", **MONDAY_EVENING}, headers=alice[1])
    ).json()
    clock.now = datetime(2026, 11, 30, 9, tzinfo=UTC)  # this evening's booking is inside its 24-hour notice
    cancelled = (await client.post(f"/api/v1/series/{created['series']['id']}/cancel", json={}, headers=alice[1])).json()
    assert [b["start"][:10] for b in cancelled["items"]] == ["2026-12-07", "2026-12-14"]
    assert {b["start"][:10]: b["status"] for b in await mine(client, alice[1])}["2026-11-30"] == "confirmed"
