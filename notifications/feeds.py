"""Use cases of calendar feeds: a person's private feed, an association's, and a resource's public busy times."""

from __future__ import annotations

from datetime import datetime

from infra.database import Db
from infra.errors import ErrorCode, NotFound
from infra.settings import Settings
from notifications import calendar, facts, rules, store
from notifications.mail import Site
from people.store import Association, Person
from resources.rules import EXCLUSIVE_KINDS, ResourceKind
from resources.store import Closure, Resource


class FeedNotFound(NotFound):
    code = ErrorCode.FEED_NOT_FOUND
    title = "No calendar feed has this address; it may have been rotated or revoked"


async def private_feed(db: Db, settings: Settings, token: str, *, now: datetime) -> bytes:
    """The bookings behind a private feed URL: its holder's own, or an association's while they are a member."""
    site, since = Site.of(settings), now - rules.FEED_HISTORY
    async with db.read() as s:
        feed = await store.live_feed(s, token)
        person = await s.get(Person, feed.person_id) if feed else None
        if feed is None or person is None:
            raise FeedNotFound()
        if feed.association_id is None:
            name = rules.FEED_WORDS[rules.language_of(person.language)]["mine"]
            rows = await facts.feed_bookings(s, person_id=person.id, since=since)
        else:
            association = await s.get(Association, feed.association_id)
            if association is None or not (person.is_staff or await facts.is_member(s, association.id, person.id)):
                raise FeedNotFound()  # a member who left takes no feed of the association along
            name = f"Allmenning: {association.name}"
            rows = await facts.feed_bookings(s, association_id=association.id, since=since)
    events = [calendar.booking_event(b, base_url=site.base_url, host=site.host, stamp=stamp) for b, stamp in rows]
    return calendar.feed(name, events, refresh=rules.FEED_REFRESH)


async def resource_feed(db: Db, settings: Settings, resource_id: int, language: str, *, now: datetime) -> bytes:
    """A resource's busy times for anyone: when it is taken, never by whom or for what; and when it is closed, and why."""
    words, host, since = rules.FEED_WORDS[rules.language_of(language)], rules.host_of(settings.base_url), now - rules.FEED_HISTORY
    async with db.read() as s:
        resource = await s.get(Resource, resource_id)
        if resource is None:
            raise NotFound(f"No resource {resource_id}", resource_id=resource_id)
        if ResourceKind(resource.kind) in EXCLUSIVE_KINDS:
            blocks = [
                (f"busy-{i}@{host}", start, end, seq, stamp)
                for i, start, end, seq, stamp in await facts.busy_blocks(s, resource_id, since=since)
            ]
        else:
            blocks = pooled_busy(await facts.loans_of(s, resource_id, since=since), resource, host)
        closed = closed_blocks(await facts.closures_of(s, resource_id, since=since), resource, host, words)
    name = words["resource"].format(name=resource.name)
    return calendar.busy_feed(name, blocks, summary=words["busy"], refresh=rules.FEED_REFRESH, closed=closed)


def closed_blocks(closures: list[Closure], resource: Resource, host: str, words: dict[str, str]) -> list[calendar.ClosedBlock]:
    """Each closure as a busy block named by its reason, which staff write for the public ("Closed: Christmas break");
    stamped with the resource's last change, which adding or removing a closure is."""
    stamp = calendar.utc_text(resource.updated_at)
    return [
        (
            f"closure-{c.id}@{host}",
            calendar.utc_text(c.start),
            calendar.utc_text(c.end),
            words["closed_for"].format(reason=c.reason.strip()) if c.reason.strip() else words["closed"],
            stamp,
        )
        for c in closures
    ]


def pooled_busy(loans: list[facts.Loan], resource: Resource, host: str) -> list[calendar.BusyBlock]:
    """Equipment is busy only while every unit is out; each such span is stamped with the latest change behind it."""
    spans = rules.fully_booked([(loan.start, loan.end, loan.quantity) for loan in loans], resource.stock or 0)
    stamp = calendar.utc_text(max((loan.updated_at for loan in loans), default=resource.updated_at))
    return [
        (f"busy-{resource.id}-{calendar.utc_text(b.start)}@{host}", calendar.utc_text(b.start), calendar.utc_text(b.end), 0, stamp)
        for b in spans
    ]
