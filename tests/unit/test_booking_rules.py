"""Unit tests for booking.rules: the checks a booking passes, free time, weekly series and pooled stock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booking.pooled_rules import (
    check_loan,
    check_loan_length,
    check_loan_quota,
    check_pickup_and_return_inside_windows,
    check_stock,
    peak_units,
)
from booking.rules import (
    ACTIVE,
    CANCELLABLE,
    DECIDABLE,
    FINAL,
    Booker,
    BookerNotAllowed,
    BookingRequest,
    BookingStatus,
    CancellationTooLate,
    InsufficientStock,
    InThePast,
    InvalidInterval,
    InvalidQuantity,
    InvalidRecurrence,
    NaiveTimestamp,
    NotCancellable,
    NotDecidable,
    OffGrid,
    OverCapacity,
    OverQuota,
    SlotTaken,
    TooFarAhead,
    TooLong,
    TooShort,
    TooSoon,
    block_of,
    check_association_quota,
    check_booker_allowed,
    check_booking,
    check_cancellable,
    check_capacity,
    check_decidable,
    check_duration,
    check_horizon,
    check_inside_windows,
    check_lead_time,
    check_on_grid,
    check_person_quota,
    check_slot_free,
    check_well_formed,
)
from booking.time_rules import free_intervals, weekly_occurrences
from infra.errors import DomainError
from infra.time import OSLO, Interval
from resources.rules import (
    BookerKind,
    Closure,
    OutsideBookingWindow,
    Policy,
    ResourceClosed,
    ResourceKind,
    WeeklyWindow,
)

WEEKDAYS = frozenset(range(5))
WEEKEND = frozenset({5, 6})
EVERY_DAY = frozenset(range(7))

ROOM = Policy(
    windows=(WeeklyWindow(WEEKDAYS, time(17), time(22)), WeeklyWindow(WEEKEND, time(10), time(20))),
)
LENDING_POINT = Policy(
    windows=(WeeklyWindow(WEEKDAYS, time(10), time(16)),),
    bookable_by=frozenset(BookerKind),
)

RESIDENT = Booker(person_id=1, kind=BookerKind.RESIDENT)
ASSOCIATION = Booker(person_id=2, kind=BookerKind.ASSOCIATION, association_id=7)
STAFF = Booker(person_id=3, kind=BookerKind.STAFF)

# A Monday in January, well before the bookings below.
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=OSLO)


def oslo(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=OSLO)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def room_request(start: datetime, end: datetime, attendees: int | None = None) -> BookingRequest:
    return BookingRequest(ResourceKind.ROOM, start, end, attendees=attendees)


# ---------------------------------------------------------------- states and bookers


def test_active_bookings_are_requested_confirmed_checked_out_overdue_or_offered():
    assert ACTIVE == {
        BookingStatus.REQUESTED,
        BookingStatus.CONFIRMED,
        BookingStatus.CHECKED_OUT,
        BookingStatus.OVERDUE,
        BookingStatus.OFFERED,
    }


def test_every_state_is_either_active_or_final():
    assert ACTIVE | FINAL == set(BookingStatus)
    assert not ACTIVE & FINAL


def test_only_requested_and_confirmed_bookings_are_cancellable_and_only_requested_decidable():
    assert CANCELLABLE == {BookingStatus.REQUESTED, BookingStatus.CONFIRMED}
    assert DECIDABLE == {BookingStatus.REQUESTED}


def test_the_named_sets_sit_beside_the_state_enum():
    assert BookingStatus.ACTIVE is ACTIVE
    assert BookingStatus.CANCELLABLE is CANCELLABLE
    assert BookingStatus.DECIDABLE is DECIDABLE
    assert BookingStatus.FINAL is FINAL
    assert len(BookingStatus) == 9
    assert BookingStatus("checked_out") is BookingStatus.CHECKED_OUT


def test_only_staff_bookers_are_staff():
    assert STAFF.is_staff
    assert not RESIDENT.is_staff
    assert not ASSOCIATION.is_staff


# ---------------------------------------------------------------- well formed, duration, grid


def test_a_naive_timestamp_is_refused():
    with pytest.raises(NaiveTimestamp) as refused:
        check_well_formed(datetime(2026, 1, 12, 18), oslo(2026, 1, 12, 20))
    assert refused.value.code == "naive_timestamp"


@pytest.mark.parametrize("end_hour", [18, 17])
def test_a_booking_must_end_after_it_starts(end_hour):
    with pytest.raises(InvalidInterval) as refused:
        check_well_formed(oslo(2026, 1, 12, 18), oslo(2026, 1, 12, end_hour))
    assert refused.value.code == "invalid_interval"


def test_the_same_instant_in_two_time_zones_is_not_a_booking():
    with pytest.raises(InvalidInterval):
        check_well_formed(oslo(2026, 1, 12, 18), utc(2026, 1, 12, 17))


def test_a_booking_shorter_than_the_minimum_is_too_short():
    with pytest.raises(TooShort) as refused:
        check_duration(ROOM, oslo(2026, 1, 12, 18), oslo(2026, 1, 12, 18, 15))
    assert refused.value.code == "too_short"


def test_a_booking_longer_than_the_maximum_is_too_long():
    with pytest.raises(TooLong) as refused:
        check_duration(ROOM, oslo(2026, 1, 12, 17), oslo(2026, 1, 12, 22, 15))
    assert refused.value.code == "too_long"


def test_bookings_of_exactly_the_minimum_and_maximum_are_fine():
    check_duration(ROOM, oslo(2026, 1, 12, 18), oslo(2026, 1, 12, 18, 30))
    check_duration(ROOM, oslo(2026, 1, 12, 17), oslo(2026, 1, 12, 22))


def test_duration_is_real_time_on_the_spring_dst_night():
    # 00:00–05:30 on the wall clock is only 4.5 real hours when 02:00 jumps to 03:00.
    check_duration(ROOM, oslo(2026, 3, 29, 0), oslo(2026, 3, 29, 5, 30))
    with pytest.raises(TooLong):
        check_duration(ROOM, oslo(2026, 10, 25, 0), oslo(2026, 10, 25, 4, 30))


def test_a_loan_may_last_up_to_the_longest_loan():
    check_loan_length(LENDING_POINT, oslo(2026, 1, 12, 10), oslo(2026, 1, 19, 10))
    with pytest.raises(TooLong):
        check_loan_length(LENDING_POINT, oslo(2026, 1, 12, 10), oslo(2026, 1, 19, 11))


def test_a_booking_on_the_quarter_hours_is_on_the_grid():
    check_on_grid(ROOM, oslo(2026, 1, 12, 18, 15), oslo(2026, 1, 12, 19, 45))


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (oslo(2026, 1, 12, 18, 10), oslo(2026, 1, 12, 19)),
        (oslo(2026, 1, 12, 18), oslo(2026, 1, 12, 19, 5)),
        (oslo(2026, 1, 12, 18, 0) + timedelta(seconds=1), oslo(2026, 1, 12, 19)),
    ],
)
def test_a_booking_off_the_grid_is_refused(start, end):
    with pytest.raises(OffGrid) as refused:
        check_on_grid(ROOM, start, end)
    assert refused.value.code == "off_grid"


@pytest.mark.parametrize("month", [1, 7])
def test_the_grid_is_counted_from_local_midnight_in_winter_and_summer(month):
    two_hourly = replace(ROOM, granularity=timedelta(hours=2))
    # 18:00 in Oslo is 17:00 or 16:00 UTC: on a two-hour grid only when counted locally.
    check_on_grid(two_hourly, oslo(2026, month, 12, 18), oslo(2026, month, 12, 20))
    with pytest.raises(OffGrid):
        check_on_grid(two_hourly, oslo(2026, month, 12, 17), oslo(2026, month, 12, 19))


def test_the_grid_is_local_after_the_dst_change():
    two_hourly = replace(ROOM, granularity=timedelta(hours=2))
    check_on_grid(two_hourly, oslo(2026, 3, 29, 4), oslo(2026, 3, 29, 6))


# ---------------------------------------------------------------- lead time and horizon


def test_a_booking_starting_within_the_lead_time_is_too_soon():
    with pytest.raises(TooSoon) as refused:
        check_lead_time(ROOM, NOW + timedelta(hours=1, minutes=45), now=NOW)
    assert refused.value.code == "too_soon"


def test_a_booking_starting_exactly_at_the_lead_time_is_fine():
    check_lead_time(ROOM, NOW + timedelta(hours=2), now=NOW)


def test_a_booking_in_the_past_is_refused_as_in_the_past_even_without_a_lead_time():
    with pytest.raises(InThePast):
        check_lead_time(replace(ROOM, lead_time=timedelta(0)), NOW - timedelta(minutes=1), now=NOW)
    check_lead_time(replace(ROOM, lead_time=timedelta(0)), NOW, now=NOW)


def test_lead_time_is_measured_in_real_time_across_the_spring_change():
    # 01:00 to 04:00 on the wall clock is only two real hours that night.
    now = oslo(2026, 3, 29, 1)
    with pytest.raises(TooSoon):
        check_lead_time(replace(ROOM, lead_time=timedelta(hours=2, minutes=15)), oslo(2026, 3, 29, 4), now=now)


def test_a_booking_beyond_the_horizon_is_too_far_ahead():
    # Added in UTC: adding days to an Oslo datetime is wall-clock arithmetic, an hour off across summer time.
    now = NOW.astimezone(UTC)
    check_horizon(ROOM, now + timedelta(days=180), now=NOW)
    with pytest.raises(TooFarAhead) as refused:
        check_horizon(ROOM, now + timedelta(days=180, minutes=15), now=NOW)
    assert refused.value.code == "too_far_ahead"


# ---------------------------------------------------------------- windows and closures


def test_a_booking_inside_an_evening_window_is_fine():
    check_inside_windows(ROOM, oslo(2026, 1, 12, 18), oslo(2026, 1, 12, 20))


def test_a_booking_running_past_closing_time_is_outside_the_booking_window():
    with pytest.raises(OutsideBookingWindow) as refused:
        check_inside_windows(ROOM, oslo(2026, 1, 12, 21), oslo(2026, 1, 12, 23))
    assert refused.value.code == "outside_booking_window"


def test_a_booking_in_office_hours_is_outside_the_booking_window():
    with pytest.raises(OutsideBookingWindow):
        check_inside_windows(ROOM, oslo(2026, 1, 12, 10), oslo(2026, 1, 12, 12))


def test_a_booking_on_constitution_day_finds_the_room_closed():
    with pytest.raises(ResourceClosed) as refused:
        check_inside_windows(ROOM, oslo(2026, 5, 17, 12), oslo(2026, 5, 17, 14))
    assert refused.value.code == "resource_closed"
    assert refused.value.extra["reason"] == "Grunnlovsdag"


@pytest.mark.parametrize("day", [2, 3, 6])
def test_a_booking_over_easter_finds_the_room_closed(day):
    with pytest.raises(ResourceClosed):
        check_inside_windows(ROOM, oslo(2026, 4, day, 18), oslo(2026, 4, day, 20))


def test_a_room_open_on_holidays_takes_bookings_on_constitution_day():
    check_inside_windows(replace(ROOM, open_on_holidays=True), oslo(2026, 5, 17, 12), oslo(2026, 5, 17, 14))


def test_a_booking_during_a_closure_finds_the_room_closed_for_its_reason():
    closure = Closure(oslo(2026, 1, 12, 17), oslo(2026, 1, 13, 0), "Vannskade")
    with pytest.raises(ResourceClosed) as refused:
        check_inside_windows(replace(ROOM, closures=(closure,)), oslo(2026, 1, 12, 18), oslo(2026, 1, 12, 20))
    assert refused.value.extra["reason"] == "Vannskade"


def test_a_booking_may_run_across_midnight_when_windows_meet_there():
    late = replace(ROOM, windows=(WeeklyWindow(EVERY_DAY, time(20), time(0)), WeeklyWindow(EVERY_DAY, time(0), time(2))))
    check_inside_windows(late, oslo(2026, 1, 12, 23), oslo(2026, 1, 13, 1))


def test_equipment_may_be_returned_exactly_at_closing_time():
    check_pickup_and_return_inside_windows(LENDING_POINT, oslo(2026, 1, 12, 10), oslo(2026, 1, 14, 16))


def test_equipment_cannot_be_picked_up_at_closing_time():
    with pytest.raises(OutsideBookingWindow):
        check_pickup_and_return_inside_windows(LENDING_POINT, oslo(2026, 1, 12, 16), oslo(2026, 1, 14, 12))


def test_equipment_cannot_be_returned_after_hours():
    with pytest.raises(OutsideBookingWindow):
        check_pickup_and_return_inside_windows(LENDING_POINT, oslo(2026, 1, 12, 12), oslo(2026, 1, 14, 18))


def test_a_loan_may_span_a_holiday_when_pickup_and_return_are_on_open_days():
    check_pickup_and_return_inside_windows(LENDING_POINT, oslo(2026, 4, 1, 12), oslo(2026, 4, 7, 12))


def test_equipment_cannot_be_picked_up_on_good_friday():
    with pytest.raises(ResourceClosed):
        check_pickup_and_return_inside_windows(LENDING_POINT, oslo(2026, 4, 3, 12), oslo(2026, 4, 7, 12))


# ---------------------------------------------------------------- who, how many, how much


def test_residents_may_not_book_a_room_that_only_associations_and_staff_book():
    with pytest.raises(BookerNotAllowed) as refused:
        check_booker_allowed(ROOM, RESIDENT)
    assert (refused.value.code, refused.value.status) == ("booker_not_allowed", 403)
    check_booker_allowed(ROOM, ASSOCIATION)
    check_booker_allowed(ROOM, STAFF)


def test_more_attendees_than_the_capacity_is_over_capacity():
    check_capacity(20, 20)
    check_capacity(None, 200)
    check_capacity(20, None)
    with pytest.raises(OverCapacity) as refused:
        check_capacity(20, 21)
    assert refused.value.code == "over_capacity"


def test_an_association_may_book_up_to_its_weekly_hours():
    quota = replace(ROOM, association_hours_per_week=6.0)
    check_association_quota(quota, 4.0, 2.0)
    check_association_quota(ROOM, 400.0, 2.0)
    with pytest.raises(OverQuota) as refused:
        check_association_quota(quota, 4.5, 2.0)
    assert refused.value.code == "over_quota"


def test_a_person_may_hold_up_to_the_allowed_active_bookings():
    limited = replace(ROOM, max_active_bookings_per_person=2)
    check_person_quota(limited, 1)
    check_person_quota(ROOM, 99)
    with pytest.raises(OverQuota) as refused:
        check_person_quota(limited, 2)
    assert refused.value.code == "over_quota"


def test_a_person_may_hold_up_to_the_allowed_active_loans():
    limited = replace(LENDING_POINT, max_active_loans=1)
    check_loan_quota(limited, 0)
    with pytest.raises(OverQuota):
        check_loan_quota(limited, 1)


# ---------------------------------------------------------------- blocks and buffers


CLEANED = replace(ROOM, buffer_before=timedelta(minutes=15), buffer_after=timedelta(minutes=30))


def test_a_booking_occupies_its_buffers_too():
    assert block_of(CLEANED, oslo(2026, 1, 12, 18), oslo(2026, 1, 12, 20)) == Interval(oslo(2026, 1, 12, 17, 45), oslo(2026, 1, 12, 20, 30))


def test_a_booking_whose_block_touches_another_is_free():
    taken = [block_of(CLEANED, oslo(2026, 1, 12, 18), oslo(2026, 1, 12, 19))]
    check_slot_free(block_of(CLEANED, oslo(2026, 1, 12, 19, 45), oslo(2026, 1, 12, 21)), taken)


def test_a_booking_whose_buffer_overlaps_another_block_finds_the_slot_taken():
    taken = [block_of(CLEANED, oslo(2026, 1, 12, 18), oslo(2026, 1, 12, 19))]
    with pytest.raises(SlotTaken) as refused:
        check_slot_free(block_of(CLEANED, oslo(2026, 1, 12, 19, 30), oslo(2026, 1, 12, 21)), taken)
    assert (refused.value.code, refused.value.status) == ("slot_taken", 409)


# ---------------------------------------------------------------- cancelling and deciding


START = oslo(2026, 2, 10, 18)


def test_a_booking_can_be_cancelled_until_the_deadline():
    check_cancellable(BookingStatus.CONFIRMED, START, ROOM, False, now=START - timedelta(hours=24))


def test_a_booking_cannot_be_cancelled_after_the_deadline():
    with pytest.raises(CancellationTooLate) as refused:
        check_cancellable(BookingStatus.CONFIRMED, START, ROOM, False, now=START - timedelta(hours=23))
    assert (refused.value.code, refused.value.status) == ("cancellation_too_late", 422)
    assert refused.value.extra["deadline"] == (START - timedelta(hours=24)).astimezone(UTC).isoformat()


def test_staff_may_cancel_after_the_deadline():
    check_cancellable(BookingStatus.REQUESTED, START, ROOM, True, now=START + timedelta(hours=1))


@pytest.mark.parametrize(
    "status",
    [
        BookingStatus.CANCELLED,
        BookingStatus.DECLINED,
        BookingStatus.RETURNED,
        BookingStatus.CHECKED_OUT,
        BookingStatus.OVERDUE,
    ],
)
def test_a_booking_that_is_over_or_handed_out_is_not_cancellable(status):
    with pytest.raises(NotCancellable) as refused:
        check_cancellable(status, START, ROOM, True, now=NOW)
    assert (refused.value.code, refused.value.status) == ("not_cancellable", 409)


def test_only_a_requested_booking_can_be_decided():
    check_decidable(BookingStatus.REQUESTED)
    with pytest.raises(NotDecidable) as refused:
        check_decidable(BookingStatus.CONFIRMED)
    assert (refused.value.code, refused.value.status) == ("not_decidable", 409)


# ---------------------------------------------------------------- the whole check


def test_a_good_room_booking_passes_every_check():
    check_booking(ROOM, ASSOCIATION, room_request(oslo(2026, 1, 12, 18), oslo(2026, 1, 12, 20), 12), capacity=20, now=NOW)


def test_who_may_book_is_checked_before_the_details():
    with pytest.raises(BookerNotAllowed):
        check_booking(ROOM, RESIDENT, room_request(oslo(2026, 1, 12, 18), oslo(2026, 1, 12, 18, 5)), capacity=None, now=NOW)


def test_a_malformed_request_is_refused_before_anything_else():
    with pytest.raises(InvalidInterval):
        check_booking(ROOM, RESIDENT, room_request(oslo(2026, 1, 12, 20), oslo(2026, 1, 12, 18)), capacity=None, now=NOW)


@pytest.mark.parametrize(
    ("request_", "error"),
    [
        (room_request(oslo(2026, 1, 12, 18), oslo(2026, 1, 12, 18, 15)), TooShort),
        (room_request(oslo(2026, 1, 12, 18, 5), oslo(2026, 1, 12, 19, 5)), OffGrid),
        (room_request(oslo(2026, 1, 5, 10), oslo(2026, 1, 5, 11)), TooSoon),
        (room_request(oslo(2026, 9, 1, 18), oslo(2026, 9, 1, 20)), TooFarAhead),
        (room_request(oslo(2026, 1, 12, 12), oslo(2026, 1, 12, 14)), OutsideBookingWindow),
        (room_request(oslo(2026, 4, 6, 12), oslo(2026, 4, 6, 14)), ResourceClosed),
        (room_request(oslo(2026, 1, 12, 18), oslo(2026, 1, 12, 20), attendees=21), OverCapacity),
        (room_request(oslo(2026, 1, 12, 18), oslo(2026, 1, 12, 20), attendees=0), InvalidQuantity),
    ],
)
def test_check_booking_refuses_with_the_matching_error(request_, error):
    with pytest.raises(error):
        check_booking(ROOM, ASSOCIATION, request_, capacity=20, now=NOW)


def test_an_equipment_loan_is_checked_against_the_longest_loan_and_opening_hours():
    loan = BookingRequest(ResourceKind.EQUIPMENT, oslo(2026, 1, 12, 10), oslo(2026, 1, 16, 16), quantity=2)
    check_loan(LENDING_POINT, RESIDENT, loan, now=NOW)
    too_long = replace(loan, end=oslo(2026, 1, 21, 12))
    with pytest.raises(TooLong):
        check_loan(LENDING_POINT, RESIDENT, too_long, now=NOW)


def test_an_equipment_loan_of_no_units_is_refused():
    loan = BookingRequest(ResourceKind.EQUIPMENT, oslo(2026, 1, 12, 10), oslo(2026, 1, 16, 16), quantity=0)
    with pytest.raises(InvalidQuantity) as refused:
        check_loan(LENDING_POINT, RESIDENT, loan, now=NOW)
    assert refused.value.code == "invalid_quantity"


def test_a_garden_bed_season_is_not_held_to_slot_rules():
    season = BookingRequest(ResourceKind.GARDEN_BED, oslo(2026, 4, 15), oslo(2026, 11, 1))
    check_booking(replace(Policy(), bookable_by=frozenset({BookerKind.RESIDENT})), RESIDENT, season, capacity=None, now=NOW)


# ---------------------------------------------------------------- free time


def test_free_time_is_the_open_windows_less_the_taken_blocks_widened_by_buffers():
    monday = Interval(oslo(2026, 1, 12, 0), oslo(2026, 1, 13, 0))
    taken = [block_of(CLEANED, oslo(2026, 1, 12, 19), oslo(2026, 1, 12, 20))]  # 18:45–20:30
    assert free_intervals(CLEANED, monday, taken, now=NOW) == [
        Interval(oslo(2026, 1, 12, 17), oslo(2026, 1, 12, 18, 15)),  # ends where our 30 min after-buffer meets theirs
        Interval(oslo(2026, 1, 12, 20, 45), oslo(2026, 1, 12, 22)),  # starts after our 15 min before-buffer
    ]


def test_every_free_interval_can_be_booked_without_touching_a_taken_block():
    monday = Interval(oslo(2026, 1, 12, 0), oslo(2026, 1, 13, 0))
    taken = [block_of(CLEANED, oslo(2026, 1, 12, 19), oslo(2026, 1, 12, 20))]
    for free in free_intervals(CLEANED, monday, taken, now=NOW):
        check_slot_free(block_of(CLEANED, free.start, free.end), taken)


def test_free_time_starts_after_the_lead_time():
    now = oslo(2026, 1, 12, 16)
    monday = Interval(oslo(2026, 1, 12, 0), oslo(2026, 1, 13, 0))
    assert free_intervals(ROOM, monday, [], now=now) == [Interval(oslo(2026, 1, 12, 18), oslo(2026, 1, 12, 22))]


def test_free_time_ends_at_the_horizon():
    near = replace(ROOM, horizon=timedelta(days=7, hours=10))
    week_after = Interval(oslo(2026, 1, 12, 0), oslo(2026, 1, 13, 0))
    assert free_intervals(near, week_after, [], now=NOW) == [Interval(oslo(2026, 1, 12, 17), oslo(2026, 1, 12, 19))]


def test_there_is_no_free_time_in_the_past():
    yesterday = Interval(oslo(2026, 1, 4, 0), oslo(2026, 1, 5, 0))
    assert free_intervals(ROOM, yesterday, [], now=NOW) == []


# ---------------------------------------------------------------- weekly series


def test_a_tuesday_evening_series_stays_at_six_local_across_the_october_change():
    occurrences = weekly_occurrences(oslo(2026, 10, 13, 18), oslo(2026, 10, 13, 20), every_weeks=1, until=date(2026, 11, 3))
    assert [day for day, _, _ in occurrences] == [
        date(2026, 10, 13),
        date(2026, 10, 20),
        date(2026, 10, 27),
        date(2026, 11, 3),
    ]
    assert all(start.astimezone(OSLO).time() == time(18) for _, start, _ in occurrences)
    assert all(end.astimezone(OSLO).time() == time(20) for _, _, end in occurrences)
    assert [start.hour for _, start, _ in occurrences] == [16, 16, 17, 17]  # in UTC
    assert all(start.tzinfo is UTC for _, start, _ in occurrences)


def test_a_series_stays_at_local_time_across_the_march_change():
    occurrences = weekly_occurrences(oslo(2026, 3, 24, 18), oslo(2026, 3, 24, 20), every_weeks=1, until=date(2026, 3, 31))
    assert [start for _, start, _ in occurrences] == [utc(2026, 3, 24, 17), utc(2026, 3, 31, 16)]


def test_a_sunday_series_on_the_dst_sunday_keeps_its_wall_clock_times():
    occurrences = weekly_occurrences(oslo(2026, 3, 22, 10), oslo(2026, 3, 22, 20), every_weeks=1, until=date(2026, 3, 29))
    _, start, end = occurrences[1]
    assert (start, end) == (oslo(2026, 3, 29, 10), oslo(2026, 3, 29, 20))


def test_a_series_every_two_weeks_includes_the_until_date():
    occurrences = weekly_occurrences(oslo(2026, 1, 13, 18), oslo(2026, 1, 13, 20), every_weeks=2, until=date(2026, 2, 10))
    assert [day for day, _, _ in occurrences] == [date(2026, 1, 13), date(2026, 1, 27), date(2026, 2, 10)]


def test_the_first_occurrence_is_the_given_one():
    start, end = oslo(2026, 1, 13, 18), oslo(2026, 1, 13, 20)
    assert weekly_occurrences(start, end, every_weeks=1, until=date(2026, 1, 13)) == [(date(2026, 1, 13), start, end)]


def test_an_evening_running_past_midnight_keeps_its_shape():
    occurrences = weekly_occurrences(oslo(2026, 1, 13, 23), oslo(2026, 1, 14, 1), every_weeks=1, until=date(2026, 1, 20))
    assert occurrences[1][1:] == (oslo(2026, 1, 20, 23), oslo(2026, 1, 21, 1))


def test_a_series_must_repeat_at_least_every_week():
    with pytest.raises(InvalidRecurrence) as refused:
        weekly_occurrences(oslo(2026, 1, 13, 18), oslo(2026, 1, 13, 20), every_weeks=0, until=date(2026, 2, 1))
    assert refused.value.code == "invalid_recurrence"


# ---------------------------------------------------------------- pooled stock


BASE = utc(2026, 1, 12, 9)


def minutes(start: int, end: int) -> Interval:
    return Interval(BASE + timedelta(minutes=start), BASE + timedelta(minutes=end))


def test_loans_one_after_another_do_not_add_up():
    assert peak_units([(minutes(0, 60), 3), (minutes(60, 120), 4)], minutes(0, 120)) == 4


def test_overlapping_loans_add_up():
    assert peak_units([(minutes(0, 60), 3), (minutes(30, 90), 4), (minutes(80, 100), 1)], minutes(0, 120)) == 7


def test_loans_outside_the_span_do_not_count():
    assert peak_units([(minutes(0, 60), 3), (minutes(200, 300), 9)], minutes(0, 120)) == 3
    assert peak_units([], minutes(0, 120)) == 0


def test_a_loan_fits_while_the_peak_leaves_enough_units():
    check_stock(10, 7, 3)
    with pytest.raises(InsufficientStock) as refused:
        check_stock(10, 8, 3)
    assert (refused.value.code, refused.value.status) == ("insufficient_stock", 409)
    assert refused.value.extra["available"] == 2


loan_strategy = st.tuples(st.integers(0, 100), st.integers(1, 40), st.integers(1, 5))


@given(loans=st.lists(loan_strategy, max_size=12), span_start=st.integers(0, 120), span_length=st.integers(1, 60))
def test_peak_units_matches_counting_every_minute(loans, span_start, span_length):
    intervals = [(minutes(start, start + length), units) for start, length, units in loans]
    span = minutes(span_start, span_start + span_length)
    # All ends are whole minutes, so the count is constant within each minute.
    brute_force = max(
        sum(units for start, length, units in loans if start <= t < start + length) for t in range(span_start, span_start + span_length)
    )
    assert peak_units(intervals, span) == brute_force


# ---------------------------------------------------------------- stable codes


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        (NaiveTimestamp, "naive_timestamp", 422),
        (InvalidInterval, "invalid_interval", 422),
        (InvalidQuantity, "invalid_quantity", 422),
        (InvalidRecurrence, "invalid_recurrence", 422),
        (TooShort, "too_short", 422),
        (TooLong, "too_long", 422),
        (OffGrid, "off_grid", 422),
        (TooSoon, "too_soon", 422),
        (InThePast, "in_the_past", 422),
        (TooFarAhead, "too_far_ahead", 422),
        (BookerNotAllowed, "booker_not_allowed", 403),
        (OverCapacity, "over_capacity", 422),
        (OverQuota, "over_quota", 422),
        (SlotTaken, "slot_taken", 409),
        (InsufficientStock, "insufficient_stock", 409),
        (NotCancellable, "not_cancellable", 409),
        (CancellationTooLate, "cancellation_too_late", 422),
        (NotDecidable, "not_decidable", 409),
    ],
)
def test_booking_errors_carry_stable_codes_and_statuses(error, code, status):
    assert issubclass(error, DomainError)
    assert (error.code, error.status) == (code, status)
    assert error().detail == error.title
