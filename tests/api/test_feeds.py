"""Calendar feeds through the HTTP app, on SQLite and PostgreSQL: golden output, ETags, privacy, rotation, associations."""

from __future__ import annotations

import hashlib
import os
import re
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import vobject
from sqlalchemy import select

from booking.store import Booking
from notifications.store import CalendarFeed
from resources.store import Location, Resource
from tests import builders
from tests.api.test_bookings import MONDAY_EVENING, assert_problem, at, book

GOLDEN = Path(__file__).parent.parent / "golden"
UPDATE_GOLDEN = os.environ.get("ALLMENNING_UPDATE_GOLDEN") == "1"


@pytest.fixture
async def alice(db):
    return await builders.person(db, "alice@example.no", name="Alice Ås")


@pytest.fixture
async def bob(db):
    return await builders.person(db, "bob@example.no", name="Bob Berg")


@pytest.fixture
async def room_id(db):
    room = await builders.room(db)
    async with db.write() as s:
        location = await s.get(Location, (await s.get(Resource, room)).location_id)
        location.access_notes = "Nøkkel i resepsjonen, 1. etasje."
    return room


def path_of(url: str) -> str:
    return url.removeprefix("http://127.0.0.1:8000")


async def feed_url(client, auth) -> str:
    """Make my feed: its URL is in this answer only (an older one stops working)."""
    response = await client.post("/api/v1/me/calendar-feed", headers=auth)
    assert response.status_code == 201, response.text
    return path_of(response.json()["url"])


def with_ordinals(body: str, booking_ids: list[int]) -> str:
    """Booking ids as 1, 2, 3… in the order the test made them, so the golden file holds on any backend."""
    ordinal = {str(b): str(i) for i, b in enumerate(booking_ids, 1)}
    return re.sub(r"(booking-|/bookings/)(\d+)", lambda m: m.group(1) + ordinal[m.group(2)], body)


def assert_golden(name: str, body: str) -> None:
    path = GOLDEN / name
    if UPDATE_GOLDEN:
        path.write_bytes(body.encode())
    assert body == path.read_bytes().decode(), f"{name} differs; rerun with ALLMENNING_UPDATE_GOLDEN=1 and review the diff"


async def test_a_persons_feed_holds_their_own_and_their_association_bookings_as_the_golden_file_says(client, db, alice, bob, room_id):
    association = await builders.association(db, "Strømsø Sjakklubb", "912345678", {alice[0]: "admin"})
    hall = await builders.room(db, key="storsal", policy=builders.room_policy(needs_approval=True))
    made = [
        await book(client, alice[1], room_id, title="Lesesirkel", **MONDAY_EVENING),
        await book(
            client, alice[1], room_id, title="Sjakk, lyn; «turnering»", organisation_id=association, **at("2026-12-01", "18:00", "21:00")
        ),
        await book(client, alice[1], hall, **at("2026-12-05", "12:00", "16:00")),
        await book(client, alice[1], room_id, **at("2026-12-02", "18:00", "20:00")),
        await book(client, bob[1], room_id, title="Bobs hemmelige møte", **at("2026-12-03", "18:00", "20:00")),
    ]
    ids = [r.json()["id"] for r in made]
    assert (await client.post(f"/api/v1/bookings/{ids[3]}/cancel", json={}, headers=alice[1])).status_code == 200
    response = await client.get(await feed_url(client, alice[1]))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/calendar")
    assert response.headers["cache-control"].startswith("private")
    body = with_ordinals(response.text, ids)
    assert_golden("person_feed.ics", body)
    events = vobject.readOne(body).vevent_list
    assert [e.uid.value.split("@")[0] for e in events] == ["booking-1", "booking-2", "booking-3"]
    assert [e.status.value for e in events] == ["CONFIRMED", "CONFIRMED", "TENTATIVE"]


async def test_a_feed_answers_not_modified_while_the_clients_copy_is_current(client, alice, room_id):
    await book(client, alice[1], room_id, **MONDAY_EVENING)
    url = await feed_url(client, alice[1])
    first = await client.get(url)
    etag = first.headers["etag"]
    unchanged = await client.get(url, headers={"If-None-Match": etag})
    assert (unchanged.status_code, unchanged.content, unchanged.headers["etag"]) == (304, b"", etag)
    await book(client, alice[1], room_id, **at("2026-12-01", "18:00", "20:00"))
    changed = await client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert changed.text.count("BEGIN:VEVENT") == 2


