"""Notification benchmark: mails drained per second against raw SMTP sends, and a 10,000-booking feed against a bare query.

    .venv/bin/python bench/notifications.py [--database-url URL] [--mails 500] [--bookings 10000]

Every figure is printed beside a baseline measured in the same run on the same machine, so the ratios travel.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import socket
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiosmtplib
from aiosmtpd.controller import Controller
from litestar.testing import AsyncTestClient
from sqlalchemy import insert, select

from booking.store import Booking
from config import migrate
from config.app import create_app
from infra import outbox as store
from infra.database import Db
from infra.mail_transport import SmtpTransport
from infra.settings import Settings, async_database_url
from notifications import service
from notifications.mail import Site
from people.store import Person
from resources.store import Location, Resource

FEED_TARGET_MS = 150
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Counter:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        self.count += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def seed(db: Db, bookings: int) -> tuple[int, int, int]:
    """A person, a room holding `bookings` bookings one after another, and a room with one booking."""
    async with db.write() as s:
        person = Person(email="bench@example.no", name="Benk", created_at=NOW)
        location = Location(
            key="bench", name="Knutepunkt Strømsø", address="Tordenskiolds gate 6", postal_code="3044", access_notes="Ring på."
        )
        s.add_all([person, location])
        await s.flush()
        rooms = [Resource(key=f"bench{i}", location_id=location.id, kind="room", name=f"Benkerom {i}", updated_at=NOW) for i in range(2)]
        s.add_all(rooms)
        await s.flush()
        rows = [booking_row(rooms[0].id, person.id, i) for i in range(bookings)] + [booking_row(rooms[1].id, person.id, 0)]
        for chunk in range(0, len(rows), 2000):
            await s.execute(insert(Booking), rows[chunk : chunk + 2000])
        return person.id, rooms[0].id, rooms[1].id


def booking_row(resource_id: int, person_id: int, i: int) -> dict:
    start = NOW + timedelta(days=1, hours=2 * i)
    return dict(
        resource_id=resource_id,
        person_id=person_id,
        title=f"Møte {i}",
        start=start,
        end=start + timedelta(hours=1),
        block_start=start,
        block_end=start + timedelta(hours=1),
        exclusive=True,
        quantity=1,
        status="confirmed",
        sequence=0,
        created_at=NOW,
        updated_at=NOW,
    )


async def queue_mails(db: Db, person_id: int, resource_id: int, count: int) -> None:
    async with db.read() as s:
        booking = (await s.execute(select(Booking).where(Booking.resource_id == resource_id).limit(1))).scalar_one()
    async with db.write() as s:
        for _ in range(count):
            store.record_booking_event(s, "booking_confirmed", booking, at=NOW)


async def mails_per_second(db: Db, settings: Settings, port: int, counter: Counter, count: int) -> tuple[float, float]:
    """(ours, baseline): draining the outbox, and sending the same mail over one raw aiosmtplib connection."""
    started = time.perf_counter()
    report = await service.drain_outbox(db, Site.of(settings), SmtpTransport(f"smtp://127.0.0.1:{port}"), clock=lambda: NOW, owner="bench")
    ours = report.sent / (time.perf_counter() - started)
    assert report.sent == count == counter.count, (report, counter.count)
    sample = await sample_message(db, settings)
    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port)
    await smtp.connect()
    started = time.perf_counter()
    for _ in range(count):
        await smtp.send_message(copy.copy(sample))
    raw = count / (time.perf_counter() - started)
    await smtp.quit()
    return ours, raw


async def sample_message(db: Db, settings: Settings):
    async with db.read() as s:
        rows = (await s.execute(select(store.Notification).limit(1))).scalars().all()
        known = await service.read_facts(s, rows)
    from notifications import mail

    return mail.render(service.letter_of(rows[0], *known), Site.of(settings))


async def feed_times(settings: Settings, busy_room: int, quiet_room: int, db: Db, runs: int = 7) -> tuple[float, float, float]:
    """Median ms: the 10,000-booking feed over HTTP, the one-booking feed, and the bare query of the 10,000 rows."""
    app = create_app(settings, clock=lambda: NOW)
    async with AsyncTestClient(app=app) as client:
        big = [await timed(client.get(f"/calendar/resources/{busy_room}.ics")) for _ in range(runs)]
        small = [await timed(client.get(f"/calendar/resources/{quiet_room}.ics")) for _ in range(runs)]
    query = select(Booking.id, Booking.block_start, Booking.block_end, Booking.sequence, Booking.updated_at).where(
        Booking.resource_id == busy_room
    )

    async def bare() -> None:
        async with db.read() as s:
            (await s.execute(query)).all()

    bare_times = [await timed(bare()) for _ in range(runs)]
    return statistics.median(big), statistics.median(small), statistics.median(bare_times)


async def timed(awaitable) -> float:
    started = time.perf_counter()
    result = await awaitable
    if hasattr(result, "status_code"):
        assert result.status_code == 200, result.text
    return (time.perf_counter() - started) * 1000


async def main(args: argparse.Namespace) -> None:
    url = async_database_url(args.database_url or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}")
    await migrate.upgrade(url)
    settings = Settings(database_url=url, scheduler=False)
    db = Db(url)
    counter = Counter()
    port = free_port()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        person, busy_room, quiet_room = await seed(db, args.bookings)
        await queue_mails(db, person, quiet_room, args.mails)
        ours, raw = await mails_per_second(db, settings, port, counter, args.mails)
        big, small, bare = await feed_times(settings, busy_room, quiet_room, db)
    finally:
        controller.stop()
        await db.dispose()
    print(f"database: {db.dialect}")
    print(f"mail: {ours:8.0f} mails/s drained (render, iCal, send, mark)   vs {raw:8.0f} raw aiosmtplib sends/s   ratio {ours / raw:.2f}")
    print(
        f"feed: {big:8.1f} ms for {args.bookings} bookings over HTTP   vs {small:6.1f} ms for one booking (ratio {big / small:.1f}),"
        f" {bare:6.1f} ms bare query (ratio {big / bare:.1f});  target < {FEED_TARGET_MS} ms: {'met' if big < FEED_TARGET_MS else 'MISSED'}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="default: a fresh SQLite file; PostgreSQL URLs must name an empty database")
    parser.add_argument("--mails", type=int, default=500)
    parser.add_argument("--bookings", type=int, default=10_000)
    asyncio.run(main(parser.parse_args()))
