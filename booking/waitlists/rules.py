"""Pure waitlist rules: offer terms per kind, offer deadlines that avoid closed days, and the order of the line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from booking.pooled_rules import check_pickup_and_return_inside_windows
from booking.rules import BookingStatus, check_inside_windows
from infra.errors import Conflict, DomainError, ErrorCode, Forbidden
from infra.time import OSLO, Interval, as_utc, is_public_holiday, local_datetime
from resources.rules import OutsideBookingWindow, Policy, ResourceClosed


class WaitKind(StrEnum):
    ROOM_SLOT = "room_slot"
    EQUIPMENT = "equipment"
    GARDEN_BED = "garden_bed"


class EntryStatus(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    BOOKED = "booked"
    LEFT = "left"
    REMOVED = "removed"  # expired unanswered, or taken off by staff


class OfferOutcome(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"  # staff closed, retired or cut the stock under it before it was answered


ANSWERED = frozenset({OfferOutcome.ACCEPTED, OfferOutcome.DECLINED, OfferOutcome.EXPIRED, OfferOutcome.WITHDRAWN})


@dataclass(frozen=True)
class OfferTerms:
    """How long an offer holds, and what a decline or silence costs."""

    hold: timedelta
    declines_kept: int = 1  # declines that keep one's place; the next one sends one to the back
    expiry_removes: bool = True  # an unanswered offer takes one off the list (else: to the back)
    closing: time = time(20)  # a deadline moved off a closed day lands at this Oslo time


# The configuration of offers per kind; a room slot is soon, a bed is a season.
TERMS = {
    WaitKind.ROOM_SLOT: OfferTerms(hold=timedelta(hours=4)),
    WaitKind.EQUIPMENT: OfferTerms(hold=timedelta(hours=24)),
    WaitKind.GARDEN_BED: OfferTerms(hold=timedelta(days=7)),
}


# ---------------------------------------------------------------- errors


class OfferExpired(Conflict):
    code = ErrorCode.OFFER_EXPIRED
    title = "The offer's deadline has passed"


class OfferNotOpen(Conflict):
    code = ErrorCode.OFFER_NOT_OPEN
    title = "The offer is no longer open: it was accepted, declined or has expired"


class NotYourOffer(Forbidden):
    code = ErrorCode.NOT_YOUR_OFFER
    title = "This offer was made to someone else"


class AlreadyWaiting(Conflict):
    code = ErrorCode.ALREADY_WAITING
    title = "You are already on this waitlist"


class NotTaken(Conflict):
    code = ErrorCode.NOT_TAKEN
    title = "That is free: book it directly instead of waiting"


class NotWaiting(Conflict):
    code = ErrorCode.NOT_WAITING
    title = "This entry is no longer waiting"


class InvalidPosition(DomainError):
    code = ErrorCode.INVALID_POSITION
    status = 422
    title = "Positions start at 1"


class MoreThanStock(DomainError):
    code = ErrorCode.MORE_THAN_STOCK
    status = 422
    title = "More units than the item has: no return would ever free them"


# ---------------------------------------------------------------- offers


def is_closed_day(day: date) -> bool:
    """A day nobody can be expected to answer: Saturday, Sunday or a Norwegian public holiday."""
    return day.weekday() >= 5 or is_public_holiday(day)


def _open_day(day: date, step: int, closed: Callable[[date], bool]) -> date:
    while closed(day):
        day += timedelta(days=step)
    return day


def offer_deadline(
    terms: OfferTerms, *, now: datetime, slot_start: datetime | None = None, closed: Callable[[date], bool] = is_closed_day
) -> datetime:
    """Now plus the hold, never past the slot's start, and never on a closed day.

    A deadline on a closed day moves earlier to the last open day's closing time, unless that leaves less than
    an hour (or the whole hold, if shorter); then it moves later to the next open day's closing, or to the slot's
    start if that comes first on that day. A slot that begins before the next open day keeps the hold cut at its start.
    """
    now = as_utc(now)
    latest = now + terms.hold
    if slot_start is not None:
        latest = min(latest, as_utc(slot_start))
    day = latest.astimezone(OSLO).date()
    if not closed(day):
        return latest
    earlier = local_datetime(_open_day(day, -1, closed), terms.closing)
    if earlier <= latest and earlier - now >= min(terms.hold, timedelta(hours=1)):
        return earlier
    next_open = _open_day(day, 1, closed)
    later = local_datetime(next_open, terms.closing)
    if slot_start is None or later <= as_utc(slot_start):
        return later
    if as_utc(slot_start).astimezone(OSLO).date() == next_open:
        return as_utc(slot_start)  # the slot begins on the next open day: answer by its start
    return latest


def check_offer_open(status: BookingStatus, deadline: datetime | None, *, now: datetime) -> None:
    """An offer can be answered while it is still offered and its deadline has not passed."""
    if status is not BookingStatus.OFFERED:
        raise OfferNotOpen(status=str(status))
    if deadline is not None and as_utc(now) > as_utc(deadline):
        raise OfferExpired(deadline=deadline.isoformat())


def check_offer_is_for(
    offer_person_id: int,
    offer_association_id: int | None,
    *,
    person_id: int,
    member_of: Callable[[int], bool],
    admin_of: Callable[[int], bool],
) -> None:
    """Only the one the offer was made to may answer it; an association's offer only while they are still its member
    (or an admin of it answers): whoever was removed no longer speaks for the association."""
    if offer_association_id is None:
        if person_id == offer_person_id:
            return
        raise NotYourOffer()
    if admin_of(offer_association_id) or (person_id == offer_person_id and member_of(offer_association_id)):
        return
    raise NotYourOffer()


# ---------------------------------------------------------------- the line


def check_within_stock(stock: int, quantity: int) -> None:
    """One waits for no more units than the item has: more could never be offered."""
    if quantity > stock:
        raise MoreThanStock(stock=stock, wanted=quantity)


@dataclass(frozen=True)
class AfterAnswer:
    status: EntryStatus
    to_back: bool


def after_decline(terms: OfferTerms, declines: int) -> AfterAnswer:
    """A decline keeps one's place `declines_kept` times; after that it sends one to the back of the line."""
    return AfterAnswer(EntryStatus.WAITING, to_back=declines > terms.declines_kept)


