"""Use cases after a room season is published: associations confirm or give back slots; slots given back or left
unconfirmed go to the refused wishes waiting in line, in priority order."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.rules import BookingStatus
from booking.seasons import room_board, room_store
from booking.seasons.room_allocation import hold_slots
from booking.seasons.room_draw import search
from booking.seasons.room_rules import HOLDS_A_SLOT, Outcome, WishStatus
from booking.seasons.room_service import room_season
from booking.seasons.room_store import RoomApplication, RoomWish, slot_json
from booking.seasons.rules import Phase, check_phase
from booking.seasons.store import Season
from booking.waitlists import store as waitlist_store
from booking.waitlists.rules import EntryStatus, OfferNotOpen
from booking.waitlists.store import WaitlistEntry
from infra import outbox
from infra.database import Db
from people.actor import Actor, check_admin
from resources.rules import ResourceKind


async def _held_wish(s: AsyncSession, actor: Actor, season_id: int, wish_id: int) -> tuple[Season, RoomWish, RoomApplication]:
    season = await room_season(s, season_id, lock=True)
    check_phase(Phase(season.phase), Phase.OFFERS, Phase.RUNNING)
    wish, application = await room_store.get_wish(s, season_id, wish_id)
    check_admin(actor, application.association_id)
    return season, wish, application


async def confirm(db: Db, actor: Actor, season_id: int, wish_id: int, *, now: datetime) -> RoomWish:
    """The association keeps the slot it was given: its held dates become confirmed bookings."""
    async with db.write() as s:
        season, wish, application = await _held_wish(s, actor, season_id, wish_id)
        if wish.status != WishStatus.OFFERED.value or (wish.confirm_by is not None and wish.confirm_by <= now):
            raise OfferNotOpen(wish_id=wish_id, status=wish.status)
        bookings = await room_store.series_bookings(s, list(wish.series_ids))
        for booking in bookings:
            if booking.status == BookingStatus.OFFERED.value:
                booking.answer_offer(True, needs_approval=False, now=now)
                s.add(booking)
        _tell(s, "room_slot_confirmed", season, wish, application, bookings, now=now)
        await _answer_entry(s, season_id, wish.id, EntryStatus.BOOKED, now=now)
        wish.becomes(WishStatus.CONFIRMED, now=now)
        s.add(wish)
        return wish


async def give_back(db: Db, actor: Actor, season_id: int, wish_id: int, *, reason: str, now: datetime) -> RoomWish:
    """The association gives a slot back (held or confirmed): its dates to come are freed, and offered on."""
    async with db.write() as s:
        season, wish, application = await _held_wish(s, actor, season_id, wish_id)
        if WishStatus(wish.status) not in HOLDS_A_SLOT:
            raise OfferNotOpen(wish_id=wish_id, status=wish.status)
        _release(s, season, wish, application, await room_store.series_bookings(s, list(wish.series_ids)), reason or "given back", now=now)
        await _answer_entry(s, season_id, wish.id, EntryStatus.LEFT, now=now)
        wish.becomes(WishStatus.GIVEN_BACK, now=now)
        s.add(wish)
    await offer_given_back(db, season_id, now=now)
    return wish


def _release(
    s: AsyncSession, season: Season, wish: RoomWish, application: RoomApplication, bookings: list, reason: str, *, now: datetime
) -> None:
    for booking in bookings:
        if booking.start > now and booking.status in (BookingStatus.OFFERED.value, BookingStatus.CONFIRMED.value):
            booking.cancel(application.person_id, reason, now=now)
            s.add(booking)
    _tell(s, "room_slot_released", season, wish, application, bookings, now=now, reason=reason)


def _tell(
    s: AsyncSession,
    kind: str,
    season: Season,
    wish: RoomWish,
    application: RoomApplication,
    bookings: list,
    *,
    now: datetime,
    **facts: object,
) -> None:
    """One mail per series of the wish, with the series as one recurring calendar event."""
    for series_id in wish.series_ids:
        first = next((b for b in bookings if b.series_id == series_id), None)
        if first is not None:
            outbox.record(
                s, kind, person_id=application.person_id, booking_id=first.id, at=now, series_id=series_id, season=season.name, **facts
            )


async def _answer_entry(s: AsyncSession, season_id: int, wish_id: int, status: EntryStatus, *, now: datetime) -> None:
    """A wish offered from the line: its place there is answered too."""
    for entry in await waitlist_store.entries_of(s, season_id=season_id):
        if entry.preferences.get("wish_id") == wish_id and entry.status == EntryStatus.OFFERED.value:
            entry.becomes(status, now=now)
            s.add(entry)


async def lapse_unconfirmed(db: Db, *, now: datetime) -> int:
    """The scheduler's sweep: slots not confirmed by their deadline lapse, and go to the next in line."""
    lapsed: set[int] = set()
    async with db.write() as s:
        query = select(RoomWish).where(RoomWish.status == WishStatus.OFFERED.value, RoomWish.confirm_by <= now)
        for wish in (await s.execute(query)).scalars():
            application = await s.get(RoomApplication, wish.application_id)
            season = await s.get(Season, application.season_id)
            _release(
                s, season, wish, application, await room_store.series_bookings(s, list(wish.series_ids)), "not confirmed in time", now=now
            )
            await _answer_entry(s, season.id, wish.id, EntryStatus.REMOVED, now=now)
            wish.becomes(WishStatus.LAPSED, now=now)
            s.add(wish)
            lapsed.add(season.id)
    for season_id in lapsed:
        await offer_given_back(db, season_id, now=now)
    return len(lapsed)


async def offer_given_back(db: Db, season_id: int, *, now: datetime) -> list[RoomWish]:
    """Every wish waiting in line, in priority order, that now finds its times free on every date left is offered
    them, held until it confirms."""
    async with db.write() as s:
        season = await room_season(s, season_id, lock=True)
        if Phase(season.phase) not in (Phase.OFFERS, Phase.RUNNING) or season.kind != ResourceKind.ROOM.value:
            return []
        rows = await room_store.season_wishes(s, season_id)
        term = room_board.term_of(season)
        rooms = await room_board.rooms_of(s, season, term)
        board = await room_board.board_of(
            s, season, term, rooms, holdings=[(w, a) for w, a in rows if WishStatus(w.status) in HOLDS_A_SLOT]
        )
        by_id = {w.id: (w, a) for w, a in rows}
        offered = []
        for entry in await _line(s, season_id):
            wish, application = by_id.get(entry.preferences.get("wish_id"), (None, None))
            if wish is None or wish.status != WishStatus.WAITING.value:
                continue
            slots, _, _ = search(room_board.wish_of(wish, application, rooms), board)
            if not slots:
                continue
            for slot in slots:
                board.take(slot, room_board.wish_of(wish, application, rooms))
            wish.slots, wish.outcome = [slot_json(x) for x in slots], Outcome.OFFERED_AFTER_GIVE_BACK.value
            await hold_slots(s, season, term, wish, application, confirm_by=now + timedelta(days=season.offer_days), now=now)
            entry.becomes(EntryStatus.OFFERED, now=now)
            s.add(entry)
            offered.append(wish)
        return offered


async def _line(s: AsyncSession, season_id: int) -> list[WaitlistEntry]:
    return [e for e in await waitlist_store.entries_of(s, season_id=season_id) if e.status == EntryStatus.WAITING.value]
