"""Headless Chromium for the page journeys: the Debian browser through Playwright, axe-core and screenshots."""

from __future__ import annotations

import email
import email.policy
import importlib.util
import os
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from config import migrate
from infra.database import Db
from infra.settings import TIMEZONE, Settings
from infra.time import is_public_holiday
from people import associations
from people import service as people
from resources import service as catalogue
from tests.conftest import run_aside

CHROMIUM = Path("/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("ALLMENNING_REQUIRE_BROWSER") == "1"
SCREENSHOTS = Path(__file__).parent / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}, "resultTypes": ["violations"]}


def require_chromium() -> None:
    """Skip with a visible reason where no browser is installed; fail instead where CI demands one."""
    reason = None
    if not CHROMIUM.exists():
        reason = f"no Chromium at {CHROMIUM} (apt-get install -y chromium)"
    elif missing := [m for m in ("playwright", "axe_playwright_python") if importlib.util.find_spec(m) is None]:
        reason = f"{', '.join(missing)} not installed (pip install -e '.[dev]')"
    if reason and REQUIRE_BROWSER:
        pytest.fail(reason + " (ALLMENNING_REQUIRE_BROWSER=1)")
    if reason:
        pytest.skip(reason)


def now() -> datetime:
    return datetime.now(UTC)


def next_weekday(weekday: int, *, at_least: int = 2) -> date:
    """A coming day of the week far enough ahead for every lead time, in Oslo."""
    day = now().astimezone(TIMEZONE).date() + timedelta(days=at_least)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def weekly_dates_open(weekday: int, weeks: int, *, at_least: int = 2) -> list[date]:
    """The first run of `weeks` coming days of the week, a week apart, none a public holiday (the places close then)."""
    first = next_weekday(weekday, at_least=at_least)
    while any(is_public_holiday(first + timedelta(weeks=n)) for n in range(weeks)):
        first += timedelta(weeks=1)
    return [first + timedelta(weeks=n) for n in range(weeks)]


def run(coroutine):
    # Playwright's sync API keeps an event loop running in this thread: database work runs on a loop of its own.
    return run_aside(coroutine)


async def with_db(url: str, work):
    db = Db(url)
    try:
        return await work(db)
    finally:
        await db.dispose()


async def seed_people(url: str) -> None:
    """The people of the journeys; the server seeds the catalogue itself on its first start."""
    await migrate.upgrade(url)

    async def work(db: Db) -> None:
        await people.add_person(db, "stine@knutepunkt.no", name="Stine Staff", staff=True, now=now())
        await people.add_person(db, "amina@example.no", name="Amina", now=now())
        await people.add_person(db, "lars@example.no", name="Lars", now=now())
        await associations.add_association(db, "Strømsø sjakklubb", "914778271", admin_email="lars@example.no", now=now())

    await with_db(url, work)


def sign_in_path(url: str, email: str) -> str:
    """The path of a one-time sign-in link, as the operator's tool makes it."""

    async def work(db: Db) -> str:
        link = await people.create_signin_link(db, Settings.from_env(), email, now=now(), lifetime=timedelta(minutes=30))
        return link[link.index("/auth/verify") :]

    return run(with_db(url, work))


def sign_in_at(page, path: str) -> None:
    """Follow a sign-in link as a person does: it opens a page, and pressing its button signs in (GET uses nothing)."""
    page.goto(path)
    page.locator("main").get_by_role("button").click()
    page.wait_for_url(lambda url: "/auth/verify" not in url)


def resource_id(url: str, key: str) -> int:
    async def work(db: Db) -> int:
        return next(r.id for r in await catalogue.list_resources(db) if r.key == key)

    return run(with_db(url, work))


def link_in_mail(mail_dir: Path) -> str:
    """The link in the newest mail that carries one."""
    for path in sorted(mail_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True):
        body = email.message_from_bytes(path.read_bytes(), policy=email.policy.default).get_body().get_content()
        if found := re.search(r"/auth/verify\?token=[\w-]+", body):
            return found.group(0)
    raise AssertionError(f"no sign-in mail in {mail_dir}")


def check_page(page, name: str, *, axe: bool = True) -> None:
    """Look at the page as a person would (a screenshot) and as axe-core does (WCAG 2.1 A and AA)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    if axe:
        from axe_playwright_python.sync_playwright import Axe

        results = Axe().run(page, options=WCAG_21_AA)
        assert results.violations_count == 0, f"{name}: {results.generate_report()}"
