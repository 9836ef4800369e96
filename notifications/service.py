"""Use cases of notifications: drain the outbox, record due reminders, show staff what failed, make feed URLs."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from infra import mail_transport as transport
from infra import outbox
from infra.database import Db
from infra.errors import ErrorCode, NotFound
from infra.mail_transport import Outgoing, Transport
from infra.outbox import Notification
from infra.settings import Settings
from notifications import facts, mail, rules, store
from notifications.calendar import Party
from notifications.mail import Letter, Site
from notifications.recurrence import Series
from notifications.rules import BookingFacts
from people.actor import Actor, Duty, check_may, check_member
from people.rules import AssociationNotFound
from people.store import Association, Person

log = logging.getLogger("allmenning.notifications")
JOB_RUN_MEMORY = timedelta(days=7)


@dataclass
class DrainReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


MARK_EVERY = 0.2  # seconds a mail sent waits at most before it is marked sent (with those sent since)


async def drain_outbox(
    db: Db,
    site: Site,
    transport: Transport,
    *,
    clock: Callable[[], datetime],
    owner: str,
    batch: int = 100,
    marks: Marks | None = None,
    pause: float = 0.0,
) -> DrainReport:
    """Send every due notification: lease a batch, write its mails, send them, mark what went; until a lease finds
    fewer than a batch due (what is committed later wakes the sender again).

    A batch's mails are written together and then sent over one connection; a full batch has the next one leased
    and read meanwhile (its commit waits on the disk, not on us). The mails sent are marked in groups: with the next
    lease, or in the background once the oldest has waited `MARK_EVERY`; so a drain commits a few times a second,
    not once a mail. A process that dies between sending and marking sends those few again, with the same
    Message-ID, once their lease lapses. Given `marks`, the caller (the scheduler) keeps what is left to mark for
    the next drain's lease, and writes it itself once it has waited `MARK_EVERY`. A web process gives a `pause`
    (seconds) after each mail written and each sent, so the requests it answers meanwhile do not wait behind the mail."""
    report, owned = DrainReport(), marks is None
    marks = Marks(db, owner) if marks is None else marks
    upcoming: asyncio.Future[Leased] | None = asyncio.ensure_future(lease(db, marks, clock=clock, owner=owner, batch=batch))
    try:
        while upcoming is not None:
            leased, upcoming = await upcoming, None
            if leased.rows and clock() - leased.now > rules.LEASE / 2:  # leased ahead, behind a slow batch: lease afresh
                await hand_back(db, leased.rows, owner)
                upcoming = asyncio.ensure_future(lease(db, marks, clock=clock, owner=owner, batch=batch))
                continue
            if len(leased.rows) == batch:  # there may be more: the next batch is leased while this one goes out
                upcoming = asyncio.ensure_future(lease(db, marks, clock=clock, owner=owner, batch=batch))
            if not leased.rows:
                break
            drain = Drain(db, owner, leased.now, report, marks, pause)
            if await drain.deliver(transport, site, leased) and upcoming is None:
                upcoming = asyncio.ensure_future(lease(db, marks, clock=clock, owner=owner, batch=batch))  # handed back: again
        return report
    finally:
        if upcoming is not None:  # stopped (or failed) with a batch leased and not sent: it goes back at once
            await hand_back_upcoming(db, upcoming, owner)
        if owned:
            await marks.settle(clock())


class Leased(NamedTuple):
    now: datetime
    rows: list[Notification]
    known: Known | None


async def lease(db: Db, marks: Marks, *, clock: Callable[[], datetime], owner: str, batch: int) -> Leased:
    """Lease the next batch (marking, in the same transaction, what was sent so far) and read what its mails tell."""
    now = clock()  # per batch: a lease dated from when the drain began could lapse while this batch is sent
    async with db.write() as s:
        await marks.write(s, now)
        rows = await store.claim_due(s, now=now, owner=owner, lease_until=now + rules.LEASE, limit=batch)
    if not rows:
        return Leased(now, [], None)
    async with db.read() as s:
        return Leased(now, rows, await read_facts(s, rows))


async def hand_back(db: Db, rows: list[Notification], owner: str) -> None:
    """Leased rows not tried go back at once, for whoever drains next (one that failed for good stays failed)."""
    if rows:
        async with db.write() as s:
            await store.release(s, [n.id for n in rows], owner=owner)


async def hand_back_upcoming(db: Db, upcoming: asyncio.Future[Leased], owner: str) -> None:
    try:
        await hand_back(db, (await upcoming).rows, owner)
    except Exception:
        log.exception("handing back a leased batch failed; its lease lapses instead")


class Marks:
    """The rows this drain sent and has not yet marked sent; marked in groups."""

    def __init__(self, db: Db, owner: str) -> None:
        self.db, self.owner = db, owner
        self.ids: list[int] = []
        self.since = 0.0
        self._writing: asyncio.Future[None] | None = None

    def add(self, notification_id: int, *, now: datetime) -> None:
        if not self.ids:
            self.since = time.monotonic()
        self.ids.append(notification_id)
        if time.monotonic() - self.since >= MARK_EVERY and (self._writing is None or self._writing.done()):
            self._writing = asyncio.ensure_future(self._write_alone(now))  # in the background: sending goes on

    async def write(self, s: AsyncSession, now: datetime) -> None:
        ids, self.ids = self.ids, []
        await store.mark_all_sent(s, ids, owner=self.owner, now=now)

    async def _write_alone(self, now: datetime) -> None:
        async with self.db.write() as s:
            await self.write(s, now)

    @property
    def waiting(self) -> float | None:
        """Seconds until what is left to mark has waited `MARK_EVERY`; None when nothing is."""
        return max(0.0, self.since + MARK_EVERY - time.monotonic()) if self.ids else None

    async def settle(self, now: datetime) -> None:
        """The background write done, and the rest written (the end of a drain, or of a wait for the next one)."""
        if self._writing is not None:
            await self._writing
        if self.ids:
            await self._write_alone(now)


@dataclass
class Drain:
    """One round of draining: the rows it leased, written as mails, sent, and marked."""

    db: Db
    owner: str
    now: datetime
    report: DrainReport
    marks: Marks
    pause: float = 0.0  # seconds given to the event loop after each mail written and each sent

    async def write_all(self, site: Site, leased: Leased, lanes: list[asyncio.Queue], handled: set[int]) -> None:
        """Each leased row as its mail, one a turn of the event loop, into its recipient's lane for a conversation to
        send as it comes (None: no more); a row no mail can be written for fails for good, where staff see it."""
        for notification in leased.rows:
            try:
                written = mail.render(letter_of(notification, *leased.known), site)
                lanes[notification.person_id % len(lanes)].put_nowait((notification, written))
            except Exception as exc:  # noqa: BLE001 - any fault in writing the mail is this row's, not the batch's
                handled.add(notification.id)
                await self.fail(notification, f"cannot write this mail: {exc}", permanent=True)
            await asyncio.sleep(self.pause)  # the senders (and, in a web process, requests) have a turn between two mails
        for lane in lanes:
            lane.put_nowait(None)

    async def deliver(self, transport: Transport, site: Site, leased: Leased) -> bool:
        """Send the batch over the transport's conversations at once while its mails are written: one person's mails
        all in one conversation, in order; each conversation waits on the server's answers (work in another process)
        while the others write or send. A lost connection hands the rest back (True) to be leased again."""
        lanes = [asyncio.Queue() for _ in range(min(getattr(transport, "conversations", 1), len(leased.rows)))]
        handled: set[int] = set()  # rows sent, failed, or taken in hand to be sent
        writer = asyncio.ensure_future(self.write_all(site, leased, lanes, handled))
        try:
            outcomes = await asyncio.gather(*(self.send_lane(transport, lane, handled) for lane in lanes), return_exceptions=True)
        except BaseException:  # the drain itself is stopped (a process shutting down): the writing stops with it
            writer.cancel()
            raise
        await writer  # it costs little more than the sends it overlaps: let finish, not cancelled mid-write
        rest = [n for n in leased.rows if n.id not in handled]
        if failure := next((o for o in outcomes if isinstance(o, Exception)), None):
            for notification in rest:  # the server could not be reached: every mail not sent waits its backoff
                await self.fail(notification, f"{type(failure).__name__}: {failure}", permanent=False)
            return False
        if rest:
            await hand_back(self.db, rest, self.owner)
        return bool(rest)

    async def send_lane(self, transport: Transport, lane: asyncio.Queue, handled: set[int]) -> None:
        async with transport.connect() as send:
            while (item := await lane.get()) is not None:
                handled.add(item[0].id)
                if not await self.send_one(send, *item):
                    return  # the connection is lost: the rest wait for the next drain
                await asyncio.sleep(self.pause)

    async def send_one(self, send: transport.Send, notification: Notification, message: Outgoing) -> bool:
        """Send one mail (marked with the next group); False when the connection did not survive it."""
        try:
            await send(message)
        except Exception as exc:  # noqa: BLE001 - classified below: refused for good, or try again later
            permanent, text = transport.failure_of(exc)
            await self.fail(notification, text, permanent=permanent)
            return not transport.breaks_connection(exc)
        self.marks.add(notification.id, now=self.now)
        self.report.sent += 1
        return True

    async def fail(self, notification: Notification, error: str, *, permanent: bool) -> None:
        retry_at = rules.next_attempt_at(notification.attempts + 1, permanent=permanent, now=self.now)
        async with self.db.write() as s:
            await store.mark_failed(s, notification, owner=self.owner, error=error, retry_at=retry_at, now=self.now)
        if retry_at is None:
            self.report.failed += 1
            log.warning("notification %s (%s) failed for good: %s", notification.id, notification.kind, error)
        else:
            self.report.retrying += 1
            log.info("notification %s (%s) will be retried at %s: %s", notification.id, notification.kind, retry_at, error)


class Known(NamedTuple):
    """What the leased rows' mails tell, read in one go: recipients, bookings, series' dates, kits' loans, and the
    pattern of each series a calendar part tells of."""

    people: dict[int, Person]
    bookings: dict[int, BookingFacts]
    series: dict[int, list[BookingFacts]]
    kits: dict[str, list[BookingFacts]]
    recurring: dict[int, Series]


async def read_facts(s: AsyncSession, claimed: list[Notification]) -> Known:
    people = await facts.people_by_id(s, {n.person_id for n in claimed})
    bookings = await facts.bookings_by_id(s, {n.booking_id for n in claimed if n.booking_id is not None})
    series = await facts.series_bookings(s, {int(n.payload["series_id"]) for n in claimed if "series_id" in n.payload})
    kits = await facts.kit_loans(s, {kit for n in claimed if (kit := kit_of(n, bookings))})
    recurring = await facts.series_of(s, {i for n in claimed if (i := series_id_of(n, bookings)) is not None})
    return Known(people, bookings, series, kits, recurring)


def kit_of(n: Notification, bookings: dict[int, BookingFacts]) -> str | None:
    """The kit loan whose news the notification tells for all its items, if it does."""
    booking = bookings.get(n.booking_id) if n.booking_id is not None else None
    return booking.kit_loan_id if booking and rules.is_told_per_kit(n.kind, booking) else None


def series_id_of(n: Notification, bookings: dict[int, BookingFacts]) -> int | None:
    """The series whose recurring event the mail's calendar part is about: the series it tells of, or the one its
    booking is an occurrence of; None for mail without a calendar part."""
    meaning = rules.KINDS.get(n.kind)  # an unknown kind fails its own row when written, not the batch's reading
    if meaning is None or meaning.method is None:
        return None
    if "series_id" in n.payload:
        return int(n.payload["series_id"])
    booking = bookings.get(n.booking_id) if n.booking_id is not None else None
    return booking.series_id if booking else None


def letter_of(
    n: Notification,
    people: dict[int, Person],
    bookings: dict[int, BookingFacts],
    series: dict[int, list[BookingFacts]],
    kits: dict[str, list[BookingFacts]] | None = None,
    recurring: dict[int, Series] | None = None,
) -> Letter:
    """The mail's content: the recipient in their language, the booking as the event saw it (with its kit's items)."""
    meaning = rules.meaning_of(n.kind)
    person = people.get(n.person_id)
    booking = bookings.get(n.booking_id) if n.booking_id is not None else None
    if person is None or (booking is None and meaning.template not in ("season", "room_season", "invitation", "digest")):
        raise LookupError(f"person {n.person_id} or booking {n.booking_id} no longer exists")
    occurrences = tuple(series.get(int(n.payload["series_id"]), ())) if "series_id" in n.payload else ()
    told = booking and rules.as_of(booking, n.payload)
    kit = kit_of(n, bookings)
    items = rules.kit_items(told, (kits or {}).get(kit, [])) if kit else ()
    return Letter(
        notification_id=n.id,
        kind=n.kind,
        created_at=n.created_at,
        recipient=Party(mail.plain_name(person.name), person.email),  # headers, greeting and the calendar's CN alike
        language=rules.language_of(person.language),
        booking=told,
        details=dict(n.payload),
        series=occurrences,
        items=items,
        recurring=(recurring or {}).get(series_id_of(n, bookings)),
    )


# ---------------------------------------------------------------- periodic sweeps and the worker's heartbeat

WORKER = "worker"  # the job whose claimed ticks are the heartbeats of `allmenning worker` processes
HEARTBEAT_EVERY = timedelta(seconds=5)
WORKER_GONE_AFTER = timedelta(seconds=15)  # three heartbeats missed: no worker runs, web processes send again


async def beat(db: Db, *, now: datetime, owner: str) -> None:
    """A worker says it runs: it claims this heartbeat's tick (unless another worker did) and forgets old ones."""
    async with db.write() as s:
        await store.claim_tick(s, WORKER, rules.tick_of(now, HEARTBEAT_EVERY), owner=owner, now=now)
        await store.forget_ticks(s, WORKER, before=now - 4 * WORKER_GONE_AFTER)


