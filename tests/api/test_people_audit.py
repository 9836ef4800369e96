"""People and associations are the operators' to manage: registering an association, adding a member at once; every
membership granted, changed or ended, and every API token revoked, is in the audit trail by ids, never by name."""

from __future__ import annotations

import pytest

from people import associations
from people import service as people_service
from people.actor import OPERATOR, Actor
from resources import service as catalogue
from tests import builders
from tests.api.test_people import VALID_ORGNR, assert_problem, invitation_token, invite, members_of
from tests.api.test_season_roles import entries, staff_member
from tests.builders import EPOCH

CLUB = {"name": "Strømsø Sjakklubb", "orgnr": VALID_ORGNR, "admin_email": "alice@example.no", "contact_email": "leder@sjakk.no"}


@pytest.fixture
async def club(db, alice):
    return await builders.association(db, "Strømsø Sjakklubb", VALID_ORGNR, {alice[0]: "admin"})


async def test_an_operator_registers_an_association_and_the_trail_names_its_admin_by_id_only(client, db, staff, alice):
    location_staff = await staff_member(db, "huset@knutepunkt.no", "location_staff", await _huset(db))
    assert_problem(await client.post("/api/v1/associations", json=CLUB, headers=location_staff[1]), 403, "not_at_this_location")
    assert_problem(await client.post("/api/v1/associations", json=CLUB, headers=alice[1]), 403, "staff_only")
    made = await client.post("/api/v1/associations", json=CLUB, headers=staff[1])
    assert made.status_code in (200, 201), made.text
    [entry] = await entries(db, "association.created")
    assert (entry.actor_id, entry.object_kind, entry.object_id, entry.subject_id) == (staff[0], "association", made.json()["id"], alice[0])
    assert entry.after == {"name": "Strømsø Sjakklubb", "orgnr": VALID_ORGNR, "admin_id": alice[0]}
    assert "leder@sjakk.no" not in str(entry.after) and "alice@" not in str(entry.after)


async def _huset(db) -> int:
    return (await catalogue.get_resource(db, await builders.room(db))).resource.location_id


async def test_staff_of_a_place_do_not_act_for_an_association_they_are_not_in(client, db, club):
    reporting = await staff_member(db, "tall@knutepunkt.no", "reporting")
    assert_problem(await client.get(members_of(club), headers=reporting[1]), 403, "not_a_member")
    assert_problem(await client.post(members_of(club), json={"email": "kari@example.no"}, headers=reporting[1]), 403, "forbidden")


async def test_a_member_added_by_an_operator_is_audited_with_the_operator_and_the_role(db, clock, staff, bob, club):
    operator = Actor(staff[0], "staff@knutepunkt.no", "Stine", grants=OPERATOR)
    membership, _ = await associations.add_member(db, operator, club, "bob@example.no", "member", now=clock.now)
    [entry] = await entries(db, "membership.granted")
    assert (entry.actor_id, entry.subject_id, entry.object_id, entry.reason) == (staff[0], bob[0], membership.id, "added by staff")
    assert entry.after == {"association_id": club, "role": "member"} and entry.at == clock.now


async def test_an_accepted_invitation_is_the_invitees_act_and_a_new_address_a_person_the_admin_added(client, db, alice, club):
    await invite(client, club, "kari@example.no", alice[1])
    [added] = await entries(db, "person.added")
    assert (added.actor_id, added.reason) == (alice[0], "invited")
    kari = (added.subject_id, await _signed_in(db, "kari@example.no"))
    accepted = await client.post(f"/api/v1/invitations/{await invitation_token(db, 'kari@example.no')}/accept", headers=kari[1])
    assert accepted.status_code == 200, accepted.text
    [entry] = await entries(db, "membership.granted")
    assert (entry.actor_id, entry.subject_id, entry.reason) == (kari[0], kari[0], "invitation accepted")
    assert entry.after["association_id"] == club and entry.after["role"] == "member" and entry.after["invitation_id"]


async def _signed_in(db, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {await people_service.issue_credential(db, email, 'api', now=EPOCH)}"}


async def test_a_role_changed_and_a_member_removed_by_an_admin_or_by_leaving_say_so(client, db, alice, bob, club):
    await invite(client, club, "bob@example.no", alice[1])
    await client.post(f"/api/v1/invitations/{await invitation_token(db, 'bob@example.no')}/accept", headers=bob[1])
    member = f"{members_of(club)}/{bob[0]}"
    assert (await client.patch(member, json={"role": "admin"}, headers=alice[1])).status_code == 200
    [changed] = await entries(db, "membership.changed")
    assert (changed.actor_id, changed.subject_id, changed.reason) == (alice[0], bob[0], "by an admin")
    assert (changed.before, changed.after) == ({"role": "member"}, {"association_id": club, "role": "admin"})
    assert (await client.delete(member, headers=alice[1])).status_code == 204
    carol = await builders.person(db, "carol@example.no")
    await invite(client, club, "carol@example.no", alice[1])
    await client.post(f"/api/v1/invitations/{await invitation_token(db, 'carol@example.no')}/accept", headers=carol[1])
    assert (await client.delete(f"{members_of(club)}/{carol[0]}", headers=carol[1])).status_code == 204
    removed = {e.subject_id: e for e in await entries(db, "membership.removed")}
    assert (removed[bob[0]].actor_id, removed[bob[0]].reason, removed[bob[0]].before) == (alice[0], "by an admin", {"role": "admin"})
    assert (removed[carol[0]].actor_id, removed[carol[0]].reason) == (carol[0], "left")


async def test_a_member_removed_by_an_operator_is_removed_by_staff(client, db, staff, alice, bob, club):
    await invite(client, club, "bob@example.no", alice[1])
    await client.post(f"/api/v1/invitations/{await invitation_token(db, 'bob@example.no')}/accept", headers=bob[1])
    assert (await client.delete(f"{members_of(club)}/{bob[0]}", headers=staff[1])).status_code == 204
    [removed] = await entries(db, "membership.removed")
    assert (removed.actor_id, removed.subject_id, removed.reason) == (staff[0], bob[0], "by staff")


async def test_a_token_revoked_by_its_holder_is_audited_once_with_the_holder_as_actor(client, db, alice):
    made = await client.post("/api/v1/me/tokens", json={"label": "script"}, headers=alice[1])
    assert made.status_code in (200, 201), made.text
    token_id = made.json()["id"]
    assert (await client.delete(f"/api/v1/me/tokens/{token_id}", headers=alice[1])).status_code == 204
    assert (await client.delete(f"/api/v1/me/tokens/{token_id}", headers=alice[1])).status_code == 204  # harmless again
    [entry] = await entries(db, "token.revoked")
    assert (entry.actor_id, entry.subject_id, entry.object_kind, entry.object_id) == (alice[0], alice[0], "token", token_id)
    assert entry.reason == "revoked by its holder" and entry.before == {"kind": "api", "revoked_at": None} and entry.after["revoked_at"]
