"""Invitations to an association: the admin learns nothing about an address, and only the invitee makes a member of it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests import builders
from tests.api.test_people import (
    VALID_ORGNR,
    assert_problem,
    invitation_token,
    invitations_of,
    invite,
    members_of,
    signed_in,
)


@pytest.fixture
async def club(db, alice):
    alice_id, _ = alice
    return await builders.association(db, "Strømsø Sjakklubb", VALID_ORGNR, {alice_id: "admin"})


def accept(token: str) -> str:
    return f"/api/v1/invitations/{token}/accept"


async def member_ids(client, club: int, auth: dict) -> list[int]:
    return [m["person_id"] for m in (await client.get(members_of(club), headers=auth)).json()["items"]]


async def test_the_answer_for_an_unknown_address_is_the_answer_for_a_known_one_and_names_no_one(client, db, alice, bob, club):
    _, auth = alice
    known = await client.post(members_of(club), json={"email": "bob@example.no"}, headers=auth)
    unknown = await client.post(members_of(club), json={"email": "nobody@example.no"}, headers=auth)
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json()) == (202, {"status": "invited"})
    assert "Bob" not in known.text and str(bob[0]) not in known.text


async def test_an_invitation_makes_no_member_until_the_invitee_accepts_with_the_invited_role(client, db, alice, bob, club):
    (alice_id, auth), (bob_id, bob_auth) = alice, bob
    await invite(client, club, "bob@example.no", auth, role="admin")
    assert await member_ids(client, club, auth) == [alice_id]
    assert_problem(await client.get(members_of(club), headers=bob_auth), 403, "not_a_member")
    accepted = await client.post(accept(await invitation_token(db, "bob@example.no")), headers=bob_auth)
    assert accepted.status_code == 200, accepted.text
    members = (await client.get(members_of(club), headers=auth)).json()["items"]
    assert {(m["person_id"], m["role"]) for m in members} == {(alice_id, "admin"), (bob_id, "admin")}
    assert (await client.get(invitations_of(club), headers=auth)).json()["items"] == []


async def test_admins_see_open_invitations_by_the_address_they_typed_only(client, db, alice, bob, club):
    _, auth = alice
    await invite(client, club, "Bob@Example.no", auth)
    [pending] = (await client.get(invitations_of(club), headers=auth)).json()["items"]
    assert pending["email"] == "bob@example.no" and pending["role"] == "member"
    assert "Bob" not in str({k: v for k, v in pending.items() if k != "email"}) and "person_id" not in pending
    assert_problem(await client.get(invitations_of(club), headers=bob[1]), 403, "forbidden")


async def test_someone_else_cannot_accept_another_persons_invitation(client, db, alice, bob, club):
    _, auth = alice
    eve_id, eve_auth = await builders.person(db, "eve@example.no")
    await invite(client, club, "bob@example.no", auth)
    token = await invitation_token(db, "bob@example.no")
    assert_problem(await client.post(accept(token), headers=eve_auth), 404, "invitation_not_found")
    assert_problem(await client.get(f"/api/v1/invitations/{token}", headers=eve_auth), 404, "invitation_not_found")
    assert eve_id not in await member_ids(client, club, auth)
    assert (await client.post(accept(token), headers=bob[1])).status_code == 200  # still Bob's to accept


async def test_an_expired_invitation_cannot_be_accepted(client, db, clock, alice, bob, club):
    await invite(client, club, "bob@example.no", alice[1])
    token = await invitation_token(db, "bob@example.no")
    clock.now += timedelta(days=14)
    assert_problem(await client.post(accept(token), headers=bob[1]), 409, "invitation_closed")
    assert bob[0] not in await member_ids(client, club, alice[1])
    assert (await client.get(invitations_of(club), headers=alice[1])).json()["items"] == []


async def test_a_withdrawn_invitation_cannot_be_accepted(client, db, alice, bob, club):
    await invite(client, club, "bob@example.no", alice[1])
    token = await invitation_token(db, "bob@example.no")
    [pending] = (await client.get(invitations_of(club), headers=alice[1])).json()["items"]
    assert (await client.delete(invitations_of(club, pending["id"]), headers=alice[1])).status_code == 204
    assert_problem(await client.post(accept(token), headers=bob[1]), 409, "invitation_closed")
    assert bob[0] not in await member_ids(client, club, alice[1])


async def test_a_declined_invitation_makes_no_member_and_cannot_be_accepted_after(client, db, alice, bob, club):
    await invite(client, club, "bob@example.no", alice[1])
    token = await invitation_token(db, "bob@example.no")
    assert (await client.post(f"/api/v1/invitations/{token}/decline", headers=bob[1])).status_code == 204
    assert_problem(await client.post(accept(token), headers=bob[1]), 409, "invitation_closed")
    assert bob[0] not in await member_ids(client, club, alice[1])


async def test_only_admins_invite(client, db, alice, bob, club):
    _, bob_auth = bob
    await invite(client, club, "bob@example.no", alice[1])
    await client.post(accept(await invitation_token(db, "bob@example.no")), headers=bob_auth)
    _, stranger = await builders.person(db, "eve@example.no")
    for auth in (bob_auth, stranger):
        assert_problem(await client.post(members_of(club), json={"email": "kari@example.no"}, headers=auth), 403, "forbidden")
    assert_problem(await client.get(invitations_of(club), headers=stranger), 403, "forbidden")


async def test_inviting_again_renews_the_invitation_and_the_old_link_no_longer_works(client, db, alice, club):
    await invite(client, club, "kari@example.no", alice[1])
    first = await invitation_token(db, "kari@example.no")
    await invite(client, club, "kari@example.no", alice[1], role="admin")
    second = await invitation_token(db, "kari@example.no")
    assert len((await client.get(invitations_of(club), headers=alice[1])).json()["items"]) == 1
    kari = await signed_in(db, "kari@example.no")
    assert_problem(await client.post(accept(first), headers=kari), 404, "invitation_not_found")
    assert (await client.post(accept(second), headers=kari)).json()["role"] == "admin"
