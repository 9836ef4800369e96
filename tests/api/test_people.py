"""People through the HTTP app: sign-in links, sessions, tokens, associations and members, on both backends."""

from __future__ import annotations

import asyncio
import email
import re
from datetime import timedelta
from email.policy import default as default_policy
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from infra.outbox import Notification
from people import associations
from people import service as people
from people.actor import OPERATOR, Actor
from people.store import Person
from tests import builders

VALID_ORGNR = "974760673"
OTHER_ORGNR = "923609016"
PROBLEM = "application/problem+json"
STAFF = Actor(person_id=0, email="knutepunkt@example.no", name="Knutepunkt", grants=OPERATOR)


def assert_problem(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["code"] == code


def members_of(association_id: int, person_id: int | None = None) -> str:
    path = f"/api/v1/associations/{association_id}/members"
    return path if person_id is None else f"{path}/{person_id}"


def invitations_of(association_id: int, invitation_id: int | None = None) -> str:
    path = f"/api/v1/associations/{association_id}/invitations"
    return path if invitation_id is None else f"{path}/{invitation_id}"


async def invitation_token(db, email: str) -> str:
    """The token of the last invitation mailed to this address, read from the outbox row its mail is made of."""
    async with db.read() as s:
        person = (await s.execute(select(Person).where(Person.email == email))).scalar_one()
        query = select(Notification).where(Notification.person_id == person.id, Notification.kind == "association_invitation")
        row = (await s.execute(query.order_by(Notification.id.desc()))).scalars().first()
    return row.payload["path"].rsplit("/", 1)[-1]


async def signed_in(db, email: str) -> dict:
    token = await people.issue_credential(db, email, "api", now=builders.EPOCH)
    return {"Authorization": f"Bearer {token}"}


async def invite(client, association_id: int, email: str, auth: dict, role: str = "member"):
    response = await client.post(members_of(association_id), json={"email": email, "role": role}, headers=auth)
    assert response.status_code == 202, response.text
    return response


async def invite_and_accept(client, db, association_id: int, email: str, admin_auth: dict, invitee_auth: dict, role: str = "member"):
    await invite(client, association_id, email, admin_auth, role)
    accepted = await client.post(f"/api/v1/invitations/{await invitation_token(db, email)}/accept", headers=invitee_auth)
    assert accepted.status_code == 200, accepted.text
    return accepted


def mails_in(folder: Path) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(p.read_bytes(), policy=default_policy) for p in sorted(folder.glob("*.eml"))]


def link_in(message: email.message.EmailMessage) -> str:
    """The sign-in link as a path the test client can follow."""
    url = re.search(r"https?://\S+/auth/verify\?token=\S+", message.get_content()).group(0)
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def emailed_link(client, settings, address: str, **extra) -> str:
    response = await client.post("/api/v1/auth/sign-in", json={"email": address, **extra})
    assert response.status_code == 202, response.text
    assert response.json() == {"status": "sent"}
    return link_in(mails_in(settings.mail_dir)[-1])


async def follow(client, link: str):
    """Open the link (a page with a button; opening uses nothing) and press the button: the POST signs in."""
    page = await client.get(link, follow_redirects=False)
    if page.status_code != 200:
        return page
    assert "allmenning_session" not in page.headers.get("set-cookie", "")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
    return await client.post("/auth/verify", data={"token": token, "csrf_token": csrf}, follow_redirects=False)


def assert_link_refused(response) -> None:
    """A link that no longer signs in: the page says so (400), in the viewer's language."""
    assert response.status_code == 400, response.text
    assert "allmenning_session" not in response.headers.get("set-cookie", "")
    assert "innloggingslenken er brukt, erstattet av en nyere eller utløpt" in response.text


@pytest.fixture
async def staff(db):
    return await builders.person(db, "knutepunkt@example.no", staff=True)


@pytest.fixture
async def alice(db):
    return await builders.person(db, "alice@example.no")


