"""Errors a browser meets are pages in the reader's language with a way on; the API keeps its problem details."""

from __future__ import annotations

import dataclasses
import logging
import re
from datetime import timedelta

import pytest

from booking.seasons import service as seasons
from config.servers import free_port
from people.actor import OPERATOR, Actor
from resources import service as catalogue
from tests import builders
from tests.api.test_people import follow, link_in
from tests.e2e.test_mail import smtp_server
from tests.web.test_pages import post_form
from tests.web.test_season_pages import resident, season, staff  # noqa: F401  (fixtures)

BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}  # as Chromium asks
PAGE = "text/html"


def main_of(html: str) -> str:
    return html[html.index('<main id="main"') : html.index("</main>")]


# ---------------------------------------------------------------- unknown pages and the API


async def test_an_unknown_page_is_a_404_page_in_bokmal_with_a_way_to_the_front_page(client):
    response = await client.get("/no/such/page", headers=BROWSER)
    assert response.status_code == 404 and response.headers["content-type"].startswith(PAGE)
    assert '<html lang="nb">' in response.text
    main = main_of(response.text)
    assert "<h1>Fant ikke siden</h1>" in main and "Vi fant ikke denne siden." in main
    assert '<a href="/">Gå til forsiden</a>' in main


async def test_an_unknown_page_speaks_the_language_the_reader_chose(client):
    response = await client.get("/no/such/page?lang=en", headers=BROWSER)
    assert response.status_code == 404 and '<html lang="en">' in response.text
    assert "<h1>Page not found</h1>" in response.text and '<a href="/">Go to the front page</a>' in response.text
    client.cookies.set("lang", "en")
    assert "<h1>Page not found</h1>" in (await client.get("/elsewhere", headers=BROWSER)).text


async def test_an_unknown_api_path_is_still_problem_details_even_for_a_browser(client):
    for headers in (BROWSER, {}):
        response = await client.get("/api/v1/no-such-thing", headers=headers)
        assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "not_found"


async def test_a_client_that_does_not_ask_for_html_keeps_getting_problem_details(client):
    response = await client.get("/no/such/page", headers={"accept": "application/json"})
    assert response.status_code == 404 and response.json()["code"] == "not_found"


async def test_a_thing_the_services_cannot_find_is_a_404_page_too(client):
    response = await client.get("/resources/999999", headers=BROWSER)
    assert response.status_code == 404 and "<h1>Fant ikke siden</h1>" in response.text


async def test_a_method_a_page_does_not_take_is_a_405_page_that_still_says_which_it_takes(client):
    response = await client.delete("/sign-in", headers=BROWSER)
    assert response.status_code == 405 and response.headers["content-type"].startswith(PAGE)
    assert "GET" in response.headers["allow"] and "Siden kan ikke gjøre det du ba om." in response.text


async def test_a_crash_is_a_polite_page_that_tells_nothing_of_the_internals_and_is_logged(client, monkeypatch, caplog):
    async def broken(db):
        raise RuntimeError("secret-internal-detail in /srv/allmenning")

    monkeypatch.setattr(catalogue, "list_locations", broken)
    with caplog.at_level(logging.ERROR, logger="allmenning"):
        response = await client.get("/", headers=BROWSER)
    assert response.status_code == 500 and response.headers["content-type"].startswith(PAGE)
    assert "<h1>Noe gikk galt</h1>" in response.text and "Prøv igjen om litt." in response.text
    assert "secret-internal-detail" not in response.text and "Traceback" not in response.text
    assert "secret-internal-detail" in caplog.text
    api = await client.get("/api/v1/locations", headers=BROWSER)
    assert api.status_code == 500 and api.json()["code"] == "internal_error" and "secret" not in api.text


# ---------------------------------------------------------------- sign-in links that no longer work


def form_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'name="(csrf_token|token)" value="([^"]+)"', html))


async def ask_on_the_page(client, address: str) -> None:
    sent = await post_form(client, "/sign-in", {"email": address})
    assert (sent.status_code, sent.headers["location"]) == (303, "/sign-in/sent")


async def press_send_me_a_new_link(client, page):
    assert '<form method="post" action="/sign-in/again">' in page.text
    return await client.post("/sign-in/again", data=form_fields(page.text), follow_redirects=False)


@pytest.fixture
def inbox(app, settings):
    """A real SMTP server the app mails its sign-in links to."""
    port = free_port()
    app.state.settings = dataclasses.replace(settings, smtp_url=f"smtp://127.0.0.1:{port}")
    with smtp_server(port) as received:
        yield received


