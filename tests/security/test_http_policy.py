"""Every answer carries the security headers; an API write signed only by the session cookie must be same-site JSON."""

from __future__ import annotations

import dataclasses
import re

import pytest
from litestar.testing import AsyncTestClient

from people import service as people
from tests import builders
from tests.api.test_bookings import MONDAY_EVENING, mine

EPOCH = builders.EPOCH


@pytest.fixture
async def session(db, alice) -> str:
    """Alice's browser session: the cookie a page sign-in sets."""
    return await people.issue_credential(db, "alice@example.no", "session", now=EPOCH)


def headers_of(response) -> dict[str, str]:
    return {k.lower(): v for k, v in response.headers.items()}


@pytest.mark.parametrize("path", ["/", "/api/v1/resources", "/calendar/resources/1.ics", "/api/v1/nothing-here", "/healthz"])
async def test_pages_api_answers_and_feeds_carry_the_security_headers(client, room_id, path):
    headers = headers_of(await client.get(path))
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "script-src" not in headers["content-security-policy"]  # default-src 'none': no script at all
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] in ("strict-origin-when-cross-origin", "no-referrer")  # a feed's own is stricter
    assert "strict-transport-security" not in headers  # served over plain http here


async def test_a_site_served_over_https_asks_browsers_to_keep_to_https(client, app):
    kept = app.state.settings
    app.state.settings = dataclasses.replace(kept, base_url="https://booking.drammen.kommune.no")
    try:
        headers = headers_of(await client.get("/"))
    finally:
        app.state.settings = kept
    assert headers["strict-transport-security"].startswith("max-age=")


async def test_a_plain_text_booking_posted_with_the_session_cookie_is_refused_and_books_nothing(client, alice, room_id, session):
    client.cookies.set("allmenning_session", session)
    body = f'{{"resource_id": {room_id}, "start": "{MONDAY_EVENING["start"]}", "end": "{MONDAY_EVENING["end"]}"}}'
    refused = await client.post("/api/v1/bookings", content=body, headers={"content-type": "text/plain"})
    assert refused.status_code == 403 and refused.json()["code"] == "cross_site_request"
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "frame-ancestors 'none'" in refused.headers["content-security-policy"]  # a refusal is an answer like any other
    assert await mine(client, alice[1]) == []


async def test_a_form_posted_from_another_site_with_the_session_cookie_makes_no_token(client, alice, session):
    before = (await client.get("/api/v1/me/tokens", headers=alice[1])).json()["items"]
    client.cookies.set("allmenning_session", session)
    refused = await client.post(
        "/api/v1/me/tokens",
        content="label=x",
        headers={"content-type": "application/x-www-form-urlencoded", "origin": "https://evil.example"},
    )
    assert refused.status_code == 403 and refused.json()["code"] == "cross_site_request"
    assert (await client.get("/api/v1/me/tokens")).json()["items"] == before


async def test_json_from_another_origin_with_the_session_cookie_is_refused(client, room_id, session):
    client.cookies.set("allmenning_session", session)
    refused = await client.post(
        "/api/v1/bookings", json={"resource_id": room_id, **MONDAY_EVENING}, headers={"origin": "https://evil.example"}
    )
    assert refused.status_code == 403 and refused.json()["code"] == "cross_site_request"


async def test_same_origin_json_with_the_session_cookie_books(client, alice, room_id, session):
    client.cookies.set("allmenning_session", session)
    booked = await client.post(
        "/api/v1/bookings", json={"resource_id": room_id, **MONDAY_EVENING}, headers={"origin": str(client.base_url)}
    )
    assert booked.status_code == 201, booked.text
    assert len(await mine(client, alice[1])) == 1


async def test_a_bearer_token_is_not_asked_where_the_request_comes_from(client, alice, room_id):
    booked = await client.post(
        "/api/v1/bookings", json={"resource_id": room_id, **MONDAY_EVENING}, headers={**alice[1], "origin": "https://script.example"}
    )
    assert booked.status_code == 201, booked.text


async def test_a_session_begun_over_https_gets_a_secure_cookie(app, settings, db, clock):
    app.state.settings, app.state.clock = settings, clock
    await builders.person(db, "ola@example.no")
    link = await people.create_signin_link(db, settings, "ola@example.no", now=clock())
    async with AsyncTestClient(app=app, base_url="https://testserver.local") as https:
        page = await https.get(link.split("8000", 1)[1], follow_redirects=False)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        token = link.split("token=", 1)[1]
        verified = await https.post("/auth/verify", data={"token": token, "csrf_token": csrf}, follow_redirects=False)
    assert verified.status_code == 303
    assert "secure" in verified.headers["set-cookie"].lower()
    assert verified.headers["strict-transport-security"].startswith("max-age=")


async def test_a_form_token_planted_with_its_cookie_from_a_neighbouring_site_is_refused_for_a_signed_in_person(
    client, alice, room_id, session
):
    client.cookies.set("allmenning_session", session)
    client.cookies.set("allmenning_csrf", "planted-by-a-neighbour")
    form = {"date": "2026-11-24", "start": "18:00", "end": "20:00", "title": "Styremøte", "csrf_token": "planted-by-a-neighbour"}
    refused = await client.post(f"/resources/{room_id}/book", data=form, follow_redirects=False)
    assert refused.status_code == 403
    assert await mine(client, alice[1]) == []


async def test_the_form_token_a_page_gave_a_signed_in_person_is_accepted(client, alice, room_id, session):
    client.cookies.set("allmenning_session", session)
    page = (await client.get(f"/resources/{room_id}/book")).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"date": "2026-11-24", "start": "18:00", "end": "20:00", "title": "Styremøte", "csrf_token": token}
    sent = await client.post(f"/resources/{room_id}/book", data=form, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    assert len(await mine(client, alice[1])) == 1
