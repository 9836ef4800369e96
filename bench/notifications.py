"""Notification benchmark: mails drained per second against raw SMTP sends, and a 10,000-booking feed against a bare query.

    .venv/bin/python bench/notifications.py [--database-url URL] [--mails 500] [--rounds 3] [--bookings 10000]

Every figure is printed beside a baseline measured in the same run on the same machine, so the ratios travel:
- mails drained per second (lease, read, write with its calendar, send, mark; over the transport's two conversations,
  each person's mails in one) against raw aiosmtplib sends of the same mail's bytes over one connection to the same
  sink (aiosmtpd in a process of its own, bench/smtp_sink.py), taken in turns `--rounds` times, medians compared; target
  ≥ 0.80; and, for reference, against raw sends over two connections, and to a minimal SMTP responder;
- the CPU of writing one mail (templates, iCalendar, MIME, bytes) against that of the standard library's EmailMessage
  assembling and flattening the same finished parts alone;
- the 10,000-booking feed.
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
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiosmtplib
from aiosmtplib.email import flatten_message
from litestar.testing import AsyncTestClient
from sqlalchemy import func, insert, select

from bench.seed import booking_row, person_with_two_rooms
from bench.smtp_sink import Sink, smtp_sink
from booking.store import Booking
from config import migrate
from config.app import create_app
from infra import outbox as store
from infra.database import Db
from infra.mail_transport import KEEP_OPEN, Outgoing, SmtpTransport
from infra.settings import Settings, async_database_url
from notifications import mail, service
from notifications.mail import Letter, Site
from people.store import Person

FEED_TARGET_MS = 150
MAIL_TARGET = 0.80
RECIPIENTS = 50  # people the mails of a round go to
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def seed(db: Db, bookings: int) -> tuple[int, int, int]:
    """A person, a room holding `bookings` bookings of theirs one after another, and a room with one booking of each of
    `RECIPIENTS` people (theirs among them)."""
    async with db.write() as s:
        person, rooms = await person_with_two_rooms(s, NOW)
        others = [Person(email=f"bench{i}@example.no", name=f"Benk {i}", created_at=NOW) for i in range(RECIPIENTS - 1)]
        s.add_all(others)
        await s.flush()
        rows = [
            booking_row(rooms[0].id, person.id, NOW + timedelta(days=1, hours=2 * i), minutes=60, made=NOW, title=f"Møte {i}")
            for i in range(bookings)
        ]
        rows += [
            booking_row(rooms[1].id, p.id, NOW + timedelta(days=1, hours=2 * i), minutes=60, made=NOW, title=f"Møte {i}")
            for i, p in enumerate([person, *others])
        ]
        for chunk in range(0, len(rows), 2000):
            await s.execute(insert(Booking), rows[chunk : chunk + 2000])
        return person.id, rooms[0].id, rooms[1].id


async def queue_mails(db: Db, person_id: int, resource_id: int, count: int) -> None:
    """`count` booking confirmations, to the room's bookers in turn, as a burst of bookings by different people makes."""
    async with db.read() as s:
        bookings = (await s.execute(select(Booking).where(Booking.resource_id == resource_id).order_by(Booking.id))).scalars().all()
    async with db.write() as s:
        for i in range(count):
            store.record_booking_event(s, "booking_confirmed", bookings[i % len(bookings)], at=NOW)


async def mail_rounds(db: Db, settings: Settings, sink: Sink, person: int, room: int, count: int, rounds: int) -> tuple[list, list, list]:
    """Per round: `count` mails queued and drained (ours), then as many raw sends of the same mail's bytes over as many
    connections as the drain holds (the baseline), and over one."""
    transport = SmtpTransport(sink.url, keep_open=KEEP_OPEN)  # the scheduler's: its conversations kept between drains
    ours, raw, raw_one = [], [], []
    try:
        for _ in range(rounds):
            await queue_mails(db, person, room, count)
            before = sink.count
            started = time.perf_counter()
            report = await service.drain_outbox(db, Site.of(settings), transport, clock=lambda: NOW, owner="bench")
            ours.append(report.sent / (time.perf_counter() - started))
            assert report.sent == count == sink.count - before, (report, sink.count - before)
            sample = await sample_message(db, settings)
            raw.append(await raw_sends(sink, sample, count, transport.conversations))
            raw_one.append(await raw_sends(sink, sample, count))
    finally:
        await transport.close()
    async with db.read() as s:
        pending = (await s.execute(select(func.count()).where(store.Notification.status != "sent"))).scalar_one()
    assert pending == 0, f"{pending} notifications not sent"
    return ours, raw, raw_one