@pytest.fixture
async def club(db, alice):
    """Strømsø Sjakklubb with Alice as its only admin."""
    alice_id, _ = alice
    return await builders.association(db, "Strømsø Sjakklubb", VALID_ORGNR, {alice_id: "admin"})


# ---------------------------------------------------------------- sign-in links and sessions


async def test_a_resident_signs_in_with_an_emailed_link_and_the_cookie_identifies_them(client, settings):
    link = await emailed_link(client, settings, "  Ola@Example.no ")
    [mail] = mails_in(settings.mail_dir)
    assert mail["To"] == "ola@example.no"
    assert mail["Subject"] == "Logg inn på Allmenning"
    verified = await follow(client, link)
    assert verified.status_code == 303
    assert verified.headers["location"] == "/"
    cookie = verified.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    me = await client.get("/api/v1/me")
    assert me.status_code == 200, me.text
    assert me.json()["email"] == "ola@example.no"
    assert me.json()["name"] == ""  # no one but the person names them: they write it in their profile
    assert me.json()["is_staff"] is False


async def test_the_sign_in_mail_is_in_english_for_a_person_who_chose_english(client, settings):
    await emailed_link(client, settings, "amira@example.no", language="en")
    [mail] = mails_in(settings.mail_dir)
    assert mail["Subject"] == "Sign in to Allmenning"
    assert "Follow this link" in mail.get_content()


@pytest.mark.parametrize(("language", "greeting"), [("nb", "Hei,\n\nTrykk på lenken"), ("en", "Hello,\n\nFollow this link")])
async def test_the_sign_in_mail_greets_a_person_whose_name_is_not_known_without_one_not_by_their_address(
    client, settings, language, greeting
):
    await emailed_link(client, settings, "ola@example.no", language=language)
    [mail] = mails_in(settings.mail_dir)
    assert mail.get_content().startswith(greeting) and mail.get_content().count("ola@example.no") == 0


async def test_the_sign_in_mail_greets_a_person_by_the_name_they_have_here(client, settings, db):
    await builders.person(db, "ola@example.no", name="Ola Nordmann")
    await emailed_link(client, settings, "ola@example.no")
    assert mails_in(settings.mail_dir)[0].get_content().startswith("Hei Ola Nordmann,\n\nTrykk på lenken")


async def test_switching_the_pages_language_while_signed_in_switches_the_persons_mail_language_too(client, settings, alice):
    assert '<html lang="en">' in (await client.get("/?lang=en", headers=alice[1])).text
    assert (await client.get("/api/v1/me", headers=alice[1])).json()["language"] == "en"
    await client.get("/?lang=nb", headers=alice[1])
    assert (await client.get("/api/v1/me", headers=alice[1])).json()["language"] == "nb"
    await client.get("/?lang=sv", headers=alice[1])  # not a language we speak: nothing changes
    assert (await client.get("/api/v1/me", headers=alice[1])).json()["language"] == "nb"


async def test_a_sign_in_request_does_not_change_an_existing_persons_name(client, settings, alice):
    named = await client.post("/api/v1/auth/sign-in", json={"email": "alice@example.no", "name": "Mallory"})
    assert named.status_code in (400, 422) and not mails_in(settings.mail_dir)  # a name is not taken at all
    link = await emailed_link(client, settings, "alice@example.no")
    await follow(client, link)
    assert (await client.get("/api/v1/me")).json()["name"] == "Alice"


async def test_a_sign_in_link_works_only_once(client, settings):
    link = await emailed_link(client, settings, "ola@example.no")
    assert (await follow(client, link)).status_code == 303
    client.cookies.clear()
    assert_link_refused(await client.get(link, follow_redirects=False))


async def test_a_sign_in_link_fails_after_it_expires(client, settings, clock):
    link = await emailed_link(client, settings, "ola@example.no")
    clock.now += timedelta(minutes=31)
    assert_link_refused(await follow(client, link))