async def test_a_resource_feed_shows_busy_times_and_nothing_of_who_or_what(client, db, alice, bob, room_id):
    await book(client, alice[1], room_id, title="Alice sin bursdag", **MONDAY_EVENING)
    await book(client, bob[1], room_id, title="Bobs hemmelige møte", **at("2026-12-01", "18:00", "20:00"))
    response = await client.get(f"/calendar/resources/{room_id}.ics")
    assert response.status_code == 200 and response.headers["cache-control"].startswith("public")
    body = response.text
    for private in ("Alice", "alice@", "Bob", "bob@", "bursdag", "hemmelige", "mailto", "/bookings/"):
        assert private not in body
    events = vobject.readOne(body).vevent_list
    assert [e.summary.value for e in events] == ["Opptatt", "Opptatt"]
    assert [(e.dtstart.value.isoformat(), e.dtend.value.isoformat()) for e in events] == [
        ("2026-11-30T17:00:00+00:00", "2026-11-30T19:00:00+00:00"),
        ("2026-12-01T17:00:00+00:00", "2026-12-01T19:00:00+00:00"),
    ]
    english = await client.get(f"/calendar/resources/{room_id}.ics?lang=en")
    assert "SUMMARY:Busy" in english.text and "SUMMARY:Opptatt" not in english.text


async def test_a_resource_feed_counts_the_cleaning_buffer_as_busy(client, db, alice):
    from datetime import timedelta

    kitchen = await builders.room(db, key="kjokken", policy=builders.room_policy(buffer_after=timedelta(minutes=30)))
    await book(client, alice[1], kitchen, **MONDAY_EVENING)
    event = vobject.readOne((await client.get(f"/calendar/resources/{kitchen}.ics")).text).vevent
    assert event.dtend.value.isoformat() == "2026-11-30T19:30:00+00:00"


async def test_a_made_feed_url_opens_until_rotated_and_then_only_the_new_one_does(client, alice, room_id):
    url = await feed_url(client, alice[1])
    assert (await client.get(url)).status_code == 200
    rotated = await client.post("/api/v1/me/calendar-feed/rotate", headers=alice[1])
    new = path_of(rotated.json()["url"])
    assert new != url
    assert_problem(await client.get(url), 404, "feed_not_found")
    assert (await client.get(new)).status_code == 200
    remade = await feed_url(client, alice[1])  # making again replaces it as well
    assert_problem(await client.get(new), 404, "feed_not_found")
    assert (await client.get(remade)).status_code == 200


async def test_a_revoked_feed_url_is_gone_and_making_again_makes_a_new_one(client, alice):
    url = await feed_url(client, alice[1])
    assert (await client.get("/api/v1/me/calendar-feed", headers=alice[1])).json() == {"exists": True}
    assert (await client.delete("/api/v1/me/calendar-feed", headers=alice[1])).status_code == 204
    assert_problem(await client.get(url), 404, "feed_not_found")
    assert (await client.get("/api/v1/me/calendar-feed", headers=alice[1])).json() == {"exists": False}
    assert await feed_url(client, alice[1]) != url


async def test_the_stored_feed_row_holds_only_a_hash_that_opens_no_feed(client, db, alice):
    url = await feed_url(client, alice[1])
    token = url.removeprefix("/calendar/feeds/").removesuffix(".ics")
    async with db.read() as s:
        (stored,) = (await s.execute(select(CalendarFeed.token))).scalars()
    assert stored == hashlib.sha256(token.encode()).hexdigest() and token not in stored
    assert_problem(await client.get(f"/calendar/feeds/{stored}.ics"), 404, "feed_not_found")
    assert (await client.get(url)).status_code == 200


async def test_an_association_feed_is_for_members_and_ends_with_the_membership(client, db, alice, bob, room_id):
    association = await builders.association(db, "Strømsø Sjakklubb", "912345678", {alice[0]: "admin", bob[0]: "member"})
    carol = await builders.person(db, "carol@example.no")
    await book(client, alice[1], room_id, title="Klubbkveld", organisation_id=association, **MONDAY_EVENING)
    await book(client, alice[1], room_id, title="Privat", **at("2026-12-01", "18:00", "20:00"))
    assert_problem(await client.get(f"/api/v1/associations/{association}/calendar-feed", headers=carol[1]), 403, "not_a_member")
    assert_problem(await client.post(f"/api/v1/associations/{association}/calendar-feed", headers=carol[1]), 403, "not_a_member")
    assert (await client.get(f"/api/v1/associations/{association}/calendar-feed", headers=bob[1])).json() == {"exists": False}
    url = path_of((await client.post(f"/api/v1/associations/{association}/calendar-feed", headers=bob[1])).json()["url"])
    assert (await client.get(f"/api/v1/associations/{association}/calendar-feed", headers=bob[1])).json() == {"exists": True}
    body = (await client.get(url)).text
    assert "Klubbkveld" in body and "Privat" not in body and "X-WR-CALNAME:Allmenning: Strømsø Sjakklubb" in body
    removed = await client.delete(f"/api/v1/associations/{association}/members/{bob[0]}", headers=alice[1])
    assert removed.status_code == 204, removed.text
    assert_problem(await client.get(url), 404, "feed_not_found")


