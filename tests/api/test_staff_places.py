"""Staff act where their role holds: location staff of school A decide, hand over and close at A and are refused at
school B; reporting and season managers read but do not act; an operator does everything; lists show one's own places."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from infra.database import Db
from infra.outbox import Notification
from notifications.digest import record_staff_digests
from people.store import StaffGrant
from resources.store import Location, Resource, policy_to_json
from tests import builders
from tests.api.test_bookings import MONDAY_EVENING, assert_problem, at, book

TUESDAY_NOON_TO_THURSDAY = at("2026-11-24", "12:00", "14:00") | {"end": "2026-11-26T12:00:00+01:00"}


async def place(db: Db, key: str) -> int:
    async with db.write() as s:
        row = Location(key=key, name=key.replace("-", " ").title(), address="Gata 1", postal_code="3044")
        s.add(row)
        await s.flush()
        return row.id


async def resource_at(db: Db, location_id: int, key: str, *, kind: str = "room", stock: int | None = None, **policy) -> int:
    rules = builders.lending_policy(**policy) if kind == "equipment" else builders.room_policy(**policy)
    async with db.write() as s:
        row = Resource(
            key=key,
            location_id=location_id,
            kind=kind,
            name=key.title(),
            capacity=None if kind == "equipment" else 20,
            stock=stock,
            policy=policy_to_json(rules),
            updated_at=builders.EPOCH,
        )
        s.add(row)
        await s.flush()
        return row.id


async def staff_member(db: Db, email: str, *grants: tuple[str, int | None]) -> tuple[int, dict[str, str]]:
    """A person holding these (role, location) grants, signed in by a bearer token."""
    person_id, auth = await builders.person(db, email)
    async with db.write() as s:
        for role, location_id in grants:
            s.add(StaffGrant(person_id=person_id, role=role, location_id=location_id, created_at=builders.EPOCH))
    return person_id, auth


@pytest.fixture
async def world(db) -> dict:
    return await build_world(db)


@pytest.fixture
async def requests(client, world) -> dict[str, int]:
    return await ask(client, world)


async def build_world(db: Db) -> dict:
    """Two schools, each with a hall that needs approval and an item lent out; staff of each kind; a resident."""
    a, b = await place(db, "skole-a"), await place(db, "skole-b")
    w = {"a": a, "b": b}
    w["hall_a"] = await resource_at(db, a, "sal-a", needs_approval=True)
    w["hall_b"] = await resource_at(db, b, "sal-b", needs_approval=True)
    w["room_a"] = await resource_at(db, a, "rom-a")
    w["item_a"] = await resource_at(db, a, "stoler-a", kind="equipment", stock=10)
    w["item_b"] = await resource_at(db, b, "stoler-b", kind="equipment", stock=10)
    w["alice"] = await builders.person(db, "alice@example.no")
    w["ola"] = await staff_member(db, "ola@skole-a.no", ("location_staff", a))
    w["kari"] = await staff_member(db, "kari@skole-b.no", ("location_staff", b))
    w["rita"] = await staff_member(db, "rita@kommune.no", ("reporting", None))
    w["sven"] = await staff_member(db, "sven@kommune.no", ("season_manager", None))
    w["olga"] = await builders.person(db, "olga@kommune.no", staff=True)  # an operator
    return w


async def ask(client, world: dict) -> dict[str, int]:
    """Alice asks for each school's hall on Monday evening."""
    ids = {}
    for key in ("hall_a", "hall_b"):
        asked = await book(client, world["alice"][1], world[key], **MONDAY_EVENING)
        assert asked.json()["status"] == "requested", asked.text
        ids[key] = asked.json()["id"]
    return ids


async def loans_out(client, world) -> dict[str, int]:
    """Alice borrows three chairs at each school from Tuesday noon to Thursday noon."""
    ids = {}
    for key in ("item_a", "item_b"):
        lent = await book(client, world["alice"][1], world[key], quantity=3, **TUESDAY_NOON_TO_THURSDAY)
        assert lent.status_code == 201, lent.text
        ids[key] = lent.json()["id"]
    return ids


def approve(client, who, booking_id: int):
    return client.post(f"/api/v1/bookings/{booking_id}/approve", json={}, headers=who[1])


def ids_of(response) -> set[int]:
    assert response.status_code == 200, response.text
    return {b["id"] for b in response.json()["items"]}


async def test_location_staff_approve_at_their_school_and_are_refused_at_the_other(client, world, requests):
    assert (await approve(client, world["ola"], requests["hall_a"])).json()["status"] == "confirmed"
    assert_problem(await approve(client, world["ola"], requests["hall_b"]), 403, "not_at_this_location")
    declined = await client.post(f"/api/v1/bookings/{requests['hall_b']}/decline", json={"reason": "Fullt"}, headers=world["ola"][1])
    assert_problem(declined, 403, "not_at_this_location")
    after = await client.get(f"/api/v1/bookings/{requests['hall_b']}", headers=world["olga"][1])
    assert after.json()["status"] == "requested"  # the refusal changed nothing


