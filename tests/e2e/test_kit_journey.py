"""Journeys that were API-only, in headless Chromium: a resident borrows the event kit (tent, tables, chairs) in one
form after a refusal that names the short part; an association's admin adds a member by email, who accepts, and then
changes the role and removes the member after being asked; the profile with its calendar link and the free-room search.
Each page checked with axe-core on a phone and a wide screen, and never wider than the screen."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from sqlalchemy import select

from booking import service as bookings
from booking.engine import NewBooking
from infra.time import local_datetime
from people.actor import Actor
from people.store import Association, Person
from resources import service as catalogue
from tests.e2e import browser
from tests.e2e.browser import next_weekday, resource_id, sign_in_path
from tests.e2e.test_booking_page_journey import PHONE, WIDE, look
from tests.e2e.test_browser import invitation_path, new_page

pytestmark = pytest.mark.e2e


def kit_id(url: str, key: str) -> int:
    async def work(db) -> int:
        return next(kit.id for kit, _ in await catalogue.list_kits(db) if kit.key == key)

    return browser.run(browser.with_db(url, work))


def ids_of(url: str) -> tuple[int, int, int]:
    """Amina's and Lars's person ids, and the chess club's."""

    async def work(db) -> tuple[int, int, int]:
        async with db.read() as s:
            people = {p.email: p.id for p in (await s.execute(select(Person))).scalars()}
            club = (await s.execute(select(Association).where(Association.orgnr == "914778271"))).scalar_one()
        return people["amina@example.no"], people["lars@example.no"], club.id

    return browser.run(browser.with_db(url, work))


def lars_borrows_every_tent(url: str, day, until) -> None:
    _, lars, _ = ids_of(url)
    tents = resource_id(url, "partytelt-3x6")

    async def work(db) -> None:
        wanted = NewBooking(tents, local_datetime(day, time(12)), local_datetime(until, time(12)), "Sommerfest", None, None, 3)
        await bookings.create_booking(db, Actor(lars, "lars@example.no", "Lars"), wanted, now=browser.now())

    browser.run(browser.with_db(url, work))


def fill_loan(page, day, until) -> None:
    page.get_by_label("Hentedato").fill(day.isoformat())
    page.get_by_label("Hentetid").fill("12:00")
    page.get_by_label("Innleveringsdato").fill(until.isoformat())
    page.get_by_label("Innleveringstid").fill("12:00")


def test_a_resident_borrows_the_event_kit_in_one_form_after_a_refusal_that_names_the_short_part(chromium, site):
    taken_day = next_weekday(1)  # a Tuesday to Wednesday
    taken_until = taken_day + timedelta(days=1)
    lars_borrows_every_tent(site["db"], taken_day, taken_until)
    page = new_page(chromium, site)
    browser.sign_in_at(page, sign_in_path(site["db"], "amina@example.no"))
    page.get_by_role("link", name="Lån Arrangementspakke").click()
    page.wait_for_url(f"**/kits/{kit_id(site['db'], 'arrangementspakke')}/borrow")
    assert "4 × Klappbord" in page.locator("main").inner_text()
    assert "mandag–fredag 10:00–19:00" in page.locator("#rules").inner_text()  # the lending point's hours
    look(page, "kit-form-phone-nb")

    fill_loan(page, taken_day, taken_until)
    page.locator("#title").fill("Gatefest i Tollbugata")
    page.get_by_role("button", name="Lån pakken").click()
    assert "Ikke nok ledige da: 0 ledige av 3." in page.locator(".error-summary").inner_text()
    assert page.locator("#short-part").inner_text() == "Dette gjelder Partytelt 3 × 6 m: pakken trenger 1."
    assert "For få:" in page.locator("main .cards").inner_text()
    look(page, "kit-form-refused-phone-nb")
    page.set_viewport_size(WIDE)
    look(page, "kit-form-refused-wide-nb")

    day, until = taken_day + timedelta(days=2), taken_day + timedelta(days=3)  # Thursday to Friday
    fill_loan(page, day, until)
    page.get_by_role("button", name="Lån pakken").click()
    page.wait_for_url("**/my/bookings?done=confirmed")
    upcoming = page.locator("#upcoming-title + ul").inner_text()
    assert all(part in upcoming for part in ("Partytelt 3 × 6 m", "Klappbord × 4", "Stabelstol × 20")), upcoming
    look(page, "kit-borrowed-wide-nb")
    page.goto(page.url + "&lang=en")
    page.set_viewport_size(PHONE)
    look(page, "kit-borrowed-phone-en")
    page.goto("/?lang=nb")  # switching the pages' language switched Amina's own: back to bokmål for the next journeys


