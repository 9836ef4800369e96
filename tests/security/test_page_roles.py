"""Who may open which staff page and send which staff form, signed in by the session cookie as a browser is.

The world is the authorisation matrix's (resident A's things all at location X, a location Y, a staff member of each
role) with two requests awaiting approval, one at X and one at Y. `PAGES` and `FORMS` name every `/staff` route the
site serves; a route they do not name fails the suite. A refused page is an error page (403 or 404; a form may show
its refusal on the form again, 422), and a refused form changes nothing in the database; an allowed form does what it
says (something changes). Residents are refused every staff page; reporting reads and every form refuses them.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlmodel import SQLModel

import config.tables  # noqa: F401  (every table on the metadata, for the snapshot)
from infra.errors import ErrorCode
from infra.i18n import Speaker
from people import service as people_service
from resources.store import Resource, policy_to_json
from tests import builders
from tests.security.test_authorisation_matrix import (
    DECIDERS,
    EMAILS,
    OPERATORS,
    READERS,
    SEASONERS,
    STAFF_LIST,
    TUESDAY_EVENING,
    World,
    ok,
    world_file,
)
from web.refusals import message_for
from web.site import ROUTER

STAFF = ("operator", "location_staff", "elsewhere_staff", "season_manager", "reporting")
VISITORS = ("anonymous", "resident_a", *STAFF)
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
FRIDAY_AT_ELEVEN = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # when A's loan at X starts (11:00 in Oslo)
# Tables a visit itself writes to (the session's last use, a person's last visit): not what a form changes.
VISIT_TABLES = frozenset({"credential", "person"})


@dataclass(frozen=True)
class Visit:
    """A staff route, the address it is visited at (place-holders named after the world's ids) and who may."""

    route: str
    path: str
    allowed: frozenset[str]
    form: tuple[tuple[str, str], ...] = ()
    acts: bool = True  # an allowed form's answer changes something (False: the form's own checks may still refuse it)


def page(route: str, allowed: frozenset[str], path: str = "") -> Visit:
    return Visit(route, path or route, allowed)


def form(route: str, allowed: frozenset[str], path: str = "", *, acts: bool = True, **fields: str) -> Visit:
    return Visit(route, path or route, allowed, tuple(fields.items()), acts)


RESOURCE, SEASON, ROOM_SEASON = (
    "/staff/resources/{resource_id:int}",
    "/staff/seasons/{season_id:int}",
    "/staff/room-seasons/{season_id:int}",
)
PLACE = "/staff/locations/{location_id:int}"
AT_X = READERS  # a page about one thing at X: those who read at X
PAGES = [
    *(page(f"/staff/{name}", STAFF_LIST) for name in ("requests", "handovers", "overdue", "catalogue", "utilisation", "seasons")),
    *(page(f"/staff/{name}", STAFF_LIST) for name in ("room-seasons", "audit", "roles")),
    *(page(f"/staff/{name}", STAFF_LIST) for name in ("garden/utilisation", "garden/utilisation.csv")),
    *(page(f"/staff/{name}", STAFF_LIST) for name in ("loans/utilisation", "loans/utilisation.csv")),
    *(page(RESOURCE + f"/{name}", AT_X) for name in ("closures", "utilisation", "utilisation.csv")),
    # The form of a change, with nothing on it to read that the resource's own page does not show: for those who may make it.
    *(page(RESOURCE + f"/{name}", DECIDERS) for name in ("edit", "retire")),
    *(page(PLACE + f"/{name}", AT_X) for name in ("closures", "utilisation", "utilisation.csv")),
    page(SEASON, AT_X),
    page(ROOM_SEASON, AT_X, "/staff/room-seasons/{room_season_id}"),
    page(ROOM_SEASON + "/report", AT_X, "/staff/room-seasons/{room_season_id}/report"),
    page("/staff/roles/revoke", OPERATORS, "/staff/roles/revoke?person={reporting_id}&role=reporting"),
]
CLOSING = {"start_date": "2027-01-04", "start": "00:00", "end_date": "2027-01-05", "end": "00:00", "reason": "Maling"}
FORMS = [
    form("/staff/requests/{booking_id:int}/{decision:str}", DECIDERS, "/staff/requests/{request_x}/approve"),
    form("/staff/requests/{booking_id:int}/{decision:str}", DECIDERS, "/staff/requests/{request_x}/decline", reason="Opptatt"),
    form("/staff/loans/{booking_id:int}/{step:str}", DECIDERS, "/staff/loans/{loan_id}/check-out", day="2026-11-27"),
    form(RESOURCE + "/closures", DECIDERS, "/staff/resources/{resource_id}/closures", **CLOSING),
    form(RESOURCE + "/closures/{closure_id:int}/remove", DECIDERS, "/staff/resources/{resource_id}/closures/{closure_id}/remove"),
    form(RESOURCE + "/edit", DECIDERS, "/staff/resources/{resource_id}/edit", acts=False, name="Nytt navn"),
    form(RESOURCE + "/retire", DECIDERS, "/staff/resources/{item_id}/retire", acts=False, covered="keep"),
    form(PLACE + "/closures", DECIDERS, "/staff/locations/{location_id}/closures", acts=False, **CLOSING),
    form("/staff/seasons", SEASONERS, acts=False, name="Hagesesong 2028"),
    form(SEASON + "/{step:str}", SEASONERS, "/staff/seasons/{season_id}/phase", phase="running", sure="1"),
    form(
        SEASON + "/applications/{application_id:int}/adjust",
        SEASONERS,
        "/staff/seasons/{season_id}/applications/{application_id}/adjust",
        acts=False,
    ),
    form("/staff/room-seasons", SEASONERS, acts=False, name="Vår 2028"),
    form(ROOM_SEASON + "/{step:str}", SEASONERS, "/staff/room-seasons/{room_season_id}/phase", phase="running", sure="1"),
    form(
        ROOM_SEASON + "/wishes/{wish_id:int}/adjust", SEASONERS, "/staff/room-seasons/{room_season_id}/wishes/{wish_id}/adjust", acts=False
    ),
    form("/staff/roles/grant", OPERATORS, email=EMAILS["resident_b"], role="reporting", location=""),
    form("/staff/roles/revoke", OPERATORS, person="{reporting_id}", role="reporting", location=""),
]


async def extend(client, db, headers: dict, ids: dict) -> None:
    """A hall at X and one at Y that need approval, each with A's request; a session cookie for everyone."""
    ids["hall_x"] = await builders.room(db, key="sal", policy=builders.room_policy(needs_approval=True))
    async with db.write() as s:
        hall_y = Resource(key="sal-y", location_id=ids["elsewhere_id"], kind="room", name="Sal Y", capacity=20, updated_at=builders.EPOCH)
        hall_y.policy = policy_to_json(builders.room_policy(needs_approval=True))
        s.add(hall_y)
        await s.flush()
        ids["hall_y"] = hall_y.id
    for place in ("x", "y"):
        asked = {"resource_id": ids[f"hall_{place}"], "start": TUESDAY_EVENING[0], "end": TUESDAY_EVENING[1], "title": "Møte"}
        ids[f"request_{place}"] = ok(await client.post("/api/v1/bookings", json=asked, headers=headers["resident_a"]), 201)["id"]
    people = ok(await client.get("/api/v1/staff", headers=headers["operator"]), 200)["items"]
    ids["reporting_id"] = next(p["person_id"] for p in people if p["email"] == EMAILS["reporting"])
    ids["sessions"] = {role: await people_service.issue_credential(db, email, "session", now=MONDAY) for role, email in EMAILS.items()}


@pytest.fixture(scope="module")
def world(sqlite_template, tmp_path_factory) -> World:
    return world_file(sqlite_template, tmp_path_factory.mktemp("pages"), extend)


@pytest.fixture
def backend() -> str:  # a copy of this module's world, on SQLite: who may is no storage question
    return "sqlite"


@pytest.fixture
async def db_url(world, tmp_path) -> str:
    path = tmp_path / "allmenning.db"
    shutil.copy(world.path, path)
    return f"sqlite+aiosqlite:///{path}"


def address(path: str, ids: dict) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(ids[m[1]]), path)


