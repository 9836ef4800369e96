"""The staff closure page: the bookings a closure covers are shown, and staff choose to cancel or keep them, before it is saved."""

from __future__ import annotations

import re

import pytest

from tests import builders
from tests.web.test_pages import ROOM_FORM, TUESDAY, post_form

CLOSURE = {"start_date": TUESDAY, "start": "00:00", "end_date": "2026-11-25", "end": "00:00", "reason": "Vannlekkasje"}


@pytest.fixture
async def alice(db):
    return await builders.person(db, "alice@example.no", name="Alice")


@pytest.fixture
async def staff(db):
    return await builders.person(db, "staff@example.no", staff=True, name="Stine")


@pytest.fixture
async def room(db):
    return await builders.room(db)


@pytest.fixture
async def tuesday_booking(client, alice, room) -> int:
    booked = await post_form(client, f"/resources/{room}/book", ROOM_FORM, alice[1])
    assert booked.status_code == 303, booked.text
    return (await client.get("/api/v1/bookings?mine=true", headers=alice[1])).json()["items"][0]["id"]


async def status_of(client, staff, booking_id: int) -> tuple[str, str | None]:
    found = (await client.get(f"/api/v1/bookings/{booking_id}", headers=staff[1])).json()
    return found["status"], found["cancel_reason"]


def seen_on(html: str) -> str:
    return re.search(r'name="seen" value="([^"]*)"', html).group(1)


async def test_the_closure_page_shows_the_bookings_covered_and_saves_nothing_before_staff_choose(client, staff, room, tuesday_booking):
    asked = await post_form(client, f"/staff/resources/{room}/closures", CLOSURE, staff[1])
    assert asked.status_code == 200, asked.text
    assert "Bookinger i perioden" in asked.text and "Innbygger" in asked.text
    assert 'type="radio" id="covered" name="covered" value="cancel"' in asked.text
    assert seen_on(asked.text) == str(tuesday_booking)
    assert "Styremøte" not in asked.text and "Alice" not in asked.text  # when and whose kind, not who
    assert (await client.get(f"/api/v1/resources/{room}")).json()["closures"] == []


async def test_staff_close_and_cancel_from_the_page_and_the_booker_is_told_the_reason(client, staff, room, tuesday_booking):
    choice = {**CLOSURE, "covered": "cancel", "seen": str(tuesday_booking)}
    saved = await post_form(client, f"/staff/resources/{room}/closures", choice, staff[1])
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"/staff/resources/{room}/closures?done=cancel&count=1"
    page = await client.get(saved.headers["location"], headers=staff[1])
    assert "Stengingen er lagret. Bookinger avbestilt" in page.text and "Vannlekkasje" in page.text
    assert await status_of(client, staff, tuesday_booking) == ("cancelled", "Vannlekkasje")


async def test_staff_close_and_keep_from_the_page_and_the_booking_stays(client, staff, room, tuesday_booking):
    choice = {**CLOSURE, "covered": "keep", "seen": str(tuesday_booking)}
    saved = await post_form(client, f"/staff/resources/{room}/closures", choice, staff[1])
    assert saved.headers["location"] == f"/staff/resources/{room}/closures?done=keep&count=0"
    assert await status_of(client, staff, tuesday_booking) == ("confirmed", None)


async def test_the_page_asks_again_in_english_when_no_choice_was_made(client, staff, room, tuesday_booking):
    path = f"/staff/resources/{room}/closures?lang=en"
    refused = await post_form(client, path, {**CLOSURE, "seen": str(tuesday_booking)}, staff[1])
    assert refused.status_code == 422
    assert 'id="covered-error"' in refused.text and "Choose whether to cancel the bookings in this period or keep them." in refused.text
    assert "Bookings in this period" in refused.text and seen_on(refused.text) == str(tuesday_booking)
    assert (await client.get(f"/api/v1/resources/{room}")).json()["closures"] == []


async def test_a_booking_made_while_staff_looked_is_shown_before_anything_is_cancelled(client, alice, staff, room):
    asked = await post_form(client, f"/staff/resources/{room}/closures", CLOSURE, staff[1])
    assert asked.status_code == 303  # nothing covered: saved at once
    [closure] = (await client.get(f"/api/v1/resources/{room}")).json()["closures"]
    await client.delete(f"/api/v1/resources/{room}/closures/{closure['id']}", headers=staff[1])
    booked = await post_form(client, f"/resources/{room}/book", ROOM_FORM, alice[1])
    assert booked.status_code == 303
    stale = await post_form(client, f"/staff/resources/{room}/closures", {**CLOSURE, "covered": "cancel", "seen": ""}, staff[1])
    assert stale.status_code == 422 and "endret seg mens du så på dem" in stale.text
    assert "Bookinger i perioden" in stale.text
