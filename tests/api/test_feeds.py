"""Calendar feeds through the HTTP app, on SQLite and PostgreSQL: golden output, ETags, privacy, rotation, associations."""

from __future__ import annotations

import hashlib
import os
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import vobject
from sqlalchemy import select

from booking.store import Booking
from booking.waitlists import offers
from notifications import facts, feed_text, feeds, rules
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


# ---------------------------------------------------------------- versions: a 304 from a stamp, never from a render


class Settle:
    """Called after a change: either poll at once (the feed's newest change is recent, so its rows are summed), or
    once the change has settled (two index seeks version the feed). Both must see every change, and only changes."""

    def __init__(self, clock, settled: bool) -> None:
        self.clock, self.settled = clock, settled

    def __call__(self) -> None:
        if self.settled:
            self.clock.now += feeds.SETTLED + timedelta(minutes=1)


@pytest.fixture(params=["just after the change", "once the change has settled"])
def settle(request, clock) -> Settle:
    return Settle(clock, settled=request.param.startswith("once"))


async def current_etag(client, url: str) -> str:
    response = await client.get(url)
    assert response.status_code == 200, response.text
    return response.headers["etag"]


async def assert_not_modified(client, url: str, etag: str) -> None:
    response = await client.get(url, headers={"If-None-Match": etag})
    assert (response.status_code, response.content, response.headers["etag"]) == (304, b"", etag)
    assert response.headers["referrer-policy"] == "no-referrer" and "max-age=900" in response.headers["cache-control"]


async def changed_body(client, url: str, etag: str) -> str:
    """The feed asked for with the old ETag: a 200 with a new ETag and the new body, which the new ETag then keeps."""
    response = await client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 200 and response.headers["etag"] != etag, response.status_code
    await assert_not_modified(client, url, response.headers["etag"])
    return response.text


def summaries(body: str) -> list[str]:
    return [e.summary.value for e in vobject.readOne(body).vevent_list] if "BEGIN:VEVENT" in body else []


