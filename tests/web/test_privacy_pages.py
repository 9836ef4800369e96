"""The privacy page says the periods the retention code keeps to; the profile offers the export and erasure, asked first."""

from __future__ import annotations

from dataclasses import replace

import pytest

from people.store import Person
from tests import builders
from tests.web.test_pages import post_form, text_of


@pytest.fixture
async def alice(db):
    return await builders.person(db, "alice@example.no", name="Alice")


async def test_the_privacy_page_says_what_is_kept_for_how_long_in_the_readers_language(client):
    page = await client.get("/privacy?lang=en")
    assert page.status_code == 200
    assert "How we handle your data" in page.text
    assert "If you have not signed in for 3 years, we email you." in page.text and "within 30 days after that" in page.text
    norsk = await client.get("/privacy?lang=nb")
    assert "Slik behandler vi opplysningene dine" in norsk.text and "på 3 år" in norsk.text


async def test_the_periods_on_the_page_follow_the_settings_retention_uses(app, client, settings):
    app.state.settings = replace(settings, inactive_after_days=400, erase_after_warning_days=1, mail_kept_days=30)
    page = await client.get("/privacy?lang=en")
    assert "If you have not signed in for 400 days" in page.text and "within one day after that" in page.text
    assert "deleted 30 days after they were sent" in page.text


async def test_every_page_links_to_the_privacy_page_and_the_profile_offers_the_export_and_erasure(client, alice):
    assert 'href="/privacy"' in (await client.get("/")).text
    profile = await client.get("/my/profile?lang=en", headers=alice[1])
    assert 'href="/api/v1/me/export"' in profile.text and 'href="/my/erase"' in profile.text and 'href="/privacy"' in profile.text


async def test_erasing_my_account_asks_first_and_then_signs_me_out_for_good(client, db, alice):
    asked = await client.get("/my/erase?lang=en", headers=alice[1])
    assert asked.status_code == 200 and "This cannot be undone." in asked.text and 'href="/api/v1/me/export"' in asked.text
    async with db.read() as s:
        assert (await s.get(Person, alice[0])).erased_at is None  # asking changed nothing
    done = await post_form(client, "/my/erase?lang=en", {}, alice[1])
    assert done.status_code == 200 and "Your account is erased" in done.text
    async with db.read() as s:
        assert (await s.get(Person, alice[0])).email == f"erased-{alice[0]}@invalid"
    assert (await client.get("/my/profile", headers=alice[1], follow_redirects=False)).status_code == 303


async def test_the_erasure_page_says_why_when_loans_are_out(client, db, alice):
    staff = await builders.person(db, "staff@knutepunkt.no", staff=True)
    projector = await builders.item(db, "projektor", stock=1)
    lent = await client.post(
        "/api/v1/bookings", json={"resource_id": projector, "start": "2026-11-23T12:00:00+01:00", "end": "2026-11-24T12:00:00+01:00"},
        headers=alice[1],
    )  # fmt: skip
    assert (await client.post(f"/api/v1/bookings/{lent.json()['id']}/check-out", json={}, headers=staff[1])).status_code == 200
    refused = await post_form(client, "/my/erase?lang=en", {}, alice[1])
    assert refused.status_code == 409
    assert "Return what you have borrowed first" in text_of(refused.text, "form-error")
