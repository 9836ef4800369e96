"""My profile on the web: name, address and language saved with errors beside their fields, and my calendar link made
with an https address to copy, replaced (the old one stops working) and stopped after asking first."""

from __future__ import annotations

import re
from dataclasses import replace
from html import unescape

import pytest

from people import service as people
from people.actor import Actor
from tests import builders
from tests.web.test_pages import form_token, post_form, text_of

PROFILE = {"name": "Alice Berg", "street": "Tollbugata 7", "postal_code": "3044", "city": "Drammen", "language": "nb"}


@pytest.fixture
async def alice(db):
    return await builders.person(db, "alice@example.no", name="Alice")


async def stored(db, person_id: int):
    return await people.profile(db, Actor(person_id=person_id, email="", name=""))


def feed_address(html: str) -> str:
    return unescape(re.search(r'id="feed-address" type="text" value="([^"]+)"', html).group(1))


async def test_the_profile_is_in_the_main_menu_and_shows_the_languages_each_in_its_own_name(client, alice):
    page = await client.get("/my/profile", headers=alice[1])
    assert page.status_code == 200
    assert 'href="/my/profile" aria-current="page"' in page.text
    assert '<option value="nb" lang="nb" selected>Norsk (bokmål)</option>' in page.text
    assert '<option value="en" lang="en">English</option>' in page.text
    assert 'value="Alice"' in page.text


async def test_the_profile_is_for_signed_in_people(client):
    response = await client.get("/my/profile", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/sign-in?next=/my/profile")


async def test_saving_name_address_and_language_keeps_them_and_the_pages_follow_the_language(client, db, alice):
    saved = await post_form(client, "/my/profile", {**PROFILE, "language": "en"}, alice[1])
    assert (saved.status_code, saved.headers["location"]) == (303, "/my/profile?done=saved&lang=en")
    page = await client.get(saved.headers["location"], headers=alice[1])
    assert '<html lang="en">' in page.text and "Your profile is saved." in page.text
    assert 'value="Tollbugata 7"' in page.text and 'value="3044"' in page.text
    person = await stored(db, alice[0])
    assert (person.name, person.street, person.postal_code, person.city, person.language) == (
        "Alice Berg",
        "Tollbugata 7",
        "3044",
        "Drammen",
        "en",
    )


async def test_a_bad_postal_code_is_shown_beside_its_field_and_nothing_is_saved(client, db, alice):
    refused = await post_form(client, "/my/profile", {**PROFILE, "postal_code": "30"}, alice[1])
    assert refused.status_code == 422
    assert text_of(refused.text, "postal_code-error") == "Feil: Skriv et norsk postnummer med fire sifre."
    assert 'value="Tollbugata 7"' in refused.text  # what was typed stays
    assert (await stored(db, alice[0])).street == ""


async def test_a_name_with_a_line_break_is_refused_beside_the_name(client, db, alice):
    refused = await post_form(client, "/my/profile", {**PROFILE, "name": "Alice\u2028Berg"}, alice[1])
    assert refused.status_code == 422
    assert text_of(refused.text, "name-error").startswith("Feil: Skriv navnet på én linje")
    assert (await stored(db, alice[0])).name == "Alice"


async def test_a_calendar_link_is_shown_once_as_an_https_address_to_copy_that_opens_the_feed(app, client, settings, alice):
    token = await form_token(client, "/my/profile", alice[1])
    app.state.settings = replace(settings, base_url="https://booking.example.no")  # after the form: its cookie is not Secure
    made = await client.post("/my/calendar-feed", data={"csrf_token": token}, headers=alice[1])
    assert made.status_code == 200
    address = feed_address(made.text)
    assert re.fullmatch(r"https://booking\.example\.no/calendar/feeds/[\w-]+\.ics", address)
    assert f'href="webcal://booking.example.no{address.removeprefix("https://booking.example.no")}"' in made.text
    assert "Google Kalender" in made.text and 'id="feed-not-https"' not in made.text
    assert (await client.get(address.removeprefix("https://booking.example.no"))).status_code == 200
    again = await client.get("/my/profile", headers=alice[1])
    assert address not in again.text and "Lag en ny kalenderlenke" in again.text


async def test_a_site_without_https_says_google_calendar_cannot_follow_its_link(client, alice):
    made = await post_form(client, "/my/calendar-feed", {}, alice[1], from_page="/my/profile")
    assert feed_address(made.text).startswith("http://127.0.0.1:8000/calendar/feeds/")
    assert "Google Kalender godtar bare lenker som gjør det" in text_of(made.text, "feed-not-https")


async def test_a_new_calendar_link_replaces_the_old_one_which_stops_working(client, alice):
    first = feed_address((await post_form(client, "/my/calendar-feed", {}, alice[1], from_page="/my/profile")).text)
    second = feed_address((await post_form(client, "/my/calendar-feed", {}, alice[1], from_page="/my/profile")).text)
    assert first != second
    assert (await client.get(first.removeprefix("http://127.0.0.1:8000"))).status_code == 404
    assert (await client.get(second.removeprefix("http://127.0.0.1:8000"))).status_code == 200


async def test_stopping_the_calendar_link_asks_first_and_then_it_stops_working(client, alice):
    address = feed_address((await post_form(client, "/my/calendar-feed", {}, alice[1], from_page="/my/profile")).text)
    asked = await client.get("/my/calendar-feed/revoke", headers=alice[1])
    assert asked.status_code == 200 and "Stoppe kalenderlenken?" in asked.text
    assert (await client.get(address.removeprefix("http://127.0.0.1:8000"))).status_code == 200  # asking changed nothing
    stopped = await post_form(client, "/my/calendar-feed/revoke", {}, alice[1], from_page="/my/calendar-feed/revoke")
    assert (stopped.status_code, stopped.headers["location"]) == (303, "/my/profile?done=feed_revoked#calendar")
    assert (await client.get(address.removeprefix("http://127.0.0.1:8000"))).status_code == 404
    page = await client.get("/my/profile?done=feed_revoked", headers=alice[1])
    assert "Kalenderlenken er stoppet." in page.text and "/my/calendar-feed/revoke" not in page.text
    assert "Lag en kalenderlenke" in page.text


async def test_with_no_calendar_link_there_is_nothing_to_stop(client, alice):
    response = await client.get("/my/calendar-feed/revoke", headers=alice[1], follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/my/profile#calendar")


async def test_a_town_longer_than_its_column_is_refused_beside_it_on_both_databases(client, db, alice):
    refused = await post_form(client, "/my/profile", {**PROFILE, "city": "D" * 101}, alice[1])
    assert refused.status_code == 422
    assert text_of(refused.text, "city-error") == "Feil: Dette er ikke gyldig her, eller for langt. Sjekk det du skrev."
    assert (await stored(db, alice[0])).city == ""