async def raw_sends(sink: Sink, sample: Outgoing, count: int, conversations: int = 1) -> float:
    """aiosmtplib alone: the same bytes sent `count` times over `conversations` connections at once (their setup not timed)."""
    connections = [aiosmtplib.SMTP(hostname="127.0.0.1", port=sink.port) for _ in range(conversations)]
    for smtp in connections:
        await smtp.connect()
        await smtp.ehlo()
    options = ["BODY=8BITMIME"] if sample.eight_bit else []

    async def send(smtp: aiosmtplib.SMTP, share: int) -> None:
        for _ in range(share):
            await smtp.sendmail(sample.sender, list(sample.recipients), sample.wire, mail_options=options)

    started = time.perf_counter()
    await asyncio.gather(*(send(smtp, count // conversations + (i < count % conversations)) for i, smtp in enumerate(connections)))
    rate = count / (time.perf_counter() - started)
    for smtp in connections:
        await smtp.quit()
    return rate


async def sample_letter(db: Db) -> Letter:
    async with db.read() as s:
        rows = (await s.execute(select(store.Notification).limit(1))).scalars().all()
        known = await service.read_facts(s, rows)
    return service.letter_of(rows[0], *known)


async def sample_message(db: Db, settings: Settings) -> Outgoing:
    return mail.render(await sample_letter(db), Site.of(settings))


def stdlib_assembly(message: EmailMessage) -> bytes:
    """What the mail cost before: the standard library's EmailMessage given the finished parts, then flattened."""
    built = EmailMessage()
    for name in ("From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted"):
        built[name] = str(message[name])
    built.set_content(message.get_body(("plain",)).get_content())
    built.add_alternative(message.get_body(("html",)).get_content(), subtype="html")
    calendar = message.get_body(("calendar",))
    if calendar is not None:
        ics = calendar.get_content()
        built.add_alternative(ics, subtype="calendar", params={"method": calendar.get_param("method")}, cte="quoted-printable")
        built.add_attachment(ics.encode(), maintype="application", subtype="ics", filename="booking.ics")
    built["Content-Language"] = str(message["Content-Language"])
    return flatten_message(built)


def composition_costs(letter: Letter, site: Site, runs: int = 300) -> tuple[float, float]:
    """µs of CPU per mail: ours whole (templates, iCalendar, MIME, bytes), and EmailMessage on its finished parts alone."""
    sample = mail.render(letter, site).message
    for _ in range(20):
        mail.render(letter, site)
        stdlib_assembly(sample)
    ours, stdlib = [], []
    for _ in range(3):  # in turns, the best of three: the CPU it takes, less what other processes took from it
        started = time.process_time()
        for _ in range(runs):
            mail.render(letter, site)
        ours.append((time.process_time() - started) / runs * 1e6)
        started = time.process_time()
        for _ in range(runs // 5):
            stdlib_assembly(sample)
        stdlib.append((time.process_time() - started) / (runs // 5) * 1e6)
    return min(ours), min(stdlib)


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
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the feed's test client would log every request
    url = async_database_url(args.database_url or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}")
    await migrate.upgrade(url)
    settings = Settings(database_url=url, scheduler=False)
    db = Db(url)
    try:
        person, busy_room, quiet_room = await seed(db, args.bookings)
        with smtp_sink("aiosmtpd") as sink:
            ours, raw, raw_one = await mail_rounds(db, settings, sink, person, quiet_room, args.mails, args.rounds)
        with smtp_sink("minimal") as sink:
            ours_minimal, raw_minimal, _ = await mail_rounds(db, settings, sink, person, quiet_room, args.mails, args.rounds)
        ours_us, stdlib_us = composition_costs(await sample_letter(db), Site.of(settings))
        big, small, bare = await feed_times(settings, busy_room, quiet_room, db)
    finally:
        await db.dispose()
    drained, sent, sent_one = statistics.median(ours), statistics.median(raw), statistics.median(raw_one)
    print(
        f"database: {db.dialect}; {args.mails} mails a round to {RECIPIENTS} people, {args.rounds} rounds taken in turns (medians compared)"
    )
    print(
        f"mail: {drained:8.0f} mails/s drained (lease, write with iCal, send, mark; 2 conversations)   vs {sent_one:8.0f} raw"
        f" aiosmtplib sends/s of the same bytes over one connection   ratio {drained / sent_one:.2f}"
        f"  (target ≥ {MAIL_TARGET:.2f}: {'met' if drained / sent_one >= MAIL_TARGET else 'MISSED'})"
        f"   rounds: {' '.join(f'{a:.0f}/{b:.0f}' for a, b in zip(ours, raw_one, strict=True))}"
    )
    print(
        f"      raw sends over two connections, as the drain holds: {sent:.0f}/s, ratio {drained / sent:.2f} (for reference: then"
        " the drain's own CPU per mail is the limit)"
    )
    drained, sent = statistics.median(ours_minimal), statistics.median(raw_minimal)
    print(
        f"      to a minimal SMTP responder instead (bench/smtp_sink.py: it parses nothing, so the sender's own CPU is all"
        f" there is): {drained:.0f} mails/s vs {sent:.0f} raw sends/s, ratio {drained / sent:.2f} (for reference)"
    )
    print(
        f"      writing one mail: {ours_us:6.0f} µs CPU (templates, iCal, MIME, bytes)   vs {stdlib_us:6.0f} µs for EmailMessage"
        f" to assemble and flatten the finished parts alone (ratio {ours_us / stdlib_us:.2f})"
    )
    print(
        f"feed: {big:8.1f} ms for {args.bookings} bookings over HTTP   vs {small:6.1f} ms for one booking (ratio {big / small:.1f}),"
        f" {bare:6.1f} ms bare query (ratio {big / bare:.1f});  target < {FEED_TARGET_MS} ms: {'met' if big < FEED_TARGET_MS else 'MISSED'}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="default: a fresh SQLite file; PostgreSQL URLs must name an empty database")
    parser.add_argument("--mails", type=int, default=500, help="mails queued and drained in each round")
    parser.add_argument("--rounds", type=int, default=3, help="drain and raw sends measured in turns this many times; medians compared")
    parser.add_argument("--bookings", type=int, default=10_000)
    asyncio.run(main(parser.parse_args()))
