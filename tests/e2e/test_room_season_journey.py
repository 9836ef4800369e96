"""A room season in headless Chromium: staff set one up, an association applies with three wishes, staff allocate,
adjust one wish with a reason and publish, and the association sees its held times and the wish refused, and why.
Every page is checked with axe-core and must fit a phone's width; each is looked at in both languages and widths."""

from __future__ import annotations

from datetime import timedelta

import pytest

from infra.settings import TIMEZONE
from tests.e2e import browser
from tests.e2e.browser import check_page, sign_in_path
from tests.e2e.test_browser import new_page

pytestmark = pytest.mark.e2e
# The innermost elements that reach past the screen's right edge: what to look at first.
WIDEST = """screen => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > screen + 1
  && ![...e.children].some(c => c.getBoundingClientRect().right > screen + 1))
  .slice(0, 5).map(e => `${e.tagName.toLowerCase()}#${e.id}.${e.className} ${Math.round(e.getBoundingClientRect().width)}px`)"""
PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 900}


def fits(page, name: str) -> None:
    """axe-core's WCAG 2.1 A and AA, and nothing wider than the screen: a wide table scrolls inside its own box."""
    check_page(page, name)
    width, screen = page.evaluate("() => document.documentElement.scrollWidth"), page.viewport_size["width"]
    if width > screen:
        wide = page.evaluate(WIDEST, screen)
        raise AssertionError(f"{name}: the page is {width} px wide on a {screen} px screen; too wide: {wide}")


def look(page, name: str, *, english: bool = False, both_widths: bool = True) -> None:
    """The page at both widths (and in English too): each a screenshot named by language and width, each checked."""
    size = page.viewport_size
    other = (DESKTOP if size["width"] < DESKTOP["width"] else PHONE) if both_widths else size
    path = page.url.split("#")[0].split("?")[0]
    for language in ("nb", "en") if english else ("nb",):
        if language == "en":
            page.goto(path + "?lang=en")
        for width in (size, other) if other != size else (size,):
            page.set_viewport_size(width)
            fits(page, f"{name}-{language}-{width['width']}")
    if english:
        page.goto(path + "?lang=nb")
    page.set_viewport_size(size)


