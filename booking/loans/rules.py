"""Pure rules for equipment loans: pickup and return in opening hours, loan length, pooled stock, hand-over."""

from __future__ import annotations

from datetime import datetime

from booking.rules import BookingStatus
from infra.errors import Conflict, DomainError, ErrorCode
from infra.time import as_utc


class NotCheckedOut(Conflict):
    code = ErrorCode.NOT_CHECKED_OUT
    title = "Only a loan that has been handed out can be checked in"


class NotReadyForCheckOut(Conflict):
    code = ErrorCode.NOT_READY_FOR_CHECK_OUT
    title = "Only a confirmed loan can be handed out"


class NotALoan(DomainError):
    code = ErrorCode.NOT_A_LOAN
    status = 422
    title = "Only equipment loans are handed out and checked in"


class TooManyMissing(DomainError):
    code = ErrorCode.TOO_MANY_MISSING
    status = 422
    title = "Missing units are counted from none to as many as were lent"


HANDED_OUT = frozenset({BookingStatus.CHECKED_OUT, BookingStatus.OVERDUE})


def is_overdue(status: BookingStatus, end: datetime, *, now: datetime) -> bool:
    """A loan handed out and not back by its return time is overdue."""
    return status in HANDED_OUT and as_utc(now) >= as_utc(end)


def check_ready_for_check_out(status: BookingStatus) -> None:
    if status is not BookingStatus.CONFIRMED:
        raise NotReadyForCheckOut(status=str(status))


def check_ready_for_check_in(status: BookingStatus, quantity: int, missing_units: int) -> None:
    if status not in HANDED_OUT:
        raise NotCheckedOut(status=str(status))
    if not 0 <= missing_units <= quantity:  # a negative count would add units to the stock that were never bought
        raise TooManyMissing(quantity=quantity, missing_units=missing_units)
