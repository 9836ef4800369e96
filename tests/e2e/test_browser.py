"""Journeys through the pages in headless Chromium against a real server, each page checked with axe-core."""

from __future__ import annotations

import time as clock
from datetime import time, timedelta

import pytest
from sqlalchemy import select

from booking import service as bookings
from booking.engine import NewBooking
from booking.seasons import service as seasons
from infra.i18n import LANGUAGES
from infra.outbox import Notification
from infra.time import local_datetime
from people import associations
from people.actor import OPERATOR, Actor
from people.store import Association, Person
from tests.e2e import browser, sweep, sweep_world
from tests.e2e.browser import check_page, next_weekday, resource_id, sign_in_path
from web.site import ROUTER

pytestmark = pytest.mark.e2e


def new_page(chromium, site, *, javascript: bool = True, phone: bool = True):
    size = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
    context = chromium.new_context(
        base_url=site["base"], java_script_enabled=javascript, viewport=size, locale="nb-NO", timezone_id="Europe/Oslo"
    )
    context.set_default_timeout(10_000)
    return context.new_page()


def sign_in_by_email(page, site, email: str, *, check: bool = True) -> None:
    page.goto("/sign-in")
    if check:
        check_page(page, "sign-in")
    page.get_by_label("E-postadresse").fill(email)
    page.get_by_role("button", name="Send meg en innloggingslenke").click()
    page.wait_for_url("**/sign-in/sent")
    browser.sign_in_at(page, browser.link_in_mail(site["mail"]))
    assert page.url == site["base"] + "/", (page.url, page.content()[:2000])


def book_and_cancel(page, site, room: int, day, *, name: str, axe: bool = True) -> None:
    page.goto("/")
    check_page(page, f"{name}-front", axe=axe)
    page.locator(f'a[href="/resources/{room}"]').first.click()
    check_page(page, f"{name}-resource", axe=axe)
    page.get_by_role("link", name="Book dette rommet").click()
    check_page(page, f"{name}-book-form", axe=axe)
    page.get_by_label("Dato", exact=True).fill(day.isoformat())
    page.get_by_label("Fra", exact=True).fill("18:00")
    page.get_by_label("Til", exact=True).fill("17:30")
    page.get_by_role("button", name="Book", exact=True).click()
    assert "Feil: Slutten må komme etter starten." in page.locator("#end-error").inner_text()
    check_page(page, f"{name}-book-form-error", axe=axe)
    page.get_by_label("Til", exact=True).fill("19:30")
    page.get_by_role("button", name="Book", exact=True).click()
    page.wait_for_url("**/my/bookings?done=confirmed")
    assert "Bookingen din er bekreftet." in page.content()
    check_page(page, f"{name}-my-bookings", axe=axe)
    if page.get_by_role("button", name="Lag en kalenderlenke").count():  # the first time only: the link is made on asking
        page.get_by_role("button", name="Lag en kalenderlenke").click()
        assert page.locator('a[href^="webcal://"]').count() == 1  # shown once, to subscribe with
        check_page(page, f"{name}-calendar-link", axe=axe)
        page.goto("/my/bookings")
    page.get_by_role("button", name="Avbestill").first.click()
    page.wait_for_url("**/my/bookings?done=cancelled")
    assert "Bookingen er avbestilt." in page.content()
    check_page(page, f"{name}-cancelled", axe=axe)


