"""The pages and mail in Polish and Arabic as in bokmål and English: the list of languages on every page, Arabic right
to left, every booking status in the reader's words, and a person's mail in the language they chose."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import date, time, timedelta

import pytest
from sqlalchemy import update

from booking import service as bookings
from booking.engine import NewBooking
from booking.rules import STATUS_WORDS, BookingStatus
from booking.store import Booking
from config.servers import free_port
from infra.i18n import LANGUAGES
from infra.time import local_datetime
from people.actor import Actor
from people.store import Person
from tests import builders
from tests.e2e.test_mail import drain, smtp_server
from tests.web.test_pages import post_form
from web.i18n import Speaker

TUESDAY = date(2026, 11, 24)
CODES = re.compile(rf"\b({'|'.join(BookingStatus)})\b")


def language_list(html: str) -> list[str]:
    found = re.search(r'<ul class="languages"[^>]*>(.*?)</ul>', html, re.S)
    assert found, "no list of languages"
    return re.findall(r"<li>(.*?)</li>", found.group(1), re.S)


def main_text(html: str) -> str:
    main = html[html.index("<main") : html.index("</main>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


@pytest.fixture
async def alice(db):
    return await builders.person(db, "alice@example.no", name="Alice")


@pytest.fixture
async def room(db):
    return await builders.room(db)


async def book(db, clock, person, room, day: date) -> int:
    wanted = NewBooking(room, local_datetime(day, time(18)), local_datetime(day, time(20)), "Styremøte")
    actor = Actor(person[0], "alice@example.no", "")
    return (await bookings.create_booking(db, actor, wanted, now=clock()))[0].id


async def test_an_arabic_page_reads_right_to_left_and_lists_each_language_in_its_own_name(client):
    page = await client.get("/?lang=ar")
    assert page.status_code == 200
    assert '<html lang="ar" dir="rtl">' in page.text and 'href="/static/languages.css"' in page.text
    assert "انتقل إلى المحتوى" in page.text  # Skip to content
    assert language_list(page.text) == [
        '<a href="/?lang=nb" hreflang="nb" lang="nb">Norsk (bokmål)</a>',
        '<a href="/?lang=en" hreflang="en" lang="en">English</a>',
        '<a href="/?lang=pl" hreflang="pl" lang="pl">Polski</a>',
        '<a href="/?lang=ar" hreflang="ar" lang="ar" aria-current="true">العربية</a>',
    ]
    assert client.cookies.get("lang") == "ar"


async def test_a_polish_page_stays_polish_marks_polish_as_the_language_read_and_reads_left_to_right(client, room):
    await client.get("/?lang=pl")
    page = await client.get(f"/resources/{room}")
    assert '<html lang="pl">' in page.text and "Przejdź do treści" in page.text
    current = [item for item in language_list(page.text) if "aria-current" in item]
    assert current == [f'<a href="/resources/{room}?lang=pl" hreflang="pl" lang="pl" aria-current="true">Polski</a>']


async def test_switching_language_when_signed_in_makes_it_the_language_of_ones_mail(client, db, alice):
    await client.get("/my/bookings?lang=pl", headers=alice[1])
    async with db.read() as s:
        assert (await s.get(Person, alice[0])).language == "pl"


async def test_no_booking_status_reaches_a_page_as_its_code_in_any_language(client, db, clock, alice, room):
    statuses = list(BookingStatus)
    ids = {}
    for n, status in enumerate(statuses):  # one booking in each status, one a day
        ids[status] = await book(db, clock, alice, room, TUESDAY + timedelta(days=n))
        async with db.write() as s:
            await s.execute(update(Booking).where(Booking.id == ids[status]).values(status=str(status)))
    for language in LANGUAGES:
        words = {status: Speaker(language).status(status) for status in statuses}
        listed = main_text((await client.get(f"/my/bookings?lang={language}", headers=alice[1])).text)
        for status, booking in ids.items():
            page = await client.get(f"/bookings/{booking}?lang={language}", headers=alice[1])
            assert page.status_code == 200, (language, status)
            shown = main_text(page.text)
            assert words[status] in shown, (language, status)
            if language != "en":  # English words may spell a code ("cancelled"); no other language's may
                assert CODES.findall(shown) == [], (language, status)
        if language != "en":
            assert CODES.findall(listed) == [], language
        assert words[BookingStatus.CONFIRMED] in listed and words[BookingStatus.REQUESTED] in listed


async def test_a_mail_to_a_person_whose_language_is_polish_arrives_in_polish(client, db, settings, clock, alice, room):
    async with db.write() as s:
        await s.execute(update(Person).where(Person.id == alice[0]).values(language="pl"))
    await book(db, clock, alice, room, TUESDAY)
    port = free_port()
    with smtp_server(port) as inbox:
        await drain(db, settings, port, clock())
    [message] = inbox.messages
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert (message["Content-Language"], message["Subject"]) == ("pl", "Potwierdzono: Moterom, wt., 24 lis 18:00")
    assert text.startswith("Dzień dobry, Alice,\n\nTwoja rezerwacja jest potwierdzona.\n")
    assert "Kiedy: wtorek, 24 listopada 2026, 18:00–20:00" in text
    assert f"Status: {Speaker('pl')(STATUS_WORDS[BookingStatus.CONFIRMED])}" in text


async def test_a_sign_in_link_asked_for_on_an_arabic_page_is_mailed_in_arabic(client, settings):
    await client.get("/sign-in?lang=ar")
    response = await post_form(client, "/sign-in", {"email": "ny@example.no"})
    assert response.status_code == 303
    [sent] = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in settings.mail_dir.glob("*.eml")]
    assert (sent["Content-Language"], sent["Subject"]) == ("ar", "سجّل الدخول إلى Allmenning")
    assert "اتبع هذا الرابط لتسجيل الدخول إلى Allmenning." in sent.get_content()
