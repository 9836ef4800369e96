"""Staff pages for the rest of the desk's work: a resource edited and retired, a whole place closed, request cards
that say whom to call, and an overdue loan taken back where staff see it."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from people.store import Association
from tests import builders
from tests.api.test_bookings import at, book
from tests.web.test_pages import ROOM_FORM, TUESDAY, post_form

CHRISTMAS = {"start_date": "2026-12-21", "start": "00:00", "end_date": "2027-01-04", "end": "00:00", "reason": "Juleferie"}
LOAN_FORM = {"date": "2026-11-24", "start": "12:00", "end_date": "2026-11-26", "end": "12:00", "quantity": "3"}


@pytest.fixture
async def alice(db):
    return await builders.person(db, "alice@example.no", name="Alice")


@pytest.fixture
async def staff(db):
    return await builders.person(db, "staff@example.no", staff=True, name="Stine")


@pytest.fixture
async def room(db):
    return await builders.room(db)


def seen_on(html: str) -> str:
    return re.search(r'name="seen" value="([^"]*)"', html).group(1)


def edit_form(**changes) -> dict:
    """The edit form of the builders' room as a browser sends it, with the changes asked for."""
    form = {
        "name": "Moterom",
        "description": "",
        "capacity": "20",
        **{f"{n}": v for n, v in (("min_duration", "1"), ("max_duration", "4"), ("granularity", "30"), ("buffer_before", "0"))},
        **{"buffer_after": "0", "lead_time": "2", "horizon": "180", "cancellation_notice": "1"},
        **{"min_duration_unit": "hours", "max_duration_unit": "hours", "granularity_unit": "minutes", "buffer_before_unit": "minutes"},
        **{"buffer_after_unit": "minutes", "lead_time_unit": "hours", "horizon_unit": "days", "cancellation_notice_unit": "days"},
        **{"bookable_by_resident": "1", "bookable_by_association": "1", "bookable_by_staff": "1"},
    }
    return {**form, **changes}


async def resource_json(client, resource_id: int) -> dict:
    return (await client.get(f"/api/v1/resources/{resource_id}")).json()


async def booking_json(client, staff, booking_id: int) -> dict:
    return (await client.get(f"/api/v1/bookings/{booking_id}", headers=staff[1])).json()


# ---------------------------------------------------------------- editing a resource


async def test_the_edit_form_shows_a_rooms_details_and_rules_each_length_in_its_own_unit(client, staff, room):
    page = await client.get(f"/staff/resources/{room}/edit", headers=staff[1])
    assert page.status_code == 200
    assert 'id="name" name="name" type="text" value="Moterom"' in page.text
    assert 'id="capacity" name="capacity" type="number" value="20"' in page.text
    assert re.search(r'id="max_duration" name="max_duration" type="number"[^>]*value="4"', page.text)
    assert re.search(r'<select id="max_duration_unit"[^>]*>.*?<option value="hours" selected>timer</option>', page.text, re.S)
    assert re.search(r'id="horizon" name="horizon" type="number"[^>]*value="180"', page.text)
    assert "Lengste booking" in page.text and "Avbestillingsfrist" in page.text


async def test_staff_change_a_rooms_name_seats_and_rules_and_bookings_follow_the_new_rules(client, staff, alice, room):
    form = edit_form(name="Storsalen", capacity="40", max_duration="3", needs_approval="1")
    saved = await post_form(client, f"/staff/resources/{room}/edit", form, staff[1])
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"/staff/resources/{room}/edit?done=saved&count=0"
    assert "Endringene er lagret." in (await client.get(saved.headers["location"], headers=staff[1])).text
    found = await resource_json(client, room)
    assert (found["name"], found["capacity"]) == ("Storsalen", 40)
    assert (found["policy"]["max_duration_minutes"], found["policy"]["needs_approval"]) == (180, True)
    too_long = await book(client, alice[1], room, **at(TUESDAY, "18:00", "22:00"))
    assert too_long.status_code == 422 and too_long.json()["code"] == "too_long"
    asked = await book(client, alice[1], room, **at(TUESDAY, "18:00", "20:00"))
    assert asked.json()["status"] == "requested"


async def test_rules_that_contradict_each_other_are_refused_beside_the_field_and_nothing_is_saved(client, staff, room):
    refused = await post_form(client, f"/staff/resources/{room}/edit", edit_form(min_duration="5"), staff[1])
    assert refused.status_code == 422
    assert 'id="min_duration-error"' in refused.text and "Den korteste bookingen må være" in refused.text
    assert 'value="5"' in refused.text  # what staff wrote stays in the form
    assert (await resource_json(client, room))["policy"]["min_duration_minutes"] == 60


