"""The staff pages by place: each list opens at one's own places with a choice of all places or one, and the forms
act only where one's role holds (location staff of school A are refused at school B; reporting reads and cannot act)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from tests.api.test_bookings import book
from tests.api.test_staff_places import TUESDAY_NOON_TO_THURSDAY, ask, build_world
from tests.web.test_pages import post_form


@pytest.fixture
async def world(db) -> dict:
    return await build_world(db)


@pytest.fixture
async def requests(client, world) -> dict[str, int]:
    return await ask(client, world)


def listed(html: str, pattern: str) -> set[int]:
    return {int(n) for n in re.findall(pattern, html)}


async def test_the_requests_page_opens_at_my_places_and_offers_all_places_or_one(client, world, requests):
    page = await client.get("/staff/requests", headers=world["ola"][1])
    assert listed(page.text, r"/staff/requests/(\d+)/approve") == {requests["hall_a"]}
    assert '<option value="mine" selected>Mine steder</option>' in page.text and "Alle steder" in page.text
    reader = world["rita"][1]
    assert listed((await client.get("/staff/requests", headers=reader)).text, r"/staff/requests/(\d+)/approve") == set(requests.values())
    one = await client.get(f"/staff/requests?places={world['b']}", headers=reader)
    assert listed(one.text, r"/staff/requests/(\d+)/approve") == {requests["hall_b"]}
    assert f'<option value="{world["b"]}" selected>Skole B</option>' in one.text
    assert (await client.get(f"/staff/requests?places={world['b']}", headers=world["ola"][1])).status_code == 403


async def test_location_staff_approve_at_their_school_from_the_page_and_are_refused_at_the_other(client, world, requests):
    ola = world["ola"][1]
    approved = await post_form(client, f"/staff/requests/{requests['hall_a']}/approve", {}, ola, from_page="/staff/requests")
    assert approved.headers["location"] == "/staff/requests?done=approved"
    refused = await post_form(client, f"/staff/requests/{requests['hall_b']}/approve", {}, ola, from_page="/staff/requests")
    assert refused.status_code == 422 and "booking-" in refused.text
    still = await client.get("/staff/requests?places=all", headers=world["olga"][1])
    assert listed(still.text, r"/staff/requests/(\d+)/approve") == {requests["hall_b"]}  # the refusal changed nothing


async def test_reporting_sees_the_requests_but_its_approval_is_refused(client, world, requests):
    rita = world["rita"][1]
    refused = await post_form(client, f"/staff/requests/{requests['hall_a']}/approve", {}, rita, from_page="/staff/requests")
    assert refused.status_code == 422
    assert listed(refused.text, r"/staff/requests/(\d+)/approve") == set(requests.values())


async def test_the_hand_over_and_overdue_pages_show_my_places_and_the_desk_hands_over_only_there(client, clock, world):
    lent = {}
    for key in ("item_a", "item_b"):
        lent[key] = (await book(client, world["alice"][1], world[key], quantity=3, **TUESDAY_NOON_TO_THURSDAY)).json()["id"]
    ola = world["ola"][1]
    day = "/staff/handovers?day=2026-11-24"
    assert listed((await client.get(day, headers=ola)).text, r"/staff/loans/(\d+)/check-out") == {lent["item_a"]}
    assert listed((await client.get(day + "&places=all", headers=world["rita"][1])).text, r"/staff/loans/(\d+)/check-out") == set(
        lent.values()
    )
    clock.now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    refused = await post_form(client, f"/staff/loans/{lent['item_b']}/check-out", {"day": "2026-11-24"}, ola, from_page=day)
    assert refused.status_code == 422
    out = await post_form(client, f"/staff/loans/{lent['item_a']}/check-out", {"day": "2026-11-24"}, ola, from_page=day)
    assert out.status_code == 303
    await post_form(client, f"/staff/loans/{lent['item_b']}/check-out", {"day": "2026-11-24"}, world["kari"][1], from_page=day)
    clock.now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    overdue = await client.get("/staff/overdue", headers=ola)
    assert listed(overdue.text, r"/staff/loans/(\d+)/check-in") == {lent["item_a"]}
    everywhere = await client.get("/staff/overdue?places=all", headers=world["olga"][1])
    assert listed(everywhere.text, r"/staff/loans/(\d+)/check-in") == set(lent.values())


async def test_a_bookings_page_opens_for_staff_of_its_school_with_the_bookers_email_and_is_unknown_to_the_other(client, world, requests):
    mine = await client.get(f"/bookings/{requests['hall_a']}", headers=world["ola"][1])
    assert mine.status_code == 200 and "mailto:alice@example.no" in mine.text
    assert (await client.get(f"/bookings/{requests['hall_a']}", headers=world["kari"][1])).status_code == 404
    read = await client.get(f"/bookings/{requests['hall_b']}", headers=world["rita"][1])
    assert read.status_code == 200 and "mailto:alice@example.no" in read.text


async def test_staff_cancel_someones_booking_at_their_school_from_its_page_giving_a_reason(client, world, requests):
    path = f"/bookings/{requests['hall_a']}/cancel"
    no_reason = await post_form(client, path, {"reason": ""}, world["ola"][1])
    assert no_reason.status_code == 422
    done = await post_form(client, path, {"reason": "Vannlekkasje"}, world["ola"][1])
    assert done.headers["location"] == f"/bookings/{requests['hall_a']}?done=cancelled"
