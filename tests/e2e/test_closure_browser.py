"""Staff close a room in headless Chromium on a phone: the bookings covered are shown, then cancelled or kept, in bokmål and English."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from booking import service as bookings
from booking.engine import NewBooking
from infra.time import local_datetime
from people.actor import Actor
from tests.e2e import browser
from tests.e2e.browser import check_page, next_weekday, resource_id, sign_in_path
from tests.e2e.test_browser import new_page

pytestmark = pytest.mark.e2e


def book_evening(site, room: int, day) -> None:
    """Amina books 18–19:30 for herself, Lars 20–21:30 for his chess club."""

    async def work(db):
        amina, lars = Actor(2, "amina@example.no", "Amina"), Actor(3, "lars@example.no", "Lars", roles={1: "admin"})
        at = lambda start, end: (local_datetime(day, start), local_datetime(day, end))  # noqa: E731
        await bookings.create_booking(db, amina, NewBooking(room, *at(time(18), time(19, 30)), "Lesesirkel"), now=browser.now())
        await bookings.create_booking(db, lars, NewBooking(room, *at(time(20), time(21, 30)), "Sjakk", 1), now=browser.now())

    browser.run(browser.with_db(site["db"], work))


def fill_closure(page, day, labels: tuple[str, str, str, str, str], reason: str) -> None:
    for label, value in zip(labels, (day.isoformat(), "00:00", (day + timedelta(days=1)).isoformat(), "00:00", reason), strict=True):
        page.get_by_label(label, exact=True).fill(value)


def test_staff_close_a_room_on_a_phone_see_the_bookings_in_it_and_cancel_them(chromium, site):
    room, day = resource_id(site["db"], "knutepunkt-moterom"), next_weekday(1)
    book_evening(site, room, day)
    page = new_page(chromium, site)
    browser.sign_in_at(page, sign_in_path(site["db"], "stine@knutepunkt.no"))
    page.goto(f"/staff/resources/{room}/closures")
    check_page(page, "closure-form-nb")
    fill_closure(page, day, ("Fra dato", "Fra klokkeslett", "Til dato", "Til klokkeslett", "Begrunnelse"), "Vannlekkasje")
    page.get_by_role("button", name="Steng", exact=True).click()
    assert page.get_by_role("heading", name="Bookinger i perioden").count() == 1
    assert page.locator("ul[aria-labelledby=covered-title] li").count() == 2
    check_page(page, "closure-covered-nb")
    page.get_by_role("button", name="Steng", exact=True).click()
    assert "Velg om bookingene i perioden skal avbestilles eller beholdes." in page.locator("#covered-error").inner_text()
    check_page(page, "closure-choice-missing-nb")
    page.get_by_label("Avbestill dem", exact=True).check()
    page.get_by_role("button", name="Steng", exact=True).click()
    page.wait_for_url("**/closures?done=cancel&count=2")
    assert "Bookinger avbestilt (alle som booket, har fått e-post): 2" in page.content()
    check_page(page, "closure-cancelled-nb")


def test_staff_close_a_room_in_english_and_keep_the_bookings_in_it(chromium, site):
    room, day = resource_id(site["db"], "knutepunkt-moterom"), next_weekday(2)
    book_evening(site, room, day)
    page = new_page(chromium, site)
    browser.sign_in_at(page, sign_in_path(site["db"], "stine@knutepunkt.no"))
    page.goto(f"/staff/resources/{room}/closures?lang=en")
    fill_closure(page, day, ("From date", "From time", "To date", "To time", "Reason"), "Christmas party")
    page.get_by_role("button", name="Close", exact=True).click()
    assert page.get_by_role("heading", name="Bookings in this period").count() == 1
    check_page(page, "closure-covered-en")
    page.get_by_label("Keep them", exact=True).check()
    page.get_by_role("button", name="Close", exact=True).click()
    page.wait_for_url("**/closures?done=keep&count=0")
    assert "The bookings in it are kept as they were." in page.content()
    check_page(page, "closure-kept-en")
