"""Closing, retiring and lowering the stock of a resource settle the bookings they cover: listed first, then cancelled or kept."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

import resources.service
from booking import closures
from booking.closure_rules import Choice, Decision
from booking.waitlists import offers
from config.servers import free_port
from infra.outbox import Notification
from people.actor import OPERATOR, Actor
from people.store import Person
from tests import builders
from tests.api.test_bookings import assert_problem, at, book
from tests.api.test_loans import MON_TO_TUE, loan
from tests.api.test_waitlists import entry, wait
from tests.e2e.test_mail import drain, smtp_server

LEAK = {"start": "2026-11-30T00:00:00+01:00", "end": "2026-12-01T00:00:00+01:00", "reason": "Vannlekkasje"}
MONDAY_18, MONDAY_20 = at("2026-11-30", "18:00", "20:00"), at("2026-11-30", "20:00", "22:00")


@pytest.fixture
async def club(db, bob) -> int:
    """Bob's chess club, of which he is a member (not an admin)."""
    return await builders.association(db, "Sjakklubben", "912345678", {bob[0]: "member"})


async def booked(client, auth, resource_id, **fields) -> int:
    response = await book(client, auth, resource_id, **fields)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def status_of(client, staff, booking_id) -> tuple[str, str | None]:
    found = (await client.get(f"/api/v1/bookings/{booking_id}", headers=staff[1])).json()
    return found["status"], found["cancel_reason"]


async def monday_evening(client, room_id, alice, bob, club) -> list[int]:
    """Alice books Monday 18–20 for herself, Bob 20–22 for his club; Alice also books Tuesday, outside the closure."""
    ids = [await booked(client, alice[1], room_id, **MONDAY_18), await booked(client, bob[1], room_id, organisation_id=club, **MONDAY_20)]
    await booked(client, alice[1], room_id, **at("2026-12-01", "18:00", "20:00"))
    return ids


async def closures_of(client, room_id) -> list[dict]:
    return (await client.get(f"/api/v1/resources/{room_id}")).json()["closures"]


# ---------------------------------------------------------------- closing a room


async def test_a_closure_lists_the_bookings_it_covers_before_it_is_saved(client, room_id, alice, bob, staff, club):
    first, second = await monday_evening(client, room_id, alice, bob, club)
    response = await client.post(f"/api/v1/resources/{room_id}/closures/preview", json=LEAK, headers=staff[1])
    assert response.status_code == 200, response.text
    assert response.json() == {
        "count": 2,
        "items": [
            {**MONDAY_18, "id": first, "status": "confirmed", "booker": "resident", "quantity": 1, "on_cancel": "cancel"},
            {**MONDAY_20, "id": second, "status": "confirmed", "booker": "association", "quantity": 1, "on_cancel": "cancel"},
        ],
    }
    assert await closures_of(client, room_id) == []  # a preview saves nothing


async def test_closing_over_bookings_without_choosing_is_refused_and_saves_nothing(client, room_id, alice, bob, staff, club):
    covered = await monday_evening(client, room_id, alice, bob, club)
    response = await client.post(f"/api/v1/resources/{room_id}/closures", json=LEAK, headers=staff[1])
    assert_problem(response, 409, "covered_choice_required")
    assert response.json()["booking_ids"] == covered
    assert await closures_of(client, room_id) == []
    assert [await status_of(client, staff, b) for b in covered] == [("confirmed", None)] * 2


async def test_closing_and_keeping_the_bookings_leaves_them_confirmed(client, room_id, alice, bob, staff, club):
    covered = await monday_evening(client, room_id, alice, bob, club)
    response = await client.post(f"/api/v1/resources/{room_id}/closures", json={**LEAK, "covered": "keep"}, headers=staff[1])
    assert response.status_code == 201, response.text
    assert response.json()["bookings"] == {"choice": "keep", "cancelled": [], "withdrawn": [], "kept": covered}
    assert [await status_of(client, staff, b) for b in covered] == [("confirmed", None)] * 2
    assert len(await closures_of(client, room_id)) == 1


