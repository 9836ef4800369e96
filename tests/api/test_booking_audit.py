"""The audit trail of the booking engine: each decision, staff change and hand-over leaves one entry, in the same
transaction, saying who did what to which object where, whom it affected, why, and the values before and after."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from booking import closures
from booking.closure_rules import Choice, Decision
from booking.loans import service as loans
from infra.audit import Action, AuditEntry
from people.actor import Actor
from people.roles import Grant, StaffRole
from tests import builders
from tests.api.test_bookings import MONDAY_EVENING, assert_problem, at, book
from tests.api.test_staff_places import TUESDAY_NOON_TO_THURSDAY, ask, build_world

CHRISTMAS = {"start": "2026-12-21T00:00:00+01:00", "end": "2026-12-23T00:00:00+01:00"}


@pytest.fixture
async def world(db) -> dict:
    return await build_world(db)


@pytest.fixture
async def requests(client, world) -> dict[str, int]:
    return await ask(client, world)


async def entries(db, action: Action) -> list[AuditEntry]:
    async with db.read() as s:
        return list((await s.execute(select(AuditEntry).where(AuditEntry.action == action.value).order_by(AuditEntry.id))).scalars())


def the(found: list[AuditEntry]) -> AuditEntry:
    assert len(found) == 1, [(e.action, e.object_id) for e in found]
    entry = found[0]
    said = json.dumps([entry.before, entry.after])
    assert "@" not in said and "Alice" not in said  # people are named by id only
    return entry


def who_what_where(entry: AuditEntry) -> tuple:
    return entry.actor_id, entry.object_kind, entry.object_id, entry.location_id, entry.subject_id


async def test_an_approval_is_recorded_with_who_approved_whose_request_and_the_status_it_left(client, db, clock, world, requests):
    await client.post(f"/api/v1/bookings/{requests['hall_a']}/approve", json={}, headers=world["ola"][1])
    entry = the(await entries(db, Action.BOOKING_APPROVED))
    assert who_what_where(entry) == (world["ola"][0], "booking", requests["hall_a"], world["a"], world["alice"][0])
    assert (entry.before, entry.after, entry.at) == ({"status": "requested"}, {"status": "confirmed"}, clock.now)


async def test_a_decline_is_recorded_with_its_reason(client, db, world, requests):
    await client.post(f"/api/v1/bookings/{requests['hall_b']}/decline", json={"reason": "Salen males"}, headers=world["kari"][1])
    entry = the(await entries(db, Action.BOOKING_DECLINED))
    assert who_what_where(entry) == (world["kari"][0], "booking", requests["hall_b"], world["b"], world["alice"][0])
    assert (entry.reason, entry.before, entry.after) == ("Salen males", {"status": "requested"}, {"status": "declined"})


async def test_a_refused_approval_records_nothing(client, db, world, requests):
    assert_problem(
        await client.post(f"/api/v1/bookings/{requests['hall_b']}/approve", json={}, headers=world["ola"][1]), 403, "not_at_this_location"
    )
    assert await entries(db, Action.BOOKING_APPROVED) == []


async def test_staff_cancelling_someones_booking_is_recorded_with_the_reason_and_the_booker_cancelling_their_own_is_not(
    client, db, world, requests
):
    await client.post(f"/api/v1/bookings/{requests['hall_a']}/cancel", json={"reason": "Vannlekkasje"}, headers=world["ola"][1])
    await client.post(f"/api/v1/bookings/{requests['hall_b']}/cancel", json={"reason": "Syk"}, headers=world["alice"][1])
    entry = the(await entries(db, Action.BOOKING_CANCELLED))
    assert who_what_where(entry) == (world["ola"][0], "booking", requests["hall_a"], world["a"], world["alice"][0])
    assert (entry.reason, entry.before, entry.after) == ("Vannlekkasje", {"status": "requested"}, {"status": "cancelled"})


async def test_an_association_admin_cancelling_a_members_booking_is_recorded(client, db, world):
    bob = await builders.person(db, "bob@example.no")
    club = await builders.association(db, "Sjakklubben", "912345678", {world["alice"][0]: "admin", bob[0]: "member"})
    booked = (await book(client, bob[1], world["room_a"], organisation_id=club, **MONDAY_EVENING)).json()
    cancelled = await client.post(
        f"/api/v1/bookings/{booked['id']}/cancel", json={"reason": "Turneringen er flyttet"}, headers=world["alice"][1]
    )
    assert cancelled.json()["status"] == "cancelled", cancelled.text
    entry = the(await entries(db, Action.BOOKING_CANCELLED))
    assert who_what_where(entry) == (world["alice"][0], "booking", booked["id"], world["a"], bob[0])
    assert entry.reason == "Turneringen er flyttet"


async def test_staff_moving_a_booking_record_its_times_and_resource_before_and_after(client, db, world):
    booked = (await book(client, world["alice"][1], world["room_a"], **MONDAY_EVENING)).json()
    moved = at("2026-12-01", "18:00", "20:00") | {"reason": "Rommet trengs mandag"}
    assert (await client.patch(f"/api/v1/bookings/{booked['id']}", json=moved, headers=world["ola"][1])).status_code == 200
    entry = the(await entries(db, Action.BOOKING_MOVED))
    assert who_what_where(entry) == (world["ola"][0], "booking", booked["id"], world["a"], world["alice"][0])
    assert entry.reason == "Rommet trengs mandag"
    assert entry.before == {
        "resource_id": world["room_a"],
        "start": "2026-11-30T17:00:00+00:00",
        "end": "2026-11-30T19:00:00+00:00",
        "status": "confirmed",
    }
    assert entry.after == {
        "resource_id": world["room_a"],
        "start": "2026-12-01T17:00:00+00:00",
        "end": "2026-12-01T19:00:00+00:00",
        "status": "confirmed",
    }


async def test_staff_cancelling_a_series_must_say_why_as_for_one_booking_and_it_is_recorded(client, db, world):
    series = await client.post(
        "/api/v1/series", json={"resource_id": world["room_a"], "until": "2026-12-14", **MONDAY_EVENING}, headers=world["alice"][1]
    )
    series_id, booked = series.json()["series"]["id"], [b["id"] for b in series.json()["bookings"]]
    one = await client.post(f"/api/v1/bookings/{booked[0]}/cancel", json={"reason": " "}, headers=world["ola"][1])
    whole = await client.post(f"/api/v1/series/{series_id}/cancel", json={"reason": " "}, headers=world["ola"][1])
    assert_problem(one, 422, "reason_required")
    assert_problem(whole, 422, "reason_required")
    assert await entries(db, Action.SERIES_CANCELLED) == []
    done = await client.post(f"/api/v1/series/{series_id}/cancel", json={"reason": "Skolen bruker salen"}, headers=world["ola"][1])
    assert len(done.json()["items"]) == 3
    entry = the(await entries(db, Action.SERIES_CANCELLED))
    assert who_what_where(entry) == (world["ola"][0], "series", series_id, world["a"], world["alice"][0])
    assert (entry.reason, entry.after["cancelled"]) == ("Skolen bruker salen", booked)


async def test_a_loan_handed_out_and_returned_is_recorded_with_each_note(client, db, clock, world):
    loan = (await book(client, world["alice"][1], world["item_a"], quantity=3, **TUESDAY_NOON_TO_THURSDAY)).json()["id"]
    clock.now = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
    await client.post(f"/api/v1/bookings/{loan}/check-out", json={"note": "Ett bein løst"}, headers=world["ola"][1])
    clock.now = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    back = {"condition": "damaged", "note": "Beinet falt av", "missing_units": 1}
    await client.post(f"/api/v1/bookings/{loan}/check-in", json=back, headers=world["ola"][1])
    out, returned = the(await entries(db, Action.LOAN_HANDED_OUT)), the(await entries(db, Action.LOAN_RETURNED))
    assert who_what_where(out) == (world["ola"][0], "loan", loan, world["a"], world["alice"][0])
    assert (out.before["status"], out.after["status"], out.after["note"]) == ("confirmed", "checked_out", "Ett bein løst")
    assert who_what_where(returned) == (world["ola"][0], "loan", loan, world["a"], world["alice"][0])
    assert returned.before["status"] == "checked_out"
    assert {k: returned.after[k] for k in ("status", "condition", "note", "missing_units")} == {
        "status": "returned", "condition": "damaged", "note": "Beinet falt av", "missing_units": 1,
    }  # fmt: skip


async def test_an_overdue_loan_taken_back_is_recorded_as_returned_late(client, db, clock, world):
    loan = (await book(client, world["alice"][1], world["item_b"], quantity=2, **TUESDAY_NOON_TO_THURSDAY)).json()["id"]
    clock.now = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
    await client.post(f"/api/v1/bookings/{loan}/check-out", json={}, headers=world["kari"][1])
    clock.now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    assert [b.id for b in await loans.mark_overdue(db, now=clock.now)] == [loan]
    await client.post(f"/api/v1/bookings/{loan}/check-in", json={"note": "Kom to dager for sent"}, headers=world["kari"][1])
    entry = the(await entries(db, Action.LOAN_RETURNED))
    assert who_what_where(entry) == (world["kari"][0], "loan", loan, world["b"], world["alice"][0])
    assert (entry.before, entry.after["status"], entry.after["note"]) == (
        {"status": "overdue", "end": "2026-11-26T11:00:00+00:00"}, "returned", "Kom to dager for sent",
    )  # fmt: skip


async def test_staff_moving_and_removing_someone_in_a_waitlist_are_recorded(client, db, world):
    await book(client, world["olga"][1], world["room_a"], **MONDAY_EVENING)
    bob = await builders.person(db, "bob@example.no")
    wait = {"resource_id": world["room_a"], **MONDAY_EVENING}
    first = (await client.post("/api/v1/waitlist", json=wait, headers=world["alice"][1])).json()["id"]
    second = (await client.post("/api/v1/waitlist", json=wait, headers=bob[1])).json()["id"]
    await client.post(f"/api/v1/waitlist/{second}/move", json={"position": 1, "reason": "Søkte i tide"}, headers=world["ola"][1])
    await client.post(f"/api/v1/waitlist/{first}/leave", headers=world["ola"][1])
    moved, removed = the(await entries(db, Action.WAITLIST_MOVED)), the(await entries(db, Action.WAITLIST_REMOVED))
    assert who_what_where(moved) == (world["ola"][0], "waitlist", second, world["a"], bob[0])
    assert (moved.reason, moved.before, moved.after) == ("Søkte i tide", {"position": 2, "tier": 0}, {"position": 1, "tier": 0})
    assert who_what_where(removed) == (world["ola"][0], "waitlist", first, world["a"], world["alice"][0])
    assert (removed.before, removed.after) == ({"status": "waiting"}, {"status": "left"})


async def test_a_closure_is_recorded_with_its_period_and_the_bookings_it_cancelled(client, db, world):
    booked = (await book(client, world["alice"][1], world["room_a"], **at("2026-12-21", "18:00", "20:00"))).json()["id"]
    body = {**CHRISTMAS, "reason": "Juleferie", "covered": "cancel"}
    closure = (await client.post(f"/api/v1/resources/{world['room_a']}/closures", json=body, headers=world["ola"][1])).json()
    entry = the(await entries(db, Action.CLOSURE_ADDED))
    assert who_what_where(entry) == (world["ola"][0], "closure", closure["id"], world["a"], None)
    assert entry.reason == "Juleferie"
    assert entry.after == {
        "resource_id": world["room_a"], "start": "2026-12-20T23:00:00+00:00", "end": "2026-12-22T23:00:00+00:00",
        "covered": "cancel", "cancelled": [booked], "withdrawn": [], "kept": [],
    }  # fmt: skip


async def test_retiring_a_resource_is_recorded_with_the_bookings_it_kept(client, db, clock, world):
    booked = (await book(client, world["alice"][1], world["room_a"], **MONDAY_EVENING)).json()["id"]
    body = {"covered": "keep", "reason": "Rommet rives"}
    assert (await client.post(f"/api/v1/resources/{world['room_a']}/retire", json=body, headers=world["ola"][1])).status_code == 200
    entry = the(await entries(db, Action.RESOURCE_RETIRED))
    assert who_what_where(entry) == (world["ola"][0], "resource", world["room_a"], world["a"], None)
    assert (entry.reason, entry.before, entry.after["retired_at"]) == ("Rommet rives", {"retired_at": None}, clock.now.isoformat())
    assert (entry.after["covered"], entry.after["kept"], entry.after["cancelled"]) == ("keep", [booked], [])


async def test_a_stock_change_is_recorded_with_the_stock_before_and_after_and_the_loans_it_cancelled(client, db, world):
    lent = [(await book(client, world["alice"][1], world["item_a"], quantity=4, **TUESDAY_NOON_TO_THURSDAY)).json()["id"] for _ in range(2)]
    body = {"stock": 6, "covered": "cancel", "reason": "Fire stoler ødelagt"}
    changed = await client.patch(f"/api/v1/resources/{world['item_a']}", json=body, headers=world["ola"][1])
    assert changed.status_code == 200, changed.text
    entry = the(await entries(db, Action.STOCK_CHANGED))
    assert who_what_where(entry) == (world["ola"][0], "stock", world["item_a"], world["a"], None)
    assert (entry.reason, entry.before, entry.after["stock"], entry.after["cancelled"]) == (
        "Fire stoler ødelagt",
        {"stock": 10},
        6,
        lent[1:],
    )


async def test_closing_a_whole_place_is_recorded_once_with_every_closure_it_made(client, db, clock, world):
    ola = Actor(world["ola"][0], "ola@skole-a.no", "Ola", grants=frozenset({Grant(StaffRole.LOCATION_STAFF, world["a"])}))
    start, end = datetime(2026, 12, 20, 23, 0, tzinfo=UTC), datetime(2026, 12, 22, 23, 0, tzinfo=UTC)
    saved, _ = await closures.close_location(db, ola, world["a"], start, end, "Juleferie", Decision(Choice.KEEP, None), now=clock.now)
    entry = the(await entries(db, Action.LOCATION_CLOSED))
    assert who_what_where(entry) == (world["ola"][0], "location", world["a"], world["a"], None)
    assert entry.reason == "Juleferie"
    assert sorted(entry.after["resources"]) == sorted([world["hall_a"], world["room_a"], world["item_a"]])
    assert entry.after["closures"] == [c.id for c in saved]
