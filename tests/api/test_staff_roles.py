"""Operators grant and revoke staff roles over the API, each change in the audit trail; staff who read see who holds
what where; every bad request is refused with its own code and writes nothing, and the last operator stays one."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from infra.audit import AuditEntry
from people.store import StaffGrant
from tests.api.test_audit_api import place, staff_member


async def counts(db) -> tuple[int, int]:
    async with db.read() as s:
        grants = (await s.execute(select(func.count()).select_from(StaffGrant))).scalar_one()
        entries = (await s.execute(select(func.count()).select_from(AuditEntry))).scalar_one()
    return grants, entries


async def grants_of(db, person_id: int) -> set[tuple[str, int | None]]:
    async with db.read() as s:
        rows = (await s.execute(select(StaffGrant).where(StaffGrant.person_id == person_id))).scalars()
        return {(g.role, g.location_id) for g in rows}


@pytest.fixture
async def huset(db) -> int:
    return await place(db, "huset", "Huset")


async def test_an_operator_grants_a_role_at_a_place_and_again_is_no_change(client, db, staff, alice, huset):
    body = {"email": "Alice@Example.no", "role": "location_staff", "location_id": huset}
    first = await client.post("/api/v1/staff/grants", json=body, headers=staff[1])
    assert first.status_code == 201 and first.json()["granted"] is True
    again = await client.post("/api/v1/staff/grants", json=body, headers=staff[1])
    assert again.status_code == 200 and again.json()["granted"] is False
    assert await grants_of(db, alice[0]) == {("location_staff", huset)}
    async with db.read() as s:
        entries = list((await s.execute(select(AuditEntry).where(AuditEntry.action == "role.granted"))).scalars())
    assert [(e.actor_id, e.subject_id, e.location_id, e.after) for e in entries] == [
        (staff[0], alice[0], huset, {"role": "location_staff", "location_id": huset})
    ]
    me = (await client.get("/api/v1/me", headers=alice[1])).json()
    assert me["staff_roles"] == [{"role": "location_staff", "location_id": huset}]  # the new role holds at once


async def test_a_role_is_granted_by_person_id_and_everywhere_without_a_location(client, db, staff, alice):
    answer = await client.post("/api/v1/staff/grants", json={"person_id": alice[0], "role": "reporting"}, headers=staff[1])
    assert answer.status_code == 201
    assert await grants_of(db, alice[0]) == {("reporting", None)}


async def test_staff_who_read_see_who_holds_what_where(client, db, staff, alice, huset):
    lena = await staff_member(db, "lena@knutepunkt.no", "location_staff", huset, name="Lena")
    listed = await client.get("/api/v1/staff", headers=lena[1])
    assert listed.status_code == 200
    assert [(m["name"], m["grants"]) for m in listed.json()["items"]] == [
        ("Lena", [{"role": "location_staff", "location_id": huset}]),
        ("Staff", [{"role": "operator", "location_id": None}]),
    ]
    resident = await client.get("/api/v1/staff", headers=alice[1])
    assert (resident.status_code, resident.json()["code"]) == (403, "staff_only")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"email": "nobody@example.no", "role": "reporting"}, 404, "person_not_found"),
        ({"person_id": 999, "role": "reporting"}, 404, "person_not_found"),
        ({"email": "alice@example.no", "role": "location_staff", "location_id": 999}, 404, "location_not_found"),
        ({"email": "alice@example.no", "role": "janitor"}, 422, "unknown_role"),
        ({"email": "alice@example.no", "role": "location_staff"}, 422, "role_needs_location"),
        ({"email": "alice@example.no", "role": "operator", "location_id": "HUSET"}, 422, "role_is_everywhere"),
        ({"email": "alice@example.no", "person_id": 1, "role": "reporting"}, 422, "invalid_input"),
        ({"role": "reporting"}, 422, "invalid_input"),
        ({"email": "alice@example.no", "role": "reporting", "colour": "red"}, 422, "invalid_input"),
    ],
)
async def test_a_bad_grant_is_refused_with_its_code_and_writes_nothing(client, db, staff, alice, huset, body, status, code):
    body = {k: (huset if v == "HUSET" else v) for k, v in body.items()}
    before = await counts(db)
    for method in ("POST", "DELETE"):
        answer = await client.request(method, "/api/v1/staff/grants", json=body, headers=staff[1])
        assert (answer.status_code, answer.json()["code"]) == (status, code), method
    assert await counts(db) == before


async def test_only_operators_grant_and_revoke(client, db, staff, alice, bob, huset):
    lena = await staff_member(db, "lena@knutepunkt.no", "location_staff", huset)
    before = await counts(db)
    body = {"email": "bob@example.no", "role": "location_staff", "location_id": huset}
    by_staff = await client.post("/api/v1/staff/grants", json=body, headers=lena[1])
    assert (by_staff.status_code, by_staff.json()["code"]) == (403, "not_at_this_location")
    by_resident = await client.post("/api/v1/staff/grants", json=body, headers=alice[1])
    assert (by_resident.status_code, by_resident.json()["code"]) == (403, "staff_only")
    revoke = await client.request(
        "DELETE", "/api/v1/staff/grants", json={"email": "staff@knutepunkt.no", "role": "operator"}, headers=lena[1]
    )
    assert revoke.status_code == 403
    assert await counts(db) == before


async def test_revoking_takes_the_role_back_by_body_or_query_and_is_audited(client, db, staff, alice, huset):
    await client.post("/api/v1/staff/grants", json={"email": "alice@example.no", "role": "reporting"}, headers=staff[1])
    await client.post(
        "/api/v1/staff/grants", json={"person_id": alice[0], "role": "location_staff", "location_id": huset}, headers=staff[1]
    )
    by_body = await client.request("DELETE", "/api/v1/staff/grants", json={"person_id": alice[0], "role": "reporting"}, headers=staff[1])
    assert by_body.status_code == 204
    query = {"email": "alice@example.no", "role": "location_staff", "location_id": huset}
    by_query = await client.delete("/api/v1/staff/grants", params=query, headers=staff[1])
    assert by_query.status_code == 204
    assert await grants_of(db, alice[0]) == set()
    async with db.read() as s:
        revoked = list((await s.execute(select(AuditEntry).where(AuditEntry.action == "role.revoked").order_by(AuditEntry.id))).scalars())
    assert [(e.actor_id, e.subject_id, e.before) for e in revoked] == [
        (staff[0], alice[0], {"role": "reporting", "location_id": None}),
        (staff[0], alice[0], {"role": "location_staff", "location_id": huset}),
    ]
    gone = await client.request("DELETE", "/api/v1/staff/grants", json={"person_id": alice[0], "role": "reporting"}, headers=staff[1])
    assert (gone.status_code, gone.json()["code"]) == (404, "grant_not_found")


async def test_the_last_operator_cannot_be_revoked_but_one_of_two_can(client, db, staff, alice):
    before = await counts(db)
    last = await client.request("DELETE", "/api/v1/staff/grants", json={"person_id": staff[0], "role": "operator"}, headers=staff[1])
    assert (last.status_code, last.json()["code"]) == (409, "last_operator")
    assert await counts(db) == before and await grants_of(db, staff[0]) == {("operator", None)}
    await client.post("/api/v1/staff/grants", json={"person_id": alice[0], "role": "operator"}, headers=staff[1])
    handed_on = await client.request("DELETE", "/api/v1/staff/grants", json={"person_id": staff[0], "role": "operator"}, headers=alice[1])
    assert handed_on.status_code == 204
    refused = await client.request("DELETE", "/api/v1/staff/grants", json={"person_id": alice[0], "role": "operator"}, headers=alice[1])
    assert refused.status_code == 409 and await grants_of(db, alice[0]) == {("operator", None)}
