"""Invariants 1 and 2 under real concurrency: simultaneous requests through real server processes."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta

import httpx
import pytest
from sqlalchemy import select

from booking.rules import ACTIVE
from booking.store import Booking
from config.servers import running_servers
from infra.time import OSLO, is_public_holiday, local_datetime
from tests import builders

pytestmark = pytest.mark.e2e


def next_weekday(days_ahead: int = 10) -> date:
    day = datetime.now(UTC).astimezone(OSLO).date() + timedelta(days=days_ahead)
    while day.weekday() > 3 or is_public_holiday(day) or is_public_holiday(day + timedelta(days=1)):
        day += timedelta(days=1)
    return day


def evening(day: date) -> dict[str, str]:
    return {"start": local_datetime(day, time(18)).isoformat(), "end": local_datetime(day, time(20)).isoformat()}


def noon_to_noon(day: date) -> dict[str, str]:
    return {"start": local_datetime(day, time(12)).isoformat(), "end": local_datetime(day + timedelta(days=1), time(12)).isoformat()}


async def fire(requests: list[tuple[str, dict, dict[str, str]]]) -> list[httpx.Response]:
    """Send every request at once, each on its own connection."""
    limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:
        return await asyncio.gather(*(http.post(url, json=body, headers=headers) for url, body, headers in requests))


def codes(responses: list[httpx.Response], refusal: str) -> list[int]:
    for r in responses:
        assert r.status_code in (201, 409), r.text
        if r.status_code == 409:
            assert r.json()["code"] == refusal
    return [r.status_code for r in responses]


async def active_bookings(db, resource_id: int) -> list[Booking]:
    async with db.read() as s:
        query = select(Booking).where(Booking.resource_id == resource_id, Booking.status.in_([a.value for a in ACTIVE]))
        return list((await s.execute(query)).scalars())


async def racers(db, count: int) -> list[dict[str, str]]:
    return [(await builders.person(db, f"racer{i}@example.no"))[1] for i in range(count)]


def server_count(backend: str) -> int:
    return 2 if backend == "postgresql" else 1


async def test_two_hundred_simultaneous_requests_for_one_slot_book_it_exactly_once(db, db_url, backend, tmp_path):
    room, headers = await builders.room(db, key="racerom"), await racers(db, 10)
    body = {"resource_id": room, "title": "Dugnadsmøte", **evening(next_weekday())}
    with running_servers(db_url, server_count(backend), tmp_path) as urls:
        responses = await fire([(f"{urls[i % len(urls)]}/api/v1/bookings", body, headers[i % 10]) for i in range(200)])
    statuses = codes(responses, "slot_taken")
    assert (statuses.count(201), statuses.count(409)) == (1, 199)
    assert len(await active_bookings(db, room)) == 1


async def test_sixty_simultaneous_loans_of_an_item_with_four_units_give_exactly_four(db, db_url, backend, tmp_path):
    speakers, headers = await builders.item(db, "hoyttaler", stock=4), await racers(db, 60)
    body = {"resource_id": speakers, "quantity": 1, **noon_to_noon(next_weekday())}
    with running_servers(db_url, server_count(backend), tmp_path) as urls:
        responses = await fire([(f"{urls[i % len(urls)]}/api/v1/bookings", body, headers[i]) for i in range(60)])
    statuses = codes(responses, "insufficient_stock")
    assert (statuses.count(201), statuses.count(409)) == (4, 56)
    assert sum(b.quantity for b in await active_bookings(db, speakers)) == 4


async def test_kits_racing_for_the_last_tent_give_one_whole_kit_never_half_of_one(db, db_url, backend, tmp_path):
    tent, tables, chairs = await builders.item(db, "telt", 1), await builders.item(db, "bord", 40), await builders.item(db, "stol", 400)
    kits = [await builders.kit(db, "med-bord", {tent: 1, tables: 4}), await builders.kit(db, "med-stoler", {tent: 1, chairs: 20})]
    headers, interval = await racers(db, 20), noon_to_noon(next_weekday())
    with running_servers(db_url, server_count(backend), tmp_path) as urls:
        responses = await fire([(f"{urls[i % len(urls)]}/api/v1/kits/{kits[i % 2]}/loans", interval, headers[i]) for i in range(20)])
    assert codes(responses, "insufficient_stock").count(201) == 1
    winner = next(r.json() for r in responses if r.status_code == 201)
    others = len(await active_bookings(db, tables)) + len(await active_bookings(db, chairs))
    assert (len(await active_bookings(db, tent)), others) == (1, 1)
    assert len(winner["items"]) == 2
