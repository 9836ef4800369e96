"""The list of languages in Chromium on a 390-pixel phone: each language one tap away, Arabic laid out right to left,
nothing wider than the screen, and axe finds nothing, in every language."""

from __future__ import annotations

import pytest

from infra.i18n import LANGUAGES, NAMES
from tests.e2e.browser import check_page
from tests.e2e.test_browser import new_page


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_front_page_fits_a_phone_and_passes_axe_in_every_language(chromium, site, language):
    page = new_page(chromium, site)
    page.goto(f"/?lang={language}")
    assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else None)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    current = page.locator('.languages a[aria-current="true"]')
    assert (current.count(), current.inner_text()) == (1, NAMES[language])
    check_page(page, f"languages-front-{language}")


def test_every_language_is_one_tap_away_and_the_arabic_list_reads_from_the_right(chromium, site):
    page = new_page(chromium, site)
    page.goto("/?lang=ar")
    places = [page.get_by_role("link", name=name, exact=True).bounding_box() for name in NAMES.values()]
    assert all(box["height"] >= 24 for box in places)  # a target big enough to tap (WCAG 2.2's 24 px)
    assert places[0]["x"] > places[1]["x"]  # bokmål first, at the right, as Arabic reads
    assert max(box["x"] + box["width"] for box in places) <= 390
    page.get_by_role("link", name="Polski", exact=True).click()
    assert page.locator("html").get_attribute("lang") == "pl" and page.locator("html").get_attribute("dir") is None
    assert page.get_by_role("link", name="Przejdź do treści").count() == 1
