"""A weekly booking's page: every date it got, the dates it could not get with their own reasons (kept with the series,
not carried in an address), and cancelling the rest after being asked; its mail links to it."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import date, time

import pytest
from sqlalchemy import select

from booking import closures
from booking import service as bookings
from booking.closure_rules import Choice, Decision
from booking.engine import NewBooking
from booking.store import Booking
from infra.mail_transport import FolderTransport
from infra.time import local_datetime
from notifications import service as notifications
from notifications.mail import Site
from people.actor import OPERATOR, Actor
from tests import builders
from tests.web.test_pages import post_form

TUESDAYS = {"date": "2026-11-24", "start": "18:00", "end": "20:00", "title": "Sjakk", "weekly": "1", "until": "2026-12-15"}


@pytest.fixture
async def alice(db):
    return await builders.person(db, "alice@example.no", name="Alice")


@pytest.fixture
async def staff(db):
    return await builders.person(db, "stine@example.no", staff=True, name="Stine")


@pytest.fixture
async def room(db):
    return await builders.room(db)


async def close_for_christmas_party(db, staff, room, clock) -> None:
    """Tuesday 1 December closed, with the staff's own reason."""
    actor = Actor(staff[0], "stine@example.no", "Stine", grants=OPERATOR)
    start, end = local_datetime(date(2026, 12, 1), time(0)), local_datetime(date(2026, 12, 2), time(0))
    await closures.add_closure(db, actor, room, start, end, "Julebord i huset", Decision(Choice.KEEP), now=clock())


async def book_tuesdays(client, alice, room, **changes) -> str:
    response = await post_form(client, f"/resources/{room}/book", {**TUESDAYS, **changes}, alice[1])
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert re.fullmatch(r"/series/\d+\?done=booked", location), location  # nothing but the series' number travels
    return location.split("?")[0]


def items_of(html: str, list_id: str) -> list[str]:
    found = re.search(rf'<ul[^>]*id="{list_id}"[^>]*>(.*?)</ul>', html, re.S)
    assert found, f"no list {list_id}"
    return [" ".join(re.sub(r"<[^>]+>", " ", li).split()) for li in re.findall(r"<li>(.*?)</li>", found.group(1), re.S)]


async def statuses(db, series_id: int) -> list[str]:
    async with db.read() as s:
        return list((await s.execute(select(Booking.status).where(Booking.series_id == series_id).order_by(Booking.start))).scalars())


async def test_a_weekly_booking_keeps_showing_the_dates_it_could_not_get_with_their_own_reasons(client, db, clock, alice, staff, room):
    await close_for_christmas_party(db, staff, room, clock)
    bob = await builders.person(db, "bob@example.no")
    taken = NewBooking(room, local_datetime(date(2026, 12, 8), time(18)), local_datetime(date(2026, 12, 8), time(20)))
    await bookings.create_booking(db, Actor(bob[0], "bob@example.no", "Bob"), taken, now=clock())
    page = await book_tuesdays(client, alice, room)

    shown = await client.get(page, headers=alice[1])  # opened again later, from the mail or My bookings
    assert shown.status_code == 200
    assert "Datoer vi ikke kunne booke (2)" in shown.text
    assert items_of(shown.text, "refused") == [
        "tirsdag 1. desember 2026 : Stedet er stengt da: Julebord i huset.",
        "tirsdag 8. desember 2026 : Denne tiden er allerede tatt. Velg en annen tid.",
    ]
    assert "Bookede datoer (2)" in shown.text
    assert [item.split(" Bekreftet")[0] for item in items_of(shown.text, "booked")] == [
        "tirsdag 24. november 2026, 18:00–20:00",
        "tirsdag 15. desember 2026, 18:00–20:00",
    ]
    english = await client.get(page + "?lang=en", headers=alice[1])
    assert "Tuesday 1 December 2026 : The place is closed then: Julebord i huset." in items_of(english.text, "refused")


