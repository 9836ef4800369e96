"""Pure rules of what closing, retiring or lowering a stock does to the bookings covered: which, and what choice is needed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from booking.closure_rules import (
    Choice,
    CoveredBookingsChanged,
    CoveredChoiceRequired,
    Decision,
    Fate,
    Held,
    check_decision,
    check_reason_given,
    covered_by_closure,
    fate_of,
    over_stock,
)
from booking.rules import BookingStatus, ReasonRequired
from infra.time import Interval
from resources.rules import ResourceKind

MONDAY = datetime(2026, 11, 30, 11, tzinfo=UTC)
TUESDAY = Interval(datetime(2026, 11, 30, 23, tzinfo=UTC), datetime(2026, 12, 1, 23, tzinfo=UTC))


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def held(id: int, status: BookingStatus, quantity: int, *, booked: int, start: float = 0, end: float = 24) -> Held:
    span = Interval(MONDAY + hours(start), MONDAY + hours(end))
    return Held(id, status, span.start, span.end, span, quantity, MONDAY - hours(100 - booked))


def test_a_closure_covers_a_room_booking_it_meets_but_a_loan_only_at_its_pickup_or_return():
    monday_to_wednesday = (MONDAY, MONDAY + hours(48))
    assert covered_by_closure(ResourceKind.ROOM, *monday_to_wednesday, TUESDAY)
    assert not covered_by_closure(ResourceKind.EQUIPMENT, *monday_to_wednesday, TUESDAY)  # a loan may span closed days
    assert covered_by_closure(ResourceKind.EQUIPMENT, MONDAY, MONDAY + hours(25), TUESDAY)  # returned while closed
    assert covered_by_closure(ResourceKind.EQUIPMENT, TUESDAY.start, MONDAY + hours(48), TUESDAY)  # picked up while closed
    assert not covered_by_closure(ResourceKind.EQUIPMENT, MONDAY, TUESDAY.start, TUESDAY)  # returned as it closes
    assert not covered_by_closure(ResourceKind.ROOM, MONDAY, TUESDAY.start, TUESDAY)  # ends as it begins


def test_a_lower_stock_keeps_units_handed_out_then_the_first_booked_and_lets_a_held_offer_go_first():
    out = held(1, BookingStatus.CHECKED_OUT, 2, booked=3)
    early = held(2, BookingStatus.CONFIRMED, 1, booked=1)
    late = held(3, BookingStatus.CONFIRMED, 1, booked=2)
    offer = held(4, BookingStatus.OFFERED, 1, booked=0)
    assert [h.id for h in over_stock([offer, late, early, out], 3)] == [3, 4]
    assert [h.id for h in over_stock([offer, late, early, out], 4)] == [4]


def test_a_lower_stock_measures_the_busiest_instant_not_the_sum_of_loans():
    morning, evening = held(1, BookingStatus.CONFIRMED, 2, booked=1, end=6), held(2, BookingStatus.CONFIRMED, 2, booked=2, start=6)
    assert over_stock([morning, evening], 2) == []  # one after the other: never more than two out


def test_units_handed_out_beyond_the_new_stock_are_over_but_can_only_come_back():
    out = held(1, BookingStatus.OVERDUE, 3, booked=1)
    assert [h.id for h in over_stock([out], 2)] == [1]
    assert fate_of(BookingStatus.OVERDUE) is Fate.STAYS
    assert (fate_of(BookingStatus.CONFIRMED), fate_of(BookingStatus.OFFERED)) == (Fate.CANCEL, Fate.WITHDRAW)


def test_bookings_covered_need_a_choice_made_on_the_list_that_was_shown():
    check_decision([], Decision())
    with pytest.raises(CoveredChoiceRequired):
        check_decision([7], Decision())
    with pytest.raises(CoveredBookingsChanged):
        check_decision([7, 8], Decision(Choice.CANCEL, seen=frozenset({7})))
    check_decision([7, 8], Decision(Choice.KEEP, seen=frozenset({8, 7})))


def test_cancelling_needs_a_reason_unless_only_loans_out_are_covered():
    with pytest.raises(ReasonRequired):
        check_reason_given([Fate.CANCEL], Decision(Choice.CANCEL), " ")
    check_reason_given([Fate.STAYS], Decision(Choice.CANCEL), "")
    check_reason_given([Fate.CANCEL], Decision(Choice.KEEP), "")
