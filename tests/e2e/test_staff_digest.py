"""Staff are mailed once a day, each in their own language, the requests awaiting their approval: through the real
SMTP server (aiosmtpd), the sweep run by the scheduler with a moved clock, once a day even with two workers at it."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from config.scheduler import Scheduler
from config.servers import free_port
from infra.database import Db
from infra.i18n import LANGUAGES, Speaker
from infra.outbox import PENDING, Notification
from notifications import digest, mail
from notifications.calendar import Party
from notifications.mail import Letter, Site
from people.store import Association, Person
from tests import builders
from tests.api.test_bookings import at, book
from tests.e2e.test_mail import drain, smtp_server

MONDAY_0630 = datetime(2026, 11, 23, 5, 30, tzinfo=UTC)  # Oslo 06:30: before the working day
MONDAY_1000 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TUESDAY_0705 = datetime(2026, 11, 24, 6, 5, tzinfo=UTC)


@pytest.fixture
async def desk(db) -> dict[str, int]:
    """Stine reads bokmål, Sam English; Alice is a resident."""
    stine = await builders.person(db, "stine@knutepunkt.no", staff=True, name="Stine")
    sam = await builders.person(db, "sam@knutepunkt.no", staff=True, name="Sam")
    async with db.write() as s:
        await s.execute(update(Person).where(Person.id == sam[0]).values(language="en"))
    return {"stine": stine[0], "sam": sam[0]}


@pytest.fixture
async def requests(client, db, desk) -> list[int]:
    """Two requests for the hall: the chess club's for 14 people, and Alice's own."""
    alice = await builders.person(db, "alice@example.no", name="Alice")
    hall = await builders.room(db, key="gymsal", policy=builders.room_policy(needs_approval=True))
    club = await builders.association(db, "Sjakklubben", "912345678", {alice[0]: "admin"})
    async with db.write() as s:
        await s.execute(update(Association).where(Association.id == club).values(contact_phone="32 04 00 00"))
    ids = []
    for day, extra in (("2026-11-24", {"organisation_id": club, "attendees": 14}), ("2026-11-25", {})):
        asked = await book(client, alice[1], hall, title="Turnering", **extra, **at(day, "18:00", "20:00"))
        assert asked.status_code == 201 and asked.json()["status"] == "requested", asked.text
        ids.append(asked.json()["id"])
    return ids


def digests(inbox, to: str | None = None) -> list:
    """The digests the server took (the requests' own mails to Alice are in the same inbox), to one address if given."""
    found = [m for m in inbox.messages if m.get_body(("plain",)).get_content().count("/staff/requests") and "Alice" not in m["To"]]
    return [m for m in found if to is None or m["To"].addresses[0].addr_spec == to]


async def test_each_staff_member_gets_one_digest_a_day_in_their_language_with_a_link_to_each_request(client, db, settings, desk, requests):
    assert await digest.record_staff_digests(db, now=MONDAY_0630) == 0  # not before the working day starts
    assert await digest.record_staff_digests(db, now=MONDAY_1000) == 2
    port = free_port()
    with smtp_server(port) as inbox:
        await drain(db, settings, port, MONDAY_1000)
        [bokmal], [english] = digests(inbox, "stine@knutepunkt.no"), digests(inbox, "sam@knutepunkt.no")
        assert bokmal["Subject"] == "Forespørsler som venter på godkjenning: 2" and bokmal["Content-Language"] == "nb"
        assert english["Subject"] == "Requests awaiting approval: 2"
        text = bokmal.get_body(("plain",)).get_content()
        assert "Hei Stine," in text and "Gymsal: tirsdag 24. november 2026, 18:00–20:00" in text
        assert "For: Sjakklubben · Bedt om av Alice · Personer: 14" in text and "Bedt om av Alice" in text.split("onsdag", 1)[1]
        for booking_id in requests:
            assert f"{settings.base_url}/staff/requests#booking-{booking_id}" in text
        html = english.get_body(("html",)).get_content()
        assert f'href="{settings.base_url}/staff/requests"' in html and "Approve or decline the requests" in html
        assert await digest.record_staff_digests(db, now=MONDAY_1000 + timedelta(hours=6)) == 0  # later the same day: nothing new
        await drain(db, settings, port, MONDAY_1000 + timedelta(hours=6))
        assert len(digests(inbox)) == 2
        assert await digest.record_staff_digests(db, now=TUESDAY_0705) == 2  # the next morning, as they still wait


async def test_no_digest_is_sent_when_no_request_awaits(client, db, settings, desk, requests):
    staff = (await builders.person(db, "boss@knutepunkt.no", staff=True))[1]
    for booking_id in requests:
        decided = await client.post(f"/api/v1/bookings/{booking_id}/approve", json={}, headers=staff)
        assert decided.status_code == 200, decided.text
    assert await digest.record_staff_digests(db, now=MONDAY_1000) == 0


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_digest_reads_in_every_language_with_its_count_its_requests_and_their_links(language):
    waiting = [{"id": 7, "resource": "Gymsal", "start": "2026-11-24T17:00:00+00:00", "end": "2026-11-24T19:00:00+00:00",
                "association": "Sjakklubben", "asker": "Alice", "attendees": 14, "quantity": 1}]  # fmt: skip
    details = {"path": digest.PATH, "waiting": 31, "requests": waiting}
    letter = Letter(9, digest.KIND, MONDAY_1000, Party("Stine", "stine@knutepunkt.no"), language, None, details)
    message = mail.render(letter, Site("https://allmenning.example", "Knutepunkt <post@allmenning.example>"))
    speak = Speaker(language)
    assert message["Subject"] == speak("Requests awaiting approval: {what}", what="31") and message["Content-Language"] == language
    text, html = message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()
    assert "Gymsal" in text and "Sjakklubben" in text and speak("And {count} more on the requests page.", count=30) in text
    assert (
        'href="https://allmenning.example/staff/requests#booking-7"' in html and 'href="https://allmenning.example/staff/requests"' in html
    )
    assert (' dir="rtl"' in html) == (language == "ar")


async def mails_for(inbox, count: int, *, within: float) -> None:
    started = time.monotonic()
    while len(digests(inbox)) < count and time.monotonic() - started < within:
        await asyncio.sleep(0.05)


async def marked_sent(db, *, within: float) -> None:
    """Until the drain has marked what it sent (it marks in groups, a moment after sending): the test's clock jumps
    a whole lease ahead next, and a lease lapsed on a mail sent but not yet marked is one a crashed worker left."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        async with db.read() as s:
            if not (await s.execute(select(Notification.id).where(Notification.status == PENDING))).first():
                return
        await asyncio.sleep(0.05)


async def test_two_workers_sweeping_at_once_send_each_staff_member_one_digest_a_day(db, db_url, settings, clock, desk, requests):
    port = free_port()
    by_smtp = dataclasses.replace(settings, smtp_url=f"smtp://127.0.0.1:{port}")
    clock.now = MONDAY_1000
    other = Db(db_url)  # another process's connection to the same database
    workers = [Scheduler(db, by_smtp, clock, worker=True), Scheduler(other, by_smtp, clock, worker=True)]
    try:
        with smtp_server(port) as inbox:
            await asyncio.gather(*(w.start() for w in workers))  # both sweep on start, racing for the same tick
            await mails_for(inbox, 2, within=10)
            await marked_sent(db, within=10)
            clock.now = MONDAY_1000 + timedelta(minutes=5)  # the next tick, which one of the two claims
            assert sorted(await asyncio.gather(*(w.sweep("staff_digest") for w in workers))) == [False, True]
            await asyncio.sleep(1.0)  # time enough for a second digest to arrive, were one recorded
            today = sorted(m["To"].addresses[0].addr_spec for m in digests(inbox))
            clock.now = TUESDAY_0705
            assert sorted(await asyncio.gather(*(w.sweep("staff_digest") for w in workers))) == [False, True]
            await mails_for(inbox, 4, within=10)
            await asyncio.sleep(0.5)
            ids = [m["Message-ID"] for m in digests(inbox)]
    finally:
        for w in workers:
            await w.stop()
        await other.dispose()
    assert today == ["sam@knutepunkt.no", "stine@knutepunkt.no"]
    assert len(ids) == 4 and len(set(ids)) == 4  # one each on Monday, one each on Tuesday, none twice
