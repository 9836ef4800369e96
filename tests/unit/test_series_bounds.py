"""A weekly series is counted before it is listed, and the count is the length of the list."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booking.rules import InvalidRecurrence
from booking.time_rules import weekly_count, weekly_occurrences
from infra.time import OSLO


@given(
    first=st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31)),
    weeks=st.integers(min_value=1, max_value=4),
    days=st.integers(min_value=-10, max_value=800),
)
def test_the_count_of_a_series_is_the_number_of_its_dates(first: date, weeks: int, days: int) -> None:
    start = datetime(first.year, first.month, first.day, 18, tzinfo=OSLO)
    until = first + timedelta(days=days)
    listed = weekly_occurrences(start, start + timedelta(hours=2), every_weeks=weeks, until=until)
    assert weekly_count(start, every_weeks=weeks, until=until) == len(listed)


def test_a_series_to_the_last_representable_day_is_counted_at_once() -> None:
    start = datetime(2026, 11, 30, 18, tzinfo=OSLO)
    assert weekly_count(start, every_weeks=1, until=date.max) == (date.max - date(2026, 11, 30)).days // 7 + 1


def test_a_series_must_repeat_at_least_every_week_before_it_is_counted() -> None:
    with pytest.raises(InvalidRecurrence):
        weekly_count(datetime(2026, 11, 30, 18, tzinfo=OSLO), every_weeks=0, until=date(2027, 1, 1))