async def worker_runs(db: Db, *, now: datetime) -> bool:
    """Whether some worker has beaten lately: then it sends the mail and runs the sweeps, and web processes do not."""
    async with db.read() as s:
        latest = await store.latest_tick(s, WORKER)
    return latest is not None and latest > now - WORKER_GONE_AFTER


async def stop_beating(db: Db, *, owner: str) -> None:
    """A worker that stops takes back its heartbeats, so web processes send again at once, not after a lapse."""
    async with db.write() as s:
        await store.forget_ticks(s, WORKER, owner=owner)


async def mail_due(db: Db, *, now: datetime) -> bool:
    """Whether a due notification waits unleased (a read: a polling worker takes no write lock while all is quiet)."""
    async with db.read() as s:
        return await store.any_due(s, now=now)


async def claim_tick(db: Db, job: str, *, now: datetime, owner: str) -> bool:
    """Whether this process runs `job` for the tick `now` falls in; exactly one process across the database does."""
    async with db.write() as s:
        claimed = await store.claim_tick(s, job, rules.tick_of(now), owner=owner, now=now)
        if claimed:
            await store.forget_runs_before(s, now - JOB_RUN_MEMORY)
    return claimed


async def record_reminders(db: Db, *, now: datetime) -> int:
    """Record each reminder that has come due; sweeping again in the same window records nothing new."""
    added = 0
    async with db.write() as s:
        for booking, resource_kind in await facts.reminder_candidates(s, now=now, until=now + rules.REMINDER_LEAD):
            reminder = rules.reminder_for(resource_kind, booking.exclusive, booking.status, booking.start, booking.end)
            if reminder is None or not rules.is_reminder_due(reminder.moment, booking.updated_at, now=now):
                continue
            # A kit's loans share one key: the kit is reminded of once, in a mail listing its items.
            key = rules.reminder_key(reminder, booking.id, booking.kit_loan_id)
            added += await outbox.record_once(
                s, reminder.kind, key, person_id=booking.person_id, booking_id=booking.id, at=now, **outbox.as_of(booking)
            )
    return added


