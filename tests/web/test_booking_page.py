"""The booking page every mail links to, through the in-process app: who sees it, what it says, its history with the
reasons staff gave, a loan's pickup and return, and changing the time and cancelling without JavaScript."""

from __future__ import annotations

import re
from datetime import date, time

import pytest

from booking import lifecycle
from booking import service as bookings
from booking.engine import NewBooking
from booking.loans import service as loans
from infra.time import local_datetime
from people.actor import OPERATOR, Actor
from tests import builders
from tests.web.test_pages import post_form, text_of

TUESDAY, WEDNESDAY = date(2026, 11, 24), date(2026, 11, 25)
NOT_FOUND = "Vi fant ikke denne siden."


@pytest.fixture
async def alice(db):
    return await builders.person(db, "alice@example.no", name="Alice")


@pytest.fixture
async def staff(db):
    return await builders.person(db, "staff@example.no", staff=True, name="Stine")


@pytest.fixture
async def room(db):
    return await builders.room(db)


def actor(person, **more) -> Actor:
    return Actor(person[0], f"p{person[0]}@example.no", "", **more)


async def book(db, clock, person, resource, day=TUESDAY, start=18, end=20):
    wanted = NewBooking(resource, local_datetime(day, time(start)), local_datetime(day, time(end)), "Styremøte")
    return (await bookings.create_booking(db, actor(person), wanted, now=clock()))[0].id


def history_of(html: str) -> str:
    found = re.search(r'<ol class="history">(.*?)</ol>', html, re.S)
    assert found, "no history"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()


def main_of(html: str) -> str:
    return html[html.index("<main") : html.index("</main>")]


