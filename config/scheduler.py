"""The scheduler: APScheduler only triggers; the outbox, its leases and the claimed ticks all live in the database."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
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
from infra.mail_transport import transport_for
from infra.settings import Settings
from notifications import service
from notifications.mail import Site
from people import service as people

log = logging.getLogger("allmenning.scheduler")
DRAIN_EVERY = timedelta(seconds=30)  # the safety net: mail normally leaves at once, woken by its commit
STOP_GRACE = 10.0  # seconds a stopping server gives a mail in flight to be sent and marked
Sweep = Callable[..., Awaitable[object]]
# Every five minutes, once across all processes: reminders a day ahead, and loans past their return time.
SWEEPS: dict[str, Sweep] = {
    "reminders": service.record_reminders,
    "overdue": loans.mark_overdue,
    "offers": offers.expire_offers,
    "room_slots": room_answers.lapse_unconfirmed,  # room-season slots not confirmed in time pass to the next in line
}


def process_name() -> str:
    """Who holds a lease or ran a tick, for whoever reads the tables: host, pid and a nonce."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Scheduler:
    """Sends mail when a commit adds some, drains the outbox every half minute, and runs the periodic sweeps."""

    def __init__(self, db: Db, settings: Settings, clock: Callable[[], datetime]) -> None:
        self.db, self.clock, self.owner = db, clock, process_name()
        self.settings = settings
        self.site, self.transport = Site.of(settings), transport_for(settings)
        self.triggers = AsyncIOScheduler(timezone=UTC)
        logging.getLogger("apscheduler").setLevel(logging.WARNING)  # its INFO lines would repeat every half minute
        self._loop: asyncio.AbstractEventLoop | None = None
        self._woken = asyncio.Event()
        self._stopping = False
        self._sender: asyncio.Task | None = None
        self._sweeps: set[asyncio.Task] = set()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
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
        self.triggers.start()
        self.db.after_notifying_commit.append(self.wake)
        self.wake()  # whatever was committed while no server ran leaves now

    def wake(self) -> None:
        """Called after a commit that added notifications; safe from any thread."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._woken.set)

    async def _drain_tick(self) -> None:
        self.wake()

    async def _send_when_woken(self) -> None:
        while not self._stopping:
            await self._woken.wait()
            self._woken.clear()  # commits during the drain set it again, so nothing waits for the next tick
            if self._stopping:
                return
            try:
                report = await service.drain_outbox(self.db, self.site, self.transport, clock=self.clock, owner=self.owner)
            except Exception:
                log.exception("draining the outbox failed")
                continue
            if report.sent or report.retrying or report.failed:
                log.info("outbox: %s sent, %s to retry, %s failed", report.sent, report.retrying, report.failed)
            try:  # sign-in mails the mail server did not take at once (they have no outbox row: no person yet)
                if resent := await people.resend_signin_mails(self.db, self.settings, now=self.clock()):
                    log.info("sign-in mails: %s sent on retry", resent)
            except Exception:
                log.exception("resending sign-in mails failed")

    async def sweep(self, job: str) -> bool:
        """Run a periodic job if this process claims the tick; True when it did."""
        task = asyncio.current_task()
        if task is not None:
            self._sweeps.add(task)
        try:
            now = self.clock()
            if not await service.claim_tick(self.db, job, now=now, owner=self.owner):
                return False
            await SWEEPS[job](self.db, now=now)
            return True
        except Exception:
            log.exception("periodic job %s failed", job)
            return False
        finally:
            self._sweeps.discard(task)

    async def stop(self) -> None:
        """Stop triggering, let a drain or sweep in flight finish for a moment, then end."""
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
        await asyncio.sleep(0)  # AsyncIOScheduler shuts down on its loop's next turn
