"""Browsing the catalogue through the HTTP app, and staff maintaining resources, rules and closures."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from people.actor import OPERATOR, Actor
from resources import service
from resources.rules import ResourceKind
from resources.store import Kit, KitItem, Location
from tests import builders

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
KNUTEPUNKT = Actor(person_id=0, email="knutepunkt@example.no", name="Knutepunkt", grants=OPERATOR)
NO_SUCH_ID = 2_000_000_000  # ids are not reset between tests, and none grows this large
CHRISTMAS = {"start": "2026-12-21T00:00:00+01:00", "end": "2027-01-02T00:00:00+01:00", "reason": "Juleferie"}


@pytest.fixture
async def staff(db) -> dict[str, str]:
    return (await builders.person(db, "knut@example.no", staff=True))[1]


@pytest.fixture
async def resident(db) -> dict[str, str]:
    return (await builders.person(db, "alice@example.no"))[1]


@pytest.fixture
async def room_id(db) -> int:
    return await builders.room(db, key="moterom", capacity=12, features=("projector", "whiteboard"))


@pytest.fixture
async def district(db, room_id) -> dict[str, int]:
    """A meeting room and a kitchen at the first house, a hall and a PA system at a second."""
    kitchen = await builders.room(db, key="kjokken", capacity=16, features=("kitchen", "projector"))
    async with db.write() as s:
        hall = Location(
            key="salen",
            name="Salen",
            address="Elvegata 2",
            postal_code="3045",
            hearing_loop=True,
            opening_hours=[{"weekdays": [0, 1, 2, 3, 4], "start": "17:00", "end": "00:00"}],
        )
        s.add(hall)
        await s.flush()
        other = hall.id
    big = await service.create_resource(
        db,
        KNUTEPUNKT,
        service.NewResource(
            key="storsal", location_id=other, kind=ResourceKind.ROOM, name="Storsal", capacity=80, features=frozenset({"sound_system"})
        ),
        now=NOW,
    )
    pa = await service.create_resource(
        db,
        KNUTEPUNKT,
        service.NewResource(key="lydanlegg", location_id=other, kind=ResourceKind.EQUIPMENT, name="Lydanlegg", stock=2),
        now=NOW,
    )
    return {"room": room_id, "kitchen": kitchen, "hall": big.resource.id, "pa": pa.resource.id, "salen": other}


def keys(response) -> list[str]:
    body = response.json()
    assert body["count"] == len(body["items"]), body
    return sorted(item["key"] for item in body["items"])


# ---------------------------------------------------------------- browsing


async def test_anyone_lists_resources_of_one_kind_without_signing_in(client, district):
    assert keys(await client.get("/api/v1/resources", params={"kind": "room"})) == ["kjokken", "moterom", "storsal"]
    assert keys(await client.get("/api/v1/resources", params={"kind": "equipment"})) == ["lydanlegg"]
    assert len(keys(await client.get("/api/v1/resources"))) == 4


async def test_an_unknown_kind_is_refused_as_invalid_input(client, district):
    response = await client.get("/api/v1/resources", params={"kind": "spaceship"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"


async def test_resources_are_found_by_location(client, district):
    response = await client.get("/api/v1/resources", params={"location_id": district["salen"]})
    assert keys(response) == ["lydanlegg", "storsal"]


async def test_resources_are_found_by_every_feature_asked_for(client, district):
    assert keys(await client.get("/api/v1/resources", params={"feature": "projector"})) == ["kjokken", "moterom"]
    both = await client.get("/api/v1/resources", params=[("feature", "projector"), ("feature", "kitchen")])
    assert keys(both) == ["kjokken"]


async def test_resources_are_found_by_how_many_they_seat(client, district):
    assert keys(await client.get("/api/v1/resources", params={"min_capacity": 16})) == ["kjokken", "storsal"]


async def test_one_resource_shows_its_rules_in_minutes_and_its_windows_in_wall_clock_time(client, room_id):
    response = await client.get(f"/api/v1/resources/{room_id}")
    assert response.status_code == 200
    room = response.json()
    assert (room["key"], room["kind"], room["capacity"]) == ("moterom", "room", 12)
    policy = room["policy"]
    assert (policy["min_duration_minutes"], policy["max_duration_minutes"], policy["granularity_minutes"]) == (60, 240, 30)
    assert policy["windows"][0] == {"weekdays": [0, 1, 2, 3, 4], "start": "17:00", "end": "22:00", "valid_from": None, "valid_until": None}
    assert policy["bookable_by"] == ["association", "resident", "staff"]
    assert room["closures"] == []


async def test_an_unknown_resource_or_location_is_not_found(client):
    for path in (f"/api/v1/resources/{NO_SUCH_ID}", f"/api/v1/locations/{NO_SUCH_ID}"):
        response = await client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "not_found"


async def test_a_location_shows_its_opening_hours_and_accessibility(client, district):
    listed = await client.get("/api/v1/locations")
    assert [loc["key"] for loc in listed.json()["items"]] == ["huset", "salen"]
    salen = (await client.get(f"/api/v1/locations/{district['salen']}")).json()
    assert salen["opening_hours"] == [
        {"weekdays": [0, 1, 2, 3, 4], "start": "17:00", "end": "24:00", "valid_from": None, "valid_until": None}
    ]
    assert salen["accessibility"] == {"step_free_access": False, "accessible_toilet": False, "hearing_loop": True, "notes": ""}


async def test_kits_list_the_equipment_they_lend(client, db, district):
    async with db.write() as s:
        kit = Kit(key="lydpakke", name="Lydpakke", location_id=district["salen"])
        s.add(kit)
        await s.flush()
        s.add(KitItem(kit_id=kit.id, resource_id=district["pa"], quantity=1))
    kits = (await client.get("/api/v1/kits")).json()
    assert kits["count"] == 1
    assert kits["items"][0]["items"] == [{"resource_id": district["pa"], "key": "lydanlegg", "name": "Lydanlegg", "quantity": 1}]


# ---------------------------------------------------------------- staff maintain resources


@pytest.fixture
async def new_room(db, room_id) -> dict:
    """A room to add at the house where the meeting room is."""
    location_id = (await service.get_resource(db, room_id)).resource.location_id
    return {"key": "verksted", "location_id": location_id, "kind": "room", "name": "Verkstedet", "capacity": 20, "features": ["whiteboard"]}


async def test_staff_add_a_room_that_takes_the_rules_of_its_kind(client, staff, new_room):
    response = await client.post("/api/v1/resources", json={**new_room, "policy": {"buffer_after_minutes": 15}}, headers=staff)
    assert response.status_code == 201, response.text
    room = response.json()
    assert room["policy"]["buffer_after_minutes"] == 15
    assert room["policy"]["min_duration_minutes"] == 30  # the room default
    assert "verksted" in keys(await client.get("/api/v1/resources", params={"kind": "room"}))


async def test_only_staff_add_resources(client, resident, new_room):
    refused = await client.post("/api/v1/resources", json=new_room, headers=resident)
    assert refused.status_code == 403
    assert refused.json()["code"] == "staff_only"
    assert (await client.post("/api/v1/resources", json=new_room)).status_code == 401


async def test_rules_that_contradict_each_other_are_an_invalid_policy(client, staff, new_room):
    policy = {"min_duration_minutes": 120, "max_duration_minutes": 60}
    response = await client.post("/api/v1/resources", json={**new_room, "policy": policy}, headers=staff)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_policy"
    assert response.json()["field"] == "min_duration"


async def test_a_room_needs_to_say_how_many_it_seats(client, staff, new_room):
    response = await client.post("/api/v1/resources", json={**new_room, "capacity": None}, headers=staff)
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["field"]) == ("invalid_input", "capacity")


async def test_a_key_already_in_use_is_a_conflict(client, staff, new_room):
    response = await client.post("/api/v1/resources", json={**new_room, "key": "moterom"}, headers=staff)
    assert response.status_code == 409
    assert response.json()["code"] == "key_taken"


async def test_staff_rename_a_resource_and_change_one_rule(client, staff, room_id):
    changes = {
        "name": "Det blå rommet",
        "policy": {"buffer_after_minutes": 30, "windows": [{"weekdays": [5, 6], "start": "10:00", "end": "24:00"}]},
    }
    response = await client.patch(f"/api/v1/resources/{room_id}", json=changes, headers=staff)
    assert response.status_code == 200, response.text
    room = (await client.get(f"/api/v1/resources/{room_id}")).json()
    assert room["name"] == "Det blå rommet"
    assert room["policy"]["buffer_after_minutes"] == 30
    assert room["policy"]["windows"][0]["end"] == "24:00"
    assert room["policy"]["min_duration_minutes"] == 60  # untouched


async def test_only_staff_change_resources(client, resident, room_id):
    response = await client.patch(f"/api/v1/resources/{room_id}", json={"name": "Mitt rom"}, headers=resident)
    assert response.status_code == 403
    assert response.json()["code"] == "staff_only"


async def test_a_resources_key_and_kind_cannot_be_changed(client, staff, room_id):
    response = await client.patch(f"/api/v1/resources/{room_id}", json={"kind": "equipment"}, headers=staff)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"


async def test_changing_rules_into_a_contradiction_is_an_invalid_policy(client, staff, room_id):
    response = await client.patch(f"/api/v1/resources/{room_id}", json={"policy": {"granularity_minutes": 0}}, headers=staff)
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["field"]) == ("invalid_policy", "granularity")


async def test_a_retired_resource_leaves_the_lists_but_can_still_be_looked_up(client, staff, district):
    response = await client.post(f"/api/v1/resources/{district['kitchen']}/retire", headers=staff)
    assert response.status_code == 200
    assert response.json()["retired_at"] is not None
    assert "kjokken" not in keys(await client.get("/api/v1/resources"))
    assert "kjokken" in keys(await client.get("/api/v1/resources", params={"include_retired": "true"}))
    assert (await client.get(f"/api/v1/resources/{district['kitchen']}")).status_code == 200


async def test_only_staff_retire_resources(client, resident, room_id):
    response = await client.post(f"/api/v1/resources/{room_id}/retire", headers=resident)
    assert response.status_code == 403
    assert response.json()["code"] == "staff_only"


async def test_retiring_an_unknown_resource_is_not_found(client, staff):
    response = await client.post(f"/api/v1/resources/{NO_SUCH_ID}/retire", headers=staff)
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


# ---------------------------------------------------------------- closures


async def test_staff_close_a_resource_for_christmas_and_lift_the_closure(client, staff, room_id):
    added = await client.post(f"/api/v1/resources/{room_id}/closures", json=CHRISTMAS, headers=staff)
    assert added.status_code == 201, added.text
    closure = added.json()
    # Nothing was booked then, so nothing needed settling.
    assert closure.pop("bookings") == {"choice": None, "cancelled": [], "withdrawn": [], "kept": []}
    assert (closure["start"], closure["reason"]) == ("2026-12-21T00:00:00+01:00", "Juleferie")
    assert (await client.get(f"/api/v1/resources/{room_id}")).json()["closures"] == [closure]
    lifted = await client.delete(f"/api/v1/resources/{room_id}/closures/{closure['id']}", headers=staff)
    assert lifted.status_code == 204
    assert (await client.get(f"/api/v1/resources/{room_id}")).json()["closures"] == []


async def test_a_closed_room_has_no_free_time_while_it_is_closed(client, staff, room_id):
    await client.post(f"/api/v1/resources/{room_id}/closures", json=CHRISTMAS, headers=staff)
    span = {"from": "2026-12-22T00:00:00+01:00", "to": "2026-12-23T00:00:00+01:00"}
    response = await client.get(f"/api/v1/resources/{room_id}/availability", params=span)
    assert response.status_code == 200, response.text
    assert response.json()["free"] == []


async def test_a_closure_that_ends_before_it_starts_is_an_invalid_policy(client, staff, room_id):
    backwards = {**CHRISTMAS, "end": "2026-12-20T00:00:00+01:00"}
    response = await client.post(f"/api/v1/resources/{room_id}/closures", json=backwards, headers=staff)
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["field"]) == ("invalid_policy", "closures")


async def test_a_closure_needs_times_with_their_offset(client, staff, room_id):
    naive = {**CHRISTMAS, "start": "2026-12-21T00:00:00"}
    response = await client.post(f"/api/v1/resources/{room_id}/closures", json=naive, headers=staff)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"


async def test_only_staff_close_resources(client, resident, room_id):
    response = await client.post(f"/api/v1/resources/{room_id}/closures", json=CHRISTMAS, headers=resident)
    assert response.status_code == 403
    assert response.json()["code"] == "staff_only"


async def test_a_closure_is_lifted_only_from_its_own_resource(client, staff, district):
    added = (await client.post(f"/api/v1/resources/{district['room']}/closures", json=CHRISTMAS, headers=staff)).json()
    response = await client.delete(f"/api/v1/resources/{district['kitchen']}/closures/{added['id']}", headers=staff)
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


# ---------------------------------------------------------------- the service around it


async def test_the_openapi_schema_describes_the_catalogue(client):
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/v1/resources", "/api/v1/locations", "/api/v1/kits"} <= paths.keys()


async def test_the_health_check_answers(client):
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_lists_hold_what_they_count(client, district):
    for path in ("/api/v1/locations", "/api/v1/resources", "/api/v1/kits"):
        body = (await client.get(path)).json()
        assert set(body) == {"items", "count"} and body["count"] == len(body["items"])