async def test_closing_and_cancelling_mails_each_booker_in_their_language_with_the_reason_and_frees_the_slot(
    client, db, settings, clock, room_id, alice, bob, staff, club
):
    async with db.write() as s:
        await s.execute(update(Person).where(Person.id == bob[0]).values(language="en"))
    covered = await monday_evening(client, room_id, alice, bob, club)
    closing = {**LEAK, "covered": "cancel", "seen": covered}
    response = await client.post(f"/api/v1/resources/{room_id}/closures", json=closing, headers=staff[1])
    assert response.status_code == 201, response.text
    assert response.json()["bookings"] == {"choice": "cancel", "cancelled": covered, "withdrawn": [], "kept": []}
    assert [await status_of(client, staff, b) for b in covered] == [("cancelled", "Vannlekkasje")] * 2
    port = free_port()
    with smtp_server(port) as inbox:
        await drain(db, settings, port, clock())
    cancellations = {m["To"].addresses[0].addr_spec: m for m in inbox.messages if m["Subject"].startswith(("Avlyst", "Cancelled"))}
    assert sorted(cancellations) == ["alice@example.no", "bob@example.no"]
    alices, bobs = cancellations["alice@example.no"], cancellations["bob@example.no"]
    assert (alices["Content-Language"], bobs["Content-Language"]) == ("nb", "en")
    assert alices["Subject"].startswith("Avlyst: Moterom") and bobs["Subject"].startswith("Cancelled: Moterom")
    for message, said in ((alices, "Begrunnelse: Vannlekkasje"), (bobs, "Reason: Vannlekkasje")):
        assert said in message.get_body(("plain",)).get_content()
    lifted = await client.delete(f"/api/v1/resources/{room_id}/closures/{response.json()['id']}", headers=staff[1])
    assert lifted.status_code == 204
    await booked(client, alice[1], room_id, **MONDAY_18)  # the cancelled evening is free again


async def test_a_held_offer_inside_a_closure_is_withdrawn_so_no_one_accepts_a_closed_slot(client, db, room_id, alice, bob, staff):
    taken = await booked(client, alice[1], room_id, **MONDAY_18)
    waiting = (await wait(client, bob[1], room_id, **MONDAY_18)).json()
    assert (await client.post(f"/api/v1/bookings/{taken}/cancel", headers=alice[1])).status_code == 200
    offer = (await entry(client, bob[1], waiting["id"]))["offer"]
    closing = {**LEAK, "covered": "cancel"}
    response = await client.post(f"/api/v1/resources/{room_id}/closures", json=closing, headers=staff[1])
    assert response.status_code == 201, response.text
    assert response.json()["bookings"] == {"choice": "cancel", "cancelled": [], "withdrawn": [offer["booking_id"]], "kept": []}
    assert (await entry(client, bob[1], waiting["id"]))["status"] == "removed"  # what Bob waited for is closed
    assert_problem(await client.post(offer["accept"], headers=bob[1]), 409, "offer_not_open")
    async with db.read() as s:
        kinds = (await s.execute(select(Notification.kind).where(Notification.person_id == bob[0]).order_by(Notification.id))).scalars()
        assert list(kinds) == ["offer_made", "booking_cancelled"]


async def test_a_slot_freed_inside_a_closure_is_offered_to_no_one_waiting_for_it(client, db, room_id, alice, bob, staff):
    await booked(client, alice[1], room_id, **MONDAY_18)
    waiting = (await wait(client, bob[1], room_id, **MONDAY_18)).json()
    response = await client.post(f"/api/v1/resources/{room_id}/closures", json={**LEAK, "covered": "cancel"}, headers=staff[1])
    assert response.status_code == 201, response.text
    await offers.expire_offers(db, now=datetime(2026, 11, 24, 9, tzinfo=UTC))  # the sweep offers whatever is free
    assert (await entry(client, bob[1], waiting["id"]))["status"] == "waiting"  # the evening is closed, not free


async def test_a_choice_made_on_a_stale_list_is_refused(client, room_id, alice, bob, staff, club):
    first, _ = await monday_evening(client, room_id, alice, bob, club)
    closing = {**LEAK, "covered": "cancel", "seen": [first]}  # the second was booked after the staff looked
    assert_problem(
        await client.post(f"/api/v1/resources/{room_id}/closures", json=closing, headers=staff[1]), 409, "covered_bookings_changed"
    )
    assert await closures_of(client, room_id) == []


