"""A weekly booking in headless Chromium: a resident reads the room's rules on the form, books every Tuesday for four
weeks while one of them is closed, follows the mail to the series' page, which still shows the closed date with the
closure's own reason, and cancels the rest after being asked; each page checked with axe-core, on a phone and a wide
screen, in bokmål and English, and never wider than the screen."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import time, timedelta
from pathlib import Path

import pytest

from booking import closures
from booking.closure_rules import Choice, Decision
from infra.time import local_datetime
from people import service as people
from tests.e2e import browser
from tests.e2e.browser import next_weekday, resource_id
from tests.e2e.test_booking_page_journey import PHONE, WIDE, look, send_the_mail
from tests.e2e.test_browser import new_page, sign_in_by_email
from web.i18n import Speaker

pytestmark = pytest.mark.e2e
REASON = "Vannlekkasje i kjelleren"


def close_one_day(site, room: int, day) -> None:
    """Staff close the room for one whole day, with their own reason, as the closures page does."""

    async def work(db):
        token = await people.issue_credential(db, "stine@knutepunkt.no", "api", now=browser.now())
        actor = await people.authenticate(db, token, now=browser.now())
        start, end = local_datetime(day, time(0)), local_datetime(day + timedelta(days=1), time(0))
        await closures.add_closure(db, actor, room, start, end, REASON, Decision(Choice.KEEP), now=browser.now())

    browser.run(browser.with_db(site["db"], work))


def series_link_in_mail(mail_dir: Path, to: str) -> str:
    for path in sorted(mail_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"].addresses[0].addr_spec == to and (
            found := re.search(r"https?://[^\s\"<>]+/series/\d+", message.get_body(("plain",)).get_content())
        ):
            return found.group(0)
    raise AssertionError(f"no mail linking to a weekly booking in {mail_dir}")


def test_a_weekly_booking_shows_its_closed_date_with_the_reason_on_its_page_and_the_rest_is_cancelled(chromium, site):
    room, first = resource_id(site["db"], "knutepunkt-kjokken"), next_weekday(1)
    closed, last = first + timedelta(weeks=1), first + timedelta(weeks=3)
    close_one_day(site, room, closed)
    page = new_page(chromium, site)
    sign_in_by_email(page, site, "amina@example.no", check=False)

    page.goto(f"/resources/{room}/book")
    rules = page.locator("#rules").inner_text()
    assert "mandag–fredag 17:00–22:00" in rules and "Senest 24 timer før det begynner" in rules
    assert REASON in rules  # the closure is told before a date is chosen
    look(page, "series-book-form-phone-nb")
    page.get_by_label("Dato", exact=True).fill(first.isoformat())
    page.get_by_label("Fra", exact=True).fill("18:00")
    page.get_by_label("Til", exact=True).fill("20:00")
    page.get_by_label("Hver uke til samme tid").check()
    page.get_by_label("Siste dato (for ukentlig booking)").fill(last.isoformat())
    page.get_by_role("button", name="Book", exact=True).click()
    page.wait_for_url(re.compile(r".*/series/\d+\?done=booked$"))

    send_the_mail(site)
    link = series_link_in_mail(site["mail"], "amina@example.no")
    page.goto(link)  # the address says nothing of the refused date: the series keeps it
    assert page.locator("h1").inner_text() == "Ukentlig booking"
    assert page.locator("#refused li").all_inner_texts() == [f"{browser_day(closed)}: Stedet er stengt da: {REASON}."]
    assert len(page.locator("#booked li").all()) == 3
    look(page, "series-page-phone-nb")
    page.set_viewport_size(WIDE)
    page.goto(link + "?lang=en")
    assert f"The place is closed then: {REASON}." in page.locator("#refused").inner_text()
    look(page, "series-page-wide-en")
    page.goto(link + "?lang=nb")

    page.get_by_role("link", name="Avbestill resten av den ukentlige bookingen").click()
    page.wait_for_url("**/cancel")
    assert page.locator("h1").inner_text() == "Avbestille resten av den ukentlige bookingen?"
    assert len(page.locator("#rest li").all()) == 3
    look(page, "series-cancel-wide-nb")
    page.set_viewport_size(PHONE)
    page.goto(page.url + "?lang=en")
    look(page, "series-cancel-phone-en")
    page.goto(page.url.split("?")[0] + "?lang=nb")
    page.get_by_label("Begrunnelse (valgfritt)").fill("Vi flytter til biblioteket")
    page.get_by_role("button", name="Ja, avbestill resten").click()
    page.wait_for_url("**?done=cancelled")
    assert page.locator(".notice").inner_text() == "Resten av den ukentlige bookingen er avbestilt."
    assert page.locator("#booked .status").all_inner_texts() == ["Avbestilt"] * 3
    assert REASON in page.locator("#refused").inner_text()  # what it could not get is still said
    look(page, "series-cancelled-phone-nb")


def browser_day(day) -> str:
    return Speaker("nb").day(day)