async def test_a_used_sign_in_link_offers_a_new_link_to_the_same_address_which_signs_in(client, inbox):
    await ask_on_the_page(client, "ola@example.no")
    used = link_in(inbox.messages[0])
    assert (await follow(client, used)).status_code == 303
    client.cookies.clear()  # later, in another browser
    page = await client.get(used, headers=BROWSER)
    assert page.status_code == 400 and page.headers["content-type"].startswith(PAGE)
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
    main = main_of(page.text)
    assert "<h1>Denne innloggingslenken virker ikke lenger</h1>" in main and "Send meg en ny lenke" in main
    assert "ola@example.no" not in page.text  # whoever holds an old link is not told whose it was
    sent = await press_send_me_a_new_link(client, page)
    assert (sent.status_code, sent.headers["location"]) == (303, "/sign-in/sent")
    [_, again] = inbox.messages
    assert again["To"] == "ola@example.no" and link_in(again) != used
    signed_in = await follow(client, link_in(again))
    assert signed_in.status_code == 303 and "allmenning_session" in signed_in.headers["set-cookie"]
    assert (await client.get("/api/v1/me")).json()["email"] == "ola@example.no"


async def test_an_expired_sign_in_link_offers_a_new_one_in_the_readers_language(client, clock, inbox):
    await ask_on_the_page(client, "ola@example.no")
    clock.now += timedelta(minutes=31)
    page = await client.get(link_in(inbox.messages[0]) + "&lang=en", headers=BROWSER)
    assert page.status_code == 400 and '<html lang="en">' in page.text
    assert "<h1>This sign-in link does not work any more</h1>" in page.text
    assert "We send it to the same email address as the old link." in page.text
    assert (await press_send_me_a_new_link(client, page)).headers["location"] == "/sign-in/sent"
    assert [m["To"] for m in inbox.messages] == ["ola@example.no", "ola@example.no"]
    assert (await follow(client, link_in(inbox.messages[1]))).status_code == 303


async def test_pressing_the_sign_in_button_of_a_link_used_a_moment_ago_shows_the_page_not_json(client, inbox):
    await ask_on_the_page(client, "ola@example.no")
    link = link_in(inbox.messages[0])
    opened = await client.get(link)
    fields = form_fields(opened.text)
    assert (await client.post("/auth/verify", data=fields, follow_redirects=False)).status_code == 303
    client.cookies.delete("allmenning_session")  # the second press left before the first one's answer came back
    twice = await client.post("/auth/verify", data=fields, follow_redirects=False, headers=BROWSER)
    assert twice.status_code == 400 and twice.headers["content-type"].startswith(PAGE)
    assert '<form method="post" action="/sign-in/again">' in twice.text


async def test_a_link_we_never_made_leads_to_the_sign_in_page_instead(client):
    page = await client.get("/auth/verify?token=made-up", headers=BROWSER)
    assert page.status_code == 400 and "/sign-in/again" not in page.text
    assert '<a href="/sign-in">Send meg en ny lenke</a>' in main_of(page.text)
    token = (await client.get("/sign-in")).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', token).group(1)
    answer = await client.post("/sign-in/again", data={"token": "made-up", "csrf_token": csrf}, follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/sign-in")


# ---------------------------------------------------------------- a refusal that crashed a staff page


async def test_staff_who_adjust_a_result_onto_a_taken_bed_are_told_why_on_the_page(client, db, resident, staff, season):  # noqa: F811
    page = f"/staff/seasons/{season}"
    neighbour = await builders.person(db, "nils@example.no", name="Nils")
    await post_form(client, f"{page}/phase", {"phase": "applications"}, staff[1], from_page=page)
    for who, street in ((resident, "Torggata 5"), (neighbour, "Elvegata 9")):
        await post_form(client, f"/garden/{season}/apply", {"street": street, "postal_code": "3044"}, who[1], from_page="/garden")
    await post_form(client, f"{page}/phase", {"phase": "allocation"}, staff[1], from_page=page)
    await post_form(client, f"{page}/preview", {"seed": "42"}, staff[1], from_page=page)
    rows = await seasons.applications(db, Actor(staff[0], "staff@example.no", "Stine", grants=OPERATOR), season)
    [holder] = [r for r in rows if r.bed_id is not None]
    [waiting] = [r for r in rows if r.bed_id is None]
    form = {"bed_id": str(holder.bed_id), "reason": "Bytter plass"}
    refused = await post_form(client, f"{page}/applications/{waiting.id}/adjust", form, staff[1], from_page=page)
    assert refused.status_code == 422, refused.text[:500]
    said = re.search(rf'id="application-{waiting.id}-error">(.*?)</p>', refused.text, re.S)
    assert said and "En annen husstand har denne pallekarmen." in said.group(1)
    assert "En annen husstand har denne pallekarmen." in refused.text[refused.text.index('role="alert"') :]
