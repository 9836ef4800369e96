"""For the browser journeys: one real server with the seeded people per test module, and Debian's Chromium."""

from __future__ import annotations

import pytest

from config.servers import running_servers
from tests.e2e import browser


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    browser.require_chromium()
    folder = tmp_path_factory.mktemp("site")
    url = f"sqlite+aiosqlite:///{folder / 'allmenning.db'}"
    browser.run(browser.seed_people(url))
    with running_servers(url, 1, folder) as (base,):
        yield {"base": base, "db": url, "mail": folder / "mail0"}


@pytest.fixture(scope="module")
def chromium(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(browser.CHROMIUM), args=browser.CHROMIUM_ARGS)
        yield launched
        launched.close()
