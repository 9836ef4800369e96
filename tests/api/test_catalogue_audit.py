"""The catalogue is kept by the staff of its place: location staff add and change resources where they work and are
refused elsewhere, reporting changes nothing; every change is in the audit trail with who, what and the values before
and after."""

from __future__ import annotations

import pytest

from config.cli import DEFAULT_CATALOGUE
from resources import service as catalogue
from resources.catalogue import parse_catalogue
from resources.catalogue_import import import_catalogue
from tests import builders
from tests.api.test_bookings import assert_problem
from tests.api.test_catalogue_import import LATER, NOW
from tests.api.test_season_roles import entries, place, resource_at, staff_member


@pytest.fixture
async def places(db):
    """A room at Huset, a room at a school, location staff of each, and someone who only reads."""
    room = await builders.room(db, key="moterom")
    huset = (await catalogue.get_resource(db, room)).resource.location_id
    school = await place(db, "skolen")
    return {
        "room": room,
        "huset": huset,
        "school": school,
        "school_room": await resource_at(db, school, "gymsalen"),
        "huset_staff": await staff_member(db, "huset@knutepunkt.no", "location_staff", huset),
        "reporting": await staff_member(db, "tall@knutepunkt.no", "reporting"),
    }


def new_room(location_id: int, key: str = "verksted") -> dict:
    return {"key": key, "location_id": location_id, "kind": "room", "name": "Verkstedet", "capacity": 20, "features": ["whiteboard"]}


async def test_location_staff_add_a_resource_at_their_place_and_are_refused_at_another(client, db, places, alice):
    staff = places["huset_staff"]
    added = await client.post("/api/v1/resources", json=new_room(places["huset"]), headers=staff[1])
    assert added.status_code == 201, added.text
    assert_problem(
        await client.post("/api/v1/resources", json=new_room(places["school"], "sloyd"), headers=staff[1]), 403, "not_at_this_location"
    )
    assert_problem(
        await client.post("/api/v1/resources", json=new_room(places["huset"], "x"), headers=places["reporting"][1]),
        403,
        "not_at_this_location",
    )
    assert_problem(await client.post("/api/v1/resources", json=new_room(places["huset"], "y"), headers=alice[1]), 403, "staff_only")
    assert sorted(r.key for r in await catalogue.list_resources(db)) == ["gymsalen", "moterom", "verksted"]
    [entry] = await entries(db, "resource.created")
    assert (entry.actor_id, entry.object_kind, entry.object_id, entry.location_id) == (
        staff[0],
        "resource",
        added.json()["id"],
        places["huset"],
    )
    assert entry.before == {} and entry.after["key"] == "verksted" and entry.after["capacity"] == 20
    assert entry.after["features"] == ["whiteboard"] and entry.after["policy"]["min_duration"]


async def test_location_staff_change_a_resource_at_their_place_and_are_refused_at_another(client, db, places):
    staff = places["huset_staff"]
    changed = await client.patch(f"/api/v1/resources/{places['room']}", json={"name": "Det blå rommet"}, headers=staff[1])
    assert changed.status_code == 200, changed.text
    refused = await client.patch(f"/api/v1/resources/{places['school_room']}", json={"name": "Min sal"}, headers=staff[1])
    assert_problem(refused, 403, "not_at_this_location")
    reporting = await client.patch(f"/api/v1/resources/{places['room']}", json={"name": "Tallrommet"}, headers=places["reporting"][1])
    assert_problem(reporting, 403, "not_at_this_location")
    assert (await catalogue.get_resource(db, places["school_room"])).resource.name == "Gymsalen"
    assert (await catalogue.get_resource(db, places["room"])).resource.name == "Det blå rommet"


async def test_a_change_of_details_and_of_rules_is_audited_with_only_the_fields_that_changed(client, db, places):
    staff = places["huset_staff"]
    changes = {"name": "Det blå rommet", "capacity": 20, "policy": {"buffer_after_minutes": 30}, "reason": "ny møblering"}
    assert (await client.patch(f"/api/v1/resources/{places['room']}", json=changes, headers=staff[1])).status_code == 200
    [details] = await entries(db, "resource.changed")
    assert (details.actor_id, details.object_id, details.location_id) == (staff[0], places["room"], places["huset"])
    assert (details.before, details.after) == ({"name": "Moterom"}, {"name": "Det blå rommet"})  # capacity was 20 already
    [rules] = await entries(db, "policy.changed")
    assert rules.actor_id == staff[0] and rules.object_id == places["room"]
    assert set(rules.before) == set(rules.after) == {"buffer_after"} and rules.before["buffer_after"] != rules.after["buffer_after"]
    assert rules.reason == details.reason == "ny møblering"


async def test_lifting_a_closure_is_for_staff_who_close_at_that_place_and_is_audited(client, db, places):
    christmas = {"start": "2026-12-24T00:00:00+01:00", "end": "2026-12-27T00:00:00+01:00", "reason": "Julestengt"}
    operator = await builders.person(db, "drift@knutepunkt.no", staff=True)
    added = await client.post(f"/api/v1/resources/{places['school_room']}/closures", json=christmas, headers=operator[1])
    assert added.status_code == 201, added.text
    closure = added.json()["id"]
    lift = f"/api/v1/resources/{places['school_room']}/closures/{closure}"
    assert_problem(await client.delete(lift, headers=places["huset_staff"][1]), 403, "not_at_this_location")
    assert (await client.delete(lift, headers=operator[1])).status_code == 204
    [entry] = await entries(db, "closure.removed")
    assert (entry.actor_id, entry.object_id, entry.location_id) == (operator[0], closure, places["school"])
    assert entry.before["reason"] == "Julestengt" and entry.before["resource_id"] == places["school_room"]


async def test_an_imported_kit_and_a_change_to_its_items_are_audited_as_the_consoles(db):
    text = DEFAULT_CATALOGUE.read_text(encoding="utf-8")
    await import_catalogue(db, parse_catalogue(text), now=NOW, apply=True)
    [created] = await entries(db, "kit.created")
    assert (created.actor_id, created.reason, created.object_kind) == (None, "catalogue import", "kit")
    assert created.after["name"] == "Arrangementspakke" and len(created.after["items"]) == 3
    fewer = text.replace("stol = 20", "stol = 10")
    await import_catalogue(db, parse_catalogue(fewer), now=LATER, apply=False)  # a dry run records nothing
    assert await entries(db, "kit.changed") == []
    await import_catalogue(db, parse_catalogue(fewer), now=LATER, apply=True)
    [changed] = await entries(db, "kit.changed")
    assert changed.object_id == created.object_id and changed.actor_id is None
    before, after = dict(map(tuple, changed.before["items"])), dict(map(tuple, changed.after["items"]))
    assert sorted(before.values()) == [1, 4, 20] and sorted(after.values()) == [1, 4, 10]