def test_an_admin_adds_a_member_by_email_changes_the_role_and_removes_them_after_being_asked(chromium, site):
    amina, _, club = ids_of(site["db"])
    admin = new_page(chromium, site)
    browser.sign_in_at(admin, sign_in_path(site["db"], "lars@example.no"))
    admin.goto(f"/associations/{club}")
    admin.get_by_role("link", name="Administrer medlemmer: inviter, endre roller, fjern").click()
    admin.wait_for_url(f"**/associations/{club}/members")
    look(admin, "members-phone-nb")
    admin.get_by_label("E-postadresse").fill("amina@example.no")
    admin.get_by_role("button", name="Send invitasjonen").click()
    admin.wait_for_url("**/members?done=invited")
    assert "amina@example.no" in admin.locator("#invitations-title + ul").inner_text()
    look(admin, "members-invited-phone-nb")

    invited = new_page(chromium, site)
    browser.sign_in_at(invited, sign_in_path(site["db"], "amina@example.no"))
    invited.goto(invitation_path(site["db"], "amina@example.no") + "?lang=nb")  # the newest invitation's link, as mailed
    invited.get_by_role("button", name="Takk ja og bli medlem").click()
    invited.wait_for_url("**/associations/*?done=joined")

    admin.goto(f"/associations/{club}/members?lang=en")
    admin.set_viewport_size(WIDE)
    member = admin.locator(f"#member-{amina}")
    assert "Amina · Member" in member.inner_text()
    look(admin, "members-wide-en")
    member.get_by_label("Role of Amina").select_option("admin")
    member.get_by_role("button", name="Change role").click()
    admin.wait_for_url("**/members?done=role")
    assert "Amina · Admin" in admin.locator(f"#member-{amina}").inner_text()

    admin.goto(f"/associations/{club}/members?lang=nb")
    admin.locator(f"#member-{amina}").get_by_role("link", name="Fjern fra foreningen").click()
    admin.wait_for_url(f"**/members/{amina}/remove")
    assert admin.locator("h1").inner_text() == "Fjerne Amina fra Strømsø sjakklubb?"
    look(admin, "member-remove-wide-nb")
    admin.set_viewport_size(PHONE)
    look(admin, "member-remove-phone-nb")
    admin.get_by_role("button", name="Ja, fjern").click()
    admin.wait_for_url("**/members?done=removed")
    assert f"member-{amina}" not in admin.content()


def test_the_profile_with_its_calendar_link_and_the_free_room_search_read_well_on_a_phone(chromium, site):
    page = new_page(chromium, site)
    browser.sign_in_at(page, sign_in_path(site["db"], "amina@example.no"))
    page.get_by_role("link", name="Min profil").click()
    page.wait_for_url("**/my/profile")
    look(page, "profile-phone-nb")
    page.get_by_label("Gateadresse").fill("Tollbugata 7")
    page.get_by_label("Postnummer").fill("30")
    page.get_by_role("button", name="Lagre").click()
    assert "Feil: Skriv et norsk postnummer med fire sifre." in page.locator("#postal_code-error").inner_text()
    look(page, "profile-refused-phone-nb")
    page.get_by_label("Postnummer").fill("3044")
    page.get_by_role("button", name="Lagre").click()
    page.wait_for_url("**/my/profile?done=saved&lang=nb")

    page.get_by_role("button", name="Lag en kalenderlenke").click()
    address = page.get_by_label("Kalenderlenke").input_value()
    assert re.fullmatch(r"http://[^/]+/calendar/feeds/[\w-]+\.ics", address), address  # the settings' public address
    assert "Google Kalender godtar bare lenker som gjør det" in page.locator("#feed-not-https").inner_text()  # not https here
    look(page, "profile-calendar-link-phone-nb")
    page.get_by_role("link", name="Stopp kalenderlenken").click()
    look(page, "calendar-link-stop-phone-nb")
    page.get_by_role("button", name="Ja, stopp kalenderlenken").click()
    page.wait_for_url("**/my/profile?done=feed_revoked*")

    page.goto("/")
    page.get_by_role("link", name="Finn et rom som er ledig når du trenger det").click()
    look(page, "free-rooms-phone-nb")
    page.get_by_label("Dato", exact=True).fill(next_weekday(1).isoformat())
    page.get_by_label("Kjøkken").check()
    page.get_by_role("button", name="Finn ledige rom").click()
    assert "ledig" in page.locator('#found-title ~ p[role="status"]').inner_text()
    assert page.locator("main .cards li").count() >= 1  # the seeded catalogue has rooms with a kitchen
    look(page, "free-rooms-found-phone-nb")
    page.set_viewport_size(WIDE)
    look(page, "free-rooms-found-wide-nb")
