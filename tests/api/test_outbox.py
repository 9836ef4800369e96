"""The outbox on SQLite and PostgreSQL: written with the change, drained under leases, retried, failed visibly, swept once."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import aiosmtplib
import pytest
import vobject
from alembic.script import ScriptDirectory
from litestar.testing import AsyncTestClient
from sqlalchemy import select, text

from booking.store import Booking
from config import migrate
from config.scheduler import Scheduler
from infra import outbox as store
from infra.database import Db
from infra.mail_transport import FolderTransport
from infra.outbox import Notification
from notifications import service
from notifications.mail import Site
from tests import builders
from tests.api.test_bookings import MONDAY_EVENING, assert_problem, at, book
from tests.conftest import _pg_admin


class Recorder:
    """A transport that keeps what it is given; it can be down, or refuse every recipient."""

    def __init__(self, *, delay: float = 0) -> None:
        self.sent, self.connects = [], 0
        self.down = self.refusing = False
        self.delay = delay

    @asynccontextmanager
    async def connect(self):
        self.connects += 1
        if self.down:
            raise ConnectionRefusedError("SMTP server is down")

        async def send(message) -> None:
            if self.refusing:
                raise aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(550, "No such mailbox", message["To"])])
            await asyncio.sleep(self.delay)
            self.sent.append(message)

        yield send


def message_ids(recorder: Recorder) -> list[str]:
    return [m["Message-ID"] for m in recorder.sent]


async def drain(db, settings, recorder, when: datetime, *, owner: str = "test", batch: int = 50):
    return await service.drain_outbox(db, Site.of(settings), recorder, clock=lambda: when, owner=owner, batch=batch)


async def outbox(db) -> list[Notification]:
    async with db.read() as s:
        return list((await s.execute(select(Notification).order_by(Notification.id))).scalars())


async def a_booking(db, person_id: int, start: datetime) -> int:
    room = await builders.room(db, key=f"rom{uuid.uuid4().hex[:6]}")
    async with db.write() as s:
        row = Booking(
            resource_id=room,
            person_id=person_id,
            start=start,
            end=start + timedelta(hours=2),
            block_start=start,
            block_end=start + timedelta(hours=2),
            status="confirmed",
            created_at=start,
            updated_at=start,
        )
        s.add(row)
        await s.flush()
        return row.id


@pytest.fixture
async def alice(db):
    return await builders.person(db, "alice@example.no", name="Alice")


@pytest.fixture
async def staff(db):
    return await builders.person(db, "staff@knutepunkt.no", staff=True)


@pytest.fixture
async def room_id(db):
    return await builders.room(db)


async def test_a_booking_is_mailed_once_with_a_message_id_of_its_own(client, db, settings, clock, alice, room_id):
    booking = (await book(client, alice[1], room_id, **MONDAY_EVENING)).json()
    recorder = Recorder()
    assert (await drain(db, settings, recorder, clock())).sent == 1
    assert (await drain(db, settings, recorder, clock())).sent == 0
    [row] = await outbox(db)
    assert (row.kind, row.booking_id, row.status, row.sent_at) == ("booking_confirmed", booking["id"], "sent", clock())
    assert message_ids(recorder) == [f"<notification-{row.id}@127.0.0.1>"]
    assert recorder.sent[0]["To"].addresses[0].addr_spec == "alice@example.no"


async def test_a_change_that_rolls_back_leaves_nothing_to_send_and_wakes_no_one(client, db, settings, clock, alice, room_id):
    booking_id = (await book(client, alice[1], room_id, **MONDAY_EVENING)).json()["id"]
    await drain(db, settings, Recorder(), clock())
    wakes = []
    db.after_notifying_commit.append(lambda: wakes.append(1))
    with pytest.raises(RuntimeError):
        async with db.write() as s:
            row = await s.get(Booking, booking_id)
            row.status, row.sequence = "cancelled", row.sequence + 1
            store.record_booking_event(s, "booking_cancelled", row, at=clock())
            raise RuntimeError("the process dies before the commit")
    recorder = Recorder()
    assert (await drain(db, settings, recorder, clock() + timedelta(hours=1))).sent == 0
    assert [n.kind for n in await outbox(db)] == ["booking_confirmed"]
    assert recorder.sent == [] and wakes == []


async def test_a_commit_that_adds_notifications_wakes_the_sender_and_one_that_adds_none_does_not(db, clock, alice):
    wakes = []
    db.after_notifying_commit.append(lambda: wakes.append(1))
    async with db.write() as s:
        await s.execute(select(1))
    assert wakes == []
    async with db.write() as s:
        store.record(s, "booking_reminder", person_id=alice[0], at=clock())
    assert wakes == [1]


async def test_with_the_scheduler_on_a_booking_is_mailed_within_a_second_of_its_commit(app, settings, db, clock, alice, room_id):
    app.state.settings, app.state.clock = replace(settings, scheduler=True), clock
    async with AsyncTestClient(app=app) as client:
        await asyncio.sleep(0.2)  # the start-up drain finds nothing
        assert (await book(client, alice[1], room_id, **MONDAY_EVENING)).status_code == 201
        for _ in range(20):
            mails = list(settings.mail_dir.glob("notification-*.eml"))
            if mails:
                break
            await asyncio.sleep(0.05)
    assert len(mails) == 1 and "Subject: Bekreftet: Moterom" in mails[0].read_text()
    assert {n.status for n in await outbox(db)} == {"sent"}


async def test_mail_that_cannot_be_sent_is_retried_with_growing_backoff_until_it_goes(client, db, settings, clock, alice, room_id):
    await book(client, alice[1], room_id, **MONDAY_EVENING)
    recorder = Recorder()
    recorder.down = True
    t0 = clock()
    assert (await drain(db, settings, recorder, t0)).retrying == 1
    assert (await drain(db, settings, recorder, t0 + timedelta(seconds=29))).retrying == 0  # still backing off
    assert (await drain(db, settings, recorder, t0 + timedelta(seconds=30))).retrying == 1
    [row] = await outbox(db)
    assert (row.attempts, row.next_attempt_at, row.status) == (2, t0 + timedelta(seconds=90), "pending")
    assert "SMTP server is down" in row.last_error
    recorder.down = False
    assert (await drain(db, settings, recorder, t0 + timedelta(seconds=90))).sent == 1
    assert recorder.connects == 3


async def test_a_refused_recipient_fails_for_good_where_staff_see_it_and_can_retry(client, db, settings, clock, alice, staff, room_id):
    booking_id = (await book(client, alice[1], room_id, **MONDAY_EVENING)).json()["id"]
    recorder = Recorder()
    recorder.refusing = True
    assert (await drain(db, settings, recorder, clock())).failed == 1
    assert_problem(await client.get("/api/v1/notifications/failed", headers=alice[1]), 403, "staff_only")
    [item] = (await client.get("/api/v1/notifications/failed", headers=staff[1])).json()["items"]
    assert (item["kind"], item["booking_id"], item["email"], item["attempts"]) == ("booking_confirmed", booking_id, "alice@example.no", 1)
    assert "No such mailbox" in item["last_error"]
    assert (await client.post(f"/api/v1/notifications/{item['id']}/retry", headers=staff[1])).status_code == 202
    recorder.refusing = False
    assert (await drain(db, settings, recorder, clock())).sent == 1
    assert (await client.get("/api/v1/notifications/failed", headers=staff[1])).json()["items"] == []


async def test_a_notification_no_mail_is_written_for_fails_for_good_without_stopping_the_others(
    client, db, settings, clock, alice, room_id
):
    await book(client, alice[1], room_id, **MONDAY_EVENING)
    async with db.write() as s:
        store.record(s, "mystery_event", person_id=alice[0], at=clock())
    recorder = Recorder()
    report = await drain(db, settings, recorder, clock())
    assert (report.sent, report.failed) == (1, 1)
    failed = [n for n in await outbox(db) if n.status == "failed"]
    assert [n.kind for n in failed] == ["mystery_event"] and "mystery_event" in failed[0].last_error


async def test_a_weekly_series_is_mailed_once_with_every_booked_date_in_one_calendar(client, db, settings, clock, alice, room_id):
    response = await client.post(
        "/api/v1/series", json={"resource_id": room_id, "title": "Strikkekafé", "until": "2026-12-21", **MONDAY_EVENING}, headers=alice[1]
    )
    assert response.status_code == 201, response.text
    recorder = Recorder()
    assert (await drain(db, settings, recorder, clock())).sent == 1
    [message] = recorder.sent
    assert message["Subject"] == "Ukentlig booking: Moterom fra man. 30. nov. 18:00"
    text = message.get_body(("plain",)).get_content()
    assert [day in text for day in ("30. november", "7. desember", "14. desember", "21. desember")] == [True] * 4
    ics = message.get_body(("calendar",)).get_content()
    assert "METHOD:PUBLISH" in ics and ics.count("BEGIN:VEVENT") == 1  # one recurring event, not an event per date
    [event] = vobject.readOne(ics).vevent_list
    assert [d.date().isoformat() for d in event.getrruleset()] == ["2026-11-30", "2026-12-07", "2026-12-14", "2026-12-21"]


def test_a_mail_written_to_the_folder_twice_is_one_file(tmp_path):
    message = EmailMessage()
    message["Message-ID"] = "<notification-7@allmenning.local>"
    message.set_content("Hei")

    async def twice() -> None:
        for _ in range(2):
            async with FolderTransport(tmp_path).connect() as send:
                await send(message)

    asyncio.run(twice())
    assert [p.name for p in tmp_path.iterdir()] == ["notification-7_at_allmenning.local.eml"]


async def test_two_drainers_on_separate_connections_send_every_mail_exactly_once(db, db_url, settings, clock, alice):
    booking_id = await a_booking(db, alice[0], clock() + timedelta(days=7))
    async with db.write() as s:
        for _ in range(60):
            store.record(s, "booking_confirmed", person_id=alice[0], booking_id=booking_id, at=clock())
    first, second = Db(db_url), Db(db_url)
    recorders = [Recorder(delay=0.002), Recorder(delay=0.002)]
    try:
        await asyncio.gather(
            *(
                drain(d, settings, r, clock(), owner=f"drainer-{i}", batch=5)
                for i, (d, r) in enumerate(zip((first, second), recorders, strict=True))
            )
        )
    finally:
        await first.dispose()
        await second.dispose()
    ids = message_ids(recorders[0]) + message_ids(recorders[1])
    assert len(ids) == 60 and len(set(ids)) == 60
    assert all(r.sent for r in recorders), "both drainers should have had a share"
    assert {n.status for n in await outbox(db)} == {"sent"}


async def test_a_periodic_sweep_is_claimed_by_one_process_per_tick(db, db_url, clock):
    other = Db(db_url)
    try:
        claims = await asyncio.gather(*(service.claim_tick(d, "reminders", now=clock(), owner=o) for d, o in ((db, "a"), (other, "b"))))
        later = await service.claim_tick(other, "reminders", now=clock() + timedelta(minutes=4), owner="b")
        next_tick = await service.claim_tick(other, "reminders", now=clock() + timedelta(minutes=5), owner="b")
    finally:
        await other.dispose()
    assert sorted(claims) == [False, True]
    assert (later, next_tick) == (False, True)


async def test_a_room_booking_is_reminded_of_once_the_day_before(client, db, settings, clock, alice, room_id):
    await book(client, alice[1], room_id, **MONDAY_EVENING)  # Monday 30 November 18:00 Oslo, 17:00 UTC
    await drain(db, settings, Recorder(), clock())
    day_before = datetime(2026, 11, 29, 17, 0, tzinfo=UTC)
    assert await service.record_reminders(db, now=day_before - timedelta(minutes=1)) == 0
    assert await service.record_reminders(db, now=day_before) == 1
    assert await service.record_reminders(db, now=day_before + timedelta(hours=3)) == 0
    recorder = Recorder()
    await drain(db, settings, recorder, day_before)
    assert [m["Subject"] for m in recorder.sent] == ["Påminnelse: Moterom, man. 30. nov. 18:00"]
    assert recorder.sent[0].get_body(("calendar",)) is None  # the booking is already in the calendar


async def test_the_schedulers_sweeps_remind_and_mark_overdue_loans_once_per_tick(client, db, settings, clock, alice, room_id):
    await book(client, alice[1], room_id, **MONDAY_EVENING)
    loan = await a_booking(db, alice[0], clock() - timedelta(days=3))
    async with db.write() as s:
        row = await s.get(Booking, loan)
        row.exclusive, row.status = False, "checked_out"
    clock.now = datetime(2026, 11, 29, 17, 0, tzinfo=UTC)
    scheduler = Scheduler(db, settings, clock)
    assert [await scheduler.sweep(job) for job in ("reminders", "overdue", "reminders", "overdue")] == [True, True, False, False]
    kinds = [n.kind for n in await outbox(db)]
    assert kinds.count("booking_reminder") == 1 and kinds.count("loan_overdue") == 1
    async with db.read() as s:
        assert (await s.get(Booking, loan)).status == "overdue"


async def test_a_booking_made_within_a_day_of_its_start_gets_no_separate_reminder(client, db, clock, alice, room_id):
    await book(client, alice[1], room_id, **at("2026-11-23", "18:00", "20:00"))  # made at 10:00 the same day
    assert await service.record_reminders(db, now=clock() + timedelta(hours=1)) == 0


async def test_a_moved_booking_is_reminded_of_again_for_its_new_time(client, db, clock, alice, room_id):
    booking = (await book(client, alice[1], room_id, **MONDAY_EVENING)).json()
    assert await service.record_reminders(db, now=datetime(2026, 11, 29, 17, 0, tzinfo=UTC)) == 1
    clock.now = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)
    moved = await client.patch(f"/api/v1/bookings/{booking['id']}", json=at("2026-12-02", "18:00", "20:00"), headers=alice[1])
    assert moved.status_code == 200, moved.text
    assert await service.record_reminders(db, now=datetime(2026, 12, 1, 17, 30, tzinfo=UTC)) == 1


# ---------------------------------------------------------------- the migration


@pytest.fixture
async def fresh_url(backend, request, tmp_path):
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"allmenning_outbox_{uuid.uuid4().hex[:8]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    yield request.getfixturevalue("postgres_url").rsplit("/", 1)[0] + f"/{name}"
    await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_a_notification_waiting_across_the_notifications_migration_is_leased_to_no_one(fresh_url):
    await migrate.upgrade(fresh_url)
    await migrate.downgrade(fresh_url, ScriptDirectory.from_config(migrate.alembic_config()).get_revision("0002").down_revision)
    database = Db(fresh_url)
    try:
        async with database.engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO person (email, name, language, street, postal_code, city, is_staff, created_at) VALUES ('a@example.no', 'A', 'nb', '', '', '', false, '2026-01-01 00:00:00')"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO notification (kind, person_id, payload, status, attempts, created_at, next_attempt_at, last_error) VALUES ('booking_confirmed', 1, '{}', 'pending', 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00', '')"
                )
            )
        await migrate.upgrade(fresh_url)
        async with database.read() as s:
            [row] = (await s.execute(select(Notification))).scalars()
    finally:
        await database.dispose()
    assert (row.status, row.lease_owner, row.lease_until, row.dedupe_key) == ("pending", "", None, None)
