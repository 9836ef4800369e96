"""The scheduler: APScheduler only triggers; the outbox, its leases, the claimed ticks and the workers' heartbeats all
live in the database.

It runs in one of two roles. In a web process (`allmenning serve`, started by the app's lifespan) it sends the mail a
commit records and runs the sweeps, unless a worker runs: then it leaves both to the worker. In a worker process
(`allmenning worker`) it does both always, says so by a heartbeat every 5 s, and looks for mail other processes
committed every `POLL_EVERY`. Several of either share the work safely: rows are leased, ticks claimed."""

from __future__ import annotations

import asyncio
import logging
import math
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from booking.loans import service as loans
from booking.seasons import room_answers
from booking.waitlists import offers
from infra.database import Db
from infra.mail_transport import KEEP_OPEN, transport_for
from infra.settings import TIMEZONE, Settings
from notifications import digest, service
from notifications.mail import Site
from oversight import retention
from people import service as people

log = logging.getLogger("allmenning.scheduler")
DRAIN_EVERY = timedelta(seconds=30)  # the safety net: mail normally leaves at once, woken by its commit
GATHER = 0.2  # seconds a woken web process waits, so the commits of that moment leave in one round
POLL_EVERY = 0.25  # seconds between a worker's looks for due mail that other processes committed
TRUST_HEARTBEAT = 2.0  # seconds a web process trusts what it read of the workers' heartbeats
PAUSE = 0.001  # seconds a web process's drain gives its requests after each mail written and each sent
STOP_GRACE = 10.0  # seconds a stopping server gives a mail in flight to be sent and marked
Sweep = Callable[..., Awaitable[object]]
# Every five minutes, once across all processes: reminders a day ahead, and loans past their return time.
SWEEPS: dict[str, Sweep] = {
    "reminders": service.record_reminders,
    "overdue": loans.mark_overdue,
    "offers": offers.expire_offers,
    "room_slots": room_answers.lapse_unconfirmed,  # room-season slots not confirmed in time pass to the next in line
    "staff_digest": digest.record_staff_digests,  # from 07:00 Oslo, once a day per staff member while requests wait
}

# Once a day, once across all processes (a claimed tick like the sweeps'), at night in Oslo: the retention run.
DAILY: dict[str, Callable[..., Awaitable[object]]] = {"retention": retention.run_retention}
DAILY_AT = {"hour": 3, "minute": 30}


