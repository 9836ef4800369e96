"""Closing a whole place closes every resource of it still in use for one period with one reason, and settles what that
covers as one choice, in one transaction; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from booking import closures
from booking.closure_rules import Choice, CoveredBookingsChanged, Decision
from people.actor import OPERATOR, Actor, StaffOnly
from resources import service as catalogue
from resources.store import Resource
from tests import builders
from tests.api.test_bookings import at, book
from tests.api.test_loans import loan

LONG = timedelta(days=30)  # a tent lent for the holidays
START, END = datetime.fromisoformat("2026-12-21T00:00:00+01:00"), datetime.fromisoformat("2027-01-04T00:00:00+01:00")


@pytest.fixture
def desk(staff) -> Actor:
    return Actor(staff[0], "staff@knutepunkt.no", "Staff", grants=OPERATOR)


@pytest.fixture
async def place(db, room_id) -> dict[str, int]:
    """Huset: the room, a second room, a tent, and a hall retired long ago."""
    hall = await builders.room(db, key="gammelsal")
    async with db.write() as s:
        (await s.get(Resource, hall)).retired_at = builders.EPOCH
    location_id = (await catalogue.get_resource(db, room_id)).resource.location_id
    return {
        "location": location_id,
        "room": room_id,
        "other": await builders.room(db, key="verksted"),
        "tent": await builders.item(db, "telt", stock=2, max_loan=LONG, max_duration=LONG),
        "hall": hall,
    }


async def booked(client, auth, resource_id, **fields) -> int:
    response = await book(client, auth, resource_id, **fields)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def test_the_preview_names_the_resources_in_use_and_each_booking_by_its_resource(client, db, clock, alice, desk, place):
    evening = await booked(client, alice[1], place["other"], **at("2026-12-22", "18:00", "20:00"))
    # A loan out over the holiday whose pickup and return both fall outside it is not covered: loans may span closed days.
    await booked(client, alice[1], place["tent"], **loan("2026-12-18", "12:00", "2027-01-05", "12:00"))
    resources, covered = await closures.preview_location_closure(db, desk, place["location"], START, END, now=clock())
    assert sorted(r.id for r in resources) == sorted(place[k] for k in ("room", "other", "tent"))
    assert [(c.id, c.resource_id) for c in covered] == [(evening, place["other"])]


async def test_closing_a_place_cancels_what_it_covers_with_the_reason_and_closes_each_resource_in_use(
    client, db, clock, alice, desk, place
):
    first = await booked(client, alice[1], place["room"], **at("2026-12-22", "18:00", "20:00"))
    second = await booked(client, alice[1], place["other"], **at("2026-12-28", "18:00", "20:00"))
    after = await booked(client, alice[1], place["room"], **at("2027-01-05", "18:00", "20:00"))
    decision = Decision(Choice.CANCEL, frozenset({first, second}))
    saved, outcome = await closures.close_location(db, desk, place["location"], START, END, "Juleferie", decision, now=clock())
    assert sorted(c.resource_id for c in saved) == sorted(place[k] for k in ("room", "other", "tent"))
    assert (outcome.choice, sorted(outcome.cancelled)) == (Choice.CANCEL, sorted([first, second]))
    for key in ("room", "other", "tent"):
        [closure] = (await catalogue.get_resource(db, place[key])).closures
        assert (closure.reason, closure.start, closure.end) == ("Juleferie", START, END)
    assert (await catalogue.get_resource(db, place["hall"])).closures == ()
    statuses = {b: (await client.get(f"/api/v1/bookings/{b}", headers=alice[1])).json()["status"] for b in (first, second, after)}
    assert statuses == {first: "cancelled", second: "cancelled", after: "confirmed"}


async def test_a_booking_made_after_the_preview_stops_the_closure_and_nothing_is_saved(client, db, clock, alice, desk, place):
    first = await booked(client, alice[1], place["room"], **at("2026-12-22", "18:00", "20:00"))
    _, covered = await closures.preview_location_closure(db, desk, place["location"], START, END, now=clock())
    late = await booked(client, alice[1], place["other"], **at("2026-12-23", "18:00", "20:00"))
    with pytest.raises(CoveredBookingsChanged) as refused:
        await closures.close_location(
            db, desk, place["location"], START, END, "Juleferie", Decision(Choice.KEEP, frozenset({first})), now=clock()
        )
    assert refused.value.extra["booking_ids"] == sorted([first, late]) and [c.id for c in covered] == [first]
    assert [(await catalogue.get_resource(db, place[k])).closures for k in ("room", "other", "tent")] == [(), (), ()]


async def test_only_staff_close_a_place(db, clock, alice, place):
    resident = Actor(alice[0], "alice@example.no", "Alice")
    with pytest.raises(StaffOnly):
        await closures.close_location(db, resident, place["location"], START, END, "Juleferie", Decision(), now=clock())