async def test_reporting_reads_every_list_but_cannot_decide_or_hand_over(client, world, requests, clock):
    loans = await loans_out(client, world)
    assert ids_of(await client.get("/api/v1/bookings/awaiting-approval", headers=world["rita"][1])) == set(requests.values())
    assert ids_of(await client.get("/api/v1/bookings?status=requested", headers=world["rita"][1])) == set(requests.values())
    handovers = await client.get("/api/v1/loans/handovers?day=2026-11-24", headers=world["rita"][1])
    assert {b["id"] for b in handovers.json()["pickups"]} == set(loans.values())
    assert_problem(await approve(client, world["rita"], requests["hall_a"]), 403, "not_at_this_location")
    check_out = await client.post(f"/api/v1/bookings/{loans['item_a']}/check-out", json={}, headers=world["rita"][1])
    assert_problem(check_out, 403, "not_at_this_location")
    cancel = await client.post(f"/api/v1/bookings/{requests['hall_a']}/cancel", json={"reason": "Nei"}, headers=world["rita"][1])
    assert_problem(cancel, 403, "not_at_this_location")


async def test_a_season_manager_cannot_approve_a_request(client, world, requests):
    assert_problem(await approve(client, world["sven"], requests["hall_a"]), 403, "not_at_this_location")
    assert ids_of(await client.get("/api/v1/bookings/awaiting-approval", headers=world["sven"][1])) == set(requests.values())


async def test_an_operator_may_do_everything_everywhere(client, world, requests, clock):
    loans = await loans_out(client, world)
    for booking_id in requests.values():
        assert (await approve(client, world["olga"], booking_id)).json()["status"] == "confirmed"
    clock.now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    for loan_id in loans.values():
        out = await client.post(f"/api/v1/bookings/{loan_id}/check-out", json={}, headers=world["olga"][1])
        assert out.json()["status"] == "checked_out", out.text
    closure = {"start": "2026-12-21T00:00:00+01:00", "end": "2026-12-23T00:00:00+01:00", "reason": "Maling"}
    closed = await client.post(f"/api/v1/resources/{world['hall_b']}/closures", json=closure, headers=world["olga"][1])
    assert closed.status_code == 201, closed.text


async def test_the_lists_show_my_own_places_unless_i_ask_for_all_or_one_i_read(client, world, requests):
    lists = "/api/v1/bookings/awaiting-approval"
    assert ids_of(await client.get(lists, headers=world["ola"][1])) == {requests["hall_a"]}
    assert ids_of(await client.get(lists, headers=world["kari"][1])) == {requests["hall_b"]}
    assert ids_of(await client.get(lists, headers=world["olga"][1])) == set(requests.values())
    assert ids_of(await client.get(f"{lists}?places=all", headers=world["ola"][1])) == {requests["hall_a"]}  # all they read
    assert_problem(await client.get(f"{lists}?location_id={world['b']}", headers=world["ola"][1]), 403, "not_at_this_location")
    assert ids_of(await client.get(f"{lists}?location_id={world['b']}", headers=world["olga"][1])) == {requests["hall_b"]}
    assert (await client.get(f"{lists}?places=everything", headers=world["ola"][1])).status_code == 422
    assert ids_of(await client.get("/api/v1/bookings?status=requested", headers=world["ola"][1])) == {requests["hall_a"]}


async def test_a_school_with_staff_of_its_own_and_a_reader_sees_its_places_and_all_it_reads(client, db, world, requests):
    both = await staff_member(db, "per@skole-a.no", ("location_staff", world["a"]), ("reporting", None))
    lists = "/api/v1/bookings/awaiting-approval"
    assert ids_of(await client.get(lists, headers=both[1])) == {requests["hall_a"]}
    assert ids_of(await client.get(f"{lists}?places=all", headers=both[1])) == set(requests.values())


async def test_hand_overs_and_overdue_loans_are_at_my_places_and_only_there_may_i_hand_over(client, world, clock):
    loans = await loans_out(client, world)
    day = "/api/v1/loans/handovers?day=2026-11-24"
    assert {b["id"] for b in (await client.get(day, headers=world["ola"][1])).json()["pickups"]} == {loans["item_a"]}
    clock.now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert_problem(
        await client.post(f"/api/v1/bookings/{loans['item_b']}/check-out", json={}, headers=world["ola"][1]), 403, "not_at_this_location"
    )
    for who, key in (("ola", "item_a"), ("kari", "item_b")):
        assert (await client.post(f"/api/v1/bookings/{loans[key]}/check-out", json={}, headers=world[who][1])).status_code == 200
    clock.now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # a day past their return
    assert ids_of(await client.get("/api/v1/loans/overdue", headers=world["ola"][1])) == {loans["item_a"]}
    assert ids_of(await client.get("/api/v1/loans/overdue?places=all", headers=world["rita"][1])) == set(loans.values())
    back = await client.post(f"/api/v1/bookings/{loans['item_b']}/check-in", json={}, headers=world["ola"][1])
    assert_problem(back, 403, "not_at_this_location")


