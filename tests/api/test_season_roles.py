"""Seasons are the season managers': they set up, draw, adjust and publish where their role reaches (every place of a
season's beds or rooms); location staff and reporting are refused, reporting still reads; each step is audited."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from infra.audit import AuditEntry
from infra.database import Db
from people.store import StaffGrant
from resources.store import Location, Resource, policy_to_json
from tests import builders
from tests.api.test_bookings import assert_problem
from tests.api.test_room_seasons import activity, window, wish
from tests.api.test_seasons import SEASON, apply
from tests.web.test_pages import post_form

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


async def place(db: Db, key: str) -> int:
    async with db.write() as s:
        row = Location(key=key, name=key.title(), address="Gata 1", postal_code="3044")
        s.add(row)
        await s.flush()
        return row.id


async def resource_at(db: Db, location_id: int, key: str, *, kind: str = "room") -> int:
    async with db.write() as s:
        row = Resource(
            key=key, location_id=location_id, kind=kind, name=key.title(), capacity=None if kind == "garden_bed" else 20,
            policy=policy_to_json(builders.room_policy()), updated_at=EPOCH,
        )  # fmt: skip
        s.add(row)
        await s.flush()
        return row.id


async def staff_member(db: Db, email: str, role: str, location_id: int | None = None) -> tuple[int, dict[str, str]]:
    """A person holding one staff role (at one location, or everywhere), and the header that signs them in."""
    person = await builders.person(db, email)
    async with db.write() as s:
        s.add(StaffGrant(person_id=person[0], role=role, location_id=location_id, created_at=EPOCH))
    return person


async def entries(db: Db, action: str) -> list[AuditEntry]:
    async with db.read() as s:
        return list((await s.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))).scalars())


@pytest.fixture
async def garden(db):
    """Two beds at the garden (Huset), a second place (a school) with a room, and one of each staff role."""
    beds = [await builders.room(db, key=f"pallekarm-{n}", kind="garden_bed", capacity=None) for n in (1, 2)]
    huset = await resource_location(db, beds[0])
    school = await place(db, "skolen")
    return {
        "beds": beds,
        "huset": huset,
        "school": school,
        "manager": await staff_member(db, "sesong@knutepunkt.no", "season_manager"),
        "local_manager": await staff_member(db, "sesong-huset@knutepunkt.no", "season_manager", huset),
        "school_manager": await staff_member(db, "sesong-skolen@knutepunkt.no", "season_manager", school),
        "location_staff": await staff_member(db, "huset@knutepunkt.no", "location_staff", huset),
        "reporting": await staff_member(db, "tall@knutepunkt.no", "reporting"),
    }


async def resource_location(db: Db, resource_id: int) -> int:
    async with db.read() as s:
        return (await s.get(Resource, resource_id)).location_id


async def garden_season(client, who, *, phase: str = "applications") -> int:
    created = await client.post("/api/v1/seasons", json=SEASON, headers=who[1])
    assert created.status_code == 201, created.text
    sid = created.json()["id"]
    if phase != "draft":
        moved = await client.post(f"/api/v1/seasons/{sid}/phase", json={"phase": phase}, headers=who[1])
        assert moved.status_code == 200, moved.text
    return sid


async def drawn(client, who, alice, bob) -> int:
    sid = await garden_season(client, who)
    assert (await apply(client, alice, sid, "Tordenskiolds gate 12B")).status_code == 201
    assert (await apply(client, bob, sid, "Bragernes torg 2")).status_code == 201
    assert (await client.post(f"/api/v1/seasons/{sid}/phase", json={"phase": "allocation"}, headers=who[1])).status_code == 200
    run = await client.post(f"/api/v1/seasons/{sid}/allocation", json={"seed": 7}, headers=who[1])
    assert run.status_code == 200, run.text
    return sid


async def test_a_season_manager_sets_up_draws_adjusts_and_publishes_a_garden_season(client, garden, alice, bob):
    manager = garden["manager"]
    sid = await drawn(client, manager, alice, bob)
    rows = (await client.get(f"/api/v1/seasons/{sid}/applications", headers=manager[1])).json()["items"]
    mine = next(r for r in rows if r["person_id"] == alice[0])
    body = {"application_id": mine["id"], "bed_id": None, "reason": "swap beds"}
    assert (await client.post(f"/api/v1/seasons/{sid}/allocation/adjust", json=body, headers=manager[1])).status_code == 200
    theirs = next(r for r in rows if r["person_id"] == bob[0])
    body = {"application_id": theirs["id"], "bed_id": mine["bed_id"], "reason": "swap beds"}
    assert (await client.post(f"/api/v1/seasons/{sid}/allocation/adjust", json=body, headers=manager[1])).status_code == 200
    published = await client.post(f"/api/v1/seasons/{sid}/allocation/publish", headers=manager[1])
    assert published.status_code == 200, published.text
    assert published.json()["season"]["phase"] == "offers"


async def test_location_staff_and_reporting_may_not_draw_adjust_or_publish_and_a_resident_is_told_it_is_for_staff(
    client, garden, alice, bob
):
    sid = await drawn(client, garden["manager"], alice, bob)
    rows = (await client.get(f"/api/v1/seasons/{sid}/applications", headers=garden["manager"][1])).json()["items"]
    adjust = {"application_id": rows[0]["id"], "bed_id": None, "reason": "x"}
    for who in (garden["location_staff"], garden["reporting"]):
        # They hold a role, even at the garden's own place, but not one for seasons: not this staff member's to do.
        assert_problem(
            await client.post(f"/api/v1/seasons/{sid}/allocation", json={"seed": 1}, headers=who[1]), 403, "not_at_this_location"
        )
        assert_problem(
            await client.post(f"/api/v1/seasons/{sid}/allocation/adjust", json=adjust, headers=who[1]), 403, "not_at_this_location"
        )
        assert_problem(await client.post(f"/api/v1/seasons/{sid}/allocation/publish", headers=who[1]), 403, "not_at_this_location")
        assert_problem(await client.post("/api/v1/seasons", json=SEASON, headers=who[1]), 403, "not_at_this_location")
    assert_problem(await client.post(f"/api/v1/seasons/{sid}/allocation/publish", headers=alice[1]), 403, "staff_only")
    after = (await client.get(f"/api/v1/seasons/{sid}/applications", headers=garden["manager"][1])).json()["items"]
    assert after == rows  # nothing was changed by the refusals


async def test_reporting_reads_every_application_with_the_audit_text_and_a_resident_only_their_own(client, garden, alice, bob):
    sid = await drawn(client, garden["manager"], alice, bob)
    read = (await client.get(f"/api/v1/seasons/{sid}/applications", headers=garden["reporting"][1])).json()["items"]
    assert sorted(r["person_id"] for r in read) == sorted([alice[0], bob[0]]) and all(r["reason"] for r in read)
    own = (await client.get(f"/api/v1/seasons/{sid}/applications", headers=alice[1])).json()["items"]
    assert [r["person_id"] for r in own] == [alice[0]] and "reason" not in own[0]


async def test_a_season_manager_of_one_place_covers_a_season_only_when_all_its_beds_are_there(client, db, garden, alice, bob):
    sid = await drawn(client, garden["local_manager"], alice, bob)  # both beds at Huset: the Huset manager's season
    assert_problem(
        await client.post(f"/api/v1/seasons/{sid}/allocation", json={"seed": 1}, headers=garden["school_manager"][1]),
        403,
        "not_at_this_location",
    )
    await resource_at(db, garden["school"], "skolebed", kind="garden_bed")  # now the garden spans Huset and the school
    assert_problem(
        await client.post(f"/api/v1/seasons/{sid}/allocation", json={"seed": 1}, headers=garden["local_manager"][1]),
        403,
        "not_at_this_location",
    )
    assert (await client.post(f"/api/v1/seasons/{sid}/allocation", json={"seed": 1}, headers=garden["manager"][1])).status_code == 200


async def test_a_room_round_is_the_season_manager_of_its_rooms_place(client, db, garden):
    school_room = await resource_at(db, garden["school"], "gymsalen")
    body = {"name": "Høst 2027", "first_day": "2027-08-16", "last_day": "2027-12-17", "room_ids": [school_room]}
    assert_problem(await client.post("/api/v1/room-seasons", json=body, headers=garden["local_manager"][1]), 403, "not_at_this_location")
    made = await client.post("/api/v1/room-seasons", json=body, headers=garden["school_manager"][1])
    assert made.status_code == 201, made.text
    sid = made.json()["id"]
    assert_problem(await client.get(f"/api/v1/room-seasons/{sid}/report", headers=garden["location_staff"][1]), 403, "not_at_this_location")
    assert (await client.get(f"/api/v1/room-seasons/{sid}/report", headers=garden["reporting"][1])).status_code == 200
    huset_room = await builders.room(db, key="lillesalen")
    both = {**body, "room_ids": [school_room, huset_room]}
    assert_problem(await client.post("/api/v1/room-seasons", json=both, headers=garden["school_manager"][1]), 403, "not_at_this_location")


# ---------------------------------------------------------------- the audit trail


async def test_creating_a_season_and_moving_its_phase_are_audited_with_who_and_the_phase_before_and_after(client, db, garden):
    manager = garden["manager"]
    sid = await garden_season(client, manager)
    [created] = await entries(db, "season.created")
    assert (created.actor_id, created.object_kind, created.object_id, created.location_id) == (manager[0], "season", sid, garden["huset"])
    assert created.after["name"] == SEASON["name"] and created.after["kind"] == "garden_bed" and created.after["phase"] == "draft"
    [moved] = await entries(db, "season.phase")
    assert (moved.actor_id, moved.object_id, moved.before, moved.after) == (manager[0], sid, {"phase": "draft"}, {"phase": "applications"})


async def test_an_adjustment_is_audited_with_its_reason_and_the_bed_and_outcome_before_and_after(client, db, garden, alice, bob):
    manager = garden["manager"]
    sid = await drawn(client, manager, alice, bob)
    rows = (await client.get(f"/api/v1/seasons/{sid}/applications", headers=manager[1])).json()["items"]
    mine = next(r for r in rows if r["person_id"] == alice[0])
    body = {"application_id": mine["id"], "bed_id": None, "reason": "bed under repair", "message_to_resident": "Beklager"}
    assert (await client.post(f"/api/v1/seasons/{sid}/allocation/adjust", json=body, headers=manager[1])).status_code == 200
    [entry] = await entries(db, "allocation.adjusted")
    assert (entry.actor_id, entry.object_kind, entry.object_id, entry.subject_id) == (manager[0], "allocation", sid, alice[0])
    assert entry.reason == "bed under repair" and entry.location_id == garden["huset"]
    assert entry.before["bed_id"] == mine["bed_id"] and entry.before["status"] == "allocated"
    assert entry.after["bed_id"] is None and entry.after["status"] == "waitlisted" and entry.after["outcome"] == "no_bed_by_staff"
    assert "Tordenskiold" not in str(entry.before) + str(entry.after)  # people by id only: no address


async def test_publishing_audits_each_applicants_result_and_the_move_to_offers(client, db, garden, alice, bob):
    manager = garden["manager"]
    sid = await drawn(client, manager, alice, bob)
    assert (await client.post(f"/api/v1/seasons/{sid}/allocation/publish", headers=manager[1])).status_code == 200
    published = {e.subject_id: e for e in await entries(db, "allocation.published")}
    assert set(published) == {alice[0], bob[0]}
    for entry in published.values():
        assert entry.actor_id == manager[0] and entry.object_id == sid and entry.reason
        assert entry.before["status"] == "allocated" and entry.after["status"] == "allocated"
        assert entry.after["booking_id"] is not None and entry.after["seed"] == 7 and entry.after["bed_id"] in garden["beds"]
    assert [(e.before, e.after) for e in await entries(db, "season.phase")][-1] == ({"phase": "allocation"}, {"phase": "offers"})


async def test_a_room_wish_adjusted_and_published_is_audited_with_its_slots_before_and_after(client, db, garden):
    manager = garden["manager"]
    small, big = await builders.room(db, key="lillesalen"), await builders.room(db, key="storsalen", capacity=60)
    admin = await builders.person(db, "admin@lag.no")
    association = await builders.association(db, "Strømsø sjakklubb", "922222222", {admin[0]: "admin"})
    body = {"name": "Høst 2027", "first_day": "2027-08-16", "last_day": "2027-12-17", "room_ids": [small, big]}
    sid = (await client.post("/api/v1/room-seasons", json=body, headers=manager[1])).json()["id"]
    await client.post(f"/api/v1/seasons/{sid}/phase", json={"phase": "applications"}, headers=manager[1])
    plan = {"postal_code": "3044", "non_profit": True, "activities": [activity()], "wishes": [wish(small, window(1, "17:00", "21:00"))]}
    assert (await client.put(f"/api/v1/room-seasons/{sid}/applications/{association}", json=plan, headers=admin[1])).status_code == 200
    await client.post(f"/api/v1/seasons/{sid}/phase", json={"phase": "allocation"}, headers=manager[1])
    [proposed] = (await client.post(f"/api/v1/room-seasons/{sid}/allocation", json={"seed": 3}, headers=manager[1])).json()["items"]
    onto = {"room_id": big, "weekday": 2, "start": "18:00"}
    moved = await client.post(
        f"/api/v1/room-seasons/{sid}/allocation/adjust", json={"wish_id": proposed["id"], "slots": [onto], "reason": "kor i lillesalen"},
        headers=manager[1],
    )  # fmt: skip
    assert moved.status_code == 200, moved.text
    [entry] = await entries(db, "allocation.adjusted")
    assert (entry.actor_id, entry.object_id, entry.subject_id, entry.reason) == (manager[0], sid, admin[0], "kor i lillesalen")
    assert [s["room"] for s in entry.before["slots"]] == [small] and [(s["room"], s["weekday"]) for s in entry.after["slots"]] == [(big, 2)]
    assert entry.after["outcome"] == "moved_by_staff" and entry.after["association_id"] == association
    assert (await client.post(f"/api/v1/room-seasons/{sid}/allocation/publish", headers=manager[1])).status_code == 200
    [published] = await entries(db, "allocation.published")
    assert published.before["status"] == "granted" and published.after["status"] == "offered" and len(published.after["series_ids"]) == 1


# ---------------------------------------------------------------- the staff pages


async def test_the_season_pages_are_for_those_who_read_there_and_their_steps_for_season_managers(client, db, garden, alice, bob):
    sid = await drawn(client, garden["manager"], alice, bob)
    school_staff = await staff_member(db, "skolen@knutepunkt.no", "location_staff", garden["school"])
    assert (await client.get(f"/staff/seasons/{sid}", headers=garden["manager"][1])).status_code == 200
    assert (await client.get(f"/staff/seasons/{sid}", headers=garden["location_staff"][1])).status_code == 200  # reads at Huset
    assert (await client.get(f"/staff/seasons/{sid}", headers=school_staff[1])).status_code == 403
    step = f"/staff/seasons/{sid}/preview"
    refused = await post_form(client, step, {"seed": "5"}, garden["location_staff"][1], from_page=f"/staff/seasons/{sid}")
    assert refused.status_code == 403
    drawn_again = await post_form(client, step, {"seed": "5"}, garden["manager"][1], from_page=f"/staff/seasons/{sid}")
    assert drawn_again.status_code == 303, drawn_again.text


async def test_utilisation_pages_show_staff_their_own_places_and_refuse_another(client, db, garden):
    school_staff = await staff_member(db, "skolen@knutepunkt.no", "location_staff", garden["school"])
    await resource_at(db, garden["school"], "gymsalen")
    index = await client.get("/staff/utilisation", headers=school_staff[1])
    assert index.status_code == 200 and f"/staff/locations/{garden['school']}/utilisation" in index.text
    assert f"/staff/locations/{garden['huset']}/utilisation" not in index.text
    assert (await client.get(f"/staff/locations/{garden['huset']}/utilisation", headers=school_staff[1])).status_code == 403
    assert (await client.get(f"/staff/locations/{garden['school']}/utilisation", headers=school_staff[1])).status_code == 200
    assert (await client.get(f"/staff/resources/{garden['beds'][0]}/utilisation", headers=school_staff[1])).status_code == 403
    everywhere = await client.get("/staff/utilisation", headers=garden["reporting"][1])
    assert f"/staff/locations/{garden['huset']}/utilisation" in everywhere.text


async def test_a_bed_revoked_by_a_season_manager_is_audited_as_cancelled_with_the_reason(client, db, garden, alice, bob):
    manager = garden["manager"]
    sid = await drawn(client, manager, alice, bob)
    rows = (await client.post(f"/api/v1/seasons/{sid}/allocation/publish", headers=manager[1])).json()["items"]
    held = next(r for r in rows if r["person_id"] == alice[0])["booking_id"]
    offer = (await client.get("/api/v1/offers", headers=alice[1])).json()["items"][0]
    assert (await client.post(offer["accept"], headers=alice[1])).status_code == 200
    revoke = f"/api/v1/seasons/{sid}/holdings/{held}/revoke"
    assert_problem(await client.post(revoke, json={"reason": "x"}, headers=garden["location_staff"][1]), 403, "not_at_this_location")
    assert (await client.post(revoke, json={"reason": "never tended"}, headers=manager[1])).status_code == 200
    [entry] = await entries(db, "booking.cancelled")
    assert (entry.actor_id, entry.object_id, entry.subject_id, entry.reason) == (manager[0], held, alice[0], "never tended")
    assert entry.location_id == garden["huset"] and entry.after == {"status": "cancelled", "season_id": sid}