def sign_in(client, world: World, role: str) -> None:
    if role != "anonymous":
        client.cookies.set("allmenning_session", world.ids["sessions"][role])


async def snapshot(db) -> dict[str, list]:
    """Every row of every table but those a visit itself touches: equal before and after means nothing changed."""
    async with db.read() as s:
        return {
            t.name: sorted(map(repr, (await s.execute(select(t))).all()))
            for t in SQLModel.metadata.sorted_tables
            if t.name not in VISIT_TABLES
        }


REFUSALS = [Speaker("nb")(message_for(code)) for code in (ErrorCode.STAFF_ONLY, ErrorCode.NOT_AT_THIS_LOCATION, ErrorCode.FORBIDDEN)]


# Findings: a (route, role) the site answers against its table (kept failing-on-fix with strict xfail). Empty when none is known.
KNOWN_HOLES: dict[tuple[str, str], str] = {}


def visits(table: list[Visit], roles: tuple[str, ...]):
    for visit in table:
        for role in roles:
            verdict = "may" if role in visit.allowed else "may_not"
            hole = KNOWN_HOLES.get((visit.route, role)) if table is PAGES else None
            marks = [pytest.mark.xfail(strict=True, reason=hole)] if hole else []
            yield pytest.param(visit, role, marks=marks, id=f"{role}-{verdict}-{visit.path}")


