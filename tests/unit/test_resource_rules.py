"""Unit tests for resources.rules: intervals, Oslo local time, holidays, windows, closures and policy validation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.time import (
    OSLO,
    Interval,
    clip,
    is_public_holiday,
    local_datetime,
    local_day,
    merge,
    public_holiday_name,
    subtract,
)
from resources.rules import (
    EXCLUSIVE_KINDS,
    BookerKind,
    Closure,
    InvalidPolicy,
    OutsideBookingWindow,
    Policy,
    ResourceClosed,
    ResourceKind,
    WeeklyWindow,
    closures_within,
    is_open_throughout,
    open_intervals,
    validate_policy,
)

EVERY_DAY = frozenset(range(7))
WEEKDAYS = frozenset(range(5))
WEEKEND = frozenset({5, 6})


def oslo(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=OSLO)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def span_of_days(first: date, last: date) -> Interval:
    return Interval(local_day(first).start, local_day(last).end)


def policy_with(*windows: WeeklyWindow, **changes) -> Policy:
    return replace(Policy(windows=windows), **changes)


AFTER_HOURS = policy_with(
    WeeklyWindow(WEEKDAYS, time(17), time(22)),
    WeeklyWindow(WEEKEND, time(10), time(20)),
)


# ---------------------------------------------------------------- kinds


def test_rooms_and_garden_beds_are_exclusive_and_equipment_is_pooled():
    assert EXCLUSIVE_KINDS == {ResourceKind.ROOM, ResourceKind.GARDEN_BED}
    assert ResourceKind.EQUIPMENT not in EXCLUSIVE_KINDS


def test_kinds_are_their_lowercase_names():
    assert [str(k) for k in ResourceKind] == ["room", "equipment", "garden_bed"]
    assert [str(k) for k in BookerKind] == ["resident", "association", "staff"]


# ---------------------------------------------------------------- intervals


def test_an_interval_is_kept_in_utc():
    interval = Interval(oslo(2026, 1, 5, 18), oslo(2026, 1, 5, 20))
    assert interval.start == utc(2026, 1, 5, 17)
    assert interval.start.tzinfo is UTC


def test_an_interval_measures_real_time_across_the_autumn_change():
    assert Interval(oslo(2026, 10, 24, 12), oslo(2026, 10, 25, 12)).duration == timedelta(hours=25)


def test_an_interval_refuses_naive_datetimes():
    with pytest.raises(ValueError):
        Interval(datetime(2026, 1, 5, 18), oslo(2026, 1, 5, 20))


def test_an_interval_refuses_to_end_before_it_starts():
    with pytest.raises(ValueError):
        Interval(oslo(2026, 1, 5, 20), oslo(2026, 1, 5, 18))


def test_intervals_that_only_touch_do_not_overlap():
    first = Interval(utc(2026, 1, 5, 17), utc(2026, 1, 5, 18))
    second = Interval(utc(2026, 1, 5, 18), utc(2026, 1, 5, 19))
    assert not first.overlaps(second)
    assert first.overlaps(Interval(utc(2026, 1, 5, 17, 59), utc(2026, 1, 5, 19)))


def test_an_interval_contains_itself_and_its_parts_but_not_more():
    whole = Interval(utc(2026, 1, 5, 17), utc(2026, 1, 5, 22))
    assert whole.contains(whole)
    assert whole.contains(Interval(utc(2026, 1, 5, 18), utc(2026, 1, 5, 19)))
    assert not whole.contains(Interval(utc(2026, 1, 5, 21), utc(2026, 1, 5, 23)))


def test_merge_joins_overlapping_and_touching_intervals_in_order():
    a = Interval(utc(2026, 1, 5, 10), utc(2026, 1, 5, 12))
    b = Interval(utc(2026, 1, 5, 11), utc(2026, 1, 5, 13))
    c = Interval(utc(2026, 1, 5, 13), utc(2026, 1, 5, 14))
    d = Interval(utc(2026, 1, 5, 16), utc(2026, 1, 5, 17))
    assert merge([d, c, a, b]) == [Interval(a.start, c.end), d]


def test_subtract_splits_an_interval_around_a_hole():
    day = Interval(utc(2026, 1, 5, 8), utc(2026, 1, 5, 16))
    hole = Interval(utc(2026, 1, 5, 10), utc(2026, 1, 5, 11))
    assert subtract([day], [hole]) == [Interval(day.start, hole.start), Interval(hole.end, day.end)]


def test_subtract_handles_several_holes_over_several_intervals():
    intervals = [Interval(utc(2026, 1, 5, 8), utc(2026, 1, 5, 12)), Interval(utc(2026, 1, 5, 14), utc(2026, 1, 5, 18))]
    holes = [
        Interval(utc(2026, 1, 5, 7), utc(2026, 1, 5, 9)),
        Interval(utc(2026, 1, 5, 11), utc(2026, 1, 5, 15)),
        Interval(utc(2026, 1, 5, 16), utc(2026, 1, 5, 17)),
    ]
    assert subtract(intervals, holes) == [
        Interval(utc(2026, 1, 5, 9), utc(2026, 1, 5, 11)),
        Interval(utc(2026, 1, 5, 15), utc(2026, 1, 5, 16)),
        Interval(utc(2026, 1, 5, 17), utc(2026, 1, 5, 18)),
    ]


def test_subtracting_a_covering_hole_leaves_nothing():
    day = Interval(utc(2026, 1, 5, 8), utc(2026, 1, 5, 16))
    assert subtract([day], [Interval(utc(2026, 1, 5, 0), utc(2026, 1, 6, 0))]) == []


def test_clip_cuts_intervals_to_the_window_and_drops_those_outside():
    window = Interval(utc(2026, 1, 5, 10), utc(2026, 1, 5, 12))
    intervals = [
        Interval(utc(2026, 1, 5, 9), utc(2026, 1, 5, 11)),
        Interval(utc(2026, 1, 5, 12), utc(2026, 1, 5, 13)),
    ]
    assert clip(intervals, window) == [Interval(utc(2026, 1, 5, 10), utc(2026, 1, 5, 11))]


# ---------------------------------------------------------------- local time


@pytest.mark.parametrize(("day", "hours"), [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25), (date(2026, 6, 1), 24)])
def test_a_local_day_lasts_23_24_or_25_hours(day, hours):
    assert local_day(day).duration == timedelta(hours=hours)


def test_a_wall_time_skipped_in_spring_lands_an_hour_later():
    assert local_datetime(date(2026, 3, 29), time(2, 30)) == oslo(2026, 3, 29, 3, 30)


def test_an_ambiguous_autumn_wall_time_is_its_first_summer_time_occurrence():
    assert local_datetime(date(2026, 10, 25), time(2, 30)) == utc(2026, 10, 25, 0, 30)


# ---------------------------------------------------------------- holidays


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2026, 1, 1), "Første nyttårsdag"),
        (date(2026, 4, 2), "Skjærtorsdag"),
        (date(2026, 4, 3), "Langfredag"),
        (date(2026, 4, 5), "Første påskedag"),
        (date(2026, 4, 6), "Andre påskedag"),
        (date(2026, 5, 1), "Arbeidernes dag"),
        (date(2026, 5, 14), "Kristi himmelfartsdag"),
        (date(2026, 5, 17), "Grunnlovsdag"),
        (date(2026, 5, 24), "Første pinsedag"),
        (date(2026, 5, 25), "Andre pinsedag"),
        (date(2026, 12, 25), "Første juledag"),
        (date(2026, 12, 26), "Andre juledag"),
    ],
)
def test_the_official_norwegian_holidays_are_public_holidays(day, name):
    assert is_public_holiday(day)
    assert public_holiday_name(day) == name


@pytest.mark.parametrize("day", [date(2026, 5, 10), date(2026, 4, 7), date(2026, 12, 24), date(2026, 5, 18)])
def test_ordinary_sundays_and_other_days_are_not_public_holidays(day):
    assert not is_public_holiday(day)
    assert public_holiday_name(day) is None


def test_there_are_exactly_twelve_public_holidays_in_2026():
    days = [date(2026, 1, 1) + timedelta(days=n) for n in range(365)]
    assert sum(is_public_holiday(d) for d in days) == 12


# ---------------------------------------------------------------- open intervals


def test_weekday_evening_windows_open_once_per_weekday():
    week = span_of_days(date(2026, 1, 12), date(2026, 1, 16))
    opened = open_intervals(AFTER_HOURS, week)
    assert [o.start for o in opened] == [oslo(2026, 1, d, 17) for d in range(12, 17)]
    assert all(o.duration == timedelta(hours=5) for o in opened)


def test_a_window_on_the_spring_dst_sunday_after_the_change_keeps_its_ten_hours():
    (opened,) = open_intervals(AFTER_HOURS, local_day(date(2026, 3, 29)))
    assert opened == Interval(utc(2026, 3, 29, 8), utc(2026, 3, 29, 18))


def test_a_window_across_the_spring_change_is_one_hour_shorter():
    night = policy_with(WeeklyWindow(EVERY_DAY, time(0), time(10)))
    (opened,) = open_intervals(night, local_day(date(2026, 3, 29)))
    assert opened.duration == timedelta(hours=9)


def test_a_window_across_the_autumn_change_is_one_hour_longer():
    night = policy_with(WeeklyWindow(EVERY_DAY, time(0), time(10)))
    (opened,) = open_intervals(night, local_day(date(2026, 10, 25)))
    assert opened.duration == timedelta(hours=11)


@pytest.mark.parametrize(("day", "hours"), [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25)])
def test_an_all_day_window_on_a_dst_sunday_lasts_the_whole_local_day(day, hours):
    all_day = policy_with(WeeklyWindow(EVERY_DAY, time(0), time(0)))
    (opened,) = open_intervals(all_day, local_day(day))
    assert opened == local_day(day)
    assert opened.duration == timedelta(hours=hours)


def test_a_window_on_the_autumn_dst_sunday_keeps_local_hours():
    (opened,) = open_intervals(AFTER_HOURS, local_day(date(2026, 10, 25)))
    assert opened == Interval(oslo(2026, 10, 25, 10), oslo(2026, 10, 25, 20))
    assert opened.start == utc(2026, 10, 25, 9)


def test_a_window_inside_the_skipped_spring_hour_is_empty_that_night():
    odd = policy_with(WeeklyWindow(EVERY_DAY, time(2, 30), time(3)))
    assert open_intervals(odd, local_day(date(2026, 3, 29))) == []
    assert open_intervals(odd, local_day(date(2026, 3, 30))) != []


def test_a_window_ending_at_midnight_runs_to_the_next_local_midnight():
    late = policy_with(WeeklyWindow(WEEKDAYS, time(20), time(0)))
    (opened,) = open_intervals(late, local_day(date(2026, 1, 12)))
    assert opened == Interval(oslo(2026, 1, 12, 20), oslo(2026, 1, 13, 0))


def test_windows_meeting_at_midnight_merge_into_one_stretch():
    policy = policy_with(WeeklyWindow(EVERY_DAY, time(20), time(0)), WeeklyWindow(EVERY_DAY, time(0), time(2)))
    opened = open_intervals(policy, span_of_days(date(2026, 1, 12), date(2026, 1, 13)))
    assert Interval(oslo(2026, 1, 12, 20), oslo(2026, 1, 13, 2)) in opened


def test_open_intervals_are_clipped_to_the_span():
    span = Interval(oslo(2026, 1, 12, 18), oslo(2026, 1, 12, 19))
    assert open_intervals(AFTER_HOURS, span) == [span]


def test_a_window_applies_only_between_its_valid_dates_inclusive():
    autumn = policy_with(WeeklyWindow(EVERY_DAY, time(17), time(22), valid_from=date(2026, 8, 17), valid_until=date(2026, 8, 19)))
    opened = open_intervals(autumn, span_of_days(date(2026, 8, 15), date(2026, 8, 22)))
    assert [o.start.astimezone(OSLO).date() for o in opened] == [date(2026, 8, d) for d in (17, 18, 19)]


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 5, 17),  # Constitution Day, a Sunday
        date(2026, 4, 2),  # Maundy Thursday
        date(2026, 4, 3),  # Good Friday
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 14),  # Ascension Day
        date(2026, 5, 25),  # Whit Monday
        date(2026, 12, 25),  # Christmas Day
        date(2026, 12, 26),  # Boxing Day, a Saturday
    ],
)
def test_a_public_holiday_closes_the_windows(day):
    assert open_intervals(AFTER_HOURS, local_day(day)) == []


@pytest.mark.parametrize("day", [date(2026, 5, 17), date(2026, 4, 3), date(2026, 12, 25)])
def test_a_resource_open_on_holidays_keeps_its_windows(day):
    assert len(open_intervals(replace(AFTER_HOURS, open_on_holidays=True), local_day(day))) == 1


def test_the_days_around_easter_stay_open():
    easter = open_intervals(AFTER_HOURS, span_of_days(date(2026, 3, 30), date(2026, 4, 7)))
    assert [o.start.astimezone(OSLO).date() for o in easter] == [
        date(2026, 3, 30),
        date(2026, 3, 31),
        date(2026, 4, 1),
        date(2026, 4, 4),  # Easter Saturday is not a public holiday
        date(2026, 4, 7),
    ]


def test_an_evening_running_to_midnight_before_a_holiday_stays_open():
    late = policy_with(WeeklyWindow(EVERY_DAY, time(20), time(0)))
    (opened,) = open_intervals(late, local_day(date(2026, 5, 16)))
    assert opened.end == oslo(2026, 5, 17, 0)


def test_a_closure_removes_its_part_of_a_window():
    closure = Closure(oslo(2026, 1, 12, 18), oslo(2026, 1, 12, 20), "Floor polishing")
    policy = replace(AFTER_HOURS, closures=(closure,))
    assert open_intervals(policy, local_day(date(2026, 1, 12))) == [
        Interval(oslo(2026, 1, 12, 17), oslo(2026, 1, 12, 18)),
        Interval(oslo(2026, 1, 12, 20), oslo(2026, 1, 12, 22)),
    ]


def test_closures_within_name_the_holidays_and_the_staff_closures():
    closure = Closure(oslo(2026, 5, 16, 8), oslo(2026, 5, 16, 12), "Maintenance")
    found = closures_within(replace(AFTER_HOURS, closures=(closure,)), span_of_days(date(2026, 5, 16), date(2026, 5, 17)))
    assert [c.reason for c in found] == ["Maintenance", "Grunnlovsdag"]
    assert found[1].interval == local_day(date(2026, 5, 17))


def test_closures_within_leave_out_holidays_when_the_resource_opens_on_them():
    policy = replace(AFTER_HOURS, open_on_holidays=True)
    assert closures_within(policy, local_day(date(2026, 5, 17))) == []


# ---------------------------------------------------------------- policy validation


def test_the_default_policy_is_valid():
    validate_policy(Policy())
    validate_policy(AFTER_HOURS)


def test_a_window_ending_at_midnight_is_valid():
    validate_policy(policy_with(WeeklyWindow(EVERY_DAY, time(20), time(0))))


def _closure(hours: int) -> Closure:
    return Closure(oslo(2026, 1, 1, 12), oslo(2026, 1, 1, 12) + timedelta(hours=hours), "x")


@pytest.mark.parametrize(
    ("changes", "field_name"),
    [
        ({"min_duration": timedelta(hours=6)}, "min_duration"),
        ({"min_duration": timedelta(0)}, "min_duration"),
        ({"granularity": timedelta(0)}, "granularity"),
        ({"granularity": timedelta(minutes=-15)}, "granularity"),
        ({"min_duration": timedelta(minutes=40)}, "min_duration"),
        ({"max_duration": timedelta(minutes=290)}, "max_duration"),
        ({"buffer_before": timedelta(minutes=-1)}, "buffer_before"),
        ({"buffer_after": timedelta(minutes=-1)}, "buffer_after"),
        ({"lead_time": timedelta(minutes=-1)}, "lead_time"),
        ({"horizon": timedelta(days=-1)}, "horizon"),
        ({"cancellation_notice": timedelta(hours=-1)}, "cancellation_notice"),
        ({"max_loan": timedelta(0)}, "max_loan"),
        ({"association_hours_per_week": -1.0}, "association_hours_per_week"),
        ({"max_active_loans": -1}, "max_active_loans"),
        ({"bookable_by": frozenset()}, "bookable_by"),
        ({"windows": (WeeklyWindow(WEEKDAYS, time(22), time(17)),)}, "windows"),
        ({"windows": (WeeklyWindow(WEEKDAYS, time(17), time(17)),)}, "windows"),
        ({"windows": (WeeklyWindow(frozenset({7}), time(17), time(22)),)}, "windows"),
        ({"windows": (WeeklyWindow(frozenset({-1}), time(17), time(22)),)}, "windows"),
        (
            {"windows": (WeeklyWindow(WEEKDAYS, time(17), time(22), date(2026, 9, 1), date(2026, 8, 1)),)},
            "windows",
        ),
        ({"closures": (_closure(0),)}, "closures"),
    ],
)
def test_a_contradictory_policy_is_refused_naming_the_field(changes, field_name):
    with pytest.raises(InvalidPolicy) as refused:
        validate_policy(replace(Policy(), **changes))
    assert refused.value.extra["field"] == field_name
    assert refused.value.code == "invalid_policy"
    assert refused.value.status == 422


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        (InvalidPolicy, "invalid_policy", 422),
        (OutsideBookingWindow, "outside_booking_window", 422),
        (ResourceClosed, "resource_closed", 422),
    ],
)
def test_resource_errors_carry_stable_codes(error, code, status):
    raised = error(reason="x")
    assert (raised.code, raised.status, raised.extra) == (code, status, {"reason": "x"})


# ---------------------------------------------------------------- is the whole interval open?

MIDNIGHT_WINDOWS = policy_with(
    WeeklyWindow(WEEKDAYS, time(17), time(0)),  # until midnight: the stretch runs into the next day
    WeeklyWindow(WEEKEND, time(0, 30), time(2, 45)),  # inside the skipped spring hour on one Sunday a year
    closures=(Closure(utc(2027, 3, 29, 18), utc(2027, 3, 30, 9), "Vannlekkasje"),),
)
# Around the spring change, the autumn change, and Easter (Skjærtorsdag to 2. påskedag) of 2027.
MOMENTS = st.sampled_from([date(2027, 3, 25), date(2027, 10, 29)]).flatmap(
    lambda first: st.integers(0, 7 * 24 * 4).map(lambda quarters: local_day(first).start + timedelta(minutes=15 * quarters))
)


@settings(max_examples=400, deadline=None)
@given(
    policy=st.sampled_from([AFTER_HOURS, MIDNIGHT_WINDOWS, replace(AFTER_HOURS, open_on_holidays=True)]),
    start=MOMENTS,
    quarters=st.integers(1, 3 * 24 * 4),
)
def test_whether_an_interval_is_wholly_open_agrees_with_its_open_stretches(policy, start, quarters):
    wanted = Interval(start, start + timedelta(minutes=15 * quarters))
    assert is_open_throughout(policy, wanted) == (open_intervals(policy, wanted) == [wanted])
