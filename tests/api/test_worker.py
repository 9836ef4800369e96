"""The scheduler's two roles on SQLite and PostgreSQL: a web process leaves mail and sweeps to a worker whose
heartbeat it reads, and takes them back when the worker stops; a worker finds mail other processes committed."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from sqlalchemy import select

from booking.store import Booking
from config import scheduler as scheduling
from config.scheduler import Scheduler
from infra import outbox as store
from infra.database import Db
from infra.outbox import Notification
from notifications import service
from notifications.store import JobRun
from tests.api.test_outbox import a_booking


async def record(db: Db, person_id: int, at) -> None:
    """A booking's confirmation, committed through `db`."""
    booking_id = await a_booking(db, person_id, at + timedelta(days=7))
    async with db.write() as s:
        store.record_booking_event(s, "booking_confirmed", await s.get(Booking, booking_id), at=at)


async def statuses(db: Db) -> list[str]:
    async with db.read() as s:
        return list((await s.execute(select(Notification.status).order_by(Notification.id))).scalars())


async def mails_in(folder, count: int, *, within: float) -> float:
    started = time.monotonic()
    while len(list(folder.glob("notification-*.eml"))) < count and time.monotonic() - started < within:
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def test_a_web_process_leaves_the_mail_to_a_beating_worker_and_sends_it_itself_once_the_worker_stops(db, settings, clock, alice):
    await service.beat(db, now=clock(), owner="worker-1")
    web = Scheduler(db, settings, clock)
    await web.start()
    try:
        await record(db, alice[0], clock())
        await asyncio.sleep(scheduling.GATHER + 0.4)
        assert await statuses(db) == ["pending"] and not list(settings.mail_dir.glob("*.eml"))  # the worker's to send
        assert await web.sweep("reminders") is False  # and the sweeps are the worker's too
        await service.stop_beating(db, owner="worker-1")
        waited = await mails_in(settings.mail_dir, 1, within=scheduling.TRUST_HEARTBEAT * 2 + 2)
    finally:
        await web.stop()
    assert await statuses(db) == ["sent"]
    assert waited < scheduling.TRUST_HEARTBEAT * 2 + 1, f"the web process took {waited:.1f} s to send again"


async def test_a_worker_sends_what_another_process_committed_within_a_poll_and_its_heartbeat_ends_with_it(
    db, db_url, settings, clock, alice
):
    worker = Scheduler(db, settings, clock, worker=True)
    await worker.start()
    other = Db(db_url)  # another process: its commits wake nobody here
    try:
        assert await service.worker_runs(db, now=clock())
        await record(other, alice[0], clock())
        waited = await mails_in(settings.mail_dir, 1, within=5)
    finally:
        await other.dispose()
        await worker.stop()
    assert await statuses(db) == ["sent"]
    assert waited < scheduling.POLL_EVERY + 1.5, f"the worker took {waited:.1f} s to find the mail"
    assert not await service.worker_runs(db, now=clock())  # it took its heartbeat back: web processes send again


async def test_a_worker_that_died_is_taken_for_gone_once_its_heartbeat_lapses(db, clock):
    await service.beat(db, now=clock(), owner="worker-1")
    assert await service.worker_runs(db, now=clock() + service.HEARTBEAT_EVERY * 2)
    assert not await service.worker_runs(db, now=clock() + service.WORKER_GONE_AFTER + service.HEARTBEAT_EVERY)


async def test_two_workers_starting_at_once_sweep_each_tick_once(db, db_url, settings, clock):
    other = Db(db_url)
    workers = [Scheduler(db, settings, clock, worker=True), Scheduler(other, settings, clock, worker=True)]
    try:
        await asyncio.gather(*(w.start() for w in workers))
        await asyncio.sleep(0.5)  # both sweep on start, racing for the same ticks
    finally:
        for w in workers:
            await w.stop()
        await other.dispose()
    async with db.read() as s:
        ticks = list((await s.execute(select(JobRun.job, JobRun.owner).where(JobRun.job != service.WORKER))).all())
    assert sorted(job for job, _ in ticks) == sorted(scheduling.SWEEPS)  # each sweep once, by one of the two
    assert {owner for _, owner in ticks} <= {w.owner for w in workers}
