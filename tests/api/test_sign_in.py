"""Sign-in as an open door, not an open relay: rate limits, no stranger's name in mail, no person before the link is
followed, one live link per address, opening a link uses nothing, and an SMTP outage delays the mail but loses nothing."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

from sqlalchemy import select

from config import cli
from config.servers import free_port
from people import service as people
from people.store import Person
from tests import builders
from tests.api.test_people import assert_link_refused, follow, link_in, mails_in
from tests.e2e.test_mail import smtp_server


async def ask(client, address: str, **headers):
    return await client.post("/api/v1/auth/sign-in", json={"email": address}, headers=headers)


async def persons(db, address: str) -> list[Person]:
    async with db.read() as s:
        return list((await s.execute(select(Person).where(Person.email == address))).scalars())


async def test_the_sixth_sign_in_for_one_address_in_fifteen_minutes_gets_429_and_sends_no_mail(client, settings, clock):
    for _ in range(5):
        assert (await ask(client, "ola@example.no")).status_code == 202
    refused = await ask(client, "Ola@Example.no")
    assert refused.status_code == 429 and refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "too_many_requests"
    assert 1 <= int(refused.headers["retry-after"]) <= 15 * 60
    assert len(mails_in(settings.mail_dir)) == 5
    assert (await ask(client, "kari@example.no")).status_code == 202  # another address is not held up
    clock.now += timedelta(minutes=15)
    assert (await ask(client, "ola@example.no")).status_code == 202  # a new window


async def test_the_twenty_first_sign_in_from_one_client_in_fifteen_minutes_gets_429(client, settings):
    for i in range(20):
        assert (await ask(client, f"p{i}@example.no")).status_code == 202
    refused = await ask(client, "p20@example.no")
    assert refused.status_code == 429 and "retry-after" in refused.headers
    assert len(mails_in(settings.mail_dir)) == 20


async def test_the_sign_in_form_answers_429_with_a_sentence_and_retry_after(client, settings):
    for _ in range(5):
        await ask(client, "ola@example.no")
    page = await client.get("/sign-in")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    refused = await client.post("/sign-in", data={"email": "ola@example.no", "csrf_token": csrf}, follow_redirects=False)
    assert refused.status_code == 429 and "retry-after" in refused.headers
    assert "for mange innloggingslenker" in refused.text
    assert len(mails_in(settings.mail_dir)) == 5


async def test_a_stranger_chosen_name_never_appears_in_a_mail(client, settings, db):
    chosen = "Vinneren av iPhone, klikk evil.example"
    named = await client.post("/api/v1/auth/sign-in", json={"email": "ola@example.no", "name": chosen})
    assert named.status_code in (400, 422)
    assert (await ask(client, "ola@example.no")).status_code == 202
    await follow(client, link_in(mails_in(settings.mail_dir)[-1]))
    assert all(chosen not in m.get_content() and "evil" not in m.get_content() for m in mails_in(settings.mail_dir))
    assert (await persons(db, "ola@example.no"))[0].name == ""


async def test_no_person_row_exists_until_the_link_is_followed(client, settings, db):
    assert (await ask(client, "ny@example.no")).status_code == 202
    link = link_in(mails_in(settings.mail_dir)[-1])
    assert await persons(db, "ny@example.no") == []
    assert (await client.get(link)).status_code == 200  # opening the page is not following it
    assert await persons(db, "ny@example.no") == []
    assert (await follow(client, link)).status_code == 303
    assert len(await persons(db, "ny@example.no")) == 1


async def test_a_person_who_joins_by_an_english_link_gets_english(client, settings, db):
    await client.post("/api/v1/auth/sign-in", json={"email": "amira@example.no", "language": "en"})
    await follow(client, link_in(mails_in(settings.mail_dir)[-1]))
    assert (await persons(db, "amira@example.no"))[0].language == "en"


async def test_a_newer_link_makes_the_older_one_refused(client, settings, db, clock):
    await ask(client, "ola@example.no")
    older = link_in(mails_in(settings.mail_dir)[-1])
    await ask(client, "ola@example.no")
    newer = link_in(mails_in(settings.mail_dir)[-1])
    assert_link_refused(await follow(client, older))
    assert (await follow(client, newer)).status_code == 303
    # The operator's link for the person replaces the emailed one as well.
    await ask(client, "ola@example.no")
    emailed = link_in(mails_in(settings.mail_dir)[-1])
    await people.create_signin_link(db, settings, "ola@example.no", now=clock.now)
    assert_link_refused(await follow(client, emailed))


async def test_opening_a_sign_in_link_sets_no_cookie_and_leaves_it_usable_and_the_button_signs_in(client, settings):
    await ask(client, "ola@example.no")
    link = link_in(mails_in(settings.mail_dir)[-1])
    for _ in range(3):  # a mail scanner, a preview, the person
        opened = await client.get(link, follow_redirects=False)
        assert opened.status_code == 200 and "allmenning_session" not in opened.headers.get("set-cookie", "")
        assert '<form method="post" action="/auth/verify">' in opened.text and "<script" not in opened.text
        assert opened.headers["cache-control"] == "no-store"
    assert (await client.get("/api/v1/me")).status_code == 401
    pressed = await follow(client, link)
    assert pressed.status_code == 303 and "allmenning_session" in pressed.headers["set-cookie"]
    assert (await client.get("/api/v1/me")).json()["email"] == "ola@example.no"


async def test_the_verify_page_speaks_english_when_asked(client, settings):
    await ask(client, "ola@example.no")
    link = link_in(mails_in(settings.mail_dir)[-1])
    assert "Press the button to sign in" in (await client.get(link + "&lang=en")).text


async def test_pressing_the_button_without_the_forms_token_signs_no_one_in(client, settings):
    await ask(client, "ola@example.no")
    token = link_in(mails_in(settings.mail_dir)[-1]).split("token=", 1)[1]
    refused = await client.post("/auth/verify", data={"token": token}, follow_redirects=False)
    assert refused.status_code == 403 and "allmenning_session" not in refused.headers.get("set-cookie", "")
    assert (await follow(client, f"/auth/verify?token={token}")).status_code == 303  # still usable


async def test_sign_in_during_an_smtp_outage_answers_202_and_the_mail_goes_out_once_smtp_is_back(app, client, settings, db, clock):
    port = free_port()  # nothing listens here: the mail server is down
    down = dataclasses.replace(settings, smtp_url=f"smtp://127.0.0.1:{port}")
    app.state.settings = down
    answered = await ask(client, "ola@example.no")
    assert answered.status_code == 202 and answered.json() == {"status": "queued"}
    assert await people.resend_signin_mails(db, down, now=clock.now + timedelta(seconds=20)) == 0  # still down
    with smtp_server(port) as inbox:
        assert await people.resend_signin_mails(db, down, now=clock.now + timedelta(seconds=21)) == 0  # backing off
        assert await people.resend_signin_mails(db, down, now=clock.now + timedelta(minutes=1)) == 1
        assert await people.resend_signin_mails(db, down, now=clock.now + timedelta(minutes=10)) == 0  # once
    [mail] = inbox.messages
    assert mail["To"] == "ola@example.no"
    clock.now += timedelta(minutes=2)
    assert (await follow(client, link_in(mail))).status_code == 303


async def test_the_sign_in_form_says_plainly_when_the_mail_is_delayed(app, client, settings):
    app.state.settings = dataclasses.replace(settings, smtp_url=f"smtp://127.0.0.1:{free_port()}")
    page = await client.get("/sign-in")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    sent = await client.post("/sign-in", data={"email": "ola@example.no", "csrf_token": csrf}, follow_redirects=True)
    assert sent.status_code == 200 and "kan komme noen minutter for sent" in sent.text


async def test_serve_on_a_seeded_database_prints_no_link_and_users_link_prints_one(settings, db):
    first = await cli.prepare(settings)
    assert "/auth/verify?token=" in first
    again = await cli.prepare(settings)
    assert "/auth/verify?token=" not in again and "allmenning users link" in again
    await builders.person(db, "stine@knutepunkt.no", staff=True)
    minted = await cli.sign_in_link(settings, "stine@knutepunkt.no")
    assert re.search(r"/auth/verify\?token=[\w-]+", minted)
