"""Finding a free room on the web: a date, two times, seats and features in; the rooms free all that time out, each
linking to its booking form; what cannot be read is said beside its field."""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests import builders
from tests.web.test_pages import ROOM_FORM, post_form, text_of

TUESDAY = "2026-11-24"
EVENING = {"date": TUESDAY, "from": "18:00", "to": "20:00"}


@pytest.fixture
async def alice(db):
    return await builders.person(db, "alice@example.no", name="Alice")


@pytest.fixture
async def rooms(db):
    """A big room with a kitchen, a small one with a kitchen, and a big one without."""
    return {
        "sal": await builders.room(db, key="sal", capacity=40, features=("kitchen", "projector")),
        "kott": await builders.room(db, key="kott", capacity=6, features=("kitchen",)),
        "hall": await builders.room(db, key="hall", capacity=60),
    }


def found_rooms(html: str) -> list[str]:
    section = html.split('id="found-title"', 1)[1]
    return re.findall(r'<li>\s*<a href="/resources/\d+">([^<]+)</a>', section)


async def test_the_front_page_links_to_the_search_and_the_search_starts_as_a_form(client, rooms):
    assert 'href="/rooms/free"' in (await client.get("/")).text
    page = await client.get("/rooms/free")
    assert page.status_code == 200 and "Finn et ledig rom" in page.text
    assert 'id="found-title"' not in page.text
    assert 'name="feature" value="kitchen"' in page.text and "Kjøkken" in page.text  # the features the rooms have


async def test_rooms_with_enough_seats_and_the_features_asked_for_are_found(client, rooms):
    page = await client.get("/rooms/free", params={**EVENING, "seats": "20", "feature": "kitchen"})
    assert page.status_code == 200
    assert found_rooms(page.text) == ["Sal"]
    assert "Ett rom er ledig da." in page.text
    link = unescape(re.search(rf'href="(/resources/{rooms["sal"]}/book\?[^"]+)"', page.text).group(1))
    assert link == f"/resources/{rooms['sal']}/book?date={TUESDAY}&start=18%3A00&end=20%3A00&attendees=20"


async def test_without_wishes_every_room_free_then_is_found(client, rooms):
    page = await client.get("/rooms/free", params=EVENING)
    assert sorted(found_rooms(page.text)) == ["Hall", "Kott", "Sal"]
    assert "3 rom er ledige da." in page.text


async def test_a_room_booked_then_is_not_found(client, alice, rooms):
    await post_form(client, f"/resources/{rooms['sal']}/book", ROOM_FORM, alice[1])  # Tuesday 18–20
    page = await client.get("/rooms/free", params={**EVENING, "feature": "kitchen"})
    assert found_rooms(page.text) == ["Kott"]


async def test_a_time_outside_every_rooms_hours_finds_none_and_says_so(client, rooms):
    page = await client.get("/rooms/free", params={"date": TUESDAY, "from": "08:00", "to": "10:00", "lang": "en"})
    assert page.status_code == 200 and found_rooms(page.text) == []
    assert "No room is free for the whole time with what you asked for." in page.text


async def test_an_end_before_the_start_is_said_beside_the_to_field(client, rooms):
    page = await client.get("/rooms/free", params={"date": TUESDAY, "from": "20:00", "to": "18:00"})
    assert page.status_code == 422
    assert text_of(page.text, "to-error") == "Feil: Slutten må komme etter starten."
    assert 'id="found-title"' not in page.text and 'value="20:00"' in page.text


async def test_a_date_that_is_no_date_is_said_beside_the_date_field(client, rooms):
    page = await client.get("/rooms/free", params={"date": "tirsdag", "from": "18:00", "to": "20:00"})
    assert page.status_code == 422
    assert text_of(page.text, "date-error") == "Feil: Skriv datoen med dag, måned og år."


async def test_seats_that_are_no_number_are_said_beside_the_seats_field(client, rooms):
    page = await client.get("/rooms/free", params={**EVENING, "seats": "0"})
    assert page.status_code == 422
    assert text_of(page.text, "seats-error") == "Feil: Skriv et helt tall."


async def test_the_link_from_a_found_room_opens_its_booking_form_filled_in_with_what_was_searched_for(client, alice, rooms):
    page = await client.get("/rooms/free", params={**EVENING, "seats": "20", "feature": "kitchen"})
    link = unescape(re.search(rf'href="(/resources/{rooms["sal"]}/book\?[^"]+)"', page.text).group(1))
    form = await client.get(link, headers=alice[1])
    assert form.status_code == 200
    for name, value in (("date", TUESDAY), ("start", "18:00"), ("end", "20:00"), ("attendees", "20")):
        assert re.search(rf'name="{name}"[^>]*value="{value}"|value="{value}"[^>]*name="{name}"', form.text), name
