"""The rule said where people act: the booking form shows the room's hours, shortest and longest booking and the
cancellation deadline, the borrow form the lending point's opening hours; refusals give their numbers and a closure
its own reason; association-only rooms say who books them; a member books for their association; the past is past."""

from __future__ import annotations

import re
from datetime import date, time

import pytest

from booking import closures
from booking import service as bookings
from booking.closure_rules import Choice, Decision
from booking.engine import NewBooking
from infra.time import local_datetime
from people.actor import OPERATOR, Actor
from resources.rules import BookerKind
from tests import builders
from tests.web.test_pages import post_form, text_of

TUESDAY = "2026-11-24"
ROOM_FORM = {"date": TUESDAY, "start": "18:00", "end": "20:00"}
ASSOCIATIONS_ONLY = frozenset({BookerKind.ASSOCIATION, BookerKind.STAFF})


@pytest.fixture
async def alice(db):
    return await builders.person(db, "alice@example.no", name="Alice")


@pytest.fixture
async def room(db):
    return await builders.room(db)


def rules_shown(html: str) -> dict[str, str]:
    found = re.search(r'<dl class="facts" id="rules">(.*?)</dl>', html, re.S)
    assert found, "no rules on the form"
    pairs = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", found.group(1), re.S)
    return {label: said for label, said in pairs}


async def test_the_booking_form_says_the_rooms_hours_shortest_and_longest_booking_and_cancellation_deadline(client, alice, room):
    form = await client.get(f"/resources/{room}/book", headers=alice[1])
    assert rules_shown(form.text) == {
        "Kan bookes": "mandag–fredag 17:00–22:00; lørdag–søndag 10:00–20:00. Stengt på helligdager.",
        "Varighet": "Minst 1 time, høyst 4 timer",
        "Når du kan booke": "Minst 2 timer før, høyst 180 døgn fram i tid",
        "Avbestilling": "Senest 24 timer før det begynner",
    }
    english = await client.get(f"/resources/{room}/book?lang=en", headers=alice[1])
    assert rules_shown(english.text)["Length"] == "At least 1 hour, at most 4 hours"


async def test_the_borrow_form_says_the_lending_points_opening_hours_and_the_longest_loan(client, db, alice):
    chairs = await builders.item(db, "stoler", 20)
    form = await client.get(f"/resources/{chairs}/book", headers=alice[1])
    shown = rules_shown(form.text)
    assert shown["Åpningstider"] == "mandag–fredag 10:00–19:00; lørdag 11:00–15:00. Stengt på helligdager."
    assert shown["Lån"] == "Høyst 7 døgn"


async def test_a_booking_too_long_is_refused_with_the_longest_the_room_allows(client, alice, room):
    response = await post_form(client, f"/resources/{room}/book", {**ROOM_FORM, "start": "17:00", "end": "22:00"}, alice[1])
    assert response.status_code == 422
    assert text_of(response.text, "end-error") == "Feil: Bookingen er for lang: den kan vare høyst 4 timer."


async def test_a_loan_of_more_than_is_free_says_how_many_are_free_of_the_stock(client, db, clock, alice):
    chairs = await builders.item(db, "stoler", 20)
    bob = await builders.person(db, "bob@example.no")
    start, end = local_datetime(date(2026, 11, 25), time(12)), local_datetime(date(2026, 11, 26), time(12))
    await bookings.create_booking(db, Actor(bob[0], "bob@example.no", "Bob"), NewBooking(chairs, start, end, quantity=17), now=clock())
    form = {"date": "2026-11-25", "start": "12:00", "end_date": "2026-11-26", "end": "12:00", "quantity": "5"}
    response = await post_form(client, f"/resources/{chairs}/book", form, alice[1])
    assert response.status_code == 422
    assert text_of(response.text, "quantity-error") == "Feil: Ikke nok ledige da: 3 ledige av 20."


