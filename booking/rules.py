"""Pure booking rules: states and the named sets beside them, and the checks a booking must pass."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import ClassVar

from infra.errors import Conflict, DomainError, ErrorCode, Forbidden, InvalidInput
from infra.i18n import N_
from infra.time import OSLO, Interval, as_utc
from resources.rules import (
    BookerKind,
    OutsideBookingWindow,
    Policy,
    ResourceClosed,
    ResourceKind,
    closures_within,
    is_open_throughout,
)


class BookingStatus(StrEnum):
    REQUESTED = "requested"
    CONFIRMED = "confirmed"
    CHECKED_OUT = "checked_out"
    RETURNED = "returned"
    OVERDUE = "overdue"
    CANCELLED = "cancelled"
    DECLINED = "declined"
    # A waitlist offer: holds its capacity like a booking until it is accepted, declined or expires.
    OFFERED = "offered"
    EXPIRED = "expired"

    # Named sets, attached below: an Enum body would turn them into members.
    ACTIVE: ClassVar[frozenset[BookingStatus]]
    CANCELLABLE: ClassVar[frozenset[BookingStatus]]
    DECIDABLE: ClassVar[frozenset[BookingStatus]]
    FINAL: ClassVar[frozenset[BookingStatus]]


# Active bookings hold capacity: an overdue loan still has the units out, an open offer holds its slot.
ACTIVE = frozenset(
    {BookingStatus.REQUESTED, BookingStatus.CONFIRMED, BookingStatus.CHECKED_OUT, BookingStatus.OVERDUE, BookingStatus.OFFERED}
)
# Once equipment has been handed out it can only come back, not be cancelled; an offer is declined instead.
CANCELLABLE = frozenset({BookingStatus.REQUESTED, BookingStatus.CONFIRMED})
DECIDABLE = frozenset({BookingStatus.REQUESTED})
FINAL = frozenset({BookingStatus.RETURNED, BookingStatus.CANCELLED, BookingStatus.DECLINED, BookingStatus.EXPIRED})
BookingStatus.ACTIVE = ACTIVE
BookingStatus.CANCELLABLE = CANCELLABLE
BookingStatus.DECIDABLE = DECIDABLE
BookingStatus.FINAL = FINAL

# Each status as people read it, on every page and in every mail: its words are kept here only, said in the reader's
# language where they are shown (web.i18n.Speaker.status, the mail's status line).
STATUS_WORDS = {
    BookingStatus.REQUESTED: N_("Awaiting approval"),
    BookingStatus.CONFIRMED: N_("Confirmed"),
    BookingStatus.CHECKED_OUT: N_("Picked up"),
    BookingStatus.RETURNED: N_("Returned"),
    BookingStatus.OVERDUE: N_("Overdue"),
    BookingStatus.CANCELLED: N_("Cancelled"),
    BookingStatus.DECLINED: N_("Declined"),
    BookingStatus.OFFERED: N_("Offered, awaiting an answer"),
    BookingStatus.EXPIRED: N_("The offer ran out"),
}


@dataclass(frozen=True)
class Booker:
    person_id: int
    kind: BookerKind
    association_id: int | None = None

    @property
    def is_staff(self) -> bool:
        return self.kind == BookerKind.STAFF


@dataclass(frozen=True)
class BookingRequest:
    resource_kind: ResourceKind
    start: datetime
    end: datetime
    attendees: int | None = None
    quantity: int = 1


# ---------------------------------------------------------------- errors


class NaiveTimestamp(InvalidInput):
    code = ErrorCode.NAIVE_TIMESTAMP
    title = "A time must carry its time zone"


class InvalidInterval(InvalidInput):
    code = ErrorCode.INVALID_INTERVAL
    title = "The end must come after the start"


class InvalidQuantity(InvalidInput):
    code = ErrorCode.INVALID_QUANTITY
    title = "Quantities and attendee counts must be positive"


class InvalidRecurrence(InvalidInput):
    code = ErrorCode.INVALID_RECURRENCE
    title = "A series repeats every one or more weeks"


class TooShort(DomainError):
    code = ErrorCode.TOO_SHORT
    title = "The booking is shorter than the resource allows"


class TooLong(DomainError):
    code = ErrorCode.TOO_LONG
    title = "The booking is longer than the resource allows"


class OffGrid(DomainError):
    code = ErrorCode.OFF_GRID
    title = "The booking must start and end on the resource's slot grid"


class TooSoon(DomainError):
    code = ErrorCode.TOO_SOON
    title = "The booking starts too soon"


class InThePast(DomainError):
    code = ErrorCode.IN_THE_PAST
    title = "The booking would start in the past"


class TooFarAhead(DomainError):
    code = ErrorCode.TOO_FAR_AHEAD
    title = "The booking is too far ahead"


class BookerNotAllowed(Forbidden):
    code = ErrorCode.BOOKER_NOT_ALLOWED
    status = 403
    title = "This resource cannot be booked by you"


class OverCapacity(DomainError):
    code = ErrorCode.OVER_CAPACITY
    title = "More people than the room holds"


class OverQuota(DomainError):
    code = ErrorCode.OVER_QUOTA
    title = "The booking would exceed your quota"


class SlotTaken(Conflict):
    code = ErrorCode.SLOT_TAKEN
    title = "The time is already booked"


class InsufficientStock(Conflict):
    code = ErrorCode.INSUFFICIENT_STOCK
    title = "Not enough units are free for that time"


class NotCancellable(Conflict):
    code = ErrorCode.NOT_CANCELLABLE
    title = "The booking can no longer be cancelled"


class CancellationTooLate(DomainError):
    code = ErrorCode.CANCELLATION_TOO_LATE
    title = "The cancellation deadline has passed"


class NotDecidable(Conflict):
    code = ErrorCode.NOT_DECIDABLE
    title = "The booking is not awaiting a decision"


# ---------------------------------------------------------------- the checks


def check_well_formed(start: datetime, end: datetime) -> None:
    """Both ends carry a time zone and the booking ends after it starts."""
    for moment in (start, end):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise NaiveTimestamp(f"{moment.isoformat()} has no time zone")
    if as_utc(end) <= as_utc(start):
        raise InvalidInterval(start=start.isoformat(), end=end.isoformat())


def check_duration(policy: Policy, start: datetime, end: datetime) -> None:
    """A booking lasts at least the minimum and at most the maximum, in real time."""
    duration = as_utc(end) - as_utc(start)
    if duration < policy.min_duration:
        raise TooShort(minimum_minutes=policy.min_duration // timedelta(minutes=1))
    if duration > policy.max_duration:
        raise TooLong(maximum_minutes=policy.max_duration // timedelta(minutes=1))


def _on_grid(policy: Policy, moment: datetime) -> bool:
    # Measured on the Oslo wall clock, so 18:00 is on a 15-minute grid on every day of the year.
    local = moment.astimezone(OSLO)
    # Both sides share the Oslo tzinfo, so Python subtracts wall-clock times: exactly what the grid means.
    since_midnight = local - datetime.combine(local.date(), time(0), tzinfo=OSLO)
    return since_midnight % policy.granularity == timedelta(0)


def check_on_grid(policy: Policy, start: datetime, end: datetime) -> None:
    """A booking starts and ends on a whole slot, counted from local midnight."""
    if not (_on_grid(policy, start) and _on_grid(policy, end)):
        raise OffGrid(granularity_minutes=policy.granularity // timedelta(minutes=1))


def check_not_in_the_past(start: datetime, *, now: datetime) -> None:
    """A booking starts now or later: what has begun can no longer be booked."""
    if as_utc(start) < as_utc(now):
        raise InThePast(now=as_utc(now).isoformat())


def check_lead_time(policy: Policy, start: datetime, *, now: datetime) -> None:
    """A booking starts no sooner than the lead time from now, and never in the past."""
    check_not_in_the_past(start, now=now)
    earliest = as_utc(now) + policy.lead_time
    if as_utc(start) < earliest:
        raise TooSoon(earliest=earliest.isoformat())


def check_horizon(policy: Policy, start: datetime, *, now: datetime) -> None:
    """A booking starts no further ahead than the horizon."""
    latest = as_utc(now) + policy.horizon
    if as_utc(start) > latest:
        raise TooFarAhead(latest=latest.isoformat())


def check_not_closed(policy: Policy, interval: Interval) -> None:
    for closure in closures_within(policy, interval):
        if closure.interval.overlaps(interval):
            raise ResourceClosed(f"Closed: {closure.reason}", reason=closure.reason)


def check_inside_windows(policy: Policy, start: datetime, end: datetime) -> None:
    """A booking lies wholly inside one open stretch of the resource's booking windows."""
    wanted = Interval(start, end)
    if is_open_throughout(policy, wanted):
        return
    check_not_closed(policy, wanted)
    raise OutsideBookingWindow(start=wanted.start.isoformat(), end=wanted.end.isoformat())


