"""Pure rules of pooled stock: when a loan of k units fits, inside opening hours, quota and standing."""

from __future__ import annotations

from datetime import datetime, timedelta

from booking.rules import (
    Booker,
    BookingRequest,
    InsufficientStock,
    OverQuota,
    TooLong,
    check_basics,
    check_horizon,
    check_lead_time,
    check_not_closed,
    check_on_grid,
)
from infra.errors import DomainError, ErrorCode
from infra.time import Interval, as_utc
from resources.rules import OutsideBookingWindow, Policy, is_open_throughout


class LoanTooLong(TooLong):
    code = ErrorCode.LOAN_TOO_LONG
    title = "The loan is longer than this item may be lent"


class OutsideOpeningHours(OutsideBookingWindow):
    code = ErrorCode.OUTSIDE_OPENING_HOURS
    title = "Pickup and return must fall inside the lending point's opening hours"


def check_loan_length(policy: Policy, start: datetime, end: datetime) -> None:
    """A loan runs from pickup to return for no longer than the longest loan."""
    if as_utc(end) - as_utc(start) > policy.max_loan:
        raise LoanTooLong(maximum_days=policy.max_loan / timedelta(days=1))


_INSTANT = timedelta(microseconds=1)


def _check_open_at(policy: Policy, moment: datetime, *, returning: bool) -> None:
    # Someone is served at a moment the point is open from (opening time included). A return may also come as it
    # closes: the item is back by then. A pickup at closing time may not: the loan would begin as the door shuts.
    after, before = Interval(moment, moment + _INSTANT), Interval(moment - _INSTANT, moment)
    if is_open_throughout(policy, after) or (returning and is_open_throughout(policy, before)):
        return
    check_not_closed(policy, Interval(before.start, after.end) if returning else after)
    raise OutsideOpeningHours(at=as_utc(moment).isoformat())


def check_pickup_and_return_inside_windows(policy: Policy, start: datetime, end: datetime) -> None:
    """Equipment is picked up while the lending point is open, from opening until just before closing, and returned
    while it is open, from opening until closing itself; the loan may span closed days."""
    _check_open_at(policy, start, returning=False)
    _check_open_at(policy, end, returning=True)


def check_loan_quota(policy: Policy, active_loans: int) -> None:
    """A person has no more equipment loans running than allowed."""
    limit = policy.max_active_loans
    if limit is not None and active_loans >= limit:
        raise OverQuota(limit=limit, active=active_loans)


def peak_units(loans: list[tuple[Interval, int]], span: Interval) -> int:
    """The most units out on loan at any one instant within the span (not their sum)."""
    events: list[tuple[datetime, int]] = []
    for interval, units in loans:
        overlap = interval.intersection(span)
        if overlap is not None:
            events += [(overlap.start, units), (overlap.end, -units)]
    # Half-open loans: at the same instant a return (negative) frees units before a pickup takes them.
    events.sort(key=lambda event: (event[0], event[1]))
    peak = out = 0
    for _, change in events:
        out += change
        peak = max(peak, out)
    return peak


def check_stock(stock: int, peak: int, quantity: int) -> None:
    """A loan fits when the units already out at the busiest instant leave enough for it."""
    if peak + quantity > stock:
        raise InsufficientStock(stock=stock, available=max(stock - peak, 0), wanted=quantity)


class InMaintenance(DomainError):
    code = ErrorCode.IN_MAINTENANCE
    status = 409
    title = "This item is in maintenance and cannot be lent now"


class BorrowerOverdue(DomainError):
    code = ErrorCode.BORROWER_OVERDUE
    status = 409
    title = "A loan of yours is overdue: return it before borrowing again"


def check_loan(policy: Policy, booker: Booker, request: BookingRequest, *, now: datetime) -> None:
    """A loan: picked up and returned while the lending point is open, no longer than the longest loan."""
    check_basics(policy, booker, request)
    check_loan_length(policy, request.start, request.end)
    check_on_grid(policy, request.start, request.end)
    check_lead_time(policy, request.start, now=now)
    check_horizon(policy, request.start, now=now)
    check_pickup_and_return_inside_windows(policy, request.start, request.end)


def check_not_in_maintenance(in_maintenance: bool) -> None:
    """An item in maintenance takes no new loans."""
    if in_maintenance:
        raise InMaintenance()


def check_borrower_not_overdue(overdue_loans: int) -> None:
    """A borrower with an overdue loan borrows nothing more until it is back."""
    if overdue_loans:
        raise BorrowerOverdue(overdue_loans=overdue_loans)


def units_free(stock: int, loans: list[tuple[Interval, int]], span: Interval) -> list[tuple[Interval, int]]:
    """The span cut where the number of units out changes, each piece with the units still free."""
    edges = {span.start, span.end}
    for interval, _ in loans:
        edges |= {moment for moment in (interval.start, interval.end) if span.start < moment < span.end}
    moments = sorted(edges)
    pieces = []
    for start, end in zip(moments, moments[1:], strict=False):
        piece = Interval(start, end)
        free = stock - sum(units for interval, units in loans if interval.overlaps(piece))
        if pieces and pieces[-1][1] == free:
            pieces[-1] = (Interval(pieces[-1][0].start, end), free)
        else:
            pieces.append((piece, free))
    return pieces