async def test_a_made_up_or_missing_sign_in_token_is_refused(client):
    assert_link_refused(await client.get("/auth/verify?token=made-up", follow_redirects=False))
    assert_link_refused(await client.get("/auth/verify", follow_redirects=False))
    page = await client.get("/sign-in")  # a form token, so only the made-up token is wrong
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    for token in ("made-up", ""):
        assert_link_refused(await client.post("/auth/verify", data={"token": token, "csrf_token": csrf}, follow_redirects=False))


async def test_a_malformed_email_address_is_refused(client, settings):
    assert_problem(await client.post("/api/v1/auth/sign-in", json={"email": "not an address"}), 422, "invalid_email")
    assert not mails_in(settings.mail_dir)


async def test_signing_out_ends_the_session(client, settings):
    link = await emailed_link(client, settings, "ola@example.no")
    verified = await follow(client, link)
    session = verified.cookies["allmenning_session"]
    signed_out = await client.post("/api/v1/auth/sign-out")
    assert signed_out.status_code == 204
    assert "max-age=0" in signed_out.headers["set-cookie"].lower()
    client.cookies.clear()
    client.cookies.set("allmenning_session", session)  # a copy of the cookie kept elsewhere no longer works
    assert_problem(await client.get("/api/v1/me"), 401, "not_authenticated")


async def test_a_request_without_credentials_gets_a_401_problem(client):
    assert_problem(await client.get("/api/v1/me"), 401, "not_authenticated")
    assert_problem(await client.get("/api/v1/associations"), 401, "not_authenticated")
    assert_problem(await client.get("/api/v1/me", headers={"Authorization": "Bearer nonsense"}), 401, "not_authenticated")


# ---------------------------------------------------------------- profile and bearer tokens


async def test_a_person_updates_their_name_language_and_address(client, alice):
    _, auth = alice
    changes = {"name": "Alice Berg", "language": "en", "street": "Tordenskiolds gate 12", "postal_code": "3044", "city": "Drammen"}
    response = await client.patch("/api/v1/me", json=changes, headers=auth)
    assert response.status_code == 200, response.text
    assert {k: response.json()[k] for k in changes} == changes
    assert (await client.get("/api/v1/me", headers=auth)).json()["city"] == "Drammen"


async def test_a_postal_code_must_have_four_digits_and_the_language_be_nb_or_en(client, alice):
    _, auth = alice
    assert_problem(await client.patch("/api/v1/me", json={"postal_code": "30444"}, headers=auth), 422, "invalid_postal_code")
    assert_problem(await client.patch("/api/v1/me", json={"language": "sv"}, headers=auth), 422, "invalid_input")
    assert_problem(await client.patch("/api/v1/me", json={"email": "x@y.no"}, headers=auth), 422, "invalid_input")


async def test_a_person_creates_lists_and_revokes_a_bearer_token(client, alice):
    _, auth = alice
    created = await client.post("/api/v1/me/tokens", json={"label": "kalender-skript"}, headers=auth)
    assert created.status_code == 201, created.text
    token, token_id = created.json()["token"], created.json()["id"]
    script = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/me", headers=script)).json()["email"] == "alice@example.no"
    listed = (await client.get("/api/v1/me/tokens", headers=script)).json()["items"]
    assert "kalender-skript" in [t["label"] for t in listed]
    assert all("token" not in t for t in listed)  # shown once, at creation
    assert (await client.delete(f"/api/v1/me/tokens/{token_id}", headers=auth)).status_code == 204
    assert_problem(await client.get("/api/v1/me", headers=script), 401, "not_authenticated")
    assert token_id not in [t["id"] for t in (await client.get("/api/v1/me/tokens", headers=auth)).json()["items"]]