def check_booker_allowed(policy: Policy, booker: Booker) -> None:
    """Only the kinds of booker the resource names may book it."""
    if booker.kind not in policy.bookable_by:
        raise BookerNotAllowed(booker_kind=str(booker.kind))


def check_capacity(capacity: int | None, attendees: int | None) -> None:
    """A room holds no more people than its capacity (when both are known)."""
    if capacity is not None and attendees is not None and attendees > capacity:
        raise OverCapacity(capacity=capacity, attendees=attendees)


def check_association_quota(policy: Policy, booked_hours_that_week: float, new_hours: float) -> None:
    """An association books no more hours of a resource in a week than the resource allows (its hours there only)."""
    quota = policy.association_hours_per_week
    # A small tolerance: hours arrive as floats summed from durations.
    if quota is not None and booked_hours_that_week + new_hours > quota + 1e-9:
        raise OverQuota(quota_hours=quota, booked_hours=booked_hours_that_week)


def check_person_quota(policy: Policy, active_count: int) -> None:
    """A person holds no more active bookings of the resource than allowed."""
    limit = policy.max_active_bookings_per_person
    if limit is not None and active_count >= limit:
        raise OverQuota(limit=limit, active=active_count)


def block_of(policy: Policy, start: datetime, end: datetime) -> Interval:
    """The span a booking occupies: itself plus the buffers (cleaning, setting up)."""
    return Interval(as_utc(start) - policy.buffer_before, as_utc(end) + policy.buffer_after)


