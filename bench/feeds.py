"""Feed benchmark: a 10,000-event private feed's conditional GET (304) and full GET (200), through the real app.

    .venv/bin/python bench/feeds.py [--database-url URL] [--bookings 10000] [--runs 101]

The app is `config.app.create_app`, driven in process through its ASGI interface (httpx's ASGITransport on the same
event loop: no sockets, and no thread between client and app, so what is timed is the app, its middleware and its
database). Each figure is timed in turns with a baseline from the same run: `GET /healthz` (the same app, one
`SELECT 1`) and a bare `SELECT` of the feed's rows (the booking columns it shows, in its order, as the driver returns
them). The 304 is timed twice: while the feed's newest change is settled (older than `feeds.SETTLED`: its version is
two index seeks), and just after a change (its rows are summed instead).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import bindparam, insert, select, text, update

from bench.seed import booking_row, person_with_two_rooms
from booking.store import ACTIVE_VALUES, Booking
from config import migrate
from config.app import create_app
from infra.database import Db, UtcDateTime
from infra.settings import Settings, async_database_url
from notifications import rules
from notifications import store as feed_store
from notifications.feeds import SETTLED

NOT_MODIFIED_TARGET_MS = 5.0
FULL_TARGET_MS = 100.0
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
MADE = NOW - timedelta(days=1)  # when the seeded bookings were made and last changed: a day before the clock
HISTORY = 2_000  # past bookings of the same person, older than the feed's window: the index must skip them
CANCELLED = 500  # cancelled bookings in the window: the feed leaves them out


async def seed(db: Db, bookings: int) -> tuple[int, str, int]:
    """A person with `bookings` active bookings in the feed's window over two rooms, history the feed leaves out,
    and a private feed; returns (person id, feed token, the busiest room's id)."""
    async with db.write() as s:
        person, rooms = await person_with_two_rooms(s, NOW)
        rows = [row(rooms[i % 2].id, person.id, NOW + timedelta(days=1, hours=i), title=f"Møte {i}") for i in range(bookings)]
        rows += [row(rooms[0].id, person.id, NOW - rules.FEED_HISTORY - timedelta(hours=2 * i + 2)) for i in range(HISTORY)]
        rows += [row(rooms[1].id, person.id, NOW + timedelta(days=1, hours=i, minutes=30), status="cancelled") for i in range(CANCELLED)]
        for chunk in range(0, len(rows), 2000):
            await s.execute(insert(Booking), rows[chunk : chunk + 2000])
        token = feed_store.add_feed(s, person.id, None, now=NOW)
        return person.id, token, rooms[0].id


def row(resource_id: int, person_id: int, start: datetime, *, title: str = "", status: str = "confirmed") -> dict:
    return booking_row(resource_id, person_id, start, minutes=30, made=MADE, title=title, status=status)


async def timed(awaitable, status: int | None = None) -> float:
    started = time.perf_counter()
    result = await awaitable
    elapsed = (time.perf_counter() - started) * 1000
    if status is not None:
        assert result.status_code == status, (result.status_code, result.text[:300])
    return elapsed


async def change_one_booking_now(db: Db, person_id: int) -> None:
    """A booking of the feed retitled at the clock's `now`, as the API would: its feed's newest change is recent."""
    async with db.write() as s:
        first = (await s.execute(select(Booking.id).where(Booking.person_id == person_id, Booking.status == "confirmed").limit(1))).scalar()
        changed = {"title": "Flyttet", "sequence": Booking.sequence + 1, "updated_at": NOW}
        await s.execute(update(Booking).where(Booking.id == first).values(**changed))


async def measure(db: Db, settings: Settings, person_id: int, token: str, room_id: int, runs: int, bookings: int) -> dict[str, float]:
    app = create_app(settings, clock=lambda: NOW)
    private, public = f"/calendar/feeds/{token}.ics", f"/calendar/resources/{room_id}.ics"
    # The feed's rows as the driver returns them: the booking columns it shows, in its order, no types applied.
    statuses = ", ".join(f"'{status}'" for status in ACTIVE_VALUES)
    bare_query = text(
        'SELECT id, title, start, "end", status, sequence, updated_at, resource_id, association_id FROM booking'
        f' WHERE person_id = :person_id AND status IN ({statuses}) AND "end" >= :since ORDER BY start, id'
    ).bindparams(bindparam("since", type_=UtcDateTime()))

    async def bare() -> None:
        async with db.read() as s:
            rows = (await s.execute(bare_query, {"person_id": person_id, "since": NOW - rules.FEED_HISTORY})).all()
        assert len(rows) == bookings, len(rows)

    times: dict[str, list[float]] = {
        k: [] for k in ("304", "healthz", "bare", "200", "recent 304", "recent healthz", "resource 304", "resource 200")
    }
    transport = httpx.ASGITransport(app=app)
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url=settings.base_url) as client:
        first = await client.get(private)
        assert first.status_code == 200 and first.text.count("BEGIN:VEVENT") == bookings, first.status_code
        etag, resource_etag = first.headers["etag"], (await client.get(public)).headers["etag"]
        for _ in range(5):  # warm: connections opened, statements compiled and cached
            await client.get(private, headers={"If-None-Match": etag})
            await client.get("/healthz")
            await bare()
        for i in range(runs):  # in turns, so a machine that slows down mid-run slows both sides alike
            times["304"].append(await timed(client.get(private, headers={"If-None-Match": etag}), 304))
            times["healthz"].append(await timed(client.get("/healthz"), 200))
            if i % 5 == 0:
                times["bare"].append(await timed(bare()))
                times["200"].append(await timed(client.get(private), 200))
                times["resource 304"].append(await timed(client.get(public, headers={"If-None-Match": resource_etag}), 304))
                times["resource 200"].append(await timed(client.get(public), 200))
        await change_one_booking_now(db, person_id)
        changed = await client.get(private, headers={"If-None-Match": etag})
        assert changed.status_code == 200 and "Flyttet" in changed.text, changed.status_code
        etag = changed.headers["etag"]
        for _ in range(runs):
            times["recent 304"].append(await timed(client.get(private, headers={"If-None-Match": etag}), 304))
            times["recent healthz"].append(await timed(client.get("/healthz"), 200))
    return {k: statistics.median(v) for k, v in times.items()}