# ---------------------------------------------------------------- staff


class NotificationNotFound(NotFound):
    code = ErrorCode.NOTIFICATION_NOT_FOUND
    title = "No failed notification has this id"


async def failed_notifications(db: Db, actor: Actor, *, limit: int = 200) -> list[tuple[Notification, Person | None]]:
    """Mails that failed for good, newest first, with whom they were for: staff who read everywhere follow them up
    (the mails are anyone's, of no one place)."""
    check_may(actor, Duty.READ)
    async with db.read() as s:
        rows = await store.failed(s, limit=limit)
        people = await facts.people_by_id(s, {n.person_id for n in rows})
    return [(n, people.get(n.person_id)) for n in rows]


async def retry_notification(db: Db, actor: Actor, notification_id: int, *, now: datetime) -> None:
    check_may(actor, Duty.PEOPLE)  # sending someone's mail again acts on a person's behalf: operators, who alone manage people
    async with db.write() as s:
        if not await store.retry(s, notification_id, now=now):
            raise NotificationNotFound(notification_id=notification_id)


# ---------------------------------------------------------------- feed URLs


def feed_url(settings: Settings, token: str) -> str:
    return f"{settings.base_url}/calendar/feeds/{token}.ics"


async def has_calendar_feed(db: Db, person_id: int, *, association_id: int | None = None) -> bool:
    """Whether the person has a live feed URL (of their own, or for an association); only its hash is kept, not the URL."""
    async with db.read() as s:
        return await store.feed_of(s, person_id, association_id) is not None


