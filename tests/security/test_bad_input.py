"""Bad input gets a clear 4xx problem and writes nothing: NUL bytes, JSON nested too deep, a method a path does not take."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from people.store import Person
from tests import builders

NUL = "\u0000"


async def persons(db) -> int:
    async with db.read() as s:
        return (await s.execute(select(func.count()).select_from(Person))).scalar_one()


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


@pytest.mark.parametrize("body", [{"email": f"ola{NUL}@example.no"}, {"email": "ola@example.no", "name": f"Ola{NUL}"}])
async def test_a_nul_byte_in_a_sign_in_is_refused_and_stores_no_one(client, db, body):
    problem = assert_problem(await client.post("/api/v1/auth/sign-in", json=body), 422)
    assert problem["code"] in ("invalid_email", "invalid_input")
    assert await persons(db) == 0


async def test_a_nul_byte_in_a_booking_title_is_refused(client, alice, room_id):
    body = {"resource_id": room_id, "title": f"Kor{NUL}", "start": "2026-11-30T18:00:00+01:00", "end": "2026-11-30T20:00:00+01:00"}
    assert assert_problem(await client.post("/api/v1/bookings", json=body, headers=alice[1]), 422)["code"] == "invalid_input"


async def test_json_nested_a_thousand_deep_is_a_bad_request(client, db):
    deep = "[" * 1000 + "]" * 1000
    response = await client.post("/api/v1/auth/sign-in", content='{"email": ' + deep + "}", headers={"content-type": "application/json"})
    assert assert_problem(response, 400)["code"] == "bad_request"
    assert await persons(db) == 0


async def test_a_method_a_path_does_not_take_is_answered_with_the_methods_it_does(client):
    response = await client.put("/api/v1/me")
    assert assert_problem(response, 405)["code"] == "method_not_allowed"
    assert {"GET", "PATCH"} <= {m.strip() for m in response.headers["allow"].split(",")}


async def test_a_percent_sign_before_two_zeros_in_json_is_only_text(client, alice, room_id):
    body = {"resource_id": room_id, "title": "Rabatt 100%00", "start": "2026-11-30T18:00:00+01:00", "end": "2026-11-30T20:00:00+01:00"}
    assert (await client.post("/api/v1/bookings", json=body, headers=alice[1])).status_code == 201


async def test_a_nul_in_a_query_string_is_refused(client):
    assert assert_problem(await client.get("/api/v1/resources?kind=room%00"), 422)["code"] == "invalid_input"


async def test_a_hand_over_form_with_no_date_for_its_day_refuses_cleanly_and_shows_today(client, db, staff):
    chairs = await builders.item(db, "stoler", stock=4)
    page = (await client.get("/staff/handovers?day=x", headers=staff[1])).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    refused = await client.post(f"/staff/loans/{chairs}/check-out", data={"day": "x", "csrf_token": token}, headers=staff[1])
    assert refused.status_code == 422  # the item is no loan: refused on the page, the day read as today
    assert refused.headers["content-type"].startswith("text/html")  # a page with the refusal, not a 500


async def test_a_hand_over_step_that_does_not_exist_is_not_taken_for_a_return(client, db, staff):
    page = (await client.get("/staff/handovers", headers=staff[1])).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = await client.post("/staff/loans/1/anything", data={"csrf_token": token}, headers=staff[1])
    assert response.status_code == 404
