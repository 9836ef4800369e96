"""Utilisation beyond one resource: a place's rooms added up, garden-bed take-up per season, loans per item."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from booking.seasons import service as seasons
from people.actor import OPERATOR, Actor
from tests import builders
from tests.web.test_pages import ROOM_FORM, post_form

LOAN_FORM = {"date": "2026-11-24", "start": "12:00", "end_date": "2026-11-26", "end": "12:00", "quantity": "2"}


@pytest.fixture
async def alice(db):
    return await builders.person(db, "alice@example.no", name="Alice")


@pytest.fixture
async def staff(db):
    return await builders.person(db, "staff@example.no", staff=True, name="Stine")


async def location_of(client, staff) -> str:
    index = await client.get("/staff/utilisation", headers=staff[1])
    assert index.status_code == 200
    return index.text.split('href="/staff/locations/', 1)[1].split("/", 1)[0]


async def test_staff_find_every_utilisation_page_from_the_navigation(client, db, staff):
    await builders.room(db)
    page = await client.get("/staff/requests", headers=staff[1])
    assert 'href="/staff/utilisation"' in page.text
    index = await client.get("/staff/utilisation", headers=staff[1])
    assert 'href="/staff/garden/utilisation"' in index.text and 'href="/staff/loans/utilisation"' in index.text
    assert "Bruk: Huset" in index.text


async def test_a_places_utilisation_adds_up_its_rooms_with_shares_a_table_and_a_csv(client, db, alice, staff):
    room = await builders.room(db)
    other = await builders.room(db, key="verksted")
    await post_form(client, f"/resources/{room}/book", ROOM_FORM, alice[1])
    await post_form(client, f"/resources/{other}/book", {**ROOM_FORM, "end": "19:00"}, alice[1])
    location = await location_of(client, staff)
    page = await client.get(f"/staff/locations/{location}/utilisation?start=2026-11-23", headers=staff[1])
    assert page.status_code == 200 and "3 av 90 timer booket" in page.text  # the week's share, said in words beside its meter
    assert "Alle rommene på dette stedet, lagt sammen." in page.text
    assert f'href="/staff/locations/{location}/utilisation.csv?start=2026-11-23"' in page.text
    csv = await client.get(f"/staff/locations/{location}/utilisation.csv?start=2026-11-23", headers=staff[1])
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[1] == "2026-11-23,90.00,3.00,0.033"  # two rooms of 45 h; 2 h and 1 h booked


async def test_garden_bed_take_up_counts_the_beds_held_this_season(client, db, clock, staff):
    for number in (1, 2):
        await builders.room(db, key=f"pallekarm-{number}", kind="garden_bed", capacity=None)
    actor = Actor(staff[0], "staff@example.no", "Stine", grants=OPERATOR)
    await seasons.create_season(
        db,
        actor,
        name="Hagesesongen 2027",
        start=datetime(2027, 4, 14, 22, tzinfo=UTC),
        end=datetime(2027, 10, 31, 23, tzinfo=UTC),
        previous_season_id=None,
        district_postal_codes=None,
        household_limit=1,
        offer_days=7,
        now=clock(),
    )
    page = await client.get("/staff/garden/utilisation", headers=staff[1])
    assert page.status_code == 200 and "Hagesesongen 2027" in page.text and "0 av 2 pallekarmer tatt" in page.text
    csv = await client.get("/staff/garden/utilisation.csv", headers=staff[1])
    assert csv.text.splitlines() == ["season,phase,beds,beds_held,beds_offered,share_held", "Hagesesongen 2027,draft,2,0,0,0.000"]


async def test_loans_per_item_count_loans_and_unit_hours_per_week(client, db, alice, staff):
    chairs = await builders.item(db, "stoler", stock=4)
    await post_form(client, f"/resources/{chairs}/book", LOAN_FORM, alice[1])
    page = await client.get("/staff/loans/utilisation?start=2026-11-23", headers=staff[1])
    assert page.status_code == 200 and "Stoler" in page.text and "Utlån per utstyr" in page.text
    assert "<strong>2 %</strong> i snitt 0,1 av 4 lånt ut" in page.text  # 96 unit-hours of 4 × 8 weeks × 168
    csv = await client.get("/staff/loans/utilisation.csv?start=2026-11-23", headers=staff[1])
    lines = csv.text.splitlines()
    assert lines[0] == "item,week_starting,loans,unit_hours,available_unit_hours"
    assert lines[1] == "stoler,2026-11-23,1,96.00,672.00"  # two units for 48 hours, of 4 × 168
    assert lines[2] == "stoler,2026-11-30,0,0.00,672.00"


async def test_residents_cannot_see_utilisation(client, alice):
    for path in ("/staff/utilisation", "/staff/garden/utilisation", "/staff/loans/utilisation.csv"):
        assert (await client.get(path, headers=alice[1])).status_code == 403
