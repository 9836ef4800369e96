"""The web pages through the in-process app: status, language, forms that post and redirect, errors next to fields."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import date, time

import pytest
from sqlalchemy import update

from booking import service as bookings
from booking.engine import NewBooking
from infra.time import local_datetime
from people.actor import Actor
from people.store import Person
from tests import builders

TUESDAY = "2026-11-24"
ROOM_FORM = {"date": TUESDAY, "start": "18:00", "end": "20:00", "title": "Styremøte"}


@pytest.fixture
async def alice(db):
    return await builders.person(db, "alice@example.no", name="Alice")


@pytest.fixture
async def staff(db):
    return await builders.person(db, "staff@example.no", staff=True, name="Stine")


@pytest.fixture
async def room(db):
    return await builders.room(db)


async def form_token(client, path: str, headers: dict | None = None) -> str:
    """Open the page the form is on, as a browser would; the token comes with it."""
    response = await client.get(path, headers=headers or {})
    assert response.status_code == 200, response.text
    return re.search(r'name="csrf_token" value="([^"]+)"', response.text).group(1)


async def post_form(client, path: str, form: dict, headers: dict | None = None, *, from_page: str | None = None):
    token = await form_token(client, from_page or path, headers)
    return await client.post(path, data={**form, "csrf_token": token}, headers=headers or {}, follow_redirects=False)


def text_of(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</p>', html, re.S)
    assert found, f"no element {element_id}"
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


async def test_the_front_page_lists_what_can_be_booked_by_place_in_bokmal(client, room):
    response = await client.get("/")
    assert response.status_code == 200
    assert '<html lang="nb">' in response.text
    assert "Huset" in response.text and f'href="/resources/{room}"' in response.text
    assert "Hopp til innholdet" in response.text and '<main id="main"' in response.text


async def test_english_is_one_click_away_and_stays_chosen(client, room):
    english = await client.get("/?lang=en")
    assert '<html lang="en">' in english.text and "Skip to content" in english.text
    assert client.cookies.get("lang") == "en"
    assert '<html lang="en">' in (await client.get(f"/resources/{room}")).text
    assert '<html lang="nb">' in (await client.get("/?lang=nb")).text


async def test_a_signed_in_persons_own_language_is_used_when_none_is_chosen(client, db, alice):
    async with db.write() as s:
        await s.execute(update(Person).where(Person.id == alice[0]).values(language="en"))
    response = await client.get("/my/bookings", headers=alice[1])
    assert '<html lang="en">' in response.text and "My bookings" in response.text


async def test_a_resource_page_shows_its_facts_free_week_and_public_feed(client, room):
    response = await client.get(f"/resources/{room}?week={TUESDAY}")
    assert response.status_code == 200
    assert "20 personer" in response.text
    assert "17:00–22:00" in response.text  # Tuesday's window, all free
    assert f"/calendar/resources/{room}.ics" in response.text


async def test_pages_for_signed_in_people_send_others_to_sign_in(client, room):
    response = await client.get(f"/resources/{room}/book", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/sign-in?next=/resources/{room}/book"


async def test_asking_for_a_sign_in_link_posts_and_redirects(client, settings):
    response = await post_form(client, "/sign-in", {"email": "ny@example.no"})
    assert (response.status_code, response.headers["location"]) == (303, "/sign-in/sent")
    assert any("/auth/verify?token" in p.read_text() for p in settings.mail_dir.glob("*.eml"))


async def test_a_bad_email_is_shown_next_to_the_email_field(client):
    response = await post_form(client, "/sign-in", {"email": "not an address"})
    assert response.status_code == 422
    assert text_of(response.text, "email-error") == "Feil: Skriv en gyldig e-postadresse."
    assert 'aria-invalid="true"' in response.text


async def test_a_form_without_its_token_is_refused(client, alice, room):
    response = await client.post(f"/resources/{room}/book", data=ROOM_FORM, headers=alice[1], follow_redirects=False)
    assert response.status_code == 403


async def test_booking_a_room_without_javascript_redirects_to_my_bookings(client, alice, room):
    response = await post_form(client, f"/resources/{room}/book", ROOM_FORM, alice[1])
    assert (response.status_code, response.headers["location"]) == (303, "/my/bookings?done=confirmed")
    mine = await client.get("/my/bookings?done=confirmed", headers=alice[1])
    assert "Bookingen din er bekreftet." in mine.text
    assert "tirsdag 24. november 2026, 18:00–20:00" in mine.text
    assert 'href="webcal://' not in mine.text and 'action="/my/calendar-feed"' in mine.text  # no feed until asked


async def test_making_a_calendar_link_shows_it_once_and_it_opens_the_feed(client, alice, room):
    made = await post_form(client, "/my/calendar-feed", {}, alice[1], from_page="/my/bookings")
    assert made.status_code == 200 and "Lag en ny kalenderlenke" in made.text
    url = re.search(r'href="webcal://[^/]+(/calendar/feeds/[^"]+)"', made.text).group(1)
    assert (await client.get(url)).status_code == 200
    again = await client.get("/my/bookings", headers=alice[1])
    assert 'href="webcal://' not in again.text and "Lag en ny kalenderlenke" in again.text


async def test_a_taken_time_is_shown_next_to_the_start_field_in_the_pages_language(client, alice, room):
    await post_form(client, f"/resources/{room}/book", ROOM_FORM, alice[1])
    response = await post_form(client, f"/resources/{room}/book?lang=en", ROOM_FORM, alice[1], from_page=f"/resources/{room}/book")
    assert response.status_code == 422
    assert text_of(response.text, "start-error") == "Error: This time is already taken. Choose another time."
    assert 'value="18:00"' in response.text  # what was typed stays


async def test_cancelling_from_my_bookings_posts_and_redirects(client, alice, room):
    await post_form(client, f"/resources/{room}/book", ROOM_FORM, alice[1])
    page = await client.get("/my/bookings", headers=alice[1])
    booking_id = re.search(r"/my/bookings/(\d+)/cancel", page.text).group(1)
    response = await post_form(client, f"/my/bookings/{booking_id}/cancel", {}, alice[1], from_page="/my/bookings")
    assert (response.status_code, response.headers["location"]) == (303, "/my/bookings?done=cancelled")
    assert "Bookingen er avbestilt." in (await client.get(response.headers["location"], headers=alice[1])).text


async def test_a_weekly_booking_shows_each_date_it_could_not_get(client, db, clock, alice, room):
    bob = await builders.person(db, "bob@example.no")
    association = await builders.association(db, "Sjakklubben", "999999999", {alice[0]: "admin"})
    taken = NewBooking(room, local_datetime(date(2026, 12, 8), time(18)), local_datetime(date(2026, 12, 8), time(20)))
    await bookings.create_booking(db, Actor(bob[0], "bob@example.no", "Bob"), taken, now=clock())
    form = {**ROOM_FORM, "association_id": str(association), "weekly": "1", "until": "2026-12-15"}
    response = await post_form(client, f"/resources/{room}/book", form, alice[1])
    assert response.status_code == 303 and response.headers["location"].startswith("/series/")
    outcome = await client.get(response.headers["location"], headers=alice[1])
    assert "Datoer vi ikke kunne booke (1)" in outcome.text
    assert "tirsdag 8. desember 2026" in outcome.text and "Denne tiden er allerede tatt" in outcome.text
    assert "Bookede datoer (3)" in outcome.text
    members = await client.get(f"/associations/{association}", headers=alice[1])
    assert "Sjakklubben" in members.text and "Alice" in members.text and members.text.count("Bekreftet") == 3


async def test_staff_approve_and_decline_requests_and_a_decline_needs_a_reason(client, db, alice, staff):
    room = await builders.room(db, key="gymsal", policy=builders.room_policy(needs_approval=True))
    await post_form(client, f"/resources/{room}/book", ROOM_FORM, alice[1])
    await post_form(client, f"/resources/{room}/book", {**ROOM_FORM, "date": "2026-11-25"}, alice[1])
    page = await client.get("/staff/requests", headers=staff[1])
    first, second = re.findall(r"/staff/requests/(\d+)/approve", page.text)
    hint = text_of(page.text, f"booking-{second}-reason-hint")  # read with the field: what staff write there is kept
    assert "revisjonsloggen" in hint and "uten å nevne andre beboere" in hint
    assert f'aria-describedby="booking-{second}-reason-hint"' in page.text
    refused = await post_form(client, f"/staff/requests/{second}/decline", {"reason": ""}, staff[1], from_page="/staff/requests")
    assert refused.status_code == 422
    assert text_of(refused.text, f"booking-{second}-reason-error") == "Feil: Skriv en begrunnelse."
    approved = await post_form(client, f"/staff/requests/{first}/approve", {}, staff[1], from_page="/staff/requests")
    assert approved.headers["location"] == "/staff/requests?done=approved"
    declined = await post_form(client, f"/staff/requests/{second}/decline", {"reason": "Fullt"}, staff[1], from_page="/staff/requests")
    assert declined.headers["location"] == "/staff/requests?done=declined"
    assert "Ingen forespørsler venter." in (await client.get("/staff/requests", headers=staff[1])).text


async def test_residents_cannot_open_staff_pages(client, alice):
    response = await client.get("/staff/requests", headers=alice[1])
    assert response.status_code == 403 and "Bare ansatte kan gjøre dette." in response.text


async def test_staff_hand_out_and_take_back_a_loan(client, db, alice, staff):
    chairs = await builders.item(db, "stoler", stock=4)
    form = {"date": "2026-11-24", "start": "12:00", "end_date": "2026-11-26", "end": "12:00", "quantity": "2"}
    assert (await post_form(client, f"/resources/{chairs}/book", form, alice[1])).status_code == 303
    pickups = await client.get("/staff/handovers?day=2026-11-24", headers=staff[1])
    loan = re.search(r"/staff/loans/(\d+)/check-out", pickups.text).group(1)
    out = await post_form(
        client, f"/staff/loans/{loan}/check-out", {"day": "2026-11-24"}, staff[1], from_page="/staff/handovers?day=2026-11-24"
    )
    assert out.headers["location"] == "/staff/handovers?day=2026-11-24&done=check-out"
    returns = await client.get("/staff/handovers?day=2026-11-26", headers=staff[1])
    assert f"/staff/loans/{loan}/check-in" in returns.text
    back = await post_form(
        client,
        f"/staff/loans/{loan}/check-in",
        {"day": "2026-11-26", "condition": "ok", "missing_units": "0"},
        staff[1],
        from_page="/staff/handovers?day=2026-11-26",
    )
    assert back.headers["location"] == "/staff/handovers?day=2026-11-26&done=check-in"


async def test_staff_send_a_damaged_item_to_repair_as_they_take_it_back(client, db, alice, staff):
    projector = await builders.item(db, "projektor", stock=1)
    form = {"date": "2026-11-24", "start": "12:00", "end_date": "2026-11-26", "end": "12:00", "quantity": "1"}
    assert (await post_form(client, f"/resources/{projector}/book", form, alice[1])).status_code == 303
    pickups = await client.get("/staff/handovers?day=2026-11-24", headers=staff[1])
    loan = re.search(r"/staff/loans/(\d+)/check-out", pickups.text).group(1)
    await post_form(client, f"/staff/loans/{loan}/check-out", {"day": "2026-11-24"}, staff[1], from_page="/staff/handovers?day=2026-11-24")
    returns = await client.get("/staff/handovers?day=2026-11-26", headers=staff[1])
    box = f'<input type="checkbox" id="repair-{loan}" name="to_maintenance" value="1">'
    assert box in returns.text and f'<label for="repair-{loan}">Send utstyret til reparasjon' in returns.text
    english = await client.get("/staff/handovers?day=2026-11-26&lang=en", headers=staff[1])
    assert "Send the item to repair: no one can borrow it until it is fixed" in english.text
    back = await post_form(
        client,
        f"/staff/loans/{loan}/check-in",
        {"day": "2026-11-26", "condition": "damaged", "missing_units": "0", "to_maintenance": "1"},
        staff[1],
        from_page="/staff/handovers?day=2026-11-26",
    )
    assert back.headers["location"] == "/staff/handovers?day=2026-11-26&done=check-in"
    catalogue = await client.get("/staff/catalogue", headers=staff[1])
    assert "Projektor</a> (in repair)" in catalogue.text  # in English, as chosen above


async def test_utilisation_has_an_accessible_chart_a_table_and_a_csv(client, alice, staff, room):
    await post_form(client, f"/resources/{room}/book", ROOM_FORM, alice[1])
    page = await client.get(f"/staff/resources/{room}/utilisation?start=2026-11-23", headers=staff[1])
    assert page.status_code == 200
    assert '<meter min="0" max="1" value="0.044' in page.text and 'aria-labelledby="weeks-4"' in page.text  # named by its week
    assert "2 av 45 timer booket" in page.text and "<table>" in page.text
    csv = await client.get(f"/staff/resources/{room}/utilisation.csv?start=2026-11-23", headers=staff[1])
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0] == "week_starting,available_hours,booked_hours,share"
    assert lines[1] == "2026-11-23,45.00,2.00,0.044"  # five evenings of 5 h and a weekend of 2 × 10 h


async def test_staff_close_a_resource_from_its_closures_page(client, staff, room):
    form = {"start_date": "2026-12-21", "start": "00:00", "end_date": "2026-12-28", "end": "00:00", "reason": "Jul"}
    response = await post_form(client, f"/staff/resources/{room}/closures", form, staff[1])
    assert response.status_code == 303
    assert "Jul" in (await client.get(f"/staff/resources/{room}/closures", headers=staff[1])).text
    bad = await post_form(client, f"/staff/resources/{room}/closures", {**form, "end_date": "dag"}, staff[1])
    assert bad.status_code == 422 and "end_date-error" in bad.text


async def test_a_link_followed_before_signing_in_opens_its_page_once_the_sign_in_link_is_used(client, settings, room):
    asked = f"/resources/{room}/book"
    assert (await client.get(asked, follow_redirects=False)).headers["location"] == f"/sign-in?next={asked}"
    sent = await post_form(client, "/sign-in", {"email": "ny@example.no", "next": asked}, from_page=f"/sign-in?next={asked}")
    assert sent.status_code == 303
    [mail] = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in settings.mail_dir.glob("*.eml")]
    token = re.search(r"/auth/verify\?token=([\w-]+)", mail.get_body(("plain",)).get_content()).group(1)
    signed_in = await post_form(client, "/auth/verify", {"token": token}, from_page=f"/auth/verify?token={token}")
    assert (signed_in.status_code, signed_in.headers["location"]) == (303, asked)
    assert (await client.get(asked)).status_code == 200


async def test_the_page_after_sign_in_is_only_ever_a_page_of_this_site(client, settings):
    sent = await post_form(client, "/sign-in", {"email": "ny@example.no", "next": "/\\evil.example/"}, from_page="/sign-in")
    assert sent.status_code == 303 and "after_sign_in" not in sent.headers.get("set-cookie", "")