async def test_cancelling_for_a_closure_needs_a_reason_to_tell_the_bookers(client, room_id, alice, staff):
    taken = await booked(client, alice[1], room_id, **MONDAY_18)
    closing = {**LEAK, "reason": "", "covered": "cancel"}
    assert_problem(await client.post(f"/api/v1/resources/{room_id}/closures", json=closing, headers=staff[1]), 422, "reason_required")
    assert await status_of(client, staff, taken) == ("confirmed", None)


async def test_a_closure_that_fails_to_save_cancels_nothing_and_mails_no_one(db, room_id, alice, staff, clock, monkeypatch, client):
    taken = await booked(client, alice[1], room_id, **MONDAY_18)

    async def fails(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(resources.service, "save_closure", fails)
    knut = Actor(person_id=staff[0], email="staff@knutepunkt.no", name="Knut", grants=OPERATOR)
    start, end = (datetime.fromisoformat(LEAK[k]) for k in ("start", "end"))
    with pytest.raises(RuntimeError):
        await closures.add_closure(db, knut, room_id, start, end, "Vannlekkasje", Decision(Choice.CANCEL), now=clock())
    assert await status_of(client, staff, taken) == ("confirmed", None)
    async with db.read() as s:
        assert "booking_cancelled" not in set((await s.execute(select(Notification.kind))).scalars())


async def test_a_closure_covers_a_loan_whose_pickup_or_return_falls_inside_it_not_one_that_spans_it(client, db, alice, bob, staff):
    tents = await builders.item(db, "telt", stock=4)
    returned_tuesday = await booked(client, alice[1], tents, quantity=1, **MON_TO_TUE)
    await booked(client, bob[1], tents, quantity=1, **loan("2026-11-30", "12:00", "2026-12-02", "12:00"))
    tuesday = {"start": "2026-12-01T00:00:00+01:00", "end": "2026-12-02T00:00:00+01:00"}
    response = await client.post(f"/api/v1/resources/{tents}/closures/preview", json=tuesday, headers=staff[1])
    assert [item["id"] for item in response.json()["items"]] == [returned_tuesday]


# ---------------------------------------------------------------- retiring


async def test_retiring_lists_the_bookings_still_to_come_and_needs_a_choice(client, room_id, alice, bob, staff, club):
    covered = await monday_evening(client, room_id, alice, bob, club)
    preview = await client.post(f"/api/v1/resources/{room_id}/retire/preview", headers=staff[1])
    assert preview.json()["count"] == 3 and [item["id"] for item in preview.json()["items"]][:2] == covered  # Tuesday's too
    assert_problem(await client.post(f"/api/v1/resources/{room_id}/retire", headers=staff[1]), 409, "covered_choice_required")
    assert (await client.get(f"/api/v1/resources/{room_id}")).json()["retired_at"] is None


async def test_retiring_and_cancelling_tells_each_booker_why(client, room_id, alice, bob, staff, club):
    covered = await monday_evening(client, room_id, alice, bob, club)
    retiring = {"covered": "cancel", "reason": "Rommet blir lager"}
    response = await client.post(f"/api/v1/resources/{room_id}/retire", json=retiring, headers=staff[1])
    assert response.status_code == 200, response.text
    assert response.json()["retired_at"] is not None
    assert len(response.json()["bookings"]["cancelled"]) == 3
    assert await status_of(client, staff, covered[0]) == ("cancelled", "Rommet blir lager")


async def test_retiring_and_keeping_the_bookings_leaves_them_confirmed(client, room_id, alice, bob, staff, club):
    covered = await monday_evening(client, room_id, alice, bob, club)
    response = await client.post(f"/api/v1/resources/{room_id}/retire", json={"covered": "keep"}, headers=staff[1])
    assert response.status_code == 200, response.text
    assert response.json()["retired_at"] is not None and response.json()["bookings"]["choice"] == "keep"
    assert [await status_of(client, staff, b) for b in covered] == [("confirmed", None)] * 2


# ---------------------------------------------------------------- lowering the stock


async def two_loans_of_two_chairs(client, db, alice, bob) -> tuple[int, int, int]:
    chairs = await builders.item(db, "stoler", stock=4)
    first = await booked(client, alice[1], chairs, quantity=2, **MON_TO_TUE)
    second = await booked(client, bob[1], chairs, quantity=2, **MON_TO_TUE)
    return chairs, first, second


async def test_a_lower_stock_lists_the_loans_it_can_no_longer_hold_the_last_booked_first(client, db, alice, bob, staff):
    chairs, _, second = await two_loans_of_two_chairs(client, db, alice, bob)
    response = await client.post(f"/api/v1/resources/{chairs}/stock/preview", json={"stock": 3}, headers=staff[1])
    assert response.status_code == 200, response.text
    assert [(item["id"], item["quantity"]) for item in response.json()["items"]] == [(second, 2)]
    assert_problem(await client.patch(f"/api/v1/resources/{chairs}", json={"stock": 3}, headers=staff[1]), 409, "covered_choice_required")
    assert (await client.get(f"/api/v1/resources/{chairs}")).json()["stock"] == 4


async def test_lowering_the_stock_and_cancelling_cancels_only_the_loans_that_no_longer_fit(client, db, alice, bob, staff):
    chairs, first, second = await two_loans_of_two_chairs(client, db, alice, bob)
    changes = {"stock": 3, "covered": "cancel", "reason": "En stol er knust"}
    response = await client.patch(f"/api/v1/resources/{chairs}", json=changes, headers=staff[1])
    assert response.status_code == 200, response.text
    assert (response.json()["stock"], response.json()["bookings"]["cancelled"]) == (3, [second])
    assert await status_of(client, staff, second) == ("cancelled", "En stol er knust")
    assert await status_of(client, staff, first) == ("confirmed", None)


async def test_lowering_the_stock_and_keeping_the_loans_leaves_them_confirmed(client, db, alice, bob, staff):
    chairs, first, second = await two_loans_of_two_chairs(client, db, alice, bob)
    response = await client.patch(f"/api/v1/resources/{chairs}", json={"stock": 3, "covered": "keep"}, headers=staff[1])
    assert (response.json()["stock"], response.json()["bookings"]["kept"]) == (3, [second])
    assert [await status_of(client, staff, b) for b in (first, second)] == [("confirmed", None)] * 2


async def test_changing_what_covers_no_booking_needs_no_choice(client, db, alice, bob, staff):
    chairs, *_ = await two_loans_of_two_chairs(client, db, alice, bob)
    response = await client.patch(f"/api/v1/resources/{chairs}", json={"stock": 6, "name": "Klappstoler"}, headers=staff[1])
    assert response.status_code == 200, response.text
    assert response.json()["bookings"] == {"choice": None, "cancelled": [], "withdrawn": [], "kept": []}


# ---------------------------------------------------------------- only staff


STAFF_ONLY = [
    ("post", "/closures/preview", LEAK),
    ("post", "/closures", {**LEAK, "covered": "cancel"}),
    ("post", "/retire/preview", None),
    ("post", "/retire", {"covered": "cancel", "reason": "Solgt"}),
    ("post", "/stock/preview", {"stock": 1}),
    ("patch", "", {"stock": 1, "covered": "cancel", "reason": "Solgt"}),
]


@pytest.mark.parametrize(("method", "path", "body"), STAFF_ONLY)
@pytest.mark.parametrize("who", ["resident", "association member"])
async def test_only_staff_close_retire_or_lower_the_stock(client, room_id, alice, bob, club, staff, method, path, body, who):
    taken = await booked(client, alice[1], room_id, **MONDAY_18)
    headers = alice[1] if who == "resident" else bob[1]
    response = await client.request(method.upper(), f"/api/v1/resources/{room_id}{path}", json=body, headers=headers)
    assert_problem(response, 403, "staff_only")
    assert await status_of(client, staff, taken) == ("confirmed", None)
    assert await closures_of(client, room_id) == []


async def test_a_stock_below_the_units_out_on_loan_now_is_refused_whatever_is_chosen(client, db, clock, alice, bob, staff):
    chairs, first, second = await two_loans_of_two_chairs(client, db, alice, bob)
    clock.now = datetime.fromisoformat(MON_TO_TUE["start"])
    for lent in (first, second):
        out = await client.post(f"/api/v1/bookings/{lent}/check-out", json={}, headers=staff[1])
        assert out.status_code == 200, out.text
    for covered in ("cancel", "keep"):
        refused = await client.patch(
            f"/api/v1/resources/{chairs}", json={"stock": 3, "covered": covered, "reason": "Tapt"}, headers=staff[1]
        )
        assert_problem(refused, 422, "stock_below_units_out")
        assert refused.json()["units_out"] == 4
    availability = await client.get(f"/api/v1/resources/{chairs}")
    assert availability.json()["stock"] == 4
