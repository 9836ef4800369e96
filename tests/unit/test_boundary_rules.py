"""The edges of the rules: pickup and return at opening and closing, the daylight-saving Sundays, holidays, the past."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest

from booking.loans.rules import TooManyMissing, check_ready_for_check_in
from booking.pooled_rules import OutsideOpeningHours, check_loan
from booking.rules import Booker, BookingRequest, BookingStatus, InThePast, TooSoon, check_lead_time
from infra.time import OSLO
from resources.rules import BookerKind, Policy, ResourceClosed, ResourceKind, WeeklyWindow

RESIDENT = Booker(person_id=1, kind=BookerKind.RESIDENT)
# A lending point open 10:00–16:00 every day of the week, closed on public holidays unless it says otherwise.
POINT = Policy(windows=(WeeklyWindow(frozenset(range(7)), time(10), time(16)),), bookable_by=frozenset(BookerKind))
OPEN_ON_HOLIDAYS = replace(POINT, open_on_holidays=True)


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def oslo(year: int, month: int, day: int, hour: int, minute: int = 0, *, fold: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=OSLO, fold=fold)


def lend(policy: Policy, start: datetime, end: datetime) -> None:
    """Check a loan as a booking does, with `now` two days before its pickup."""
    now = start - timedelta(days=2)
    check_loan(policy, RESIDENT, BookingRequest(ResourceKind.EQUIPMENT, start, end), now=now)


# ---------------------------------------------------------------- pickup and return at the edges of opening hours

# Times in UTC, so the rule must find Oslo's opening hours itself: 10:00 in Oslo is 08:00 UTC on 28 March 2027
# (summer time began at 02:00 that night) and 09:00 UTC on 31 October 2027 (it ended at 03:00).
ACCEPTED = {
    "return as it opens, spring Sunday": (OPEN_ON_HOLIDAYS, utc(2027, 3, 27, 10), utc(2027, 3, 28, 8)),
    "return as it closes, spring Sunday": (OPEN_ON_HOLIDAYS, utc(2027, 3, 27, 10), utc(2027, 3, 28, 14)),
    "pickup as it opens, spring Sunday": (OPEN_ON_HOLIDAYS, utc(2027, 3, 28, 8), utc(2027, 3, 29, 12)),
    "pickup just before it closes, spring Sunday": (OPEN_ON_HOLIDAYS, utc(2027, 3, 28, 13, 45), utc(2027, 3, 29, 12)),
    "return as it opens, autumn Sunday": (POINT, utc(2027, 10, 30, 10), utc(2027, 10, 31, 9)),
    "return as it closes, autumn Sunday": (POINT, utc(2027, 10, 30, 10), utc(2027, 10, 31, 15)),
    "pickup as it opens, autumn Sunday": (POINT, utc(2027, 10, 31, 9), utc(2027, 11, 1, 12)),
    "return as it closes the Saturday before Whitsun": (POINT, oslo(2027, 5, 13, 12), oslo(2027, 5, 15, 16)),
    "return as it opens the day after Whit Monday, 17 May": (POINT, oslo(2027, 5, 14, 12), oslo(2027, 5, 18, 10)),
    "pickup as it opens the day after 17 May": (POINT, oslo(2027, 5, 18, 10), oslo(2027, 5, 19, 12)),
}

REFUSED = {
    "return just before it opens, spring Sunday": (OPEN_ON_HOLIDAYS, utc(2027, 3, 27, 10), utc(2027, 3, 28, 7, 45), OutsideOpeningHours),
    "pickup as it closes, spring Sunday": (OPEN_ON_HOLIDAYS, utc(2027, 3, 28, 14), utc(2027, 3, 29, 12), OutsideOpeningHours),
    "return just after it closes, spring Sunday": (OPEN_ON_HOLIDAYS, utc(2027, 3, 27, 10), utc(2027, 3, 28, 14, 15), OutsideOpeningHours),
    "return as it would open on Easter Sunday": (POINT, utc(2027, 3, 27, 10), utc(2027, 3, 28, 8), ResourceClosed),
    "return just before it opens, autumn Sunday": (POINT, utc(2027, 10, 30, 10), utc(2027, 10, 31, 8, 45), OutsideOpeningHours),
    "pickup as it closes, autumn Sunday": (POINT, utc(2027, 10, 31, 15), utc(2027, 11, 1, 12), OutsideOpeningHours),
    "return as it would open on 17 May": (POINT, oslo(2027, 5, 14, 12), oslo(2027, 5, 17, 10), ResourceClosed),
    "pickup as it would close on 17 May": (POINT, oslo(2027, 5, 17, 16), oslo(2027, 5, 18, 12), ResourceClosed),
    "pickup as it closes the Saturday before Whitsun": (POINT, oslo(2027, 5, 15, 16), oslo(2027, 5, 18, 12), OutsideOpeningHours),
}


@pytest.mark.parametrize(("policy", "start", "end"), ACCEPTED.values(), ids=ACCEPTED.keys())
def test_equipment_is_picked_up_from_opening_until_closing_and_returned_from_opening_to_closing_inclusive(policy, start, end):
    lend(policy, start, end)


@pytest.mark.parametrize(("policy", "start", "end", "error"), REFUSED.values(), ids=REFUSED.keys())
def test_equipment_is_not_handed_over_while_the_lending_point_is_closed_nor_picked_up_as_it_closes(policy, start, end, error):
    with pytest.raises(error) as refused:
        lend(policy, start, end)
    assert refused.value.status == 422


# ---------------------------------------------------------------- the past is not too soon: it is past


def test_a_start_in_the_past_is_refused_as_in_the_past_not_as_too_soon():
    now = oslo(2027, 5, 17, 12)
    with pytest.raises(InThePast) as refused:
        check_lead_time(POINT, now - timedelta(minutes=15), now=now)
    assert (refused.value.code, refused.value.status) == ("in_the_past", 422)
    with pytest.raises(TooSoon):
        check_lead_time(POINT, now + timedelta(minutes=15), now=now)  # still to come, only inside the lead time
    check_lead_time(replace(POINT, lead_time=timedelta(0)), now, now=now)  # now itself has not passed


def test_the_past_is_measured_in_real_time_when_the_clocks_go_back():
    # 02:30 comes twice on 31 October 2027: in summer time (fold 0), then again an hour later in winter time.
    now = oslo(2027, 10, 31, 2, 45, fold=0)
    no_lead_time = replace(POINT, lead_time=timedelta(0))
    check_lead_time(no_lead_time, oslo(2027, 10, 31, 2, 30, fold=1), now=now)  # the second 02:30 is still to come
    with pytest.raises(InThePast):
        check_lead_time(no_lead_time, oslo(2027, 10, 31, 2, 30, fold=0), now=now)


def test_the_past_is_measured_in_real_time_when_the_clocks_go_forward():
    # On 28 March 2027 the clock jumps from 02:00 to 03:00: 03:00 is a quarter of an hour after 01:45.
    now = oslo(2027, 3, 28, 1, 45)
    no_lead_time = replace(POINT, lead_time=timedelta(0))
    check_lead_time(no_lead_time, oslo(2027, 3, 28, 3), now=now)
    with pytest.raises(InThePast):
        check_lead_time(no_lead_time, oslo(2027, 3, 28, 1, 30), now=now)


@pytest.mark.parametrize("missing", [-50, -1, 5])
def test_missing_units_at_check_in_are_counted_from_none_to_as_many_as_were_lent(missing):
    with pytest.raises(TooManyMissing):
        check_ready_for_check_in(BookingStatus.CHECKED_OUT, 4, missing)
    check_ready_for_check_in(BookingStatus.CHECKED_OUT, 4, 0)
    check_ready_for_check_in(BookingStatus.CHECKED_OUT, 4, 4)