async def test_a_closed_date_is_refused_with_the_closures_own_reason_and_the_form_warns_of_it(client, db, clock, alice, room):
    staff = await builders.person(db, "stine@example.no", staff=True)
    start, end = local_datetime(date(2026, 12, 21), time(0)), local_datetime(date(2027, 1, 4), time(0))
    await closures.add_closure(
        db, Actor(staff[0], "stine@example.no", "Stine", grants=OPERATOR), room, start, end, "Juleferie", Decision(Choice.KEEP), now=clock()
    )
    form = await client.get(f"/resources/{room}/book", headers=alice[1])
    assert rules_shown(form.text)["Stengt"] == "mandag 21. desember 2026 – søndag 3. januar 2027: Juleferie"
    response = await post_form(client, f"/resources/{room}/book", {**ROOM_FORM, "date": "2026-12-22"}, alice[1])
    assert response.status_code == 422
    assert text_of(response.text, "date-error") == "Feil: Stedet er stengt da: Juleferie."


async def test_a_past_date_is_refused_as_past_before_anything_else_and_nothing_is_booked(client, db, alice, room):
    too_long_and_past = {**ROOM_FORM, "date": "2026-11-20", "start": "17:00", "end": "22:00"}
    response = await post_form(client, f"/resources/{room}/book", too_long_and_past, alice[1])
    assert response.status_code == 422
    assert text_of(response.text, "date-error") == "Feil: Denne tiden er allerede passert. Velg en senere tid."
    assert await bookings.list_bookings(db, Actor(alice[0], "alice@example.no", "Alice")) == []


async def test_an_association_only_room_says_who_books_it_instead_of_a_book_button(client, db, alice):
    hall = await builders.room(db, key="gymsal", policy=builders.room_policy(bookable_by=ASSOCIATIONS_ONLY))
    member = await builders.person(db, "mia@example.no", name="Mia")
    await builders.association(db, "Sjakklubben", "999999999", {member[0]: "member"})
    for who in ({}, alice[1]):
        page = await client.get(f"/resources/{hall}", headers=who)
        assert f'href="/resources/{hall}/book"' not in page.text
        assert "Bare lag og foreninger booker dette rommet" in text_of(page.text, "who-may-book")
    assert f'href="/resources/{hall}/book"' in (await client.get(f"/resources/{hall}", headers=member[1])).text
    front = await client.get("/")
    assert "Bookes av lag og foreninger" in front.text and front.text.count("Bookes av lag og foreninger") == 1


async def test_a_resident_who_may_not_book_a_room_gets_who_books_it_and_no_form(client, db, alice):
    hall = await builders.room(db, key="gymsal", policy=builders.room_policy(bookable_by=ASSOCIATIONS_ONLY))
    form = await client.get(f"/resources/{hall}/book", headers=alice[1])
    assert "Bare lag og foreninger booker dette rommet" in text_of(form.text, "who-may-book")
    assert f'action="/resources/{hall}/book"' not in form.text


async def test_a_members_booking_form_is_for_their_association_and_offers_no_myself_where_only_associations_book(client, db, alice, room):
    club = await builders.association(db, "Sjakklubben", "999999999", {alice[0]: "member"})
    hall = await builders.room(db, key="gymsal", policy=builders.room_policy(bookable_by=ASSOCIATIONS_ONLY))
    open_room = await client.get(f"/resources/{room}/book", headers=alice[1])
    assert f'<option value="{club}" selected>Sjakklubben</option>' in open_room.text
    assert '<option value="">Meg selv</option>' in open_room.text
    only_associations = await client.get(f"/resources/{hall}/book", headers=alice[1])
    assert f'<option value="{club}" selected>Sjakklubben</option>' in only_associations.text
    assert "Meg selv" not in only_associations.text
    booked = await post_form(client, f"/resources/{hall}/book", {**ROOM_FORM, "association_id": str(club)}, alice[1])
    assert booked.status_code == 303
    [booking] = await bookings.list_bookings(db, Actor(alice[0], "alice@example.no", "Alice", roles={club: "member"}), association_id=club)
    assert booking.association_id == club