async def test_the_booker_cancels_the_rest_of_a_weekly_booking_after_being_asked(client, db, clock, alice, room):
    page = await book_tuesdays(client, alice, room)
    series_id = int(page.rsplit("/", 1)[1])
    shown = await client.get(page, headers=alice[1])
    assert f'href="/series/{series_id}/cancel"' in shown.text and "Datoer igjen som du kan avbestille: 4." in shown.text

    asked = await client.get(f"{page}/cancel", headers=alice[1])
    assert asked.status_code == 200 and "Avbestille resten av den ukentlige bookingen?" in asked.text
    assert len(items_of(asked.text, "rest")) == 4
    assert await statuses(db, series_id) == ["confirmed"] * 4  # asking changes nothing

    done = await post_form(client, f"{page}/cancel", {"reason": "Klubben tar juleferie"}, alice[1])
    assert (done.status_code, done.headers["location"]) == (303, f"{page}?done=cancelled")
    assert await statuses(db, series_id) == ["cancelled"] * 4
    after = await client.get(done.headers["location"], headers=alice[1])
    assert "Resten av den ukentlige bookingen er avbestilt." in after.text
    assert "Ingen datoer er igjen som kan avbestilles her." in after.text


async def test_the_rest_leaves_out_dates_begun_or_past_their_cancellation_deadline(client, db, clock, alice, room):
    page = await book_tuesdays(client, alice, room)
    series_id = int(page.rsplit("/", 1)[1])
    clock.now = local_datetime(date(2026, 12, 1), time(9))  # the 24 November is past, the 1 December within 24 hours
    asked = await client.get(f"{page}/cancel", headers=alice[1])
    assert items_of(asked.text, "rest") == ["tirsdag 8. desember 2026, 18:00–20:00", "tirsdag 15. desember 2026, 18:00–20:00"]
    await post_form(client, f"{page}/cancel", {}, alice[1])
    assert await statuses(db, series_id) == ["confirmed", "confirmed", "cancelled", "cancelled"]


async def test_a_weekly_booking_is_unknown_to_strangers_and_its_members_see_it_without_cancelling_it(client, db, alice, room):
    bob = await builders.person(db, "bob@example.no")
    member = await builders.person(db, "mia@example.no", name="Mia")
    club = await builders.association(db, "Sjakklubben", "999999999", {alice[0]: "admin", member[0]: "member"})
    page = await book_tuesdays(client, alice, room, association_id=str(club))

    assert (await client.get(page, headers=bob[1])).status_code == 404
    assert (await client.get(f"{page}/cancel", headers=bob[1])).status_code == 404
    seen = await client.get(page, headers=member[1])
    assert seen.status_code == 200 and "Bookede datoer (4)" in seen.text
    assert f'href="{page}/cancel"' not in seen.text
    assert (await client.get(f"{page}/cancel", headers=member[1])).status_code == 403
    anonymous = await client.get(page, follow_redirects=False)
    assert (anonymous.status_code, anonymous.headers["location"]) == (303, f"/sign-in?next={page}")


async def test_staff_cancelling_someones_weekly_booking_must_say_why(client, db, alice, staff, room):
    page = await book_tuesdays(client, alice, room)
    series_id = int(page.rsplit("/", 1)[1])
    refused = await post_form(client, f"{page}/cancel", {"reason": " "}, staff[1])
    assert refused.status_code == 422 and 'id="reason-error"' in refused.text
    assert await statuses(db, series_id) == ["confirmed"] * 4
    done = await post_form(client, f"{page}/cancel", {"reason": "Huset pusses opp"}, staff[1])
    assert done.status_code == 303 and await statuses(db, series_id) == ["cancelled"] * 4


async def test_a_weekly_booking_starting_in_the_past_is_refused_as_past_and_nothing_is_booked(client, db, alice, room):
    response = await post_form(client, f"/resources/{room}/book", {**TUESDAYS, "date": "2026-11-17"}, alice[1])
    assert response.status_code == 422
    assert "Denne tiden er allerede passert. Velg en senere tid." in response.text
    assert await bookings.list_bookings(db, Actor(alice[0], "alice@example.no", "Alice")) == []


async def test_the_weekly_bookings_mail_links_to_its_page(client, db, settings, clock, alice, staff, room, tmp_path):
    await close_for_christmas_party(db, staff, room, clock)
    page = await book_tuesdays(client, alice, room)
    await notifications.drain_outbox(db, Site.of(settings), FolderTransport(tmp_path), clock=clock, owner="test")
    [sent] = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in tmp_path.glob("*.eml")]
    text = sent.get_body(("plain",)).get_content()
    assert f"Se eller avbestill den ukentlige bookingen: {settings.base_url}{page}" in text
    assert "Datoer som ikke kunne bookes: 1. Siden for den ukentlige bookingen sier hvorfor." in text
    assert f'href="{settings.base_url}{page}"' in sent.get_body(("html",)).get_content()