def test_every_staff_route_the_site_serves_is_visited_by_the_tables():
    served = {(m, r.path) for r in ROUTER.routes if r.path.startswith("/staff") for m in r.methods & {"GET", "POST"}}
    named = {("GET", v.route) for v in PAGES} | {("POST", v.route) for v in FORMS}
    assert not served - named, f"staff routes no table names: {sorted(served - named)}"
    assert not named - served, f"routes the site no longer serves: {sorted(named - served)}"


@pytest.mark.parametrize(("visit", "role"), list(visits(PAGES, VISITORS)))
async def test_a_staff_page_opens_for_those_who_may_and_refuses_everyone_else(client, world, visit, role):
    sign_in(client, world, role)
    answer = await client.get(address(visit.path, world.ids), follow_redirects=False)
    said = (role, visit.path, answer.status_code, answer.text[:300])
    if role == "anonymous":
        assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in"), said
    elif role in visit.allowed:
        assert answer.status_code == 200, said
    else:
        assert answer.status_code in (403, 404) and answer.headers["content-type"].startswith("text/html"), said


@pytest.mark.parametrize(("visit", "role"), list(visits(FORMS, ("resident_a", *STAFF))))
async def test_a_staff_form_acts_for_those_who_may_and_changes_nothing_for_anyone_else(client, db, clock, world, visit, role):
    clock.now = FRIDAY_AT_ELEVEN  # A's loan can be handed out; every other form is as good on Friday as on Monday
    sign_in(client, world, role)
    token = re.search(r'name="csrf_token" value="([^"]+)"', (await client.get("/my/profile")).text).group(1)
    fields = {name: address(value, world.ids) for name, value in visit.form}
    before = await snapshot(db)
    answer = await client.post(address(visit.path, world.ids), data={**fields, "csrf_token": token}, follow_redirects=False)
    said = (role, visit.path, answer.status_code, answer.text[:300])
    changed = await snapshot(db) != before
    if role in visit.allowed:
        assert answer.status_code not in (401, 403, 404) and not any(r in answer.text for r in REFUSALS), said
        assert changed or not visit.acts, said
    else:
        assert answer.status_code in (403, 404, 422) and not changed, said


async def test_location_staff_see_and_approve_their_places_requests_and_not_the_other_places(client, db, world):
    ids = world.ids
    for role, mine, theirs in (("location_staff", "request_x", "request_y"), ("elsewhere_staff", "request_y", "request_x")):
        client.cookies.clear()
        sign_in(client, world, role)
        listed = await client.get("/staff/requests")
        shown = {int(n) for n in re.findall(r"/staff/requests/(\d+)/approve", listed.text)}
        assert ids[mine] in shown and ids[theirs] not in shown, (role, shown)
        token = re.search(r'name="csrf_token" value="([^"]+)"', listed.text).group(1)
        before = await snapshot(db)
        refused = await client.post(f"/staff/requests/{ids[theirs]}/approve", data={"csrf_token": token}, follow_redirects=False)
        assert refused.status_code in (403, 404, 422) and await snapshot(db) == before, (role, refused.status_code)
        approved = await client.post(f"/staff/requests/{ids[mine]}/approve", data={"csrf_token": token}, follow_redirects=False)
        assert approved.status_code == 303 and approved.headers["location"].startswith("/staff/requests"), (role, approved.text[:300])
    waiting = ok(await client.get("/api/v1/bookings/awaiting-approval", headers=world.headers["operator"]), 200)["items"]
    assert not {ids["request_x"], ids["request_y"]} & {r["id"] for r in waiting}  # each approved, by its own place's staff
