"""Seeding for the benchmarks: a fresh database, always-open rooms, people with tokens, and booking history."""

from __future__ import annotations

import uuid
from contextlib import asynccontextmanager
from datetime import datetime, time, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from booking.store import Booking
from config import migrate
from infra.database import Db
from people import service as people
from people import store as people_store
from resources.rules import BookerKind, Policy, WeeklyWindow
from resources.store import Location, Resource, policy_to_json

ALWAYS_OPEN = Policy(
    windows=(WeeklyWindow(weekdays=frozenset(range(7)), start=time(0), end=time(0)),),
    min_duration=timedelta(minutes=15),
    max_duration=timedelta(hours=4),
    max_loan=timedelta(days=7),
    granularity=timedelta(minutes=15),
    lead_time=timedelta(0),
    horizon=timedelta(days=3 * 365),
    open_on_holidays=True,
    bookable_by=frozenset({BookerKind.RESIDENT, BookerKind.ASSOCIATION, BookerKind.STAFF}),
)


@asynccontextmanager
async def bench_database(postgres_url: str | None, tmp: Path):
    """A fresh, migrated database: a SQLite file, or a new database beside the PostgreSQL one given."""
    if postgres_url is None:
        url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
        await migrate.upgrade(url)
        yield url
        return
    name = f"allmenning_bench_{uuid.uuid4().hex[:8]}"
    admin = postgres_url.replace("postgresql+asyncpg://", "postgresql://")
    await _admin(admin, f'CREATE DATABASE "{name}"')
    url = "postgresql+asyncpg://" + admin.split("://", 1)[1].rsplit("/", 1)[0] + f"/{name}"
    try:
        await migrate.upgrade(url)
        yield url
    finally:
        await _admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def seed_resources(url: str, count: int, kind: str = "room", *, key: str = "bench") -> tuple[list[int], int]:
    """`count` always-open rooms (or items of 1,000 units) for throughput, and one more that will carry the history;
    at a location of their own (`key`)."""
    db = Db(url)
    try:
        async with db.write() as s:
            location = Location(key=f"{key}-{kind}", name="Bench", address="Benkgata 1", postal_code="3044")
            s.add(location)
            await s.flush()
            sizes = {"capacity": 20} if kind == "room" else {"stock": 1000}
            made = [
                Resource(
                    key=f"{key}-{kind}-{i}",
                    location_id=location.id,
                    kind=kind,
                    name=f"{kind} {i}",
                    policy=policy_to_json(ALWAYS_OPEN),
                    updated_at=datetime.now().astimezone(),
                    **sizes,
                )
                for i in range(count + 1)
            ]
            s.add_all(made)
            await s.flush()
            return [r.id for r in made[:-1]], made[-1].id
    finally:
        await db.dispose()


async def seed_people(url: str, count: int) -> list[dict[str, str]]:
    db = Db(url)
    try:
        now = datetime.now().astimezone()
        headers = []
        for i in range(count):
            await people.add_person(db, f"bench{i}@example.no", name=f"Bench {i}", now=now)
            headers.append({"Authorization": f"Bearer {await people.issue_credential(db, f'bench{i}@example.no', 'api', now=now)}"})
        return headers
    finally:
        await db.dispose()


async def seed_history(url: str, resource_id: int, count: int, *, before: datetime, exclusive: bool = True) -> None:
    """`count` past one-hour bookings of one resource, ending before `before`, inserted in bulk.

    They belong to one other person, as a resource's history belongs to many: the measured booker's own
    history stays small, and only the resource's grows.
    """
    db = Db(url)
    try:
        await people.add_person(db, "history@example.no", name="History", now=before)
        async with db.read() as s:
            person_id = (await people_store.person_by_email(s, "history@example.no")).id
        rows = []
        for i in range(count):
            end = before - timedelta(hours=i + 1)
            start = end - timedelta(hours=1)
            rows.append(
                dict(
                    resource_id=resource_id,
                    person_id=person_id,
                    title="",
                    start=start,
                    end=end,
                    block_start=start,
                    block_end=end,
                    exclusive=exclusive,
                    quantity=1,
                    status="confirmed",
                    sequence=0,
                    created_at=start,
                    updated_at=start,
                    decision_reason="",
                    cancel_reason="",
                    check_out_note="",
                    return_condition="",
                    return_note="",
                    missing_units=0,
                )
            )
        async with db.write() as s:
            for chunk in range(0, len(rows), 5_000):
                await s.execute(insert(Booking), rows[chunk : chunk + 5_000])
    finally:
        await db.dispose()


async def person_with_two_rooms(s: AsyncSession, now: datetime) -> tuple[people_store.Person, list[Resource]]:
    """A person, and two rooms at Knutepunkt Strømsø: what the feed and mail benches book for."""
    person = people_store.Person(email="bench@example.no", name="Benk", created_at=now)
    location = Location(key="bench", name="Knutepunkt Strømsø", address="Tordenskiolds gate 6", postal_code="3044", access_notes="Ring på.")
    s.add_all([person, location])
    await s.flush()
    rooms = [Resource(key=f"bench{i}", location_id=location.id, kind="room", name=f"Benkerom {i}", updated_at=now) for i in range(2)]
    s.add_all(rooms)
    await s.flush()
    return person, rooms


def booking_row(
    resource_id: int, person_id: int, start: datetime, *, minutes: int, made: datetime, title: str = "", status: str = "confirmed"
) -> dict:
    """A booking's column values, for inserting thousands at once."""
    end = start + timedelta(minutes=minutes)
    return dict(
        resource_id=resource_id,
        person_id=person_id,
        title=title,
        start=start,
        end=end,
        block_start=start,
        block_end=end,
        exclusive=True,
        quantity=1,
        status=status,
        sequence=0,
        created_at=made,
        updated_at=made,
    )