def check_slot_free(block: Interval, taken_blocks: list[Interval]) -> None:
    """A booking's block overlaps no other active booking's block."""
    for taken in taken_blocks:
        if block.overlaps(taken):
            raise SlotTaken(taken_start=taken.start.isoformat(), taken_end=taken.end.isoformat())


def check_cancellable(status: BookingStatus, start: datetime, policy: Policy, booker_is_staff: bool, *, now: datetime) -> None:
    """A booker may cancel until the policy's deadline before the start; staff may cancel any time."""
    if status not in CANCELLABLE:
        raise NotCancellable(status=str(status))
    deadline = as_utc(start) - policy.cancellation_notice
    if not booker_is_staff and as_utc(now) > deadline:
        raise CancellationTooLate(deadline=deadline.isoformat())


class NotChangeable(Conflict):
    code = ErrorCode.NOT_CHANGEABLE
    title = "This booking can no longer be changed"


def check_changeable(status: BookingStatus) -> None:
    """Only a booking that still awaits its start (requested or confirmed) can be moved or renamed."""
    if status not in CANCELLABLE:
        raise NotChangeable(status=str(status))


def check_decidable(status: BookingStatus) -> None:
    """Only a requested booking can be approved or declined."""
    if status not in DECIDABLE:
        raise NotDecidable(status=str(status))


def _check_counts(request: BookingRequest) -> None:
    if request.quantity < 1 or (request.attendees is not None and request.attendees < 1):
        raise InvalidQuantity(quantity=request.quantity, attendees=request.attendees)


def check_booking(policy: Policy, booker: Booker, request: BookingRequest, *, capacity: int | None, now: datetime) -> None:
    """Everything the policy says about booking a room, cheapest and most fundamental first.

    Garden beds are held for a season through allocation, so only the first checks apply to them;
    equipment loans have their own sentence in `booking.loan_rules.check_loan`.
    """
    start, end = request.start, request.end
    check_basics(policy, booker, request)
    if request.resource_kind == ResourceKind.GARDEN_BED:
        return
    check_duration(policy, start, end)
    check_on_grid(policy, start, end)
    check_lead_time(policy, start, now=now)
    check_horizon(policy, start, now=now)
    check_inside_windows(policy, start, end)
    check_capacity(capacity, request.attendees)


def check_basics(policy: Policy, booker: Booker, request: BookingRequest) -> None:
    """A well-formed interval, a booker the resource accepts, and whole positive counts."""
    check_well_formed(request.start, request.end)
    check_booker_allowed(policy, booker)
    _check_counts(request)


class IdempotencyKeyReused(DomainError):
    code = ErrorCode.IDEMPOTENCY_KEY_REUSED
    status = 422
    title = "This Idempotency-Key was used for a different request"


class ReasonRequired(DomainError):
    code = ErrorCode.REASON_REQUIRED
    status = 422
    title = "Give a reason"


class ResourceRetired(DomainError):
    code = ErrorCode.RESOURCE_RETIRED
    status = 422
    title = "This resource can no longer be booked"
