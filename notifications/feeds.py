"""Use cases of calendar feeds: a person's private feed, an association's, and a resource's public busy times."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from infra.database import Db
from infra.errors import ErrorCode, NotFound
from infra.settings import Settings
from notifications import calendar, facts, feed_text, rules
from notifications.mail import Site
from people import store as people_store
from people.roles import StaffRole
from resources.rules import EXCLUSIVE_KINDS, ResourceKind
from resources.store import Closure, Resource

# A change is stamped with the `now` its request began at and commits a moment later: one older than this has surely
# committed (or failed), so a feed whose newest change is older is versioned by two index seeks (`bookings_version`).
SETTLED = timedelta(minutes=15)
PLACES = ("notifications.feeds", "places")  # the catalogue's version, remembered in `Db.memo` until a catalogue write


def _writer_version() -> str:
    """The code that writes a feed is part of its version: a release that writes feeds differently changes every
    ETag, as hashing the body did."""
    sources = b"".join(Path(m.__file__).read_bytes() for m in (calendar, facts, feed_text, rules)) + Path(__file__).read_bytes()
    return hashlib.sha256(sources).hexdigest()[:16]


WRITER = _writer_version()


class FeedNotFound(NotFound):
    code = ErrorCode.FEED_NOT_FOUND
    title = "No calendar feed has this address; it may have been rotated or revoked"


@dataclass(frozen=True)
class Feed:
    etag: str
    body: bytes | None  # None: the asker's copy (If-None-Match) is current, and nothing was read or written for it


def version(*parts: object) -> str:
    """An ETag from everything a feed's body is made of, as values: equal parts, equal bodies."""
    return rules.etag_of(repr((WRITER, *parts)).encode())


async def bookings_version(
    s: AsyncSession, kind: str, owner_id: int, latest: datetime | None, first: datetime | None, *, since: datetime, now: datetime
) -> tuple:
    """The version of the bookings a feed shows, from its owner's newest change (`latest`) and its first shown
    booking's end (`first`), both read with the feed's holder or resource (`facts.feed_version`, `resource_version`).

    A change is stamped with the `now` its request began at and commits a moment later. Once the newest change is older
    than `SETTLED`, every change yet to commit will stamp a newer time, so those two values are the version. Before
    that, a change begun earlier may still commit after it with an older stamp: then the shown rows are summed."""
    if latest is None or latest < now - SETTLED:
        return ("settled", latest, first)
    return ("recent", *await facts.shown_tally(s, kind, owner_id, since=since))


async def private_feed(db: Db, settings: Settings, token: str, *, now: datetime, known: str | None = None) -> Feed:
    """The bookings behind a private feed URL: its holder's own, or an association's while they are a member.

    Versioned before it is read: when `known` (the asker's If-None-Match) names this version, nothing is rendered."""
    site, since = Site.of(settings), now - rules.FEED_HISTORY
    async with db.read() as s:
        # First, so the rows read after it are never older than the version they are sent under.
        places = await db.memo.get_or_read(PLACES, lambda: facts.places_stamp(s))
        holder = await facts.feed_version(s, token, since=since)
        if holder is None:
            raise FeedNotFound()
        if holder.association_id is None:
            name, kind, owner_id = rules.FEED_WORDS[rules.language_of(holder.language)]["mine"], "person", holder.person_id
        else:
            if holder.association_name is None or not (holder.is_member or (holder.is_staff and await _is_operator(s, holder.person_id))):
                raise FeedNotFound()  # a member who left takes no feed of the association along
            name, kind, owner_id = f"Allmenning: {holder.association_name}", "association", holder.association_id
        stamp = await bookings_version(s, kind, owner_id, holder.latest_change, holder.first_shown_end, since=since, now=now)
        shown = (holder.person_id, holder.association_id, holder.language, holder.name, name, site.base_url, places, stamp)
        etag = version("private", *shown)
        if rules.etag_matches(known, etag):
            return Feed(etag, None)
        rows, places = await facts.feed_rows(s, **{f"{kind}_id": owner_id}, since=since)
    body = feed_text.booking_feed(name, rows, places, base_url=site.base_url, host=site.host, refresh=rules.FEED_REFRESH)
    return Feed(etag, body)


async def _is_operator(s: AsyncSession, person_id: int) -> bool:
    """Staff take an association's feed along as its members or as operators (who act for any association); a role
    at some places reads bookings there, not a feed of everything an association books."""
    return any(g.role is StaffRole.OPERATOR for g in (await people_store.grants_of(s, {person_id})).get(person_id, ()))


async def resource_feed(db: Db, settings: Settings, resource_id: int, language: str, *, now: datetime, known: str | None = None) -> Feed:
    """A resource's busy times for anyone: when it is taken, never by whom or for what; and when it is closed, and why.

    Versioned before it is read, as a private feed is, with what it shows of the resource itself."""
    words, host, since = rules.FEED_WORDS[rules.language_of(language)], rules.host_of(settings.base_url), now - rules.FEED_HISTORY
    async with db.read() as s:
        shown = await facts.resource_version(s, resource_id, since=since)
        if shown is None:
            raise NotFound(f"No resource {resource_id}", resource_id=resource_id)
        newest = (shown.latest_change, shown.first_shown_end)
        stamp = await bookings_version(s, "resource", resource_id, *newest, since=since, now=now)
        itself = (shown.name, shown.kind, shown.stock, shown.updated_at, shown.closures, shown.closure_ids)
        etag = version("resource", resource_id, itself, tuple(words.values()), host, stamp)
        if rules.etag_matches(known, etag):
            return Feed(etag, None)
        resource = await s.get(Resource, resource_id)
        if ResourceKind(resource.kind) in EXCLUSIVE_KINDS:
            blocks = [
                (f"busy-{i}@{host}", start, end, seq, changed)
                for i, start, end, seq, changed in await facts.busy_blocks(s, resource_id, since=since)
            ]
        else:
            blocks = pooled_busy(await facts.loans_of(s, resource_id, since=since), resource, host)
        closed = closed_blocks(await facts.closures_of(s, resource_id, since=since), resource, host, words)
    name = words["resource"].format(name=resource.name)
    return Feed(etag, feed_text.busy_feed(name, blocks, summary=words["busy"], refresh=rules.FEED_REFRESH, closed=closed))


def closed_blocks(closures: list[Closure], resource: Resource, host: str, words: dict[str, str]) -> list[feed_text.ClosedBlock]:
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


def pooled_busy(loans: list[facts.Loan], resource: Resource, host: str) -> list[feed_text.BusyBlock]:
    """Equipment is busy only while every unit is out; each such span is stamped with the latest change behind it."""
    spans = rules.fully_booked([(loan.start, loan.end, loan.quantity) for loan in loans], resource.stock or 0)
    stamp = calendar.utc_text(max((loan.updated_at for loan in loans), default=resource.updated_at))
    return [
        (f"busy-{resource.id}-{calendar.utc_text(b.start)}@{host}", calendar.utc_text(b.start), calendar.utc_text(b.end), 0, stamp)
        for b in spans
    ]