async def test_a_word_for_a_number_and_an_empty_name_are_refused_in_english_beside_their_fields(client, staff, room):
    path = f"/staff/resources/{room}/edit?lang=en"
    refused = await post_form(client, path, edit_form(capacity="many"), staff[1])
    assert refused.status_code == 422 and 'id="capacity-error"' in refused.text and "Write a whole number." in refused.text
    nameless = await post_form(client, path, edit_form(name=""), staff[1])
    assert nameless.status_code == 422 and "Write a name, at most 200 characters." in nameless.text


async def test_a_lower_stock_first_shows_the_loans_it_cannot_hold_and_cancels_them_with_the_reason(client, db, staff, alice):
    chairs = await builders.item(db, "stoler", stock=4)
    assert (await post_form(client, f"/resources/{chairs}/book", LOAN_FORM, alice[1])).status_code == 303
    [loan] = (await client.get("/api/v1/bookings?mine=true", headers=alice[1])).json()["items"]
    form = {"name": "Stoler", "stock": "2", "min_duration": "1", "min_duration_unit": "hours", "max_loan": "7", "max_loan_unit": "days"}
    form |= {"granularity": "15", "lead_time": "2", "lead_time_unit": "hours", "horizon": "180", "horizon_unit": "days"}
    form |= {"cancellation_notice": "1", "cancellation_notice_unit": "days", "bookable_by_resident": "1"}
    asked = await post_form(client, f"/staff/resources/{chairs}/edit", form, staff[1])
    assert asked.status_code == 200 and "Utlån det nye antallet ikke rommer" in asked.text
    assert seen_on(asked.text) == str(loan["id"]) and (await resource_json(client, chairs))["stock"] == 4
    choice = {**form, "seen": str(loan["id"]), "covered": "cancel", "reason": "To stoler er ødelagt"}
    saved = await post_form(client, f"/staff/resources/{chairs}/edit", choice, staff[1])
    assert saved.headers["location"] == f"/staff/resources/{chairs}/edit?done=cancel&count=1"
    assert (await resource_json(client, chairs))["stock"] == 2
    cancelled = await booking_json(client, staff, loan["id"])
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "To stoler er ødelagt")


# ---------------------------------------------------------------- retiring


@pytest.fixture
async def tuesday_booking(client, alice, room) -> int:
    booked = await post_form(client, f"/resources/{room}/book", ROOM_FORM, alice[1])
    assert booked.status_code == 303, booked.text
    return (await client.get("/api/v1/bookings?mine=true", headers=alice[1])).json()["items"][0]["id"]


async def test_retiring_asks_first_and_says_what_becomes_of_the_bookings_still_to_come(client, staff, room, tuesday_booking):
    page = await client.get(f"/staff/resources/{room}/retire", headers=staff[1])
    assert page.status_code == 200
    assert "tar den ikke imot nye bookinger" in page.text and "Bookinger som ennå ikke er over" in page.text
    assert "Innbygger" in page.text and seen_on(page.text) == str(tuesday_booking)
    assert "Alle som har booket, får en e-post med begrunnelsen." in page.text and "De står som før, og ingen blir varslet." in page.text
    assert (await resource_json(client, room))["retired_at"] is None  # asking saves nothing


async def test_retiring_and_cancelling_tells_each_booker_the_reason_and_the_room_leaves_the_lists(client, staff, room, tuesday_booking):
    choice = {"covered": "cancel", "seen": str(tuesday_booking), "reason": "Rommet rives"}
    retired = await post_form(client, f"/staff/resources/{room}/retire", choice, staff[1])
    assert retired.status_code == 303 and retired.headers["location"] == "/staff/catalogue?done=retired&count=1"
    cancelled = await booking_json(client, staff, tuesday_booking)
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "Rommet rives")
    assert (await resource_json(client, room))["retired_at"] is not None
    catalogue = await client.get(retired.headers["location"], headers=staff[1])
    assert "Bookinger avbestilt (alle som booket, har fått e-post): 1" in catalogue.text
    assert f'href="/resources/{room}"' not in (await client.get("/")).text


async def test_retiring_and_keeping_leaves_the_bookings_as_they_were(client, staff, room, tuesday_booking):
    retired = await post_form(client, f"/staff/resources/{room}/retire", {"covered": "keep", "seen": str(tuesday_booking)}, staff[1])
    assert retired.headers["location"] == "/staff/catalogue?done=retired&count=0"
    assert (await booking_json(client, staff, tuesday_booking))["status"] == "confirmed"