def words(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_the_booker_sees_what_where_when_status_history_and_the_actions(client, db, clock, alice, room):
    booking = await book(db, clock, alice, room)
    page = await client.get(f"/bookings/{booking}", headers=alice[1])
    assert page.status_code == 200
    text = words(page.text)
    assert "Moterom: Styremøte" in text and "Huset" in text and "Gata 1, 3044 Drammen" in text
    assert 'href="https://www.openstreetmap.org/search?query=Gata+1%2C+3044+Drammen"' in page.text
    assert "tirsdag 24. november 2026, 18:00–20:00" in text
    assert '<span class="status status-confirmed">Bekreftet</span>' in page.text
    assert history_of(page.text) == "mandag 23. november 2026, 10:00 Booket og bekreftet"
    assert f'action="/bookings/{booking}/move"' in page.text and f'href="/bookings/{booking}/cancel"' in page.text
    assert "Du kan avbestille til mandag 23. november 2026, 18:00." in text
    english = await client.get(f"/bookings/{booking}?lang=en", headers=alice[1])
    assert '<html lang="en">' in english.text
    text = words(english.text)
    assert "Confirmed" in text and "Booked and confirmed" in text and "Show on a map" in text
    assert "Tuesday 24 November 2026, 18:00–20:00" in text and "Change the time" in text and "Cancel the booking" in text


async def test_members_of_the_association_and_staff_see_it_and_strangers_get_the_same_404_as_for_no_booking(
    client, db, clock, alice, staff, room
):
    member, admin, stranger = [await builders.person(db, f"{n}@example.no", name=n.title()) for n in ("mona", "ada", "sam")]
    club = await builders.association(db, "Sjakklubben", "999999999", {alice[0]: "member", member[0]: "member", admin[0]: "admin"})
    wanted = NewBooking(room, local_datetime(TUESDAY, time(18)), local_datetime(TUESDAY, time(20)), "Klubbkveld", club)
    booking = (await bookings.create_booking(db, actor(alice, roles={club: "member"}), wanted, now=clock()))[0].id

    seen = await client.get(f"/bookings/{booking}", headers=member[1])
    assert seen.status_code == 200
    text = words(seen.text)
    assert "Sjakklubben" in text and "Booket av Alice" in text
    assert f"/bookings/{booking}/move" not in seen.text and f"/bookings/{booking}/cancel" not in seen.text
    assert "Bare den som booket, foreningens administratorer eller de ansatte kan endre eller avbestille denne bookingen." in text
    assert (await client.get(f"/bookings/{booking}/cancel", headers=member[1])).status_code == 403

    assert f"/bookings/{booking}/move" in (await client.get(f"/bookings/{booking}", headers=admin[1])).text  # admins may act

    by_staff = await client.get(f"/bookings/{booking}", headers=staff[1])
    assert by_staff.status_code == 200 and "alice@example.no" in by_staff.text and f"/bookings/{booking}/move" in by_staff.text

    theirs, nobodys = [await client.get(f"/bookings/{n}", headers=stranger[1]) for n in (booking, 999)]
    assert (theirs.status_code, nobodys.status_code) == (404, 404)
    assert NOT_FOUND in theirs.text and main_of(theirs.text) == main_of(nobodys.text)  # nothing tells a booking exists
    assert "Klubbkveld" not in theirs.text
    posted = await post_form(client, f"/bookings/{booking}/move", {"date": "2026-11-25"}, stranger[1], from_page="/my/bookings")
    assert posted.status_code == 404
    anonymous = await client.get(f"/bookings/{booking}", follow_redirects=False)
    assert (anonymous.status_code, anonymous.headers["location"]) == (303, f"/sign-in?next=/bookings/{booking}")


async def test_a_declined_request_shows_the_reason_staff_gave_in_its_history(client, db, clock, alice, staff):
    hall = await builders.room(db, key="gymsal", policy=builders.room_policy(needs_approval=True))
    booking = await book(db, clock, alice, hall)
    requested = words((await client.get(f"/bookings/{booking}", headers=alice[1])).text)
    assert "Venter på godkjenning" in requested and "Forespurt: de ansatte godkjenner eller avslår den" in requested
    await lifecycle.decide(db, actor(staff, grants=OPERATOR), booking, approve=False, reason="Salen brukes til kommunens møte", now=clock())
    page = await client.get(f"/bookings/{booking}", headers=alice[1])
    assert '<span class="status status-declined">Avslått</span>' in page.text
    assert history_of(page.text) == (
        "mandag 23. november 2026, 10:00 Forespurt: de ansatte godkjenner eller avslår den "
        "mandag 23. november 2026, 10:00 Avslått av de ansatte Begrunnelse: Salen brukes til kommunens møte"
    )
    assert f"/bookings/{booking}/move" not in page.text  # nothing left to change
    english = history_of((await client.get(f"/bookings/{booking}?lang=en", headers=alice[1])).text)
    assert "Declined by staff Reason: Salen brukes til kommunens møte" in english


async def test_a_loan_shows_its_pickup_and_return_and_when_it_was_handed_out(client, db, clock, alice, staff):
    chairs = await builders.item(db, "stoler", stock=4)
    wanted = NewBooking(chairs, local_datetime(TUESDAY, time(12)), local_datetime(date(2026, 11, 26), time(12)), "Årsmøte", None, None, 2)
    loan = (await bookings.create_booking(db, actor(alice), wanted, now=clock()))[0].id
    at = local_datetime(TUESDAY, time(12, 10))
    await loans.check_out(db, actor(staff, grants=OPERATOR), loan, at=at, note="En stol har en rift", now=at)
    page = await client.get(f"/bookings/{loan}", headers=alice[1])
    assert "<h1>Stoler × 2</h1>" in page.text
    assert text_of(page.text.replace("<dd", "<p").replace("</dd>", "</p>"), "pickup") == "tirsdag 24. november 2026, 12:00"
    assert text_of(page.text.replace("<dd", "<p").replace("</dd>", "</p>"), "return") == "torsdag 26. november 2026, 12:00"
    assert text_of(page.text.replace("<dd", "<p").replace("</dd>", "</p>"), "handed-out") == "tirsdag 24. november 2026, 12:10"
    assert "Levert ut" in history_of(page.text) and '<span class="status status-checked_out">Hentet</span>' in page.text
    assert "En stol har en rift" not in page.text  # the counter's note is for staff
    assert f"/bookings/{loan}/move" not in page.text  # handed out: it can only come back
    assert "En stol har en rift" in (await client.get(f"/bookings/{loan}", headers=staff[1])).text
    english = words((await client.get(f"/bookings/{loan}?lang=en", headers=alice[1])).text)
    assert "Pickup Tuesday 24 November 2026, 12:00" in english and "Return Thursday 26 November 2026, 12:00" in english


async def test_changing_the_time_moves_the_booking_and_its_history_says_from_and_to(client, db, clock, alice, room):
    booking = await book(db, clock, alice, room)
    form = {"date": WEDNESDAY.isoformat(), "start": "19:00", "end": "21:00"}
    moved = await post_form(client, f"/bookings/{booking}/move", form, alice[1], from_page=f"/bookings/{booking}")
    assert (moved.status_code, moved.headers["location"]) == (303, f"/bookings/{booking}?done=moved")
    page = await client.get(moved.headers["location"], headers=alice[1])
    assert "Bookingen er flyttet til onsdag 25. november 2026, 19:00–21:00." in page.text
    assert history_of(page.text).endswith("Flyttet fra tirsdag 24. november 2026, 18:00–20:00 til onsdag 25. november 2026, 19:00–21:00")
    after = await bookings.get_booking(db, actor(alice), booking)
    assert (after.start, after.end) == (local_datetime(WEDNESDAY, time(19)), local_datetime(WEDNESDAY, time(21)))


async def test_a_refused_move_says_why_with_its_numbers_and_changes_nothing(client, db, clock, alice, room):
    booking = await book(db, clock, alice, room)
    bob = await builders.person(db, "bob@example.no", name="Bob")
    await book(db, clock, bob, room, day=WEDNESDAY, start=18, end=20)
    taken = {"date": WEDNESDAY.isoformat(), "start": "19:00", "end": "21:00"}
    refused = await post_form(client, f"/bookings/{booking}/move", taken, alice[1], from_page=f"/bookings/{booking}")
    assert refused.status_code == 422
    assert text_of(refused.text, "start-error") == "Feil: Denne tiden er allerede tatt. Velg en annen tid."
    assert text_of(refused.text, "refusal-numbers") == "En annen booking har onsdag 25. november 2026, 18:00–20:00."
    assert 'value="19:00"' in refused.text  # what was typed stays
    short = {"date": TUESDAY.isoformat(), "start": "18:00", "end": "18:30"}
    english = await post_form(client, f"/bookings/{booking}/move?lang=en", short, alice[1], from_page=f"/bookings/{booking}")
    assert text_of(english.text, "end-error") == "Error: The booking is too short."
    assert text_of(english.text, "refusal-numbers") == "The shortest booking here is 60 minutes."
    after = await bookings.get_booking(db, actor(alice), booking)
    assert (after.start, after.end, after.sequence) == (local_datetime(TUESDAY, time(18)), local_datetime(TUESDAY, time(20)), 0)
    assert "Flyttet" not in history_of((await client.get(f"/bookings/{booking}", headers=alice[1])).text)


async def test_cancelling_asks_first_then_cancels_and_says_so(client, db, clock, alice, room):
    booking = await book(db, clock, alice, room)
    asked = await client.get(f"/bookings/{booking}/cancel", headers=alice[1])
    assert asked.status_code == 200 and "<h1>Avbestille bookingen?</h1>" in asked.text
    assert f'action="/bookings/{booking}/cancel"' in asked.text and f'href="/bookings/{booking}">Nei, behold den' in asked.text
    assert (await bookings.get_booking(db, actor(alice), booking)).status == "confirmed"  # asking changed nothing
    done = await post_form(
        client, f"/bookings/{booking}/cancel", {"reason": "Møtet er flyttet"}, alice[1], from_page=f"/bookings/{booking}/cancel"
    )
    assert (done.status_code, done.headers["location"]) == (303, f"/bookings/{booking}?done=cancelled")
    page = await client.get(done.headers["location"], headers=alice[1])
    assert "Bookingen er avbestilt." in page.text and '<span class="status status-cancelled">Avbestilt</span>' in page.text
    assert history_of(page.text).endswith("Avbestilt Begrunnelse: Møtet er flyttet")
    assert f"/bookings/{booking}/cancel" not in page.text
    english = await client.get(f"/bookings/{booking}/cancel?lang=en", headers=alice[1])
    assert "This booking can no longer be cancelled." in english.text and "<form" not in english.text.split("<main")[1]


async def test_staff_cancelling_someones_booking_must_give_a_reason_and_the_booker_reads_it(client, db, clock, alice, staff, room):
    booking = await book(db, clock, alice, room)
    path = f"/bookings/{booking}/cancel"
    refused = await post_form(client, path, {"reason": ""}, staff[1])
    assert refused.status_code == 422 and text_of(refused.text, "reason-error") == "Feil: Skriv en begrunnelse."
    assert (await post_form(client, path, {"reason": "Vannlekkasje i rommet"}, staff[1])).status_code == 303
    assert "Begrunnelse: Vannlekkasje i rommet" in history_of((await client.get(f"/bookings/{booking}", headers=alice[1])).text)


async def test_it_is_too_late_to_cancel_after_the_deadline_but_the_time_can_still_be_changed(client, db, clock, alice, room):
    booking = await book(db, clock, alice, room, day=date(2026, 11, 23), start=18, end=20)  # this evening: inside 24 hours
    page = words((await client.get(f"/bookings/{booking}", headers=alice[1])).text)
    assert "Det er for sent å avbestille. Ta kontakt med de ansatte." in page and "Endre tiden" in page
    refused = await post_form(client, f"/bookings/{booking}/cancel", {}, alice[1], from_page=f"/bookings/{booking}")
    assert refused.status_code == 422 and "Siste frist for å avbestille var søndag 22. november 2026, 18:00." in refused.text


async def test_a_loan_is_moved_by_its_pickup_and_return_and_a_refusal_says_how_many_are_free(client, db, clock, alice):
    chairs = await builders.item(db, "stoler", stock=4)
    wanted = NewBooking(chairs, local_datetime(TUESDAY, time(12)), local_datetime(date(2026, 11, 26), time(12)), "", None, None, 2)
    loan = (await bookings.create_booking(db, actor(alice), wanted, now=clock()))[0].id
    bob = await builders.person(db, "bob@example.no", name="Bob")
    friday, saturday = local_datetime(date(2026, 11, 27), time(12)), local_datetime(date(2026, 11, 28), time(12))
    await bookings.create_booking(db, actor(bob), NewBooking(chairs, friday, saturday, "", None, None, 3), now=clock())
    path = f"/bookings/{loan}/move"
    later = {"date": TUESDAY.isoformat(), "start": "12:00", "end_date": "2026-11-27", "end": "18:00"}
    refused = await post_form(client, path, later, alice[1], from_page=f"/bookings/{loan}")
    assert refused.status_code == 422
    assert text_of(refused.text, "form-error") == "Feil: Det er ikke nok ledige da."
    assert text_of(refused.text, "refusal-numbers") == "1 av 4 er ledige da."
    sooner = {**later, "end_date": WEDNESDAY.isoformat(), "end": "12:00"}
    assert (await post_form(client, path, sooner, alice[1], from_page=f"/bookings/{loan}")).status_code == 303
    page = await client.get(f"/bookings/{loan}", headers=alice[1])
    assert text_of(page.text.replace("<dd", "<p").replace("</dd>", "</p>"), "return") == "onsdag 25. november 2026, 12:00"
    assert history_of(page.text).endswith(
        "Flyttet fra tirsdag 24. november 2026, 12:00 – torsdag 26. november 2026, 12:00 "
        "til tirsdag 24. november 2026, 12:00 – onsdag 25. november 2026, 12:00"
    )
