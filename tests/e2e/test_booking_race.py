"""Invariant 1 under real concurrency: many simultaneous requests for one slot through real server processes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from booking.rules import ACTIVE
from booking.store import Booking
from resources.rules import OSLO, is_public_holiday, local_datetime
from sqlalchemy import func, select
from tests import builders
from tests.e2e.servers import running_servers

pytestmark = pytest.mark.e2e
REQUESTS = 200


def next_weekday_evening(days_ahead: int = 10) -> tuple[datetime, datetime]:
    day = datetime.now(UTC).astimezone(OSLO).date() + timedelta(days=days_ahead)
    while day.weekday() > 4 or is_public_holiday(day):
        day += timedelta(days=1)
    return local_datetime(day, datetime.min.time().replace(hour=18)), local_datetime(day, datetime.min.time().replace(hour=20))


async def race(urls: list[str], room: int, headers: list[dict[str, str]]) -> list[int]:
    start, end = next_weekday_evening()
    body = {"resource_id": room, "start": start.isoformat(), "end": end.isoformat(), "title": "Dugnadsmøte"}
    limits = httpx.Limits(max_connections=REQUESTS, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:
        responses = await asyncio.gather(*(http.post(f"{urls[i % len(urls)]}/api/v1/bookings", json=body, headers=headers[i % len(headers)]) for i in range(REQUESTS)))
    for r in responses:
        assert r.status_code in (201, 409), r.text
        if r.status_code == 409:
            assert r.json()["code"] == "slot_taken"
    return [r.status_code for r in responses]


async def test_two_hundred_simultaneous_requests_for_one_slot_book_it_exactly_once(db, db_url, backend, tmp_path):
    room = await builders.room(db, key="racerom")
    headers = [(await builders.person(db, f"racer{i}@example.no"))[1] for i in range(10)]
    servers = 2 if backend == "postgresql" else 1
    with running_servers(db_url, servers, tmp_path) as urls:
        statuses = await race(urls, room, headers)
    assert statuses.count(201) == 1
    assert statuses.count(409) == REQUESTS - 1
    async with db.read() as s:
        active = (await s.execute(select(func.count()).select_from(Booking).where(Booking.resource_id == room, Booking.status.in_([a.value for a in ACTIVE])))).scalar_one()
    assert active == 1