async def test_cancelling_on_retirement_needs_a_reason_and_the_list_is_shown_again(client, staff, room, tuesday_booking):
    refused = await post_form(client, f"/staff/resources/{room}/retire", {"covered": "cancel", "seen": str(tuesday_booking)}, staff[1])
    assert refused.status_code == 422 and 'id="reason-error"' in refused.text
    assert seen_on(refused.text) == str(tuesday_booking)
    assert (await resource_json(client, room))["retired_at"] is None


# ---------------------------------------------------------------- a whole place


async def location_of(client, room: int) -> int:
    return (await resource_json(client, room))["location_id"]


async def test_closing_a_whole_place_shows_what_it_covers_by_resource_and_saves_nothing_before_staff_choose(client, db, staff, alice, room):
    await builders.item(db, "telt", stock=2)
    booked = await book(client, alice[1], room, title="Julebord", **at("2026-12-22", "18:00", "20:00"))
    assert booked.status_code == 201, booked.text
    place = await location_of(client, room)
    asked = await post_form(client, f"/staff/locations/{place}/closures", CHRISTMAS, staff[1])
    assert asked.status_code == 200
    assert "Bookinger i perioden" in asked.text and "Moterom: tirsdag 22. desember 2026" in asked.text
    assert seen_on(asked.text) == str(booked.json()["id"]) and "Julebord" not in asked.text
    assert (await resource_json(client, room))["closures"] == []


async def test_staff_close_every_resource_of_a_place_for_christmas_with_its_reason(client, db, staff, alice, room):
    tent = await builders.item(db, "telt", stock=2)
    retired = await builders.room(db, key="gammelsal")
    await post_form(client, f"/staff/resources/{retired}/retire", {"seen": ""}, staff[1], from_page=f"/staff/resources/{retired}/retire")
    booked = (await book(client, alice[1], room, **at("2026-12-22", "18:00", "20:00"))).json()
    place = await location_of(client, room)
    choice = {**CHRISTMAS, "covered": "cancel", "seen": str(booked["id"])}
    saved = await post_form(client, f"/staff/locations/{place}/closures", choice, staff[1])
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"/staff/locations/{place}/closures?done=cancel&count=1&closed=2"
    assert (
        "Hele stedet er stengt: 2 rom, utstyr og pallekarmer til sammen."
        in (await client.get(saved.headers["location"], headers=staff[1])).text
    )
    for resource in (room, tent):
        [closure] = (await resource_json(client, resource))["closures"]
        assert (closure["reason"], closure["start"][:10], closure["end"][:10]) == ("Juleferie", "2026-12-21", "2027-01-04")
    assert (await resource_json(client, retired))["closures"] == []  # retired: nothing to close
    cancelled = await booking_json(client, staff, booked["id"])
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "Juleferie")
    refused = await book(client, alice[1], room, **at("2026-12-29", "18:00", "20:00"))
    assert refused.status_code == 422 and refused.json()["code"] == "resource_closed"


async def test_a_place_with_nothing_booked_in_the_period_is_closed_at_once(client, staff, room):
    place = await location_of(client, room)
    saved = await post_form(client, f"/staff/locations/{place}/closures", CHRISTMAS, staff[1])
    assert saved.headers["location"] == f"/staff/locations/{place}/closures?done=closed&count=0&closed=1"


async def test_a_place_closure_that_ends_before_it_starts_is_refused_beside_the_end(client, staff, room):
    place = await location_of(client, room)
    backwards = {**CHRISTMAS, "end_date": "2026-12-01"}
    refused = await post_form(client, f"/staff/locations/{place}/closures", backwards, staff[1])
    assert refused.status_code == 422 and 'id="end-error"' in refused.text
    assert (await resource_json(client, room))["closures"] == []


async def test_the_catalogue_lists_resources_by_place_with_a_way_to_edit_retire_and_close_the_place(client, staff, room):
    page = await client.get("/staff/catalogue", headers=staff[1])
    place = await location_of(client, room)
    assert f'href="/staff/resources/{room}/edit"' in page.text and f'href="/staff/resources/{room}/retire"' in page.text
    assert f'href="/staff/locations/{place}/closures"' in page.text and "<h2" in page.text and "Huset" in page.text


async def test_residents_cannot_open_or_post_the_catalogue_pages(client, alice, room):
    assert (await client.get(f"/staff/resources/{room}/edit", headers=alice[1])).status_code == 403
    assert (await client.get(f"/staff/resources/{room}/retire", headers=alice[1])).status_code == 403
    assert (await client.get("/staff/locations/1/closures", headers=alice[1])).status_code == 403


