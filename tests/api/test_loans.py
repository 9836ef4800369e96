"""Equipment loans through the HTTP app: pooled stock, kits, hand-over and overdue, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from booking.loans import service as loans
from booking.store import Booking
from resources.store import Resource
from tests import builders
from tests.api.test_bookings import assert_problem, book, mine


def loan(day_from: str, t_from: str, day_to: str, t_to: str) -> dict[str, str]:
    return {"start": f"{day_from}T{t_from}:00+01:00", "end": f"{day_to}T{t_to}:00+01:00"}


MON_TO_TUE = loan("2026-11-30", "12:00", "2026-12-01", "12:00")
WED_TO_THU = loan("2026-12-02", "12:00", "2026-12-03", "12:00")
MON_TO_THU = loan("2026-11-30", "12:00", "2026-12-03", "12:00")


@pytest.fixture
async def chairs(db):
    return await builders.item(db, "stoler", stock=4)


async def test_a_loan_takes_units_and_availability_shows_what_is_left(client, alice, chairs):
    response = await book(client, alice[1], chairs, quantity=3, **MON_TO_TUE)
    assert response.status_code == 201, response.text
    assert (response.json()["status"], response.json()["quantity"]) == ("confirmed", 3)
    units = (
        await client.get(
            f"/api/v1/resources/{chairs}/availability", params={"from": "2026-11-30T00:00:00+01:00", "to": "2026-12-02T00:00:00+01:00"}
        )
    ).json()
    assert units["stock"] == 4
    assert [(u["start"], u["free"]) for u in units["units"]] == [
        ("2026-11-30T00:00:00+01:00", 4),
        ("2026-11-30T12:00:00+01:00", 1),
        ("2026-12-01T12:00:00+01:00", 4),
    ]


async def test_stock_is_checked_against_the_busiest_instant_not_the_sum_of_loans(client, alice, bob, chairs):
    assert (await book(client, alice[1], chairs, quantity=2, **MON_TO_TUE)).status_code == 201
    assert (await book(client, alice[1], chairs, quantity=2, **WED_TO_THU)).status_code == 201
    assert (await book(client, bob[1], chairs, quantity=2, **MON_TO_THU)).status_code == 201  # never more than 4 out
    refused = await book(client, bob[1], chairs, quantity=1, **MON_TO_THU)
    assert_problem(refused, 409, "insufficient_stock")
    assert refused.json()["available"] == 0


@pytest.mark.parametrize(
    ("when", "code"),
    [
        (loan("2026-11-30", "08:00", "2026-12-01", "12:00"), "outside_opening_hours"),
        (loan("2026-11-30", "12:00", "2026-12-06", "12:00"), "outside_opening_hours"),  # a Sunday
        (loan("2026-11-30", "12:00", "2026-12-08", "12:00"), "loan_too_long"),
        (loan("2026-12-25", "12:00", "2026-12-28", "12:00"), "resource_closed"),  # første juledag
        (loan("2026-11-30", "19:00", "2026-12-01", "12:00"), "outside_opening_hours"),  # a pickup as the point closes
        (loan("2026-11-30", "12:00", "2026-12-01", "09:45"), "outside_opening_hours"),  # a return before it opens
        (loan("2026-11-20", "12:00", "2026-11-24", "12:00"), "in_the_past"),
    ],
)
async def test_a_loan_outside_the_lending_rules_is_refused_with_its_own_code(client, alice, chairs, when, code):
    assert_problem(await book(client, alice[1], chairs, **when), 422, code)
    assert await mine(client, alice[1]) == []


async def test_a_loan_may_span_days_the_lending_point_is_closed(client, alice, chairs):
    response = await book(client, alice[1], chairs, **loan("2026-12-04", "12:00", "2026-12-07", "12:00"))
    assert response.status_code == 201, response.text


async def test_a_loan_may_be_returned_as_the_lending_point_opens_as_well_as_when_it_closes(client, alice, chairs):
    returned_at_ten = await book(client, alice[1], chairs, **loan("2026-11-30", "12:00", "2026-12-01", "10:00"))
    assert returned_at_ten.status_code == 201, returned_at_ten.text
    picked_up_at_ten = await book(client, alice[1], chairs, **loan("2026-12-01", "10:00", "2026-12-01", "19:00"))
    assert picked_up_at_ten.status_code == 201, picked_up_at_ten.text


async def test_an_item_in_maintenance_takes_no_loans(client, db, alice, chairs):
    async with db.write() as s:
        (await s.get(Resource, chairs)).in_maintenance = True
    assert_problem(await book(client, alice[1], chairs, **MON_TO_TUE), 409, "in_maintenance")


async def test_a_borrower_may_have_only_so_many_loans_running(client, db, alice):
    tent = await builders.item(db, "telt", stock=5, max_active_loans=1)
    assert (await book(client, alice[1], tent, **MON_TO_TUE)).status_code == 201
    assert_problem(await book(client, alice[1], tent, **WED_TO_THU), 422, "over_quota")


async def test_staff_hand_a_loan_out_and_take_it_back_early_which_frees_the_units(client, clock, alice, bob, staff, db):
    projector = await builders.item(db, "projektor", stock=1)
    lent = (await book(client, alice[1], projector, **MON_TO_THU)).json()
    assert_problem(await book(client, bob[1], projector, **WED_TO_THU), 409, "insufficient_stock")
    assert_problem(await client.post(f"/api/v1/bookings/{lent['id']}/check-out", json={}, headers=alice[1]), 403, "staff_only")
    out = await client.post(f"/api/v1/bookings/{lent['id']}/check-out", json={"note": "Med fjernkontroll"}, headers=staff[1])
    assert (out.json()["status"], out.json()["check_out_note"]) == ("checked_out", "Med fjernkontroll")
    assert_problem(await client.post(f"/api/v1/bookings/{lent['id']}/cancel", json={}, headers=alice[1]), 409, "not_cancellable")
    back = await client.post(
        f"/api/v1/bookings/{lent['id']}/check-in", json={"at": "2026-12-01T10:30:00+01:00", "condition": "ok"}, headers=staff[1]
    )
    assert (back.json()["status"], back.json()["returned_at"]) == ("returned", "2026-12-01T10:30:00+01:00")
    assert (await book(client, bob[1], projector, **WED_TO_THU)).status_code == 201
    assert_problem(await client.post(f"/api/v1/bookings/{lent['id']}/check-in", json={}, headers=staff[1]), 409, "not_checked_out")


async def test_missing_units_at_check_in_leave_the_stock(client, db, alice, staff, chairs):
    lent = (await book(client, alice[1], chairs, quantity=3, **MON_TO_TUE)).json()
    await client.post(f"/api/v1/bookings/{lent['id']}/check-out", json={}, headers=staff[1])
    too_many = await client.post(f"/api/v1/bookings/{lent['id']}/check-in", json={"missing_units": 4}, headers=staff[1])
    assert_problem(too_many, 422, "too_many_missing")
    back = await client.post(
        f"/api/v1/bookings/{lent['id']}/check-in",
        json={"condition": "damaged", "missing_units": 1, "note": "Én stol borte"},
        headers=staff[1],
    )
    assert (back.json()["missing_units"], back.json()["return_condition"]) == (1, "damaged")
    assert (await client.get(f"/api/v1/resources/{chairs}")).json()["stock"] == 3


async def test_a_damaged_item_sent_to_maintenance_at_check_in_takes_no_new_loans(client, db, alice, bob, staff):
    projectors = await builders.item(db, "projektor", stock=2)
    lent = (await book(client, alice[1], projectors, **MON_TO_TUE)).json()
    await client.post(f"/api/v1/bookings/{lent['id']}/check-out", json={}, headers=staff[1])
    back = await client.post(
        f"/api/v1/bookings/{lent['id']}/check-in",
        json={"condition": "damaged", "note": "Knust linse", "to_maintenance": True},
        headers=staff[1],
    )
    assert (back.status_code, back.json()["status"], back.json()["return_condition"]) == (200, "returned", "damaged")
    assert (await client.get(f"/api/v1/resources/{projectors}")).json()["in_maintenance"] is True
    assert_problem(await book(client, bob[1], projectors, **WED_TO_THU), 409, "in_maintenance")


async def test_a_refused_check_in_sends_nothing_to_maintenance(client, db, alice, bob, staff, chairs):
    lent = (await book(client, alice[1], chairs, quantity=2, **MON_TO_TUE)).json()
    await client.post(f"/api/v1/bookings/{lent['id']}/check-out", json={}, headers=staff[1])
    refused = await client.post(
        f"/api/v1/bookings/{lent['id']}/check-in", json={"missing_units": 3, "to_maintenance": True}, headers=staff[1]
    )
    assert_problem(refused, 422, "too_many_missing")
    assert (await client.get(f"/api/v1/resources/{chairs}")).json()["in_maintenance"] is False
    assert (await book(client, bob[1], chairs, **WED_TO_THU)).status_code == 201


async def test_a_late_loan_is_overdue_visible_to_staff_and_blocks_the_next_loan_until_returned(client, clock, db, alice, staff, chairs):
    lent = (await book(client, alice[1], chairs, **MON_TO_TUE)).json()
    await client.post(f"/api/v1/bookings/{lent['id']}/check-out", json={}, headers=staff[1])
    clock.now = datetime(2026, 12, 2, 9, tzinfo=UTC)
    assert [b["id"] for b in (await client.get("/api/v1/loans/overdue", headers=staff[1])).json()["items"]] == [lent["id"]]
    late = await loans.mark_overdue(db, now=clock.now)
    assert [b.id for b in late] == [lent["id"]]
    assert await loans.mark_overdue(db, now=clock.now) == []  # once
    assert (await client.get(f"/api/v1/bookings/{lent['id']}", headers=alice[1])).json()["status"] == "overdue"
    next_week = loan("2026-12-07", "12:00", "2026-12-08", "12:00")
    assert_problem(await book(client, alice[1], chairs, **next_week), 409, "borrower_overdue")
    await client.post(f"/api/v1/bookings/{lent['id']}/check-in", json={}, headers=staff[1])
    assert (await book(client, alice[1], chairs, **next_week)).status_code == 201


async def test_a_kit_is_borrowed_whole_or_not_at_all(client, db, alice, bob):
    tent, tables, chairs = (await builders.item(db, "telt", 1), await builders.item(db, "bord", 10), await builders.item(db, "stol", 40))
    event_kit = await builders.kit(db, "arrangementspakke", {tent: 1, tables: 4, chairs: 20})
    borrowed = await client.post(f"/api/v1/kits/{event_kit}/loans", json=MON_TO_TUE, headers=alice[1])
    assert borrowed.status_code == 201, borrowed.text
    assert sorted((b["resource_id"], b["quantity"]) for b in borrowed.json()["items"]) == [(tent, 1), (tables, 4), (chairs, 20)]
    assert len({b["kit_loan_id"] for b in borrowed.json()["items"]}) == 1
    second = await client.post(f"/api/v1/kits/{event_kit}/loans", json=MON_TO_TUE, headers=bob[1])
    assert_problem(second, 409, "insufficient_stock")
    assert await mine(client, bob[1]) == []


async def test_the_days_handovers_list_pickups_and_returns(client, db, alice, staff, chairs):
    first = (await book(client, alice[1], chairs, **MON_TO_TUE)).json()
    await client.post(f"/api/v1/bookings/{first['id']}/check-out", json={}, headers=staff[1])
    second = (await book(client, alice[1], chairs, **loan("2026-12-01", "13:00", "2026-12-02", "12:00"))).json()
    day = (await client.get("/api/v1/loans/handovers", params={"day": "2026-12-01"}, headers=staff[1])).json()
    assert ([b["id"] for b in day["pickups"]], [b["id"] for b in day["returns"]]) == ([second["id"]], [first["id"]])


async def test_a_loan_and_a_room_booking_by_one_person_do_not_count_against_each_other(client, db, alice, chairs):
    room = await builders.room(db, key="rom", policy=builders.room_policy(max_active_bookings_per_person=1))
    assert (await book(client, alice[1], chairs, **MON_TO_TUE)).status_code == 201
    assert (await book(client, alice[1], room, start="2026-11-30T18:00:00+01:00", end="2026-11-30T20:00:00+01:00")).status_code == 201
    async with db.read() as s:
        assert len((await s.execute(select(Booking))).scalars().all()) == 2
