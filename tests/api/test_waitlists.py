"""Waitlists for room slots and equipment through the HTTP app: held offers, accept, decline, expiry, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select

from booking.waitlists import offers
from infra.outbox import Notification
from people.store import Membership
from tests import builders
from tests.api.test_bookings import MONDAY_EVENING, assert_problem, book
from tests.api.test_loans import MON_TO_TUE


@pytest.fixture
async def carol(db):
    return await builders.person(db, "carol@example.no")


async def wait(client, auth, resource_id, **fields):
    return await client.post("/api/v1/waitlist", json={"resource_id": resource_id, **fields}, headers=auth)


async def entry(client, auth, entry_id) -> dict:
    response = await client.get(f"/api/v1/waitlist/{entry_id}", headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


async def cancel(client, auth, booking_id):
    response = await client.post(f"/api/v1/bookings/{booking_id}/cancel", headers=auth)
    assert response.status_code == 200, response.text


async def events(db, person_id: int) -> list[str]:
    async with db.read() as s:
        return list(
            (await s.execute(select(Notification.kind).where(Notification.person_id == person_id).order_by(Notification.id))).scalars()
        )


async def taken_slot_with_waiters(client, room_id, holder, *waiters) -> tuple[int, list[dict]]:
    booking = await book(client, holder[1], room_id, **MONDAY_EVENING)
    assert booking.status_code == 201, booking.text
    joined = []
    for waiter in waiters:
        response = await wait(client, waiter[1], room_id, **MONDAY_EVENING)
        assert response.status_code == 201, response.text
        joined.append(response.json())
    return booking.json()["id"], joined


async def test_a_cancelled_slot_is_offered_to_the_first_in_line_and_held_from_direct_booking(client, db, room_id, alice, bob, carol):
    booking_id, [bobs] = await taken_slot_with_waiters(client, room_id, alice, bob)
    assert (bobs["status"], bobs["position"]) == ("waiting", 1)
    await cancel(client, alice[1], booking_id)
    offered = await entry(client, bob[1], bobs["id"])
    assert offered["status"] == "offered" and offered["offer"]["outcome"] == "open"
    assert offered["offer"]["deadline"] == "2026-11-23T14:00:00+01:00"  # four hours
    assert_problem(await book(client, carol[1], room_id, **MONDAY_EVENING), 409, "slot_taken")
    accepted = await client.post(offered["offer"]["accept"], headers=bob[1])
    assert accepted.status_code == 200, accepted.text
    assert (accepted.json()["status"], accepted.json()["person_id"]) == ("confirmed", bob[0])
    assert (await entry(client, bob[1], bobs["id"]))["status"] == "booked"
    assert await events(db, bob[0]) == ["offer_made", "offer_accepted"]


async def test_one_cannot_wait_for_a_slot_that_is_free(client, room_id, alice):
    assert_problem(await wait(client, alice[1], room_id, **MONDAY_EVENING), 409, "not_taken")


async def test_one_waits_only_once_for_the_same_slot(client, room_id, alice, bob):
    await taken_slot_with_waiters(client, room_id, alice, bob)
    assert_problem(await wait(client, bob[1], room_id, **MONDAY_EVENING), 409, "already_waiting")


async def test_a_waiter_sees_their_place_and_moves_up_when_someone_leaves(client, room_id, alice, bob, carol):
    _, [bobs, carols] = await taken_slot_with_waiters(client, room_id, alice, bob, carol)
    assert carols["position"] == 2
    left = await client.post(f"/api/v1/waitlist/{bobs['id']}/leave", headers=bob[1])
    assert left.json()["status"] == "left"
    assert (await entry(client, carol[1], carols["id"]))["position"] == 1
    mine = (await client.get("/api/v1/waitlist", headers=carol[1])).json()["items"]
    assert [(e["id"], e["position"]) for e in mine] == [(carols["id"], 1)]


async def test_a_decline_passes_the_offer_on_at_once_and_keeps_the_place_once(client, db, room_id, alice, bob, carol):
    booking_id, [bobs, carols] = await taken_slot_with_waiters(client, room_id, alice, bob, carol)
    await cancel(client, alice[1], booking_id)
    offer = (await entry(client, bob[1], bobs["id"]))["offer"]
    declined = await client.post(offer["decline"], headers=bob[1])
    assert declined.json()["status"] == "declined"
    assert (await entry(client, carol[1], carols["id"]))["status"] == "offered"
    bob_now = await entry(client, bob[1], bobs["id"])
    assert (bob_now["status"], bob_now["position"], bob_now["declines"]) == ("waiting", 1, 1)
    assert_problem(await client.post(offer["accept"], headers=bob[1]), 409, "offer_not_open")
    assert await events(db, bob[0]) == ["offer_made", "offer_declined"]


async def test_an_unanswered_offer_expires_passes_on_and_cannot_be_accepted_late(client, db, clock, room_id, alice, bob, carol):
    booking_id, [bobs, carols] = await taken_slot_with_waiters(client, room_id, alice, bob, carol)
    await cancel(client, alice[1], booking_id)
    offer = (await entry(client, bob[1], bobs["id"]))["offer"]
    clock.now = datetime(2026, 11, 23, 13, 1, tzinfo=UTC)  # a minute past the deadline, before the sweep
    assert_problem(await client.post(offer["accept"], headers=bob[1]), 409, "offer_expired")
    assert (await entry(client, bob[1], bobs["id"]))["status"] == "offered"  # nothing changed
    expired = await offers.expire_offers(db, now=clock.now)
    assert [b.id for b in expired] == [offer["booking_id"]]
    assert (await entry(client, bob[1], bobs["id"]))["status"] == "removed"
    assert (await entry(client, carol[1], carols["id"]))["status"] == "offered"
    assert await events(db, bob[0]) == ["offer_made", "offer_expired"]
    assert await offers.expire_offers(db, now=clock.now) == []  # once


async def test_no_one_may_answer_someone_elses_offer(client, room_id, alice, bob, carol):
    booking_id, [bobs] = await taken_slot_with_waiters(client, room_id, alice, bob)
    await cancel(client, alice[1], booking_id)
    offer = (await entry(client, bob[1], bobs["id"]))["offer"]
    assert_problem(await client.post(offer["accept"], headers=carol[1]), 403, "not_your_offer")
    assert_problem(await client.post(offer["decline"], headers=carol[1]), 403, "not_your_offer")
    assert (await entry(client, bob[1], bobs["id"]))["status"] == "offered"


async def test_an_offer_is_accepted_only_once(client, room_id, alice, bob):
    booking_id, [bobs] = await taken_slot_with_waiters(client, room_id, alice, bob)
    await cancel(client, alice[1], booking_id)
    offer = (await entry(client, bob[1], bobs["id"]))["offer"]
    assert (await client.post(offer["accept"], headers=bob[1])).status_code == 200
    assert_problem(await client.post(offer["accept"], headers=bob[1]), 409, "offer_not_open")


async def test_an_offer_cannot_be_cancelled_like_a_booking_only_declined(client, room_id, alice, bob):
    booking_id, [bobs] = await taken_slot_with_waiters(client, room_id, alice, bob)
    await cancel(client, alice[1], booking_id)
    offer = (await entry(client, bob[1], bobs["id"]))["offer"]
    assert_problem(await client.post(f"/api/v1/bookings/{offer['booking_id']}/cancel", headers=bob[1]), 409, "not_cancellable")


async def test_an_early_return_offers_the_units_to_whoever_waits_for_them(client, db, alice, bob, staff):
    tents = await builders.item(db, "telt", stock=2)
    loan = await book(client, alice[1], tents, quantity=2, **MON_TO_TUE)
    assert loan.status_code == 201, loan.text
    joined = (await wait(client, bob[1], tents, quantity=1, **MON_TO_TUE)).json()
    assert joined["status"] == "waiting"
    await client.post(f"/api/v1/bookings/{loan.json()['id']}/check-out", headers=staff[1])
    back = await client.post(f"/api/v1/bookings/{loan.json()['id']}/check-in", headers=staff[1])
    assert back.status_code == 200, back.text
    offered = await entry(client, bob[1], joined["id"])
    assert offered["status"] == "offered"
    assert_problem(await book(client, alice[1], tents, quantity=2, **MON_TO_TUE), 409, "insufficient_stock")


async def test_one_cannot_wait_for_more_units_than_the_item_has(client, db, alice, bob, staff):
    tables = await builders.item(db, "bord", stock=20)
    assert (await book(client, alice[1], tables, quantity=20, **MON_TO_TUE)).status_code == 201
    refused = await wait(client, bob[1], tables, quantity=25, **MON_TO_TUE)
    assert_problem(refused, 422, "more_than_stock")
    assert (refused.json()["stock"], refused.json()["wanted"]) == (20, 25)
    assert (await client.get(f"/api/v1/waitlist?resource_id={tables}", headers=staff[1])).json()["items"] == []
    every_table = await wait(client, bob[1], tables, quantity=20, **MON_TO_TUE)
    assert (every_table.status_code, every_table.json()["status"]) == (201, "waiting")


async def test_staff_reorder_a_line_with_a_recorded_reason(client, room_id, alice, bob, carol, staff):
    _, [bobs, carols] = await taken_slot_with_waiters(client, room_id, alice, bob, carol)
    assert_problem(
        await client.post(f"/api/v1/waitlist/{carols['id']}/move", json={"position": 1}, headers=staff[1]), 422, "reason_required"
    )
    assert_problem(
        await client.post(f"/api/v1/waitlist/{carols['id']}/move", json={"position": 1, "reason": "x"}, headers=bob[1]), 403, "staff_only"
    )
    moved = await client.post(
        f"/api/v1/waitlist/{carols['id']}/move", json={"position": 1, "reason": "Booked in error last week"}, headers=staff[1]
    )
    assert (moved.json()["position"], moved.json()["move_reason"]) == (1, "Booked in error last week")
    line = (await client.get(f"/api/v1/waitlist?resource_id={room_id}", headers=staff[1])).json()["items"]
    assert [e["id"] for e in line] == [carols["id"], bobs["id"]]


async def test_capacity_freed_where_no_hook_runs_is_offered_by_the_sweep(client, db, room_id, alice, bob):
    series = await client.post("/api/v1/series", json={"resource_id": room_id, "until": "2026-12-07", **MONDAY_EVENING}, headers=alice[1])
    assert series.status_code == 201, series.text
    bobs = (await wait(client, bob[1], room_id, **MONDAY_EVENING)).json()
    await client.post(f"/api/v1/series/{series.json()['series']['id']}/cancel", json={}, headers=alice[1])
    await offers.expire_offers(db, now=datetime(2026, 11, 23, 9, 5, tzinfo=UTC))
    assert (await entry(client, bob[1], bobs["id"]))["status"] == "offered"


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgresql)], indirect=True)
async def test_postgresql_itself_keeps_a_booking_off_a_held_slot(db, room_id, alice):
    from sqlalchemy.exc import IntegrityError

    from booking.store import Booking

    start, end = datetime(2026, 11, 30, 17, tzinfo=UTC), datetime(2026, 11, 30, 19, tzinfo=UTC)
    row = dict(
        resource_id=room_id, person_id=alice[0], start=start, end=end, block_start=start, block_end=end, created_at=start, updated_at=start
    )
    async with db.write() as s:
        s.add(Booking(status="offered", **row))
    with pytest.raises(IntegrityError, match="booking_no_overlap"):
        async with db.write() as s:
            s.add(Booking(status="confirmed", **row))


async def test_an_offer_skips_whoever_is_over_their_quota_for_the_next_in_line(client, db, alice, bob, carol):
    room = await builders.room(db, key="lite-rom", policy=builders.room_policy(max_active_bookings_per_person=1))
    booking_id, [bobs, carols] = await taken_slot_with_waiters(client, room, alice, bob, carol)
    assert (await book(client, bob[1], room, start="2026-12-01T18:00:00+01:00", end="2026-12-01T20:00:00+01:00")).status_code == 201
    await cancel(client, alice[1], booking_id)
    assert (await entry(client, bob[1], bobs["id"]))["status"] == "waiting"
    assert (await entry(client, carol[1], carols["id"]))["status"] == "offered"


async def leave_association(db, association_id: int, person_id: int) -> None:
    """The admin removes them (as `DELETE …/members/{id}` does)."""
    async with db.write() as s:
        await s.execute(delete(Membership).where(Membership.association_id == association_id, Membership.person_id == person_id))


async def test_one_removed_from_an_association_is_offered_nothing_for_it_and_the_next_in_line_is(client, db, room_id, alice, bob, carol):
    club = await builders.association(db, "Sjakklubben", "912345678", {bob[0]: "member"})
    booking_id = (await book(client, alice[1], room_id, **MONDAY_EVENING)).json()["id"]
    bobs = (await wait(client, bob[1], room_id, organisation_id=club, **MONDAY_EVENING)).json()
    carols = (await wait(client, carol[1], room_id, **MONDAY_EVENING)).json()
    await leave_association(db, club, bob[0])
    await cancel(client, alice[1], booking_id)
    assert (await entry(client, bob[1], bobs["id"]))["status"] == "removed"
    assert (await entry(client, carol[1], carols["id"]))["status"] == "offered"
    assert "offer_made" not in await events(db, bob[0])


async def test_one_removed_from_an_association_cannot_accept_the_offer_made_to_it(client, db, room_id, alice, bob):
    club = await builders.association(db, "Sjakklubben", "912345678", {bob[0]: "member"})
    booking_id = (await book(client, alice[1], room_id, **MONDAY_EVENING)).json()["id"]
    bobs = (await wait(client, bob[1], room_id, organisation_id=club, **MONDAY_EVENING)).json()
    await cancel(client, alice[1], booking_id)
    offer = (await entry(client, bob[1], bobs["id"]))["offer"]
    await leave_association(db, club, bob[0])
    refused = await client.post(offer["accept"], headers=bob[1])
    assert refused.status_code == 403 and refused.json()["code"] == "not_your_offer", refused.text
    direct = await book(client, alice[1], room_id, **MONDAY_EVENING)
    assert direct.status_code == 409  # the held slot stays held until the offer runs out
