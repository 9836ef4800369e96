"""Invariant 4 under real concurrency: racing answers to one held offer through real server processes give one winner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from booking.rules import BookingStatus
from booking.seasons import allocation
from booking.seasons import service as seasons
from booking.seasons.rules import Phase
from booking.store import Booking
from config.servers import running_servers
from people.actor import OPERATOR, Actor
from tests import builders
from tests.e2e.test_booking_race import (
    active_bookings,
    evening,
    fire,
    next_weekday,
    server_count,
)

pytestmark = pytest.mark.e2e


async def held_offer(db, urls: list[str]) -> tuple[int, dict[str, str], dict[str, str], dict]:
    """A slot booked by one resident, waited for by another, then cancelled: the waiter holds an offer."""
    room = await builders.room(db, key="tilbudsrom")
    (_, holder), (_, waiter) = await builders.person(db, "holder@example.no"), await builders.person(db, "waiter@example.no")
    slot = {"resource_id": room, **evening(next_weekday())}
    async with httpx.AsyncClient(base_url=urls[0], timeout=30) as http:
        booking = (await http.post("/api/v1/bookings", json=slot, headers=holder)).json()
        entry = (await http.post("/api/v1/waitlist", json=slot, headers=waiter)).json()
        assert entry["status"] == "waiting", entry
        assert (await http.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=holder)).status_code == 200
        offer = (await http.get(f"/api/v1/waitlist/{entry['id']}", headers=waiter)).json()["offer"]
    assert offer is not None
    return room, holder, waiter, offer


def outcomes(responses: list[httpx.Response]) -> list[int]:
    for r in responses:
        assert r.status_code in (200, 201, 409), r.text
        if r.status_code == 409:
            assert r.json()["code"] in ("offer_not_open", "slot_taken"), r.text
    return [r.status_code for r in responses]


async def test_fifty_simultaneous_accepts_of_one_offer_book_it_exactly_once(db, db_url, backend, tmp_path):
    with running_servers(db_url, server_count(backend), tmp_path) as urls:
        room, _, waiter, offer = await held_offer(db, urls)
        responses = await fire([(f"{urls[i % len(urls)]}{offer['accept']}", {}, waiter) for i in range(50)])
    assert outcomes(responses).count(200) == 1
    held = await active_bookings(db, room)
    assert [(b.id, b.status) for b in held] == [(offer["booking_id"], BookingStatus.CONFIRMED.value)]


async def test_accepts_declines_and_direct_bookings_racing_for_a_held_slot_leave_one_holder(db, db_url, backend, tmp_path):
    with running_servers(db_url, server_count(backend), tmp_path) as urls:
        room, holder, waiter, offer = await held_offer(db, urls)
        slot = {"resource_id": room, **evening(next_weekday())}
        requests = []
        for i in range(60):
            url = urls[i % len(urls)]
            requests.append(
                [
                    (f"{url}{offer['accept']}", {}, waiter),
                    (f"{url}{offer['decline']}", {}, waiter),
                    (f"{url}/api/v1/bookings", slot, holder),
                ][i % 3]
            )
        responses = await fire(requests)
    statuses = outcomes(responses)
    assert statuses.count(200) == 1  # one answer wins: an accept or a decline
    won = next(r for r in responses if r.status_code == 200)
    held = await active_bookings(db, room)
    if str(won.request.url).endswith("/accept"):
        assert statuses.count(201) == 0  # the held slot was never booked directly
        assert [b.id for b in held] == [offer["booking_id"]]
    else:  # declined: the slot was free again, and one direct booking at most took it
        assert statuses.count(201) == len(held) <= 1


async def bed_offer(db) -> tuple[int, dict[str, str], int]:
    """A published season with one bed, offered to its one applicant (built at the real clock, as the servers run)."""
    now = datetime.now(UTC)
    bed = await builders.room(db, key="pallekarm-race", kind="garden_bed", capacity=None)
    staff_id, _ = await builders.person(db, "staff-race@example.no", staff=True)
    grower_id, grower = await builders.person(db, "grower@example.no")
    staff = Actor(staff_id, "staff-race@example.no", "Staff", grants=OPERATOR)
    season = await seasons.create_season(
        db,
        staff,
        name="Race",
        start=now + timedelta(days=30),
        end=now + timedelta(days=200),
        previous_season_id=None,
        district_postal_codes=None,
        household_limit=1,
        offer_days=7,
        now=now,
    )
    await seasons.move_phase(db, staff, season.id, Phase.APPLICATIONS, now=now)
    await seasons.apply(
        db, Actor(grower_id, "grower@example.no", "Grower"), season.id, street="Elvegata 1", postal_code="3044", preferences={}, now=now
    )
    await seasons.move_phase(db, staff, season.id, Phase.ALLOCATION, now=now)
    await allocation.preview(db, staff, season.id, seed=1, now=now)
    await allocation.publish(db, staff, season.id, now=now)
    async with db.read() as s:
        offered = (await s.execute(select(Booking.id).where(Booking.resource_id == bed, Booking.status == "offered"))).scalar_one()
    return bed, grower, offered


async def test_racing_accepts_of_one_held_bed_give_one_holder(db, db_url, backend, tmp_path):
    bed, grower, offered = await bed_offer(db)
    with running_servers(db_url, server_count(backend), tmp_path) as urls:
        responses = await fire([(f"{urls[i % len(urls)]}/api/v1/offers/{offered}/accept", {}, grower) for i in range(40)])
    assert outcomes(responses).count(200) == 1
    assert [(b.id, b.status) for b in await active_bookings(db, bed)] == [(offered, "confirmed")]