# ---------------------------------------------------------------- request cards


async def test_a_request_card_shows_the_association_the_number_of_people_and_whom_to_contact(client, db, staff, alice):
    hall = await builders.room(db, key="gymsal", policy=builders.room_policy(needs_approval=True))
    club = await builders.association(db, "Sjakklubben", "912345678", {alice[0]: "admin"})
    async with db.write() as s:
        await s.execute(
            update(Association).where(Association.id == club).values(contact_phone="32 04 00 00", contact_email="post@sjakk.no")
        )
    asked = await book(client, alice[1], hall, organisation_id=club, attendees=14, **at(TUESDAY, "18:00", "20:00"))
    assert asked.status_code == 201, asked.text
    page = await client.get("/staff/requests", headers=staff[1])
    card = page.text.split(f'id="booking-{asked.json()["id"]}"', 1)[1].split("</li>", 1)[0]
    assert "Sjakklubben" in card and "<dt>Antall personer</dt><dd>14</dd>" in card
    assert "Alice" in card and 'href="mailto:alice@example.no"' in card
    assert 'href="tel:32040000">32 04 00 00</a>' in card and 'href="mailto:post@sjakk.no"' in card


async def test_a_private_request_says_it_has_no_association_and_that_no_number_was_given(client, db, staff, alice):
    hall = await builders.room(db, key="gymsal", policy=builders.room_policy(needs_approval=True))
    await post_form(client, f"/resources/{hall}/book", ROOM_FORM, alice[1])
    page = await client.get("/staff/requests?lang=en", headers=staff[1])
    assert "None: booked as a private person" in page.text and "<dt>Number of people</dt><dd>Not given</dd>" in page.text


# ---------------------------------------------------------------- overdue loans taken back


@pytest.fixture
async def overdue_loan(client, db, clock, alice, staff) -> int:
    """Three chairs handed out Tuesday and due back Thursday; it is now Saturday."""
    chairs = await builders.item(db, "stoler", stock=4)
    assert (await post_form(client, f"/resources/{chairs}/book", LOAN_FORM, alice[1])).status_code == 303
    [loan] = (await client.get("/api/v1/bookings?mine=true", headers=alice[1])).json()["items"]
    out = await post_form(
        client, f"/staff/loans/{loan['id']}/check-out", {"day": "2026-11-24"}, staff[1], from_page="/staff/handovers?day=2026-11-24"
    )
    assert out.status_code == 303
    clock.now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    return loan["id"]


async def test_an_overdue_loan_is_taken_back_from_the_overdue_page(client, staff, overdue_loan):
    page = await client.get("/staff/overdue", headers=staff[1])
    assert f'action="/staff/loans/{overdue_loan}/check-in"' in page.text and 'name="back" value="overdue"' in page.text
    form = {"day": "2026-11-28", "back": "overdue", "condition": "ok", "missing_units": "0"}
    back = await post_form(client, f"/staff/loans/{overdue_loan}/check-in", form, staff[1], from_page="/staff/overdue")
    assert back.status_code == 303 and back.headers["location"] == "/staff/overdue?done=check-in"
    after = await client.get(back.headers["location"], headers=staff[1])
    assert "Tatt imot." in after.text and "Ingenting er forsinket." in after.text
    assert (await booking_json(client, staff, overdue_loan))["status"] == "returned"


async def test_a_refused_return_on_the_overdue_page_is_said_beside_that_loan(client, staff, overdue_loan):
    form = {"day": "2026-11-28", "back": "overdue", "condition": "ok", "missing_units": "9"}
    refused = await post_form(client, f"/staff/loans/{overdue_loan}/check-in", form, staff[1], from_page="/staff/overdue")
    assert refused.status_code == 422
    assert f'id="booking-{overdue_loan}-error"' in refused.text and "Flere mangler enn det som ble lånt ut." in refused.text


async def test_a_loan_due_back_on_an_earlier_day_is_taken_back_at_todays_handovers(client, staff, overdue_loan):
    today = await client.get("/staff/handovers", headers=staff[1])
    earlier = today.text.split('id="earlier-title"', 1)[1]
    assert f'action="/staff/loans/{overdue_loan}/check-in"' in earlier and "Stoler" in earlier
    form = {"day": "2026-11-28", "condition": "dirty", "missing_units": "0"}
    back = await post_form(client, f"/staff/loans/{overdue_loan}/check-in", form, staff[1], from_page="/staff/handovers")
    assert back.headers["location"] == "/staff/handovers?day=2026-11-28&done=check-in"
    assert (await booking_json(client, staff, overdue_loan))["status"] == "returned"
