"""The share of an item's stock that was lent: units out over units owned, so a big stock and a small one compare."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from booking.usage_rules import item_use
from infra.time import Interval, local_datetime

MONDAY = date(2026, 11, 23)
WEEK = [MONDAY]


def out(first: date, last: date, units: int) -> tuple[Interval, int]:
    """A loan picked up at noon on the first day and returned at noon on the last."""
    return Interval(local_datetime(first, time(12)), local_datetime(last, time(12))), units


def week_long(units: int) -> tuple[Interval, int]:
    return Interval(local_datetime(MONDAY, time(0)), local_datetime(MONDAY + timedelta(days=7), time(0))), units


def test_half_of_a_hundred_chairs_out_reads_the_same_as_one_of_two_projectors():
    chairs, projectors = item_use(100, [week_long(50)], WEEK), item_use(2, [week_long(1)], WEEK)
    assert chairs.share == projectors.share == 0.5
    assert (chairs.units_out, projectors.units_out) == (50.0, 1.0)


def test_a_loan_counts_for_the_hours_it_is_out_not_the_whole_week():
    tables = item_use(20, [out(MONDAY, MONDAY + timedelta(days=2), 10)], WEEK)  # 10 of 20 for 48 of 168 hours
    assert tables.share == pytest.approx(10 * 48 / (20 * 168))


def test_the_share_over_several_weeks_is_all_the_units_out_over_all_the_units_owned():
    mondays = [MONDAY, MONDAY + timedelta(weeks=1)]
    tents = item_use(3, [week_long(3)], mondays)  # all three out the first week, none the second
    assert [w.share for w in tents.weeks] == [1.0, 0.0]
    assert tents.share == 0.5


def test_loans_that_overlap_add_up_their_units():
    grills = item_use(2, [week_long(1), week_long(1)], WEEK)
    assert grills.share == 1.0


def test_an_item_with_no_stock_has_no_share_rather_than_a_division_by_zero():
    gone = item_use(0, [], WEEK)
    assert (gone.share, gone.units_out, gone.weeks[0].share) == (0.0, 0.0, 0.0)
