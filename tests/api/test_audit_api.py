"""Staff read the audit trail over the API: a bounded span of time, narrowed by object, person, place and action, newest
first in pages, each entry with the names of who acted and whom it concerned as they are now; and the same as CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import update

from infra import audit
from infra.audit import Action
from people.store import Person, StaffGrant
from resources.store import Location
from tests import builders
from tests.builders import EPOCH


async def place(db, key: str, name: str) -> int:
    async with db.write() as s:
        row = Location(key=key, name=name, address="Gata 2", postal_code="3044")
        s.add(row)
        await s.flush()
        return row.id


async def staff_member(db, email: str, role: str, location_id: int | None = None, name: str = "") -> tuple[int, dict]:
    person_id, headers = await builders.person(db, email, name=name)
    async with db.write() as s:
        s.add(StaffGrant(person_id=person_id, role=role, location_id=location_id, created_at=EPOCH))
    return person_id, headers


@pytest.fixture
async def world(db, clock, staff, alice, bob):
    """Two places, a location staff member at one and a reporter, and five entries (one long ago)."""
    huset, torget = await place(db, "huset", "Huset"), await place(db, "torget", "Torget")
    lena = await staff_member(db, "lena@knutepunkt.no", "location_staff", huset, name="Lena")
    rita = await staff_member(db, "rita@knutepunkt.no", "reporting", name="Rita")
    now = clock.now
    rows = [
        (Action.LOAN_HANDED_OUT, lena[0], now - timedelta(days=10), 12, huset, alice[0], '=HYPERLINK("http://x")'),
        (Action.BOOKING_APPROVED, staff[0], now - timedelta(days=3), 10, huset, alice[0], "Godkjent"),
        (Action.BOOKING_DECLINED, staff[0], now - timedelta(days=2), 11, torget, bob[0], "Fullt"),
        (Action.ROLE_GRANTED, None, now - timedelta(days=1), alice[0], None, alice[0], ""),
        (Action.BOOKING_APPROVED, staff[0], now - timedelta(days=400), 9, huset, alice[0], "Gammel"),
    ]
    async with db.write() as s:
        for action, actor_id, at, object_id, location_id, subject_id, reason in rows:
            audit.record(
                s, action, actor_id=actor_id, at=at, object_id=object_id, location_id=location_id, subject_id=subject_id,
                reason=reason, before={"status": "requested"}, after={"status": "confirmed"},
            )  # fmt: skip
    return {"huset": huset, "torget": torget, "lena": lena, "rita": rita, "staff": staff, "alice": alice, "bob": bob}


def span(clock, days: int = 30, **more) -> dict:
    return {"from": (clock.now - timedelta(days=days)).isoformat(), "to": clock.now.isoformat(), **more}


async def trail(client, headers, params) -> list[dict]:
    answer = await client.get("/api/v1/audit", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


async def test_staff_read_the_trail_newest_first_with_names_as_they_are_now(client, clock, world):
    items = await trail(client, world["staff"][1], span(clock))
    assert [i["action"] for i in items] == ["role.granted", "booking.declined", "booking.approved", "loan.handed_out"]
    granted, declined = items[0], items[1]
    assert granted["actor"] == {"id": None, "name": "system", "erased": False}  # the console
    assert declined["actor"]["name"] == "Staff" and declined["subject"] == {"id": world["bob"][0], "name": "Bob", "erased": False}
    assert declined["reason"] == "Fullt" and declined["before"] == {"status": "requested"} and declined["after"] == {"status": "confirmed"}
    assert declined["at"].endswith("+01:00")  # Oslo time, as every answer gives times


async def test_an_erased_person_is_shown_as_a_pseudonym(client, db, clock, world):
    bob = world["bob"][0]
    async with db.write() as s:
        await s.execute(update(Person).where(Person.id == bob).values(name="", email=f"erased-{bob}@invalid", erased_at=clock.now))
    declined = (await trail(client, world["staff"][1], span(clock, action="booking.declined")))[0]
    assert declined["subject"] == {"id": bob, "name": f"person #{bob} (erased)", "erased": True}


async def test_each_filter_narrows_the_trail(client, clock, world):
    headers, alice, lena = world["staff"][1], world["alice"][0], world["lena"][0]

    async def actions(**more) -> list[str]:
        return [i["action"] for i in await trail(client, headers, span(clock, **more))]

    assert await actions(kind="booking") == ["booking.declined", "booking.approved"]
    assert await actions(kind="booking", object_id=10) == ["booking.approved"]
    assert await actions(action="loan.handed_out") == ["loan.handed_out"]
    assert await actions(location_id=world["torget"]) == ["booking.declined"]
    assert await actions(person_id=lena) == ["loan.handed_out"]  # as the one who acted
    assert await actions(person_id=world["bob"][0]) == ["booking.declined"]  # as the one it concerned
    assert await actions(person_id=alice, kind="role") == ["role.granted"]
    assert len(await actions(days=366)) == 4 and await actions(days=401, **{"to": (clock.now - timedelta(days=35)).isoformat()}) == [
        "booking.approved"
    ]
    assert await actions(**{"from": (clock.now - timedelta(days=2, hours=1)).isoformat()}) == ["role.granted", "booking.declined"]


async def test_the_span_is_required_and_at_most_366_days(client, clock, world):
    headers = world["staff"][1]
    wide = await client.get("/api/v1/audit", params=span(clock, days=367), headers=headers)
    assert (wide.status_code, wide.json()["code"]) == (422, "range_too_wide")
    year = await client.get("/api/v1/audit", params=span(clock, days=366), headers=headers)
    assert year.status_code == 200
    backwards = {"from": clock.now.isoformat(), "to": (clock.now - timedelta(days=1)).isoformat()}
    reversed_ = await client.get("/api/v1/audit", params=backwards, headers=headers)
    assert (reversed_.status_code, reversed_.json()["code"]) == (422, "invalid_interval")
    missing = await client.get("/api/v1/audit", params={"to": clock.now.isoformat()}, headers=headers)
    assert (missing.status_code, missing.json()["code"]) == (422, "invalid_input")
    csv_wide = await client.get("/api/v1/audit.csv", params=span(clock, days=367), headers=headers)
    assert (csv_wide.status_code, csv_wide.json()["code"]) == (422, "range_too_wide")


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"kind": "spaceship"}, "unknown_object_kind"),
        ({"action": "booking.eaten"}, "unknown_action"),
        ({"object_id": 10}, "invalid_input"),  # an id means nothing without its kind
        ({"limit": 501}, "invalid_input"),
        ({"limit": 0}, "invalid_input"),
        ({"kind": "x" * 21}, "invalid_input"),
    ],
)
async def test_unknown_kinds_and_unbounded_asks_are_refused(client, clock, world, params, code):
    answer = await client.get("/api/v1/audit", params=span(clock, **params), headers=world["staff"][1])
    assert (answer.status_code, answer.json()["code"]) == (422, code)


async def test_pages_go_on_from_the_cursor_without_gaps_or_repeats(client, clock, world):
    headers, seen, cursor = world["staff"][1], [], None
    while True:
        params = span(clock, days=366, limit=2, **({"after_id": cursor} if cursor else {}))
        page = (await client.get("/api/v1/audit", params=params, headers=headers)).json()
        seen += [i["id"] for i in page["items"]]
        assert len(page["items"]) <= 2
        cursor = page["next_after_id"]
        if cursor is None:
            break
    everything = [i["id"] for i in await trail(client, headers, span(clock, days=366, limit=500))]
    assert seen == everything and len(seen) == 4


async def test_location_staff_read_only_the_entries_of_their_places(client, clock, world):
    lena = world["lena"][1]
    items = await trail(client, lena, span(clock))
    assert [i["action"] for i in items] == ["booking.approved", "loan.handed_out"]
    assert {i["location_id"] for i in items} == {world["huset"]}  # neither the other place nor a role granted everywhere
    other = await client.get("/api/v1/audit", params=span(clock, location_id=world["torget"]), headers=lena)
    assert (other.status_code, other.json()["code"]) == (403, "not_at_this_location")


async def test_reporting_reads_everything_and_residents_nothing(client, clock, world):
    assert len(await trail(client, world["rita"][1], span(clock))) == 4
    resident = await client.get("/api/v1/audit", params=span(clock), headers=world["alice"][1])
    assert (resident.status_code, resident.json()["code"]) == (403, "staff_only")
    resident_csv = await client.get("/api/v1/audit.csv", params=span(clock), headers=world["alice"][1])
    assert resident_csv.status_code == 403
    anonymous = await client.get("/api/v1/audit", params=span(clock))
    assert anonymous.status_code == 401


async def test_the_csv_parses_back_with_every_entry_and_no_formula(client, clock, world):
    answer = await client.get("/api/v1/audit.csv", params=span(clock, days=366), headers=world["staff"][1])
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"].startswith("attachment; filename=")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    listed = await trail(client, world["staff"][1], span(clock, days=366))
    assert [int(r["id"]) for r in rows] == [i["id"] for i in listed] and len(rows) == 4
    handed_out = next(r for r in rows if r["action"] == "loan.handed_out")
    assert handed_out["reason"] == '\'=HYPERLINK("http://x")'  # a spreadsheet reads it as text, not a formula
    assert handed_out["actor"] == "Lena" and handed_out["subject"] == "Alice" and handed_out["location_id"] == str(world["huset"])
    assert json.loads(handed_out["before"]) == {"status": "requested"} and json.loads(handed_out["after"]) == {"status": "confirmed"}
    granted = next(r for r in rows if r["action"] == "role.granted")
    assert (granted["actor_id"], granted["actor"], granted["location_id"]) == ("", "system", "")


async def test_the_csv_of_location_staff_holds_only_their_places(client, clock, world):
    answer = await client.get("/api/v1/audit.csv", params=span(clock), headers=world["lena"][1])
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert {r["location_id"] for r in rows} == {str(world["huset"])} and len(rows) == 2
