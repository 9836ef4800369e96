"""The invitation mail as a real SMTP server receives it: in the invitee's language, naming no other member."""

from __future__ import annotations

import re

from config.servers import free_port
from tests import builders
from tests.e2e.test_mail import drain, smtp_server

ORGNR = "974760673"


async def test_the_invitation_mail_is_in_the_invitees_language_or_bokmal_and_names_no_member(client, db, settings, clock):
    alice_id, alice = await builders.person(db, "alice@example.no", name="Alice Ås")
    _, bob = await builders.person(db, "bob@example.no", name="Bob Berg")
    assert (await client.patch("/api/v1/me", json={"language": "en"}, headers=bob)).status_code == 200
    club = await builders.association(db, "Strømsø Sjakklubb", ORGNR, {alice_id: "admin"})
    for address in ("bob@example.no", "ny@example.no"):
        invited = await client.post(f"/api/v1/associations/{club}/members", json={"email": address}, headers=alice)
        assert invited.status_code == 202, invited.text
    port = free_port()
    with smtp_server(port) as inbox:
        assert (await drain(db, settings, port, clock())).sent == 2
    by_recipient = {m["To"].addresses[0].addr_spec: m for m in inbox.messages}
    english, bokmal = by_recipient["bob@example.no"], by_recipient["ny@example.no"]
    assert english["Content-Language"] == "en" and english["Subject"] == "Invitation to join Strømsø Sjakklubb"
    assert bokmal["Content-Language"] == "nb" and bokmal["Subject"] == "Invitasjon til å bli med i Strømsø Sjakklubb"
    for message in (english, bokmal):
        text = message.get_body(("plain",)).get_content() + message.get_body(("html",)).get_content()
        assert re.search(r"http://127\.0\.0\.1:8000/invitations/[\w-]+", text)  # the page, not the API
        assert "Alice" not in text and "alice@example.no" not in text  # not even the admin who invited
    assert "Bob" not in bokmal.get_body(("plain",)).get_content()


async def test_the_link_in_the_invitation_mail_opens_a_page_where_the_invitee_accepts(client, db, settings, clock):
    alice_id, alice = await builders.person(db, "alice@example.no", name="Alice Ås")
    _, bob = await builders.person(db, "bob@example.no", name="Bob Berg")
    club = await builders.association(db, "Strømsø Sjakklubb", ORGNR, {alice_id: "admin"})
    assert (await client.post(f"/api/v1/associations/{club}/members", json={"email": "bob@example.no"}, headers=alice)).status_code == 202
    port = free_port()
    with smtp_server(port) as inbox:
        await drain(db, settings, port, clock())
    link = re.search(r"http://127\.0\.0\.1:8000(/invitations/[\w-]+)", inbox.messages[0].get_body(("plain",)).get_content()).group(1)
    page = await client.get(link, headers=bob)
    assert page.status_code == 200 and "Strømsø Sjakklubb inviterer deg til å bli medlem i foreningen." in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    accepted = await client.post(f"{link}/accept", data={"csrf_token": token}, headers=bob, follow_redirects=False)
    assert accepted.status_code == 303 and accepted.headers["location"] == f"/associations/{club}?done=joined"
    members = (await client.get(f"/api/v1/associations/{club}/members", headers=alice)).json()["items"]
    assert "bob@example.no" in [m["email"] for m in members]