async def test_staff_asking_for_the_feed_of_an_association_that_does_not_exist_are_told_so(client, db):
    _, staff = await builders.person(db, "staff@knutepunkt.no", staff=True)
    assert_problem(await client.get("/api/v1/associations/4242/calendar-feed", headers=staff), 404, "association_not_found")
    assert_problem(await client.post("/api/v1/associations/4242/calendar-feed", headers=staff), 404, "association_not_found")


@pytest.mark.parametrize(
    "path",
    [
        "/calendar/feeds/not-a-token.ics",
        "/calendar/feeds/whatever",
        "/calendar/resources/999.ics",
        "/calendar/resources/x.ics",
        "/calendar/resources/99999999999999.ics",
    ],
)
async def test_an_unknown_or_malformed_feed_address_is_not_found(client, path):
    response = await client.get(path)
    assert response.status_code == 404 and response.headers["content-type"].startswith("application/problem+json")


async def test_me_says_whether_i_have_a_feed_and_asking_makes_none(client, db, alice, room_id):
    await book(client, alice[1], room_id, title="Strikkekafé", **MONDAY_EVENING)
    assert (await client.get("/api/v1/me", headers=alice[1])).json()["calendar_feed"] is None
    async with db.read() as s:
        assert list((await s.execute(select(CalendarFeed))).scalars()) == []
    made = (await client.post("/api/v1/me/calendar-feed", headers=alice[1])).json()["url"]
    me = (await client.get("/api/v1/me", headers=alice[1])).json()
    assert me["calendar_feed"] == {"exists": True} and made not in str(me)
    feed = await client.get(urlsplit(made).path)
    assert feed.status_code == 200
    assert "Strikkekafé" in feed.text


async def a_season_of(db, person_id: int) -> int:
    """A garden bed held by the person from 15 April to 1 November 2027, midnight to midnight in Oslo."""
    bed = await builders.room(db, key="pallekarm-01", kind="garden_bed", capacity=None)
    start, end = datetime(2027, 4, 14, 22, tzinfo=UTC), datetime(2027, 10, 31, 23, tzinfo=UTC)
    async with db.write() as s:
        row = Booking(resource_id=bed, person_id=person_id, start=start, end=end, block_start=start, block_end=end, status="confirmed")
        row.created_at = row.updated_at = start
        s.add(row)
    return bed


async def test_a_garden_beds_season_is_an_all_day_event_in_the_private_feed_that_leaves_the_days_free(client, db, alice, room_id):
    await book(client, alice[1], room_id, title="Lesesirkel", **MONDAY_EVENING)
    await a_season_of(db, alice[0])
    room, season = vobject.readOne((await client.get(await feed_url(client, alice[1]))).text).vevent_list
    assert isinstance(room.dtstart.value, datetime) and room.transp.value == "OPAQUE"
    assert not isinstance(season.dtstart.value, datetime) and season.dtstart.params["VALUE"] == ["DATE"]
    assert (season.dtstart.value, season.dtend.value) == (date(2027, 4, 15), date(2027, 11, 1))  # DTEND: the day after the last
    assert season.transp.value == "TRANSPARENT"


async def test_a_feed_says_its_charset_once(client, alice, room_id):
    for url in (await feed_url(client, alice[1]), f"/calendar/resources/{room_id}.ics"):
        assert (await client.get(url)).headers["content-type"] == "text/calendar; charset=utf-8"


async def test_a_resource_feed_shows_its_closures_with_their_reasons_and_a_new_closure_changes_its_etag(client, db, alice, room_id):
    _, staff = await builders.person(db, "staff@knutepunkt.no", staff=True)
    await book(client, alice[1], room_id, **MONDAY_EVENING)
    url = f"/calendar/resources/{room_id}.ics"
    etag = (await client.get(url)).headers["etag"]
    assert (await client.get(url, headers={"If-None-Match": etag})).status_code == 304
    for closure in ({"reason": "Juleferie", **at("2026-12-21", "00:00", "23:59")}, {"reason": " ", **at("2027-01-04", "00:00", "23:59")}):
        added = await client.post(f"/api/v1/resources/{room_id}/closures", json=closure, headers=staff)
        assert added.status_code == 201, added.text
    changed = await client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    events = vobject.readOne(changed.text).vevent_list
    assert [e.summary.value for e in events] == ["Opptatt", "Stengt: Juleferie", "Stengt"]
    assert (events[1].dtstart.value.isoformat(), events[1].transp.value) == ("2026-12-20T23:00:00+00:00", "OPAQUE")
    english = vobject.readOne((await client.get(url + "?lang=en")).text).vevent_list
    assert [e.summary.value for e in english] == ["Busy", "Closed: Juleferie", "Closed"]
    assert (await client.get(url, headers={"If-None-Match": changed.headers["etag"]})).status_code == 304
