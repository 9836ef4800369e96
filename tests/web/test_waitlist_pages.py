"""Waiting lists for rooms and equipment: join for a taken time, see one's place, leave, and answer an offer."""

from __future__ import annotations

import re

import pytest

from tests import builders
from tests.web.test_pages import ROOM_FORM, post_form, text_of

LOAN_FORM = {"date": "2026-11-24", "start": "12:00", "end_date": "2026-11-26", "end": "12:00", "quantity": "2"}


@pytest.fixture
async def alice(db):
    return await builders.person(db, "alice@example.no", name="Alice")


@pytest.fixture
async def bob(db):
    return await builders.person(db, "bob@example.no", name="Bob")


@pytest.fixture
async def room(db):
    return await builders.room(db)


async def test_a_taken_time_offers_to_join_the_waiting_list_with_what_was_typed(client, alice, bob, room):
    await post_form(client, f"/resources/{room}/book", ROOM_FORM, alice[1])
    refused = await post_form(client, f"/resources/{room}/book", ROOM_FORM, bob[1])
    assert refused.status_code == 422
    assert f'action="/resources/{room}/wait"' in refused.text and "Stå på venteliste for denne tiden" in refused.text
    assert '<input type="hidden" name="start" value="18:00">' in refused.text


async def test_a_resident_joins_the_waiting_list_for_a_taken_room_and_sees_their_place(client, alice, bob, room):
    await post_form(client, f"/resources/{room}/book", ROOM_FORM, alice[1])
    joined = await post_form(client, f"/resources/{room}/wait", ROOM_FORM, bob[1])
    assert (joined.status_code, joined.headers["location"]) == (303, "/my/waitlists?done=joined")
    page = await client.get(joined.headers["location"], headers=bob[1])
    assert "Du står på ventelisten." in page.text and "Du er nummer 1 på ventelisten." in page.text
    assert "tirsdag 24. november 2026, 18:00–20:00" in page.text


async def test_waiting_for_a_free_time_is_refused_next_to_the_start_field(client, bob, room):
    response = await post_form(client, f"/resources/{room}/wait?lang=en", ROOM_FORM, bob[1], from_page=f"/resources/{room}/wait")
    assert response.status_code == 422
    assert text_of(response.text, "start-error") == "Error: This time is free: book it instead of waiting."


async def test_joining_the_same_line_twice_is_refused_in_bokmal(client, alice, bob, room):
    await post_form(client, f"/resources/{room}/book", ROOM_FORM, alice[1])
    await post_form(client, f"/resources/{room}/wait", ROOM_FORM, bob[1])
    again = await post_form(client, f"/resources/{room}/wait", ROOM_FORM, bob[1])
    assert again.status_code == 422 and "Du står allerede på ventelisten." in again.text


async def test_a_resident_leaves_a_waiting_list(client, alice, bob, room):
    await post_form(client, f"/resources/{room}/book", ROOM_FORM, alice[1])
    await post_form(client, f"/resources/{room}/wait", ROOM_FORM, bob[1])
    page = await client.get("/my/waitlists", headers=bob[1])
    entry = re.search(r"/my/waitlists/(\d+)/leave", page.text).group(1)
    left = await post_form(client, f"/my/waitlists/{entry}/leave", {}, bob[1], from_page="/my/waitlists")
    assert left.headers["location"] == "/my/waitlists?done=left"
    after = await client.get(left.headers["location"], headers=bob[1])
    assert "Du har gått ut av ventelisten." in after.text and "/leave" not in after.text


async def offered_to_bob(client, alice, bob, room) -> str:
    """Alice holds the slot, Bob waits for it, Alice cancels: the page Bob sees then."""
    await post_form(client, f"/resources/{room}/book", ROOM_FORM, alice[1])
    await post_form(client, f"/resources/{room}/wait", ROOM_FORM, bob[1])
    mine = await client.get("/my/bookings", headers=alice[1])
    booking = re.search(r"/my/bookings/(\d+)/cancel", mine.text).group(1)
    await post_form(client, f"/my/bookings/{booking}/cancel", {}, alice[1], from_page="/my/bookings")
    return (await client.get("/my/waitlists", headers=bob[1])).text


async def test_a_freed_room_is_offered_and_accepting_makes_it_a_booking(client, alice, bob, room):
    page = await offered_to_bob(client, alice, bob, room)
    assert "Svar innen mandag 23. november 2026, 14:00" in page
    offer = re.search(r"/my/waitlists/offers/(\d+)/accept", page).group(1)
    accepted = await post_form(client, f"/my/waitlists/offers/{offer}/accept", {}, bob[1], from_page="/my/waitlists")
    assert accepted.headers["location"] == "/my/bookings?done=confirmed"
    assert "tirsdag 24. november 2026, 18:00–20:00" in (await client.get("/my/bookings", headers=bob[1])).text


async def test_an_offer_answered_after_its_deadline_is_refused_with_the_reason(client, clock, alice, bob, room):
    page = await offered_to_bob(client, alice, bob, room)
    offer = re.search(r"/my/waitlists/offers/(\d+)/accept", page).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    clock.now = clock.now.replace(hour=14)  # past the 4-hour hold, before the sweep has run
    late = await client.post(f"/my/waitlists/offers/{offer}/accept", data={"csrf_token": token}, headers=bob[1], follow_redirects=False)
    assert late.status_code == 422 and "Tilbudet har gått ut." in late.text


async def test_declining_an_offer_redirects_back_to_my_waiting_lists(client, alice, bob, room):
    page = await offered_to_bob(client, alice, bob, room)
    offer = re.search(r"/my/waitlists/offers/(\d+)/decline", page).group(1)
    declined = await post_form(client, f"/my/waitlists/offers/{offer}/decline", {}, bob[1], from_page="/my/waitlists")
    assert declined.headers["location"] == "/my/waitlists?done=declined"
    assert "Du takket nei til tilbudet." in (await client.get(declined.headers["location"], headers=bob[1])).text


async def test_a_resident_waits_for_units_of_an_item_that_are_all_lent(client, db, alice, bob):
    drill = await builders.item(db, "drill", stock=2)
    await post_form(client, f"/resources/{drill}/book", LOAN_FORM, alice[1])
    refused = await post_form(client, f"/resources/{drill}/book", LOAN_FORM, bob[1])
    assert refused.status_code == 422 and f'action="/resources/{drill}/wait"' in refused.text
    joined = await post_form(client, f"/resources/{drill}/wait", LOAN_FORM, bob[1])
    assert joined.headers["location"] == "/my/waitlists?done=joined"
    assert "Drill</strong> × 2" in (await client.get("/my/waitlists", headers=bob[1])).text


async def test_the_resource_page_links_to_its_waiting_list_and_it_needs_signing_in(client, room):
    assert f'href="/resources/{room}/wait"' in (await client.get(f"/resources/{room}")).text
    response = await client.get(f"/resources/{room}/wait", follow_redirects=False)
    assert response.headers["location"] == f"/sign-in?next=/resources/{room}/wait"


async def test_asking_for_more_units_than_an_item_has_offers_no_waiting_list(client, db, alice):
    drill = await builders.item(db, "drill", stock=2)
    refused = await post_form(client, f"/resources/{drill}/book", {**LOAN_FORM, "quantity": "3"}, alice[1])
    assert refused.status_code == 422
    assert f'action="/resources/{drill}/wait"' not in refused.text  # waiting would never get three of two
