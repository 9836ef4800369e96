"""Borrowing a kit on the web: one form lends every part or none, and a refusal names the part that is short with
its numbers ("2 of 10 free"); the front page lists the kits with what is in them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from booking import service as bookings
from people.actor import Actor
from tests import builders
from tests.web.test_pages import post_form, text_of

TUESDAY_TO_WEDNESDAY = {"date": "2026-11-24", "start": "12:00", "end_date": "2026-11-25", "end": "12:00", "title": "Gatefest"}


@pytest.fixture
async def alice(db):
    return await builders.person(db, "alice@example.no", name="Alice")


@pytest.fixture
async def bob(db):
    return await builders.person(db, "bob@example.no", name="Bob")


@pytest.fixture
async def parts(db):
    return {
        "telt": await builders.item(db, "telt", 2),
        "bord": await builders.item(db, "bord", 10),
        "stol": await builders.item(db, "stol", 40),
    }


@pytest.fixture
async def kit(db, parts):
    return await builders.kit(db, "festpakke", {parts["telt"]: 1, parts["bord"]: 4, parts["stol"]: 20})


def text_of_rules(html: str) -> dict[str, str]:
    rules = html.split('id="rules"', 1)[1].split("</dl>", 1)[0]
    return dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", rules))


async def loans_of(db, person_id: int) -> list[tuple[int, int]]:
    mine = await bookings.list_bookings(db, Actor(person_id=person_id, email="", name=""))
    return sorted((b.resource_id, b.quantity) for b in mine)


async def test_the_front_page_lists_the_kit_with_its_parts_and_a_link_to_borrow_it(client, kit):
    page = await client.get("/")
    assert f'href="/kits/{kit}/borrow"' in page.text and "Lån Festpakke" in page.text
    assert "1 × Telt, 4 × Bord, 20 × Stol" in page.text


async def test_the_kit_form_is_for_signed_in_people(client, kit):
    response = await client.get(f"/kits/{kit}/borrow", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, f"/sign-in?next=/kits/{kit}/borrow")


async def test_an_unknown_kit_is_not_found(client, alice, kit):
    assert (await client.get(f"/kits/{kit + 1}/borrow", headers=alice[1])).status_code == 404


async def test_the_kit_form_says_the_lending_points_hours_and_the_longest_loan_of_its_strictest_part(client, db, alice, kit):
    await builders.item(db, "prosjektor", 2, max_loan=timedelta(days=3))  # not in the kit: its rules are not the kit's
    strict = await builders.item(db, "lydanlegg", 1, max_loan=timedelta(days=4))
    strict_kit = await builders.kit(db, "lydpakke", {strict: 1, await builders.item(db, "kabel", 5): 2})
    rules = text_of_rules((await client.get(f"/kits/{strict_kit}/borrow", headers=alice[1])).text)
    assert rules["Åpningstider"].startswith("mandag–fredag 10:00–19:00; lørdag 11:00–15:00")
    assert rules["Lån"] == "Høyst 4 døgn"
    assert text_of_rules((await client.get(f"/kits/{kit}/borrow", headers=alice[1])).text)["Lån"] == "Høyst 7 døgn"


async def test_one_form_borrows_every_part_of_the_kit(client, db, alice, parts, kit):
    form = await client.get(f"/kits/{kit}/borrow", headers=alice[1])
    assert form.status_code == 200 and "4 × Bord" in form.text and "Hentes og leveres på Huset" in form.text
    borrowed = await post_form(client, f"/kits/{kit}/borrow", TUESDAY_TO_WEDNESDAY, alice[1])
    assert (borrowed.status_code, borrowed.headers["location"]) == (303, "/my/bookings?done=confirmed")
    assert await loans_of(db, alice[0]) == sorted([(parts["telt"], 1), (parts["bord"], 4), (parts["stol"], 20)])
    mine = await client.get(borrowed.headers["location"], headers=alice[1])
    assert "Bookingen din er bekreftet." in mine.text and "Bord</a></strong> × 4" in mine.text


async def test_a_short_part_is_named_with_its_numbers_and_nothing_is_lent(client, db, alice, bob, parts, kit):
    await post_form(client, f"/resources/{parts['bord']}/book", {**TUESDAY_TO_WEDNESDAY, "quantity": "8"}, alice[1])
    refused = await post_form(client, f"/kits/{kit}/borrow", TUESDAY_TO_WEDNESDAY, bob[1])
    assert refused.status_code == 422
    assert "Ikke nok ledige da: 2 ledige av 10." in refused.text
    assert text_of(refused.text, "short-part") == "Dette gjelder Bord: pakken trenger 4."
    parts_shown = re.findall(r'<span class="meta( error)?">([^<]+)</span>', refused.text)
    assert parts_shown == [("", "2 av 2 er ledige da."), (" error", "For få: 2 av 10 er ledige da."), ("", "40 av 40 er ledige da.")]
    assert 'value="Gatefest"' in refused.text  # what was typed stays
    assert await loans_of(db, bob[0]) == []


async def test_a_short_part_is_named_in_english_too(client, alice, bob, parts, kit):
    await post_form(client, f"/resources/{parts['telt']}/book", {**TUESDAY_TO_WEDNESDAY, "quantity": "2"}, alice[1])
    path = f"/kits/{kit}/borrow?lang=en"
    refused = await post_form(client, path, TUESDAY_TO_WEDNESDAY, bob[1], from_page=path)
    assert "Not enough units are free then: 0 free of 2." in refused.text
    assert text_of(refused.text, "short-part") == "This concerns Telt: the kit needs 1."


async def test_a_pickup_while_the_lending_point_is_closed_is_said_beside_the_pickup_time(client, db, alice, kit):
    refused = await post_form(client, f"/kits/{kit}/borrow", {**TUESDAY_TO_WEDNESDAY, "start": "21:00"}, alice[1])
    assert refused.status_code == 422
    assert text_of(refused.text, "start-error") == "Feil: Henting og innlevering må skje mens utlånsstedet er åpent."
    assert await loans_of(db, alice[0]) == []


async def test_a_return_date_that_is_no_date_is_said_beside_it(client, alice, kit):
    refused = await post_form(client, f"/kits/{kit}/borrow", {**TUESDAY_TO_WEDNESDAY, "end_date": "onsdag"}, alice[1])
    assert refused.status_code == 422
    assert text_of(refused.text, "end_date-error") == "Feil: Skriv datoen med dag, måned og år."


async def test_the_api_names_the_part_of_the_kit_that_is_short(client, alice, bob, parts, kit):
    await post_form(client, f"/resources/{parts['bord']}/book", {**TUESDAY_TO_WEDNESDAY, "quantity": "8"}, alice[1])
    interval = {"start": "2026-11-24T12:00:00+01:00", "end": "2026-11-25T12:00:00+01:00"}
    refused = await client.post(f"/api/v1/kits/{kit}/loans", json=interval, headers=bob[1])
    assert refused.status_code == 409 and refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert (problem["code"], problem["resource_id"], problem["available"], problem["stock"]) == ("insufficient_stock", parts["bord"], 2, 10)