async def test_a_person_cannot_revoke_someone_elses_token(client, db, alice):
    _, auth = alice
    _, bob_auth = await builders.person(db, "bob@example.no")
    token_id = (await client.post("/api/v1/me/tokens", json={"label": "bob"}, headers=bob_auth)).json()["id"]
    assert_problem(await client.delete(f"/api/v1/me/tokens/{token_id}", headers=auth), 404, "token_not_found")


# ---------------------------------------------------------------- associations


async def test_staff_register_an_association_and_its_admin_sees_it(client, staff, alice):
    _, staff_auth = staff
    _, alice_auth = alice
    body = {"name": "Strømsø Sjakklubb", "orgnr": "974 760 673", "admin_email": "Alice@example.no"}
    created = await client.post("/api/v1/associations", json=body, headers=staff_auth)
    assert created.status_code == 201, created.text
    association = created.json()
    assert association["orgnr"] == VALID_ORGNR
    mine = (await client.get("/api/v1/associations", headers=alice_auth)).json()["items"]
    assert [(a["id"], a["my_role"]) for a in mine] == [(association["id"], "admin")]
    fetched = await client.get(f"/api/v1/associations/{association['id']}", headers=alice_auth)
    assert fetched.json()["name"] == "Strømsø Sjakklubb"


async def test_an_association_with_an_invalid_orgnr_is_refused(client, staff, alice):
    _, staff_auth = staff
    body = {"name": "Feil", "orgnr": "974760674", "admin_email": "alice@example.no"}
    assert_problem(await client.post("/api/v1/associations", json=body, headers=staff_auth), 422, "invalid_orgnr")


async def test_an_organisation_number_is_registered_only_once(client, staff, alice, club):
    _, staff_auth = staff
    body = {"name": "Sjakklubben igjen", "orgnr": VALID_ORGNR, "admin_email": "alice@example.no"}
    assert_problem(await client.post("/api/v1/associations", json=body, headers=staff_auth), 409, "orgnr_taken")


async def test_an_association_needs_an_admin_who_is_already_registered(client, staff):
    _, staff_auth = staff
    body = {"name": "Ny klubb", "orgnr": OTHER_ORGNR, "admin_email": "nobody@example.no"}
    assert_problem(await client.post("/api/v1/associations", json=body, headers=staff_auth), 404, "person_not_found")


async def test_only_staff_register_associations(client, alice):
    _, auth = alice
    body = {"name": "Min klubb", "orgnr": OTHER_ORGNR, "admin_email": "alice@example.no"}
    assert_problem(await client.post("/api/v1/associations", json=body, headers=auth), 403, "staff_only")


async def test_staff_see_every_association_and_others_only_their_own(client, db, staff, club):
    _, staff_auth = staff
    _, bob_auth = await builders.person(db, "bob@example.no")
    assert [a["id"] for a in (await client.get("/api/v1/associations", headers=staff_auth)).json()["items"]] == [club]
    assert (await client.get("/api/v1/associations", headers=bob_auth)).json()["items"] == []
    assert_problem(await client.get(f"/api/v1/associations/{club}", headers=bob_auth), 403, "not_a_member")


# ---------------------------------------------------------------- members


async def test_an_admin_invites_someone_new_here_who_accepts_and_becomes_a_member(client, db, alice, club):
    _, auth = alice
    await invite(client, club, "Kari@Example.no", auth)
    kari_auth = await signed_in(db, "kari@example.no")  # Kari became a resident when invited
    accepted = await client.post(f"/api/v1/invitations/{await invitation_token(db, 'kari@example.no')}/accept", headers=kari_auth)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["role"] == "member"
    members = (await client.get(members_of(club), headers=auth)).json()["items"]
    assert [(m["email"], m["role"]) for m in members] == [("alice@example.no", "admin"), ("kari@example.no", "member")]


async def test_a_person_is_added_to_an_association_only_once(client, alice, club):
    _, auth = alice
    again = await client.post(members_of(club), json={"email": "alice@example.no"}, headers=auth)
    assert_problem(again, 409, "already_member")