async def test_location_staff_cancel_and_move_bookings_only_at_their_school(client, world, requests):
    cancel = f"/api/v1/bookings/{requests['hall_b']}/cancel"
    assert_problem(await client.post(cancel, json={"reason": "Vannlekkasje"}, headers=world["ola"][1]), 403, "not_at_this_location")
    moved = at("2026-12-01", "18:00", "20:00")
    assert_problem(
        await client.patch(f"/api/v1/bookings/{requests['hall_b']}", json=moved, headers=world["ola"][1]), 403, "not_at_this_location"
    )
    assert (await client.patch(f"/api/v1/bookings/{requests['hall_a']}", json=moved, headers=world["ola"][1])).status_code == 200
    assert_problem(
        await client.post(f"/api/v1/bookings/{requests['hall_a']}/cancel", json={}, headers=world["ola"][1]), 422, "reason_required"
    )
    done = await client.post(f"/api/v1/bookings/{requests['hall_a']}/cancel", json={"reason": "Vannlekkasje"}, headers=world["ola"][1])
    assert done.json()["status"] == "cancelled"


async def test_location_staff_read_bookings_at_their_school_only(client, world, requests):
    assert (await client.get(f"/api/v1/bookings/{requests['hall_a']}", headers=world["ola"][1])).status_code == 200
    assert_problem(await client.get(f"/api/v1/bookings/{requests['hall_b']}", headers=world["ola"][1]), 403, "forbidden")
    assert (await client.get(f"/api/v1/bookings/{requests['hall_b']}", headers=world["rita"][1])).status_code == 200


async def test_staff_of_another_school_book_there_as_a_resident_and_wait_for_approval(client, world):
    at_b = await book(client, world["ola"][1], world["hall_b"], **MONDAY_EVENING)
    at_a = await book(client, world["ola"][1], world["hall_a"], **at("2026-12-01", "18:00", "20:00"))
    assert (at_b.json()["status"], at_a.json()["status"]) == ("requested", "confirmed")


async def test_closing_retiring_and_cutting_stock_are_for_staff_of_the_place(client, world):
    closure = {"start": "2026-12-21T00:00:00+01:00", "end": "2026-12-23T00:00:00+01:00", "reason": "Maling"}
    ola = world["ola"][1]
    assert_problem(
        await client.post(f"/api/v1/resources/{world['hall_b']}/closures", json=closure, headers=ola), 403, "not_at_this_location"
    )
    assert_problem(await client.post(f"/api/v1/resources/{world['hall_b']}/retire", json={}, headers=ola), 403, "not_at_this_location")
    assert_problem(await client.patch(f"/api/v1/resources/{world['item_b']}", json={"stock": 5}, headers=ola), 403, "not_at_this_location")
    assert_problem(
        await client.post(f"/api/v1/resources/{world['hall_a']}/closures", json=closure, headers=world["rita"][1]),
        403,
        "not_at_this_location",
    )
    assert (await client.post(f"/api/v1/resources/{world['hall_a']}/closures", json=closure, headers=ola)).status_code == 201
    assert (await client.patch(f"/api/v1/resources/{world['item_a']}", json={"stock": 5}, headers=ola)).status_code == 200


async def test_waitlist_lines_are_moved_by_staff_of_their_place(client, world):
    taken = await book(client, world["alice"][1], world["room_a"], **MONDAY_EVENING)
    assert taken.status_code == 201
    waits = await client.post("/api/v1/waitlist", json={"resource_id": world["room_a"], **MONDAY_EVENING}, headers=world["kari"][1])
    assert waits.status_code == 201, waits.text
    entry = waits.json()["id"]
    move = {"position": 1, "reason": "Prioritert"}
    assert_problem(await client.post(f"/api/v1/waitlist/{entry}/move", json=move, headers=world["rita"][1]), 403, "not_at_this_location")
    assert (await client.post(f"/api/v1/waitlist/{entry}/move", json=move, headers=world["ola"][1])).status_code == 200
    assert_problem(
        await client.get(f"/api/v1/waitlist?resource_id={world['room_a']}", headers=world["kari"][1]), 403, "not_at_this_location"
    )


async def test_the_daily_digest_tells_each_decider_only_the_requests_at_their_places(db, clock, world, requests):
    await record_staff_digests(db, now=clock.now)
    async with db.read() as s:
        rows = (await s.execute(select(Notification).where(Notification.kind == "staff_digest"))).scalars().all()
    told = {row.person_id: sorted(r["id"] for r in row.payload["requests"]) for row in rows}
    assert told == {
        world["ola"][0]: [requests["hall_a"]],
        world["kari"][0]: [requests["hall_b"]],
        world["olga"][0]: sorted(requests.values()),
    }  # reporting and the season manager decide nothing: no digest