@pytest.fixture
def no_render(monkeypatch):
    """Reading a feed's rows or writing its body fails the request: what a 304 must never need."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("a conditional answer read or rendered the feed")

    def forbid() -> None:
        for module, name in (
            (facts, "feed_rows"),
            (facts, "busy_blocks"),
            (facts, "loans_of"),
            (facts, "closures_of"),
            (feed_text, "booking_feed"),
            (feed_text, "busy_feed"),
        ):
            monkeypatch.setattr(module, name, refuse)

    return forbid


async def test_an_unchanged_feed_is_not_modified_and_stays_so_as_the_clock_moves_on(client, clock, alice, room_id, settle):
    await book(client, alice[1], room_id, title="Lesesirkel", **MONDAY_EVENING)
    url = await feed_url(client, alice[1])
    settle()
    etag = await current_etag(client, url)
    await assert_not_modified(client, url, etag)
    if settle.settled:  # and an hour more changes nothing (a recent change's version is another, once it settles)
        clock.now += timedelta(hours=1)
        await assert_not_modified(client, url, etag)


async def test_a_conditional_answer_reads_no_rows_and_renders_nothing(client, db, alice, room_id, settle, no_render):
    await book(client, alice[1], room_id, **MONDAY_EVENING)
    url, public = await feed_url(client, alice[1]), f"/calendar/resources/{room_id}.ics"
    settle()
    etags = [await current_etag(client, url), await current_etag(client, public)]
    no_render()
    await assert_not_modified(client, url, etags[0])
    await assert_not_modified(client, public, etags[1])
    failed = await client.get(url, headers={"If-None-Match": '"something-else"'})
    assert failed.status_code == 500  # and what the stubs refuse is indeed what a full answer needs


async def test_a_retitled_or_moved_booking_changes_the_feed(client, alice, room_id, settle):
    booking = (await book(client, alice[1], room_id, title="Lesesirkel", **MONDAY_EVENING)).json()
    url = await feed_url(client, alice[1])
    settle()
    etag = await current_etag(client, url)
    retitled = await client.patch(f"/api/v1/bookings/{booking['id']}", json={"title": "Bokklubb"}, headers=alice[1])
    assert retitled.status_code == 200, retitled.text
    settle()
    body = await changed_body(client, url, etag)
    assert summaries(body) == ["Moterom: Bokklubb"]
    etag = (await client.get(url)).headers["etag"]
    moved = await client.patch(f"/api/v1/bookings/{booking['id']}", json=at("2026-12-01", "18:00", "20:00"), headers=alice[1])
    assert moved.status_code == 200, moved.text
    settle()
    event = vobject.readOne(await changed_body(client, url, etag)).vevent
    assert (event.dtstart.value.isoformat(), event.sequence.value) == ("2026-12-01T17:00:00+00:00", "2")


async def test_a_cancelled_booking_leaves_the_feed_and_changes_its_etag(client, alice, room_id, settle):
    kept = await book(client, alice[1], room_id, title="Beholdt", **at("2026-12-01", "18:00", "20:00"))
    cancelled = await book(client, alice[1], room_id, title="Avlyst", **MONDAY_EVENING)
    assert kept.status_code == cancelled.status_code == 201
    url = await feed_url(client, alice[1])
    settle()
    etag = await current_etag(client, url)
    assert (await client.post(f"/api/v1/bookings/{cancelled.json()['id']}/cancel", json={}, headers=alice[1])).status_code == 200
    settle()
    assert summaries(await changed_body(client, url, etag)) == ["Moterom: Beholdt"]


async def test_an_offer_in_the_feed_leaves_it_when_it_expires(client, db, clock, alice, bob, room_id, settle):
    taken = (await book(client, alice[1], room_id, **MONDAY_EVENING)).json()
    assert (await client.post("/api/v1/waitlist", json={"resource_id": room_id, **MONDAY_EVENING}, headers=bob[1])).status_code == 201
    url = await feed_url(client, bob[1])
    empty = await current_etag(client, url)
    assert (await client.post(f"/api/v1/bookings/{taken['id']}/cancel", json={}, headers=alice[1])).status_code == 200
    settle()
    offered = vobject.readOne(await changed_body(client, url, empty)).vevent
    assert offered.status.value == "TENTATIVE"  # an offer awaiting its answer
    etag = (await client.get(url)).headers["etag"]
    clock.now = datetime(2026, 11, 23, 13, 1, tzinfo=UTC)  # a minute past the offer's deadline
    assert [b.person_id for b in await offers.expire_offers(db, now=clock.now)] == [bob[0]]
    settle()
    assert summaries(await changed_body(client, url, etag)) == []


async def test_a_closure_added_to_a_resource_changes_its_public_feed(client, db, alice, staff, room_id, settle):
    await book(client, alice[1], room_id, **MONDAY_EVENING)
    url = f"/calendar/resources/{room_id}.ics"
    settle()
    etag = await current_etag(client, url)
    await assert_not_modified(client, url, etag)
    added = await client.post(
        f"/api/v1/resources/{room_id}/closures", json={"reason": "Juleferie", **at("2026-12-21", "00:00", "23:59")}, headers=staff[1]
    )
    assert added.status_code == 201, added.text
    settle()
    assert summaries(await changed_body(client, url, etag)) == ["Opptatt", "Stengt: Juleferie"]


async def test_an_old_booking_leaving_the_history_window_changes_the_feed(client, clock, alice, room_id):
    await book(client, alice[1], room_id, title="Lesesirkel", **MONDAY_EVENING)
    url, public = await feed_url(client, alice[1]), f"/calendar/resources/{room_id}.ics"
    # Long after its last change, and a minute before the window passes the booking's end (19:00 UTC).
    clock.now = datetime(2026, 11, 30, 19, tzinfo=UTC) + rules.FEED_HISTORY - timedelta(minutes=1)
    etags = [await current_etag(client, url), await current_etag(client, public)]
    await assert_not_modified(client, url, etags[0])
    clock.now += timedelta(minutes=2)
    assert summaries(await changed_body(client, url, etags[0])) == []
    assert summaries(await changed_body(client, public, etags[1])) == []


async def test_the_summed_rows_also_see_the_window_pass_a_booking(client, db, alice, room_id):
    await book(client, alice[1], room_id, **MONDAY_EVENING)
    end = datetime(2026, 11, 30, 19, tzinfo=UTC)
    async with db.read() as s:
        before, after = [await facts.shown_tally(s, "person", alice[0], since=since) for since in (end, end + timedelta(seconds=1))]
    assert (before[:2], after[:2]) == ((1, 1), (0, 0))  # (count, ids)


async def test_a_person_changing_language_changes_their_feeds_title(client, alice, room_id, settle):
    await book(client, alice[1], room_id, **MONDAY_EVENING)
    url = await feed_url(client, alice[1])
    settle()
    etag = await current_etag(client, url)
    assert (await client.patch("/api/v1/me", json={"language": "en"}, headers=alice[1])).status_code == 200
    assert "X-WR-CALNAME:Allmenning: my bookings" in await changed_body(client, url, etag)


async def test_a_renamed_resource_changes_the_private_feeds_that_show_it(client, staff, alice, room_id, settle):
    await book(client, alice[1], room_id, title="Lesesirkel", **MONDAY_EVENING)
    url = await feed_url(client, alice[1])
    settle()
    etag = await current_etag(client, url)
    assert (await client.patch(f"/api/v1/resources/{room_id}", json={"name": "Salen"}, headers=staff[1])).status_code == 200
    assert summaries(await changed_body(client, url, etag)) == ["Salen: Lesesirkel"]


async def test_a_loan_that_takes_the_last_unit_changes_the_items_feed(client, db, alice, bob, settle):
    from tests.api.test_loans import MON_TO_TUE

    chairs = await builders.item(db, "stoler", stock=2)
    url = f"/calendar/resources/{chairs}.ics"
    assert (await book(client, alice[1], chairs, quantity=1, **MON_TO_TUE)).status_code == 201
    settle()
    etag = await current_etag(client, url)
    assert summaries((await client.get(url)).text) == []  # a unit is still free
    last = await book(client, bob[1], chairs, quantity=1, **MON_TO_TUE)
    assert last.status_code == 201, last.text
    settle()
    assert summaries(await changed_body(client, url, etag)) == ["Opptatt"]


async def test_a_loan_handed_out_which_stamps_it_anew_changes_the_borrowers_feed(client, db, clock, alice, staff, settle):
    from tests.api.test_loans import MON_TO_THU

    projector = await builders.item(db, "projektor", stock=1)
    lent = (await book(client, alice[1], projector, **MON_TO_THU)).json()
    url = await feed_url(client, alice[1])
    settle()
    etag = await current_etag(client, url)
    clock.now += timedelta(minutes=1)
    handed = clock.now
    assert (await client.post(f"/api/v1/bookings/{lent['id']}/check-out", json={}, headers=staff[1])).status_code == 200
    settle()
    event = vobject.readOne(await changed_body(client, url, etag)).vevent
    assert (event.status.value, event.dtstamp.value, event.sequence.value) == ("CONFIRMED", handed, "0")  # its stamp alone


async def test_an_associations_feed_changes_when_a_member_books_for_it_and_only_then(client, db, alice, bob, room_id, settle):
    association = await builders.association(db, "Strømsø Sjakklubb", "912345678", {alice[0]: "admin", bob[0]: "member"})
    await book(client, alice[1], room_id, title="Klubbkveld", organisation_id=association, **MONDAY_EVENING)
    url = path_of((await client.post(f"/api/v1/associations/{association}/calendar-feed", headers=bob[1])).json()["url"])
    settle()
    etag = await current_etag(client, url)
    await book(client, alice[1], room_id, title="Privat", **at("2026-12-02", "18:00", "20:00"))  # not the association's
    await assert_not_modified(client, url, etag)
    await book(client, alice[1], room_id, title="Lynsjakk", organisation_id=association, **at("2026-12-01", "18:00", "20:00"))
    settle()
    assert summaries(await changed_body(client, url, etag)) == ["Moterom: Klubbkveld", "Moterom: Lynsjakk"]


async def test_a_member_who_left_is_not_told_their_old_copy_is_current(client, db, alice, bob, room_id):
    association = await builders.association(db, "Strømsø Sjakklubb", "912345678", {alice[0]: "admin", bob[0]: "member"})
    await book(client, alice[1], room_id, title="Klubbkveld", organisation_id=association, **MONDAY_EVENING)
    url = path_of((await client.post(f"/api/v1/associations/{association}/calendar-feed", headers=bob[1])).json()["url"])
    etag = await current_etag(client, url)
    await assert_not_modified(client, url, etag)
    assert (await client.delete(f"/api/v1/associations/{association}/members/{bob[0]}", headers=alice[1])).status_code == 204
    assert_problem(await client.get(url, headers={"If-None-Match": etag}), 404, "feed_not_found")


async def test_a_change_that_commits_after_a_later_one_is_still_seen_while_the_newest_change_is_recent(client, clock, alice, room_id):
    """A request stamps its change with the `now` it began at: a slow one may commit after a quicker, later one, with an
    older `updated_at` than the newest the feed has already been versioned by."""
    first = (await book(client, alice[1], room_id, title="Først", **MONDAY_EVENING)).json()
    second = (await book(client, alice[1], room_id, title="Andre", **at("2026-12-01", "18:00", "20:00"))).json()
    url = await feed_url(client, alice[1])
    began = clock.now
    clock.now = began + timedelta(seconds=30)
    assert (await client.patch(f"/api/v1/bookings/{second['id']}", json={"title": "Raskere"}, headers=alice[1])).status_code == 200
    etag = await current_etag(client, url)
    clock.now = began  # the slow request, begun before the quick one, commits after it
    assert (await client.patch(f"/api/v1/bookings/{first['id']}", json={"title": "Tregere"}, headers=alice[1])).status_code == 200
    clock.now = began + timedelta(seconds=31)
    assert summaries(await changed_body(client, url, etag)) == ["Moterom: Tregere", "Moterom: Raskere"]


async def explained(db, statement) -> list[str]:
    async with db.read() as s:
        sql = str(statement.compile(dialect=s.bind.dialect))
        rows = await (await s.connection()).exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", (1,) * sql.count("?"))
        return [row[3] for row in rows if row[3].startswith(("SEARCH", "SCAN", "USE"))]


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_feeds_version_is_one_statement_of_index_seeks_however_long_its_history(db):
    """With the feed's holder (or resource): the owner's newest change from the index led by owner and `updated_at`,
    and the first shown booking's end from the owner's index led by the end, in its order (no sort)."""
    assert await explained(db, facts.FEED_VERSION) == [
        "SEARCH calendar_feed USING INDEX ix_calendar_feed_token (token=?)",
        "SEARCH person USING INTEGER PRIMARY KEY (rowid=?)",
        "SEARCH association USING INTEGER PRIMARY KEY (rowid=?) LEFT-JOIN",
        "SEARCH staff_grant USING INDEX ix_staff_grant_person_id (person_id=?)",
        "SEARCH membership USING INDEX sqlite_autoindex_membership_1 (association_id=? AND person_id=?)",
        "SEARCH booking USING COVERING INDEX ix_booking_person_changed (person_id=?)",
        "SEARCH booking USING COVERING INDEX ix_booking_association_changed (association_id=?)",
        "SEARCH booking USING INDEX ix_booking_person_end (person_id=? AND end>?)",
        "SEARCH booking USING INDEX ix_booking_association_end (association_id=? AND end>?)",
    ]
    assert await explained(db, facts.RESOURCE_VERSION) == [
        "SEARCH resource USING INTEGER PRIMARY KEY (rowid=?)",
        "SEARCH booking USING COVERING INDEX ix_booking_resource_changed (resource_id=?)",
        "SEARCH booking USING INDEX ix_booking_resource_block (resource_id=? AND block_end>?)",
        "SEARCH closure USING INDEX ix_closure_resource_id (resource_id=?)",
        "SEARCH closure USING INDEX ix_closure_resource_id (resource_id=?)",
    ]
