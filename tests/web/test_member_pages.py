"""An association's admins manage its members on the web: the list with roles, an invitation by email that makes a
member once accepted, a role changed, a member removed after being asked; members who are not admins are refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from infra.outbox import Notification
from people import service as people
from people.store import Invitation
from tests import builders
from tests.web.test_pages import post_form, text_of


@pytest.fixture
async def lars(db):
    return await builders.person(db, "lars@example.no", name="Lars")


@pytest.fixture
async def mona(db):
    return await builders.person(db, "mona@example.no", name="Mona")


@pytest.fixture
async def club(db, lars, mona):
    return await builders.association(db, "Sjakklubben", "914778271", {lars[0]: "admin", mona[0]: "member"})


def members_of(club: int) -> str:
    return f"/associations/{club}/members"


async def invitation_paths(db) -> list[str]:
    async with db.read() as s:
        query = select(Notification).where(Notification.kind == "association_invitation").order_by(Notification.id)
        return [n.payload["path"] for n in (await s.execute(query)).scalars()]


async def test_the_association_page_links_admins_to_the_members_and_not_the_others(client, lars, mona, club):
    link = f'href="{members_of(club)}"'
    assert link in (await client.get(f"/associations/{club}", headers=lars[1])).text
    assert link not in (await client.get(f"/associations/{club}", headers=mona[1])).text


async def test_an_admin_sees_every_member_with_role_and_email(client, lars, club):
    page = await client.get(members_of(club), headers=lars[1])
    assert page.status_code == 200 and "Medlemmer i Sjakklubben" in page.text
    assert "<strong>Lars</strong> · Administrator (deg)" in page.text and "<strong>Mona</strong> · Medlem" in page.text
    assert "mona@example.no" in page.text


async def test_a_member_who_is_not_an_admin_is_refused_the_page_and_its_forms(client, db, mona, club):
    page = await client.get(members_of(club), headers=mona[1])
    assert page.status_code == 403 and "Du har ikke lov til å gjøre dette." in page.text
    invite = await post_form(client, members_of(club), {"email": "ny@example.no", "role": "admin"}, mona[1], from_page="/my/bookings")
    assert invite.status_code == 403
    assert await invitation_paths(db) == []
    remove = await client.get(members_of(club) + "/1/remove", headers=mona[1])
    assert remove.status_code == 403


async def test_an_admin_adds_a_member_by_email_who_joins_by_accepting_the_invitation(client, db, lars, club):
    invited = await post_form(client, members_of(club), {"email": "Nora@Example.no", "role": "member"}, lars[1])
    assert (invited.status_code, invited.headers["location"]) == (303, members_of(club) + "?done=invited")
    page = await client.get(invited.headers["location"], headers=lars[1])
    assert "Invitasjonen er sendt på e-post." in page.text and "<strong>nora@example.no</strong> · Medlem" in page.text
    [path] = await invitation_paths(db)
    # The invited address is a person here from the invitation on; Nora signs in as she would from the mail.
    headers = {"Authorization": f"Bearer {await people.issue_credential(db, 'nora@example.no', 'api', now=builders.EPOCH)}"}
    accepted = await post_form(client, path + "/accept", {}, headers, from_page=path)
    assert accepted.headers["location"] == f"/associations/{club}?done=joined"
    after = await client.get(members_of(club), headers=lars[1])
    assert "<strong>nora@example.no</strong> · Medlem</p>" in after.text and "Invitasjoner som ikke er besvart" not in after.text


async def test_inviting_someone_already_a_member_is_said_beside_the_email(client, lars, club):
    refused = await post_form(client, members_of(club), {"email": "mona@example.no", "role": "member"}, lars[1])
    assert refused.status_code == 409
    assert text_of(refused.text, "email-error") == "Feil: Denne personen er allerede medlem av foreningen."


async def test_an_address_that_is_no_address_is_said_beside_the_email(client, db, lars, club):
    refused = await post_form(client, members_of(club), {"email": "mona at example", "role": "member"}, lars[1])
    assert refused.status_code == 422
    assert text_of(refused.text, "email-error") == "Feil: Skriv en gyldig e-postadresse."
    assert 'value="mona at example"' in refused.text and await invitation_paths(db) == []


async def test_an_admin_withdraws_an_invitation(client, db, lars, club):
    await post_form(client, members_of(club), {"email": "nora@example.no", "role": "admin"}, lars[1])
    async with db.read() as s:
        invitation = (await s.execute(select(Invitation))).scalar_one()
    path = f"/associations/{club}/invitations/{invitation.id}/withdraw"
    withdrawn = await post_form(client, path, {}, lars[1], from_page=members_of(club))
    assert withdrawn.headers["location"] == members_of(club) + "?done=withdrawn"
    page = await client.get(withdrawn.headers["location"], headers=lars[1])
    assert "Invitasjonen er trukket tilbake." in page.text and "nora@example.no" not in page.text


async def test_an_admin_makes_a_member_admin(client, lars, mona, club):
    changed = await post_form(client, f"{members_of(club)}/{mona[0]}/role", {"role": "admin"}, lars[1], from_page=members_of(club))
    assert changed.headers["location"] == members_of(club) + "?done=role"
    page = await client.get(changed.headers["location"], headers=lars[1])
    assert "Rollen er endret." in page.text and "<strong>Mona</strong> · Administrator" in page.text


async def test_the_last_admin_cannot_be_made_a_member_and_is_told_why_beside_their_name(client, lars, club):
    refused = await post_form(client, f"{members_of(club)}/{lars[0]}/role", {"role": "member"}, lars[1], from_page=members_of(club))
    assert refused.status_code == 409
    said = text_of(refused.text, f"member-{lars[0]}-error")
    assert said == "Feil: Foreningen må ha minst én administrator. Gjør et annet medlem til administrator først."
    assert "<strong>Lars</strong> · Administrator" in refused.text


async def test_removing_a_member_asks_first_and_then_removes(client, lars, mona, club):
    asked = await client.get(f"{members_of(club)}/{mona[0]}/remove", headers=lars[1])
    assert asked.status_code == 200 and "Fjerne Mona fra Sjakklubben?" in asked.text
    assert "<strong>Mona</strong>" in (await client.get(members_of(club), headers=lars[1])).text  # asking changed nothing
    removed = await post_form(client, f"{members_of(club)}/{mona[0]}/remove", {}, lars[1], from_page=members_of(club))
    assert removed.headers["location"] == members_of(club) + "?done=removed"
    page = await client.get(removed.headers["location"], headers=lars[1])
    assert "Medlemmet er fjernet fra foreningen." in page.text and "<strong>Mona</strong>" not in page.text
    assert (await client.get(f"/associations/{club}", headers=mona[1])).status_code == 403


async def test_the_last_admin_cannot_be_removed_and_the_confirmation_says_why(client, lars, club):
    refused = await post_form(client, f"{members_of(club)}/{lars[0]}/remove", {}, lars[1], from_page=members_of(club))
    assert refused.status_code == 409
    assert "Foreningen må ha minst én administrator." in text_of(refused.text, "form-error")


async def test_removing_someone_who_is_not_a_member_is_not_found(client, lars, club):
    assert (await client.get(f"{members_of(club)}/999/remove", headers=lars[1])).status_code == 404
