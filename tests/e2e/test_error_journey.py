"""The error pages in headless Chromium: a used sign-in link leads to a new link that signs in, and an unknown page
leads back to the front page; each page checked with axe-core in three languages, on a phone and a wide screen."""

from __future__ import annotations

import pytest

from tests.e2e import browser
from tests.e2e.browser import check_page
from tests.e2e.test_browser import new_page, sign_in_by_email

pytestmark = pytest.mark.e2e


def fits_the_screen(page, name: str) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{name}: the page is {width[0]} px wide on a screen of {width[1]} px"


def look_in_every_language(page, path: str, name: str) -> None:
    """The page as axe-core sees it and as wide as the screen, in bokmål, English and Arabic (right to left)."""
    for language in ("nb", "en", "ar"):
        page.goto(f"{path}{'&' if '?' in path else '?'}lang={language}")
        assert page.locator("html").get_attribute("lang") == language
        check_page(page, f"{name}-{language}")
        fits_the_screen(page, f"{name}-{language}")
    page.goto(f"{path}{'&' if '?' in path else '?'}lang=nb")


def test_a_used_sign_in_link_leads_to_a_new_link_which_signs_in(chromium, site):
    first = new_page(chromium, site)
    sign_in_by_email(first, site, "lars@example.no", check=False)
    used = browser.link_in_mail(site["mail"])
    first.context.close()
    for phone in (True, False):  # later, in another browser (the first one's session would sign in anyway)
        page = new_page(chromium, site, phone=phone)
        look_in_every_language(page, used, f"used-sign-in-link-{'phone' if phone else 'wide'}")
        page.context.close()
    page = new_page(chromium, site)
    page.goto(used)
    assert page.get_by_role("heading", level=1).inner_text() == "Denne innloggingslenken virker ikke lenger"
    assert "lars@example.no" not in page.content()
    page.get_by_role("button", name="Send meg en ny lenke").click()
    page.wait_for_url("**/sign-in/sent")
    fresh = browser.link_in_mail(site["mail"])
    assert fresh != used
    browser.sign_in_at(page, fresh)
    assert page.url == site["base"] + "/"
    assert page.get_by_role("button", name="Logg ut").is_visible()


def test_an_unknown_page_says_so_and_leads_back_to_the_front_page(chromium, site):
    for phone in (True, False):
        page = new_page(chromium, site, phone=phone)
        look_in_every_language(page, "/no/such/page", f"unknown-page-{'phone' if phone else 'wide'}")
        page.context.close()
    page = new_page(chromium, site)
    answer = page.goto("/no/such/page")
    assert answer.status == 404 and page.get_by_role("heading", level=1).inner_text() == "Fant ikke siden"
    page.get_by_role("link", name="Gå til forsiden").click()
    page.wait_for_url(site["base"] + "/")
