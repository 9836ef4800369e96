"""A garden season in headless Chromium: staff set one up on the web with its deadline and draw and open it; a resident
from outside the district reads what happens next, is warned of the lower priority before applying, and applies once
they say they understand. Every page is checked with axe-core and must fit a phone's width."""

from __future__ import annotations

from datetime import timedelta

import pytest

from infra.settings import TIMEZONE
from tests.e2e import browser
from tests.e2e.browser import sign_in_path
from tests.e2e.test_browser import new_page
from tests.e2e.test_room_season_journey import fits, look

pytestmark = pytest.mark.e2e


def test_staff_set_up_a_garden_season_and_a_resident_from_outside_the_district_is_warned_before_applying(chromium, site):
    today = browser.now().astimezone(TIMEZONE).date()
    deadline, draw, first = today + timedelta(days=30), today + timedelta(days=35), today + timedelta(days=60)

    staff = new_page(chromium, site, phone=False)
    browser.sign_in_at(staff, sign_in_path(site["db"], "stine@knutepunkt.no"))
    staff.get_by_role("link", name="Sesonger", exact=True).click()
    staff.get_by_label("Navn på sesongen").fill("Hagesesongen i nettleseren")
    staff.locator("#first_day").fill(first.isoformat())
    staff.locator("#last_day").fill((first + timedelta(days=180)).isoformat())
    staff.locator("#close_day").fill(deadline.isoformat())
    staff.locator("#draw_day").fill(draw.isoformat())
    staff.locator("#district").fill("")
    staff.get_by_role("button", name="Sett opp sesongen").click()
    assert "Feil: Skriv hvert postnummer med fire sifre" in staff.locator("#district-error").inner_text()
    assert staff.locator("#draw_day").input_value() == draw.isoformat()  # what was written stays
    look(staff, "season-new-error")
    staff.locator("#district").fill("3040, 3041, 3042, 3043, 3044, 3045, 3046")
    staff.get_by_role("button", name="Sett opp sesongen").click()
    staff.wait_for_url("**done=created")
    assert "Sesongen er satt opp som utkast." in staff.locator("main").inner_text()
    look(staff, "season-created")
    staff.get_by_role("button", name="Åpne for søknader").click()
    staff.wait_for_url("**done=phase")

    resident = new_page(chromium, site)
    browser.sign_in_at(resident, sign_in_path(site["db"], "amina@example.no"))
    resident.get_by_role("link", name="Pallekarmer", exact=True).click()
    section = resident.locator("section", has=resident.get_by_role("heading", name="Hagesesongen i nettleseren"))
    said = section.inner_text()
    assert "Siste søknadsdag er" in said and "Pallekarmene trekkes" in said and "Innenfor hver gruppe" in said
    look(resident, "garden-what-next", english=True)
    section.get_by_label("Gateadresse").fill("Konnerudgata 20")
    section.get_by_label("Postnummer").fill("3032")
    section.get_by_role("button", name="Søk om pallekarm").click()
    warning = resident.locator("#outside-warning")
    assert "Postnummeret ditt, 3032, er utenfor bydelen." in warning.inner_text()
    assert resident.get_by_label("Gateadresse").input_value() == "Konnerudgata 20"
    fits(resident, "garden-outside-warning-nb-390")
    resident.get_by_label("Jeg forstår at jeg trekkes etter husstandene i bydelen").check()
    resident.get_by_role("button", name="Søk om pallekarm").click()
    resident.wait_for_url("**/garden?done=apply")
    main = resident.locator("main").inner_text()
    assert "Søknaden din er mottatt." in main
    assert "Postnummeret ditt er utenfor bydelen, så du trekkes etter husstandene i bydelen." in main
    look(resident, "garden-applied-outside", both_widths=False)
    resident.goto("/garden?lang=ar")
    assert resident.locator("html").get_attribute("dir") == "rtl"
    fits(resident, "garden-applied-outside-ar-390")
    resident.goto("/garden?lang=nb")