def process_name() -> str:
    """Who holds a lease or ran a tick, for whoever reads the tables: host, pid and a nonce."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Scheduler:
    """Sends mail when a commit adds some, drains the outbox every half minute, and runs the periodic sweeps; as a
    worker (`worker=True`) also beats its heartbeat, polls for other processes' mail and sweeps once on start."""

    def __init__(self, db: Db, settings: Settings, clock: Callable[[], datetime], *, worker: bool = False) -> None:
        self.db, self.clock, self.owner = db, clock, process_name()
        self.settings, self.worker = settings, worker
        self.site, self.transport = Site.of(settings), transport_for(settings, keep_open=KEEP_OPEN)
        self.triggers = AsyncIOScheduler(timezone=UTC)
        logging.getLogger("apscheduler").setLevel(logging.WARNING)  # its INFO lines would repeat every half minute
        self._loop: asyncio.AbstractEventLoop | None = None
        self._woken = asyncio.Event()
        self._stopping = False
        self._resend_signins = True  # on start, then with every half-minute tick
        self._heartbeat_read: tuple[float, bool] = (-math.inf, False)
        self._deferring = False  # a web process that found a worker beating and left the mail to it
        self.marks = service.Marks(db, self.owner)  # mail sent and not yet marked: it goes with the next lease
        self._sender: asyncio.Task | None = None
        self._sweeps: set[asyncio.Task] = set()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if self.worker:
            await service.beat(self.db, now=self.clock(), owner=self.owner)  # web processes stand back from now on
            self.triggers.add_job(self._beat, IntervalTrigger(seconds=service.HEARTBEAT_EVERY.total_seconds()), id="heartbeat")
        self._sender = asyncio.create_task(self._send_when_woken(), name="outbox-sender")
        self.triggers.add_job(
            self._drain_tick, IntervalTrigger(seconds=DRAIN_EVERY.total_seconds()), id="outbox", coalesce=True, max_instances=1
        )
        for job in SWEEPS:  # on the same wall-clock minutes in every process, so they contend for the same tick
            self.triggers.add_job(
                self.sweep,
                CronTrigger(minute="*/5", timezone=UTC),
                args=[job],
                id=job,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=60,
            )
        for job in DAILY:
            self.triggers.add_job(
                self.sweep, CronTrigger(**DAILY_AT, timezone=TIMEZONE), args=[job], id=job, coalesce=True, max_instances=1,
                misfire_grace_time=3600,
            )  # fmt: skip
        self.triggers.start()
        self.db.after_notifying_commit.append(self.wake)
        self.wake()  # whatever was committed while no server ran leaves now
        if self.worker:  # a worker started after a while without one catches up on this tick (if no one ran it)
            self._sweeps.update(asyncio.create_task(self.sweep(job), name=f"sweep-{job}") for job in SWEEPS)

    def wake(self) -> None:
        """Called after a commit that added notifications; safe from any thread."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._woken.set)

    async def _drain_tick(self) -> None:
        self._resend_signins = True
        self.wake()

    async def _beat(self) -> None:
        try:
            await service.beat(self.db, now=self.clock(), owner=self.owner)
        except Exception:
            log.exception("the worker's heartbeat failed")

    async def worker_runs(self) -> bool:
        """In a web process: whether a worker beats (read at most every `TRUST_HEARTBEAT` seconds)."""
        read_at, runs = self._heartbeat_read
        if time.monotonic() - read_at > TRUST_HEARTBEAT:
            runs = await service.worker_runs(self.db, now=self.clock())
            self._heartbeat_read = (time.monotonic(), runs)
        return runs

    async def _woken_or_polled(self) -> bool:
        """Wait for a wake (True). A worker also looks every `POLL_EVERY` for other processes' mail, and a web process
        that left mail to a worker looks every `TRUST_HEARTBEAT` whether the worker still beats (False). Mail sent
        and not yet marked is marked once it has waited `service.MARK_EVERY` without a drain to take it along."""
        every = POLL_EVERY if self.worker else TRUST_HEARTBEAT if self._deferring else None
        while True:
            marking = self.marks.waiting
            wait = every if marking is None else marking if every is None else min(every, marking)
            try:
                await asyncio.wait_for(self._woken.wait(), wait)
                return True
            except TimeoutError:
                if marking is not None and marking <= (every or math.inf) and not self._stopping:
                    await self._settle_marks()
                    continue
                return False

    async def _settle_marks(self) -> None:
        try:
            await self.marks.settle(self.clock())
        except Exception:
            log.exception("marking mail sent failed; it is sent again once its lease lapses")

    async def _sends_now(self, woken: bool) -> bool:
        """A worker drains when woken or when a look finds due mail; a web process when no worker runs, after `GATHER`."""
        if self.worker:
            return woken or await service.mail_due(self.db, now=self.clock())
        self._deferring = await self.worker_runs()
        if self._deferring:
            return False
        if not woken and not await service.mail_due(self.db, now=self.clock()):
            return False  # the worker that had it stopped, and sent it all
        await asyncio.sleep(GATHER)
        return True

    async def _send_when_woken(self) -> None:
        while not self._stopping:
            woken = await self._woken_or_polled()
            if self._stopping:
                return
            try:
                if not await self._sends_now(woken):
                    if not self.worker:  # a worker sends it, and resends the sign-in mails
                        self._woken.clear()
                        self._resend_signins = False
                        continue
                else:
                    self._woken.clear()  # commits during the drain set it again, so nothing waits for the next tick
                    report = await service.drain_outbox(
                        self.db,
                        self.site,
                        self.transport,
                        clock=self.clock,
                        owner=self.owner,
                        marks=self.marks,
                        pause=0.0 if self.worker else PAUSE,
                    )
                    if report.sent or report.retrying or report.failed:
                        log.info("outbox: %s sent, %s to retry, %s failed", report.sent, report.retrying, report.failed)
            except Exception:
                log.exception("draining the outbox failed")
                continue
            if self._resend_signins:
                self._resend_signins = False
                try:  # sign-in mails the mail server did not take at once (they have no outbox row: no person yet)
                    if resent := await people.resend_signin_mails(self.db, self.settings, now=self.clock()):
                        log.info("sign-in mails: %s sent on retry", resent)
                except Exception:
                    log.exception("resending sign-in mails failed")

    async def sweep(self, job: str) -> bool:
        """Run a periodic job if this process claims the tick; True when it did. A web process leaves it to a worker."""
        task = asyncio.current_task()
        if task is not None:
            self._sweeps.add(task)
        try:
            if not self.worker and await self.worker_runs():
                return False
            now = self.clock()
            if not await service.claim_tick(self.db, job, now=now, owner=self.owner):
                return False
            if job in DAILY:
                await DAILY[job](self.db, self.settings, now=now)
            else:
                await SWEEPS[job](self.db, now=now)
            return True
        except Exception:
            log.exception("periodic job %s failed", job)
            return False
        finally:
            self._sweeps.discard(task)

    async def stop(self) -> None:
        """Stop triggering, let a drain or sweep in flight finish for a moment, then end (a worker takes back its heartbeat)."""
        if self.wake in self.db.after_notifying_commit:
            self.db.after_notifying_commit.remove(self.wake)
        self._stopping = True
        self._woken.set()
        self.triggers.pause()
        pending = {t for t in (self._sender, *self._sweeps) if t is not None and not t.done()}
        if pending:
            _, late = await asyncio.wait(pending, timeout=STOP_GRACE)
            for task in late:
                task.cancel()
        self.triggers.shutdown(wait=False)
        await self._settle_marks()
        if self.worker:
            try:
                await service.stop_beating(self.db, owner=self.owner)
            except Exception:
                log.exception("taking back the worker's heartbeat failed")
        await self.transport.close()
        await asyncio.sleep(0)  # AsyncIOScheduler shuts down on its loop's next turn