def test_an_association_applies_staff_adjust_and_publish_and_the_association_sees_its_times(chromium, site):
    today = browser.now().astimezone(TIMEZONE).date()
    first = today + timedelta(days=14 - today.weekday())  # a Monday two weeks or so ahead
    last = first + timedelta(weeks=6) - timedelta(days=3)

    staff = new_page(chromium, site, phone=False)
    browser.sign_in_at(staff, sign_in_path(site["db"], "stine@knutepunkt.no"))
    staff.get_by_role("link", name="Romfordeling").click()
    staff.get_by_label("Navn på sesongen").fill("Vinter 2027")
    staff.locator("#first_day").fill(first.isoformat())
    staff.locator("#last_day").fill(last.isoformat())
    staff.get_by_label("Alle rom på Grønland aktivitetshus").check()
    staff.get_by_label("Møterommet på Tangen").check()
    staff.locator("#close_day").fill((today + timedelta(days=7)).isoformat())
    staff.get_by_label("Flest timer i uka per lag").fill("4")
    look(staff, "room-staff-new", both_widths=False)
    staff.get_by_role("button", name="Sett opp sesongen").click()
    staff.wait_for_url("**done=created")
    staff.get_by_role("button", name="Åpne for søknader").click()
    staff.wait_for_url("**done=phase")

    club = new_page(chromium, site)
    browser.sign_in_at(club, sign_in_path(site["db"], "lars@example.no"))
    club.get_by_role("link", name="Mine lag og foreninger").click()
    club.get_by_role("link", name="Faste rom for et semester").click()
    club.get_by_role("link", name="Vinter 2027").click()
    look(club, "room-apply-form", english=True)
    club.get_by_label("Vi er et frivillig lag eller en ideell forening").check()
    club.locator("#a1_name").fill("Sjakkveld")
    club.locator("#a1_age_band").select_option("adults")
    club.locator("#a1_participants").fill("12")
    club.locator("#a1_under_20").fill("2")
    club.locator("#a1_responsible_name").fill("Lars Larsen")
    club.locator("#a1_responsible_phone").fill("912 34 567")
    wishes = (("room:", "Verkstedet på Grønland", "1", "17:00", "21:00"), ("room:", "Verkstedet på Grønland", "2", "18:00", "20:00"),
              ("loc:", "Tangen bydelshus", "3", "17:00", "21:00"))  # fmt: skip
    for n, (kind, where, day, start, end) in enumerate(wishes, start=1):
        if n > 1:
            club.get_by_text(f"Ønske {n} (valgfritt)").click()
        room = club.locator(f"#w{n}_room")
        room.select_option(next(o.get_attribute("value") for o in room.locator("option").all() if where in o.inner_text()))
        assert room.input_value().startswith(kind)
        club.locator(f"#w{n}_d1_day").select_option(day)
        club.locator(f"#w{n}_d1_from").fill(start)
        club.locator(f"#w{n}_d1_to").fill(end)
    club.get_by_role("button", name="Send søknaden").click()
    assert "Feil: Skriv et norsk postnummer med fire sifre." in club.locator("#postal_code-error").inner_text()
    assert club.locator("#w3_room").input_value().startswith("loc:")  # what was written stays
    fits(club, "room-apply-error-nb-390")
    club.get_by_label("Postnummeret der laget holder til").fill("3044")
    club.get_by_role("button", name="Send søknaden").click()
    club.wait_for_url("**done=applied")
    assert club.locator("ol.wishes > li").count() == 3
    look(club, "room-applied", both_widths=False)

    staff.get_by_role("button", name="Steng for søknader og start tildelingen").click()
    staff.wait_for_url("**done=phase")
    staff.get_by_role("button", name="Tildel etter reglene").click()
    staff.wait_for_url("**done=preview")
    grid = " ".join(t.inner_text() for t in staff.locator("table.grid").all())
    assert "17:00–19:00\nStrømsø sjakklubb: Sjakkveld" in grid and "18:00–20:00\nStrømsø sjakklubb: Sjakkveld" in grid, grid
    assert "Ikke innvilget: det ville gitt foreningen mer enn 4 timer i uka." in staff.locator("main").inner_text()
    look(staff, "room-staff-proposal", english=True)
    second = staff.locator("ol.wishes > li").nth(1)
    wish = second.get_attribute("id").removeprefix("wish-")
    second.get_by_text("Juster dette ønsket").click()
    second.locator(f"#w{wish}-room-0").select_option(label="Møterommet på Tangen")
    second.locator(f"#w{wish}-reason").fill("Verkstedet pusses opp")
    second.locator(f"#w{wish}-message").fill("Dere får møterommet på Tangen.")
    second.get_by_role("button", name="Juster").click()
    staff.wait_for_url("**done=adjusted**")
    assert "adjusted by staff: Verkstedet pusses opp" in staff.locator(f"#wish-{wish}").inner_text()
    staff.get_by_label("Jeg har sjekket forslaget.", exact=False).check()
    staff.get_by_role("button", name="Publiser tildelingen").click()
    staff.wait_for_url("**done=publish")
    look(staff, "room-staff-published", both_widths=False)
    staff.get_by_role("link", name="Rapport: timer per prioritet, målgruppe, lag og rom").click()
    assert "Timer i uka per lag" in staff.content()
    csv = staff.request.get(staff.locator("a", has_text="Last ned som CSV").get_attribute("href"))
    assert csv.ok and "Strømsø sjakklubb,4.0" in csv.text(), csv.text()
    look(staff, "room-staff-report")

    club.goto(club.url.split("?")[0])
    main = club.locator("main").inner_text()
    assert "Ikke innvilget: det ville gitt foreningen mer enn 4 timer i uka." in main
    assert "Etter en gjennomgang har vi gitt dere onsdag 18:00–20:00 i Møterommet på Tangen." in main
    assert "Dere får møterommet på Tangen." in main and "pusses opp" not in main  # the message, never the audit text
    assert club.get_by_role("button", name="Bekreft denne tiden").count() == 2
    look(club, "room-result", english=True)
    club.get_by_role("button", name="Bekreft denne tiden").first.click()
    club.wait_for_url("**done=confirmed")
    club.get_by_text("Semesterets datoer").first.click()
    look(club, "room-confirmed", both_widths=False)
    club.get_by_role("link", name="Gi denne tiden tilbake").last.click()
    assert "Gi denne tiden tilbake?" in club.locator("h1").inner_text()
    fits(club, "room-give-back-nb-390")
    club.get_by_role("link", name="Nei, behold den").click()