def test_a_resident_books_a_room_sees_it_in_my_bookings_and_cancels_it(chromium, site):
    page = new_page(chromium, site)
    sign_in_by_email(page, site, "amina@example.no")
    book_and_cancel(page, site, resource_id(site["db"], "knutepunkt-moterom"), next_weekday(1), name="resident")
    page.goto("/?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    check_page(page, "resident-front-english")
    page.goto("/?lang=nb")  # the switch is remembered for Amina (her mail follows it): she goes back to bokmål


def test_the_same_journey_works_without_javascript(chromium, site):
    page = new_page(chromium, site, javascript=False)
    sign_in_by_email(page, site, "amina@example.no", check=False)
    book_and_cancel(page, site, resource_id(site["db"], "knutepunkt-moterom"), next_weekday(3), name="nojs", axe=False)


def test_the_booking_form_can_be_filled_and_sent_with_the_keyboard_alone(chromium, site):
    page = new_page(chromium, site, phone=False)
    browser.sign_in_at(page, sign_in_path(site["db"], "amina@example.no"))
    room = resource_id(site["db"], "knutepunkt-moterom")
    page.goto(f"/resources/{room}/book")
    day = next_weekday(2)
    order = []
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.id || document.activeElement.tagName")
        if order and order[-1] == focused:
            continue  # a date or time field's next part
        order.append(focused)
        if focused == "date":
            type_date(page, day)
        elif focused == "start":
            page.keyboard.type("1800")
        elif focused == "end":
            page.keyboard.type("1900")
        elif focused == "submit":
            break
    fields = [f for f in order if f in ("date", "start", "end", "attendees", "title", "weekly", "until", "submit")]
    assert fields == ["date", "start", "end", "attendees", "title", "weekly", "until", "submit"], order
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "done=confirmed" in page.url, page.locator("main").inner_text()
    check_page(page, "keyboard-booked")


def test_an_association_books_a_weekly_slot_and_sees_the_date_it_could_not_get(chromium, site):
    room = resource_id(site["db"], "knutepunkt-moterom")
    first, taken, last = browser.weekly_dates_open(4, 3)

    async def book_second_week(db):
        other = Actor(2, "amina@example.no", "Amina")
        wanted = NewBooking(room, local_datetime(taken, time(18)), local_datetime(taken, time(20)))
        await bookings.create_booking(db, other, wanted, now=browser.now())

    browser.run(browser.with_db(site["db"], book_second_week))
    page = new_page(chromium, site)
    browser.sign_in_at(page, sign_in_path(site["db"], "lars@example.no"))
    page.goto(f"/resources/{room}/book")
    page.get_by_label("Dato", exact=True).fill(first.isoformat())
    page.get_by_label("Fra", exact=True).fill("18:00")
    page.get_by_label("Til", exact=True).fill("20:00")
    page.get_by_label("Book for").select_option(label="Strømsø sjakklubb")
    page.get_by_label("Hver uke til samme tid").check()
    page.get_by_label("Siste dato (for ukentlig booking)").fill(last.isoformat())
    page.get_by_role("button", name="Book", exact=True).click()
    page.wait_for_url("**/series/**")
    assert "Datoer vi ikke kunne booke (1)" in page.content()
    assert "Denne tiden er allerede tatt" in page.content()
    check_page(page, "association-series-outcome")
    page.get_by_role("link", name="Mine lag og foreninger").click()
    page.get_by_role("link", name="Strømsø sjakklubb").click()
    assert page.get_by_text("Lars").count() >= 1
    check_page(page, "association-page")


def test_staff_approve_a_loan_request_hand_it_out_and_take_it_back(chromium, site):
    sound = resource_id(site["db"], "lydanlegg")
    pickup = next_weekday(0)
    back = pickup + timedelta(days=1)

    async def request_loan(db):
        wanted = NewBooking(sound, local_datetime(pickup, time(12)), local_datetime(back, time(12)), "Sommerfest")
        await bookings.create_booking(db, Actor(2, "amina@example.no", "Amina"), wanted, now=browser.now())

    browser.run(browser.with_db(site["db"], request_loan))
    page = new_page(chromium, site, phone=False)
    browser.sign_in_at(page, sign_in_path(site["db"], "stine@knutepunkt.no"))
    page.get_by_role("link", name="Forespørsler").click()
    check_page(page, "staff-requests")
    page.get_by_role("button", name="Godkjenn").first.click()
    page.wait_for_url("**/staff/requests?done=approved")
    check_page(page, "staff-approved")
    page.get_by_role("link", name="Henting og innlevering").click()
    page.get_by_label("Dag", exact=True).fill(pickup.isoformat())
    page.get_by_role("button", name="Vis").click()
    check_page(page, "staff-pickups")
    page.get_by_role("button", name="Lever ut").first.click()
    page.wait_for_url("**done=check-out")
    page.get_by_label("Dag", exact=True).fill(back.isoformat())
    page.get_by_role("button", name="Vis").click()
    check_page(page, "staff-returns")
    page.get_by_role("button", name="Ta imot").first.click()
    page.wait_for_url("**done=check-in")
    check_page(page, "staff-taken-back")
    page.goto(f"/staff/resources/{sound}/utilisation")
    check_page(page, "staff-utilisation")


def garden_season(site) -> int:
    """A first garden season next spring, in draft, made by staff."""

    async def create(db):
        stine = Actor(1, "stine@knutepunkt.no", "Stine", grants=OPERATOR)
        start = browser.now().replace(year=browser.now().year + 1, month=4, day=15)
        return (
            await seasons.create_season(
                db,
                stine,
                name="Hagesesongen",
                start=start,
                end=start.replace(month=10, day=31),
                previous_season_id=None,
                district_postal_codes=None,
                household_limit=1,
                offer_days=7,
                now=browser.now(),
            )
        ).id

    return browser.run(browser.with_db(site["db"], create))


def test_staff_open_and_publish_a_season_and_a_resident_applies_and_accepts_a_bed(chromium, site):
    season = garden_season(site)
    staff = new_page(chromium, site, phone=False)
    browser.sign_in_at(staff, sign_in_path(site["db"], "stine@knutepunkt.no"))
    staff.get_by_role("link", name="Sesonger").click()
    staff.get_by_role("link", name="Hagesesongen").click()
    check_page(staff, "season-draft")
    staff.get_by_role("button", name="Åpne for søknader").click()
    resident = new_page(chromium, site)
    browser.sign_in_at(resident, sign_in_path(site["db"], "amina@example.no"))
    resident.get_by_role("link", name="Pallekarmer", exact=True).click()
    resident.get_by_label("Gateadresse").fill("Torggata 5")
    resident.get_by_label("Postnummer").fill("3044")
    resident.get_by_role("button", name="Søk om pallekarm").click()
    resident.wait_for_url("**/garden?done=apply")
    check_page(resident, "garden-applied")
    staff.get_by_role("button", name="Gå videre til: Tildeling").click()
    staff.get_by_role("button", name="Forhåndsvis tildelingen").click()
    check_page(staff, "season-preview")
    staff.get_by_label("Jeg har sjekket tildelingen.", exact=False).check()  # publishing asks first: it cannot be undone
    staff.get_by_role("button", name="Publiser tildelingen").click()
    staff.wait_for_url(f"**/staff/seasons/{season}?done=publish")
    resident.goto("/garden")
    check_page(resident, "garden-offer")
    resident.get_by_role("button", name="Takk ja til pallekarmen").click()
    resident.wait_for_url("**/garden?done=accepted")
    assert "Pallekarmen er din denne sesongen." in resident.content()
    check_page(resident, "garden-accepted")


def type_date(page, day) -> None:
    """Type a date the way the field asks for it: Debian's Chromium without its l10n package shows month first."""
    for order in ("%m%d%Y", "%d%m%Y"):
        page.keyboard.type(day.strftime(order))
        if page.input_value("#date") == day.isoformat():
            return
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Shift+Tab")  # back to the field's first part, and try the other order
    raise AssertionError("could not type the date")


def invitation_path(url: str, email: str) -> str:
    """Lars, the chess club's admin, invites this address; the path his invitation mail links to."""

    async def work(db) -> str:
        async with db.read() as s:
            lars = (await s.execute(select(Person).where(Person.email == "lars@example.no"))).scalar_one()
            club = (await s.execute(select(Association).where(Association.orgnr == "914778271"))).scalar_one()
        admin = Actor(lars.id, lars.email, lars.name, roles={club.id: "admin"})
        await associations.invite_member(db, admin, club.id, email, "member", now=browser.now())
        async with db.read() as s:
            query = select(Notification).where(Notification.kind == "association_invitation").order_by(Notification.id.desc())
            return (await s.execute(query)).scalars().first().payload["path"]

    return browser.run(browser.with_db(url, work))


def test_an_invited_resident_opens_the_link_in_the_mail_and_joins_the_association(chromium, site):
    path = invitation_path(site["db"], "amina@example.no")
    page = new_page(chromium, site)
    browser.sign_in_at(page, sign_in_path(site["db"], "amina@example.no"))
    page.goto(path)
    assert "Strømsø sjakklubb inviterer deg til å bli medlem i foreningen." in page.content()
    check_page(page, "invitation")
    page.get_by_role("button", name="Takk ja og bli medlem").click()
    page.wait_for_url("**/associations/*?done=joined")
    check_page(page, "invitation-joined")


def test_every_page_passes_axe_and_fits_a_phone_in_every_language_on_both_screens(chromium, site):
    started = clock.monotonic()
    world = browser.run(browser.with_db(site["db"], sweep_world.build))
    shown = sweep_world.pages(world)
    routes = {r.path for r in ROUTER.routes if "GET" in r.methods and not r.path.endswith((".csv", ".ics"))}
    assert routes <= {p.route for p in shown}, f"pages not in the sweep: {sorted(routes - {p.route for p in shown})}"
    viewers = sweep.tabs(chromium, site, {p.viewer: 2 if p.viewer == "staff" else 1 for p in shown})  # staff have the most pages
    problems = [problem for language in LANGUAGES for problem in sweep.look_at_all(viewers, shown, language)]
    for own in viewers.values():
        own[0].goto("/?lang=nb")  # each person back to bokmål, as the journeys expect them
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
    print(f"\nswept {len(shown)} pages in {len(LANGUAGES)} languages at 1280 and 390 px in {clock.monotonic() - started:.0f} s")