def after_expiry(terms: OfferTerms) -> AfterAnswer:
    """An unanswered offer removes one from the line, or (if configured) sends one to the back."""
    if terms.expiry_removes:
        return AfterAnswer(EntryStatus.REMOVED, to_back=False)
    return AfterAnswer(EntryStatus.WAITING, to_back=True)


def line_order(tier: int, position: int, entry_id: int) -> tuple[int, int, int]:
    """First come, first served within a priority tier (lower tiers first)."""
    return (tier, position, entry_id)


def moved_to(ids_in_order: list[int], entry_id: int, position: int) -> list[int]:
    """The line with one entry moved to a 1-based position (a position past the end means last)."""
    if position < 1:
        raise InvalidPosition(position=position)
    rest = [i for i in ids_in_order if i != entry_id]
    return rest[: position - 1] + [entry_id] + rest[position - 1 :]


def bed_suits(preferences: dict, bed_id: int, features: list[str]) -> bool:
    """A bed suits an applicant who named it, who needs a raised bed and it is raised, or who takes any bed."""
    wanted = preferences.get("beds") or []
    if bed_id in wanted:
        return True
    if preferences.get("raised") and "raised" not in features:
        return False
    return preferences.get("any", True) or not wanted


def wish_still_fits_when(kind: WaitKind, policy: Policy, start: datetime, end: datetime) -> bool:
    """The wished time is still one the resource may be booked for: no closure since fell on it, and a room's
    windows or a lending point's opening hours still hold it (an offer of a closed slot is no offer)."""
    try:
        if kind is WaitKind.EQUIPMENT:
            check_pickup_and_return_inside_windows(policy, start, end)
        elif kind is WaitKind.ROOM_SLOT:
            check_inside_windows(policy, start, end)
        else:  # a bed is held for its whole season, holidays and all: only a closure staff made stands in the way
            return not any(closure.interval.overlaps(Interval(start, end)) for closure in policy.closures)
    except (ResourceClosed, OutsideBookingWindow):
        return False
    return True
