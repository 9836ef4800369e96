"""The booking page in headless Chromium: a resident books a room, follows the link in the confirmation mail to the
booking's page, changes the time (a refused time first) and cancels after being asked; each page checked with axe-core,
on a phone and a wide screen, in bokmål and English, and never wider than the screen."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

import pytest

from infra.mail_transport import FolderTransport
from infra.settings import Settings
from notifications import service as notifications
from notifications.mail import Site
from tests.e2e import browser
from tests.e2e.browser import check_page, next_weekday, resource_id
from tests.e2e.test_browser import new_page, sign_in_by_email

pytestmark = pytest.mark.e2e
PHONE, WIDE = {"width": 390, "height": 844}, {"width": 1280, "height": 900}


def send_the_mail(site) -> None:
    """What the scheduler's sender does (it is off in these servers): the outbox drained into the site's mail folder,
    as mail goes where no SMTP server is set."""
    outbox = Site(site["base"], Settings().mail_from)

    async def work(db):
        return await notifications.drain_outbox(db, outbox, FolderTransport(site["mail"]), clock=browser.now, owner="journey")

    assert browser.run(browser.with_db(site["db"], work)).sent >= 1


def booking_link_in_mail(mail_dir: Path, to: str) -> tuple[str, str]:
    """The subject of the newest mail to this person with a link to a booking's page, and that link."""
    for path in sorted(mail_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"].addresses[0].addr_spec != to:
            continue
        if found := re.search(r"https?://[^\s\"<>]+/bookings/\d+", message.get_body(("plain",)).get_content()):
            return str(message["Subject"]), found.group(0)
    raise AssertionError(f"no mail linking to a booking in {mail_dir}")


def fits_the_screen(page, name: str) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{name}: the page is {width[0]} px wide on a screen of {width[1]} px"


def look(page, name: str) -> None:
    check_page(page, name)
    fits_the_screen(page, name)


def test_a_resident_follows_the_mail_to_the_booking_page_changes_the_time_and_cancels(chromium, site):
    room, day = resource_id(site["db"], "knutepunkt-moterom"), next_weekday(1)
    page = new_page(chromium, site)
    sign_in_by_email(page, site, "amina@example.no", check=False)
    page.goto(f"/resources/{room}/book")
    page.get_by_label("Dato", exact=True).fill(day.isoformat())
    page.get_by_label("Fra", exact=True).fill("18:00")
    page.get_by_label("Til", exact=True).fill("19:30")
    page.locator("#title").fill("Leksehjelp")
    page.get_by_role("button", name="Book", exact=True).click()
    page.wait_for_url("**/my/bookings?done=confirmed")

    send_the_mail(site)
    subject, link = booking_link_in_mail(site["mail"], "amina@example.no")
    assert subject.startswith("Bekreftet:"), subject
    page.goto(link)
    assert page.url == link
    main = page.locator("main")
    assert "Møterommet på Knutepunktet" in main.locator("h1").inner_text()
    assert main.locator(".status").inner_text() == "Bekreftet"
    assert "Booket og bekreftet" in main.locator(".history").inner_text()
    assert main.get_by_role("link", name="Vis på kart").get_attribute("href").startswith("https://www.openstreetmap.org/search?query=")
    look(page, "booking-page-phone-nb")

    page.set_viewport_size(WIDE)
    look(page, "booking-page-wide-nb")
    page.goto(link + "?lang=en")
    assert main.locator(".status").inner_text() == "Confirmed"
    look(page, "booking-page-wide-en")
    page.set_viewport_size(PHONE)
    look(page, "booking-page-phone-en")
    page.goto(link + "?lang=nb")

    # A time too short is refused with its numbers, and nothing changes.
    page.get_by_label("Fra", exact=True).fill("19:00")
    page.get_by_label("Til", exact=True).fill("19:15")
    page.get_by_role("button", name="Lagre den nye tiden").click()
    assert "Feil: Bookingen er for kort." in page.locator("#end-error").inner_text()
    assert page.locator("#refusal-numbers").inner_text() == "Den korteste bookingen her er 30 minutter."
    look(page, "booking-page-refused-move")

    page.get_by_label("Til", exact=True).fill("20:30")
    page.get_by_role("button", name="Lagre den nye tiden").click()
    page.wait_for_url("**?done=moved")
    assert "19:00–20:30" in page.locator(".notice").inner_text()
    assert "Flyttet fra" in page.locator(".history").inner_text()
    look(page, "booking-page-moved")

    page.get_by_role("link", name="Avbestill bookingen").click()
    page.wait_for_url("**/cancel")
    assert page.locator("h1").inner_text() == "Avbestille bookingen?"
    look(page, "booking-cancel-phone-nb")
    page.set_viewport_size(WIDE)
    page.goto(page.url + "?lang=en")
    look(page, "booking-cancel-wide-en")
    page.goto(page.url.split("?")[0] + "?lang=nb")
    page.get_by_label("Begrunnelse (valgfritt)").fill("Vi møtes hjemme i stedet")
    page.get_by_role("button", name="Ja, avbestill bookingen").click()
    page.wait_for_url("**?done=cancelled")
    assert page.locator(".notice").inner_text() == "Bookingen er avbestilt."
    assert page.locator(".status").inner_text() == "Avbestilt"
    assert "Begrunnelse: Vi møtes hjemme i stedet" in page.locator(".history").inner_text()
    look(page, "booking-page-cancelled")

    send_the_mail(site)  # the change and the cancellation are mailed too, each with the same link
    assert booking_link_in_mail(site["mail"], "amina@example.no")[1] == link