async def test_a_member_sees_fellow_members_but_cannot_add_members(client, db, alice, club):
    _, bob_auth = await builders.person(db, "bob@example.no")
    _, alice_auth = alice
    await invite_and_accept(client, db, club, "bob@example.no", alice_auth, bob_auth)
    members = (await client.get(members_of(club), headers=bob_auth)).json()["items"]
    assert {m["name"] for m in members} == {"Alice", "Bob"}
    assert all(m["email"] is None for m in members)  # addresses are for the admins
    refused = await client.post(members_of(club), json={"email": "eve@example.no"}, headers=bob_auth)
    assert_problem(refused, 403, "forbidden")


async def test_an_admin_promotes_a_member_and_can_then_step_down(client, db, alice, club):
    alice_id, alice_auth = alice
    bob_id, bob_auth = await builders.person(db, "bob@example.no")
    await invite_and_accept(client, db, club, "bob@example.no", alice_auth, bob_auth)
    promoted = await client.patch(members_of(club, bob_id), json={"role": "admin"}, headers=alice_auth)
    assert promoted.json()["role"] == "admin"
    stepped_down = await client.patch(members_of(club, alice_id), json={"role": "member"}, headers=alice_auth)
    assert stepped_down.status_code == 200, stepped_down.text


async def test_the_last_admin_can_neither_be_removed_nor_demoted(client, alice, club):
    alice_id, auth = alice
    assert_problem(await client.delete(members_of(club, alice_id), headers=auth), 409, "last_admin")
    demoted = await client.patch(members_of(club, alice_id), json={"role": "member"}, headers=auth)
    assert_problem(demoted, 409, "last_admin")


async def test_an_admin_removes_a_member_and_a_member_may_leave(client, db, alice, club):
    _, alice_auth = alice
    bob_id, bob_auth = await builders.person(db, "bob@example.no")
    kari_id, kari_auth = await builders.person(db, "kari@example.no")
    for address, invitee in (("bob@example.no", bob_auth), ("kari@example.no", kari_auth)):
        await invite_and_accept(client, db, club, address, alice_auth, invitee)
    assert (await client.delete(members_of(club, kari_id), headers=alice_auth)).status_code == 204
    assert (await client.delete(members_of(club, bob_id), headers=bob_auth)).status_code == 204
    members = (await client.get(members_of(club), headers=alice_auth)).json()["items"]
    assert [m["person_id"] for m in members] == [alice[0]]


async def test_an_unknown_association_is_not_found_for_staff(client, staff):
    _, auth = staff
    assert_problem(await client.get("/api/v1/associations/999/members", headers=auth), 404, "association_not_found")


# ---------------------------------------------------------------- under concurrency


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(db, clock, alice, club):
    alice_id, _ = alice
    bob_id, _ = await builders.person(db, "bob@example.no")
    await associations.add_member(db, STAFF, club, "bob@example.no", "admin", now=clock.now)
    results = await asyncio.gather(
        associations.change_role(db, STAFF, club, alice_id, "member", now=clock.now),
        associations.change_role(db, STAFF, club, bob_id, "member", now=clock.now),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["LastAdmin", "tuple"]


async def test_a_double_clicked_sign_in_form_registers_the_person_once(db, settings, clock):
    await asyncio.gather(*(people.request_signin(db, settings, "ny@example.no", now=clock.now) for _ in range(2)))
    mails = mails_in(settings.mail_dir)
    assert len(mails) == 2
    tokens = [re.search(r"token=(\S+)", m.get_content()).group(1) for m in mails]
    redeemed = await asyncio.gather(*(people.redeem_signin_link(db, t, now=clock.now) for t in tokens), return_exceptions=True)
    assert sorted(type(r).__name__ for r in redeemed) == ["SigninLinkInvalid", "str"]  # the newer link, once
    async with db.read() as s:
        assert len((await s.execute(select(Person).where(Person.email == "ny@example.no"))).all()) == 1
