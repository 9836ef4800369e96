"""Pure rules of what a closure, a retirement or a lowered stock does to the active bookings it covers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from booking.pooled_rules import peak_units
from booking.rules import BookingStatus, ReasonRequired
from infra.errors import Conflict, DomainError, ErrorCode
from infra.time import Interval
from resources.rules import ResourceKind


class Choice(StrEnum):
    """Staff say, deliberately, what becomes of the bookings a change covers."""

    CANCEL = "cancel"
    KEEP = "keep"


class Fate(StrEnum):
    """What choosing to cancel does to one covered booking."""

    CANCEL = "cancel"  # requested or confirmed: cancelled, and the booker told why
    WITHDRAW = "withdraw"  # a held offer: withdrawn, so no one accepts what is no longer there
    STAYS = "stays"  # handed out: the units are out, and only their return ends the loan


HANDED_OUT = frozenset({BookingStatus.CHECKED_OUT, BookingStatus.OVERDUE})


@dataclass(frozen=True)
class Decision:
    """The staff's choice, and the covered bookings they were shown (None: they saw no list, so none is compared)."""

    choice: Choice | None = None
    seen: frozenset[int] | None = None


@dataclass(frozen=True)
class Held:
    """An active booking as these rules read it: its interval, its block (buffers included), its units."""

    id: int
    status: BookingStatus
    start: datetime
    end: datetime
    block: Interval
    quantity: int
    created_at: datetime


class CoveredChoiceRequired(Conflict):
    code = ErrorCode.COVERED_CHOICE_REQUIRED
    title = "Bookings are affected: choose to cancel them or to keep them"


class CoveredBookingsChanged(Conflict):
    code = ErrorCode.COVERED_BOOKINGS_CHANGED
    title = "The bookings affected are not those you were shown: look again"


class StockBelowUnitsOut(DomainError):
    code = ErrorCode.STOCK_BELOW_UNITS_OUT
    status = 422
    title = "The stock cannot be lower than the units that are out on loan now"


def check_stock_holds_what_is_out(loans: list[Held], stock: int) -> None:
    """Units handed out are out whatever staff decide: a stock below their busiest instant would be a lie
    (availability would show fewer than none free)."""
    out = [(loan.block, loan.quantity) for loan in loans if loan.status in HANDED_OUT]
    span = Interval(min(b.start for b, _ in out), max(b.end for b, _ in out)) if out else None
    busiest = peak_units(out, span) if span else 0
    if stock < busiest:
        raise StockBelowUnitsOut(stock=stock, units_out=busiest)


def fate_of(status: BookingStatus) -> Fate:
    if status is BookingStatus.OFFERED:
        return Fate.WITHDRAW
    return Fate.STAYS if status in HANDED_OUT else Fate.CANCEL


def covered_by_closure(kind: ResourceKind, start: datetime, end: datetime, closure: Interval) -> bool:
    """A room or bed is covered wherever its booking meets the closure; a loan only where its pickup or its return
    falls inside it, as the lending rules let a loan span closed days (a return at the closure's start is fine)."""
    if kind is not ResourceKind.EQUIPMENT:
        return Interval(start, end).overlaps(closure)
    return closure.start <= start < closure.end or closure.start < end <= closure.end


def _keeping_order(held: Held) -> tuple:
    # Units handed out are out whatever we decide; then the first booked keep theirs; a held offer is nobody's yet.
    rank = 0 if held.status in HANDED_OUT else 2 if held.status is BookingStatus.OFFERED else 1
    return (rank, held.created_at, held.id)


def over_stock(loans: list[Held], stock: int) -> list[Held]:
    """The loans that no longer fit a stock: taken in keeping order, each one kept while the busiest instant of
    those kept so far leaves room for it; the rest are over."""
    kept: list[tuple[Interval, int]] = []
    over = []
    for loan in sorted(loans, key=_keeping_order):
        if peak_units(kept, loan.block) + loan.quantity <= stock:
            kept.append((loan.block, loan.quantity))
        else:
            over.append(loan)
            if loan.status in HANDED_OUT:  # out all the same: the units still count against what is left
                kept.append((loan.block, loan.quantity))
    return sorted(over, key=lambda loan: (loan.start, loan.id))


def check_decision(covered: list[int], decision: Decision) -> None:
    """Bookings covered need an explicit choice, made on the list staff were shown."""
    if decision.seen is not None and decision.seen != frozenset(covered):
        raise CoveredBookingsChanged(booking_ids=sorted(covered))
    if covered and decision.choice is None:
        raise CoveredChoiceRequired(booking_ids=sorted(covered))


def check_reason_given(fates: list[Fate], decision: Decision, reason: str) -> None:
    """Cancelling someone's booking needs a reason to tell them."""
    if decision.choice is Choice.CANCEL and any(f is not Fate.STAYS for f in fates) and not reason.strip():
        raise ReasonRequired("Say why: each booker is told the reason their booking is cancelled", field="reason")