def verdict(value: float, target: float) -> str:
    return "PASS" if value < target else "FAIL"


async def main(args: argparse.Namespace) -> None:
    logging.disable(logging.INFO)  # quiet: no per-request or per-statement lines, only the figures
    url = async_database_url(args.database_url or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}")
    await migrate.upgrade(url)
    settings = Settings(database_url=url, scheduler=False)
    db = Db(url)
    try:
        person_id, token, room_id = await seed(db, args.bookings)
        if db.is_postgresql:  # statistics, as autovacuum keeps them: a table just filled has none, and its plans show it
            async with db.engine.begin() as connection:
                await connection.execute(text("ANALYZE"))
        m = await measure(db, settings, person_id, token, room_id, args.runs, args.bookings)
    finally:
        await db.dispose()
    n, hz, bare = args.bookings, m["healthz"], m["bare"]
    print(f"database: {db.dialect}; the app in process (httpx ASGITransport); medians of {args.runs} runs (200s: {args.runs // 5 + 1})")
    print(
        f"private feed 304:        {m['304']:7.2f} ms   vs GET /healthz {hz:6.2f} ms (ratio {m['304'] / hz:.1f}),"
        f" bare SELECT of its {n} rows {bare:6.2f} ms (ratio {m['304'] / bare:.2f})"
        f"   target < {NOT_MODIFIED_TARGET_MS:.0f} ms: {verdict(m['304'], NOT_MODIFIED_TARGET_MS)}"
    )
    print(
        f"private feed 200:        {m['200']:7.2f} ms   vs bare SELECT of its {n} rows {bare:6.2f} ms (ratio {m['200'] / bare:.1f})"
        f"   target < {FULL_TARGET_MS:.0f} ms: {verdict(m['200'], FULL_TARGET_MS)}"
    )
    recent, recent_hz = m["recent 304"], m["recent healthz"]
    print(
        f"304 just after a change: {recent:7.2f} ms   vs GET /healthz {recent_hz:6.2f} ms (ratio {recent / recent_hz:.1f})"
        f"   (rows summed, for {SETTLED.total_seconds() / 60:.0f} min after a change; for information)"
    )
    print(f"resource feed ({n // 2} busy blocks), for information: 304 {m['resource 304']:6.2f} ms, 200 {m['resource 200']:6.2f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="default: a fresh SQLite file; PostgreSQL URLs must name an empty database")
    parser.add_argument("--bookings", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=101)
    asyncio.run(main(parser.parse_args()))