async def check_may_follow(db: Db, actor: Actor, association_id: int) -> None:
    """Members follow their association's bookings (staff any association's); it must exist to be followed."""
    check_member(actor, association_id)
    async with db.read() as s:
        if await s.get(Association, association_id) is None:
            raise AssociationNotFound(association_id=association_id)


async def has_association_feed(db: Db, actor: Actor, association_id: int) -> bool:
    await check_may_follow(db, actor, association_id)
    return await has_calendar_feed(db, actor.person_id, association_id=association_id)


async def rotate_calendar_feed(db: Db, settings: Settings, actor: Actor, *, now: datetime, association_id: int | None = None) -> str:
    """Make a feed URL, shown this once; any older one stops working at once (a leaked URL is replaced, not just forgotten)."""
    if association_id is not None:
        await check_may_follow(db, actor, association_id)
    async with db.write() as s:
        await facts.lock_person(s, actor.person_id)  # two makings at once leave one live feed, not two
        await store.revoke_feeds(s, actor.person_id, association_id, now=now)
        return feed_url(settings, store.add_feed(s, actor.person_id, association_id, now=now))


async def revoke_calendar_feed(db: Db, actor: Actor, *, now: datetime, association_id: int | None = None) -> None:
    """The caller's own feed URL stops working; asking needs no membership, since it takes away and shows nothing."""
    async with db.write() as s:
        await store.revoke_feeds(s, actor.person_id, association_id, now=now)
