"""Waitlist rules: offer deadlines (never past the slot, never on a closed day), the line, and bed wishes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from booking.rules import BookingStatus
from booking.waitlists.rules import (
    TERMS,
    EntryStatus,
    InvalidPosition,
    MoreThanStock,
    NotYourOffer,
    OfferExpired,
    OfferNotOpen,
    OfferTerms,
    WaitKind,
    after_decline,
    after_expiry,
    bed_suits,
    check_offer_is_for,
    check_offer_open,
    check_within_stock,
    is_closed_day,
    moved_to,
    offer_deadline,
)
from infra.time import OSLO, local_datetime

BED = TERMS[WaitKind.GARDEN_BED]
ROOM = TERMS[WaitKind.ROOM_SLOT]


def oslo(day: date, hour: int, minute: int = 0) -> datetime:
    return local_datetime(day, time(hour, minute))


def test_weekends_and_public_holidays_are_closed_days():
    assert is_closed_day(date(2026, 11, 28))  # Saturday
    assert is_closed_day(date(2026, 5, 17))  # Grunnlovsdag (a Sunday too)
    assert is_closed_day(date(2026, 5, 14))  # Kristi himmelfartsdag, a Thursday
    assert not is_closed_day(date(2026, 11, 25))


def test_a_bed_offer_on_a_weekday_holds_for_seven_days():
    now = oslo(date(2026, 11, 24), 10)  # Tuesday
    assert offer_deadline(BED, now=now) == now + timedelta(days=7)


def test_a_deadline_that_would_fall_on_a_saturday_moves_back_to_friday_evening():
    now = oslo(date(2026, 11, 21), 10)  # a Saturday: seven days on is a Saturday too
    assert offer_deadline(BED, now=now) == oslo(date(2026, 11, 27), 20)


def test_a_deadline_never_ends_on_a_public_holiday():
    now = oslo(date(2026, 12, 18), 12)  # Friday; seven days on is første juledag
    deadline = offer_deadline(BED, now=now)
    assert deadline == oslo(date(2026, 12, 24), 20)
    assert not is_closed_day(deadline.astimezone(OSLO).date())


def test_a_deadline_never_lies_after_the_slot_starts():
    now = oslo(date(2026, 11, 24), 15)
    slot = oslo(date(2026, 11, 24), 18)
    assert offer_deadline(ROOM, now=now, slot_start=slot) == slot


def test_a_short_offer_made_late_on_friday_moves_forward_to_monday_when_the_slot_allows():
    now = oslo(date(2026, 11, 27), 22, 30)  # Friday night: four hours end on Saturday, Friday 20:00 has passed
    slot = oslo(date(2026, 11, 30), 18)  # Monday evening
    assert offer_deadline(ROOM, now=now, slot_start=slot) == oslo(date(2026, 11, 30), 18)
    assert offer_deadline(ROOM, now=now, slot_start=oslo(date(2026, 12, 1), 18)) == oslo(date(2026, 11, 30), 20)


def test_a_slot_that_starts_on_a_closed_day_keeps_its_start_as_the_deadline():
    now = oslo(date(2026, 11, 28), 9)  # Saturday, slot at noon: no open day comes first
    slot = oslo(date(2026, 11, 28), 12)
    assert offer_deadline(ROOM, now=now, slot_start=slot) == slot


def test_deadline_rules_hold_for_every_hour_of_a_year():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for hours in range(0, 365 * 24, 7):
        now = start + timedelta(hours=hours)
        deadline = offer_deadline(BED, now=now)
        assert deadline > now
        assert not is_closed_day(deadline.astimezone(OSLO).date())


def test_an_open_offer_can_be_answered_until_its_deadline():
    deadline = datetime(2026, 12, 1, 12, tzinfo=UTC)
    check_offer_open(BookingStatus.OFFERED, deadline, now=deadline)
    with pytest.raises(OfferExpired):
        check_offer_open(BookingStatus.OFFERED, deadline, now=deadline + timedelta(seconds=1))
    with pytest.raises(OfferNotOpen):
        check_offer_open(BookingStatus.CONFIRMED, deadline, now=deadline)


def test_only_the_one_offered_or_an_admin_of_their_association_may_answer():
    nobody = lambda a: False  # noqa: E731
    check_offer_is_for(1, None, person_id=1, member_of=nobody, admin_of=nobody)
    check_offer_is_for(1, 7, person_id=2, member_of=nobody, admin_of=lambda a: a == 7)
    check_offer_is_for(1, 7, person_id=1, member_of=lambda a: a == 7, admin_of=nobody)
    with pytest.raises(NotYourOffer):
        check_offer_is_for(1, None, person_id=2, member_of=nobody, admin_of=lambda a: True)


def test_one_removed_from_an_association_no_longer_answers_its_offer():
    with pytest.raises(NotYourOffer):
        check_offer_is_for(1, 7, person_id=1, member_of=lambda a: False, admin_of=lambda a: False)


def test_a_first_decline_keeps_the_place_and_a_second_sends_one_to_the_back():
    assert after_decline(BED, 1) == after_decline(BED, 1)
    assert not after_decline(BED, 1).to_back
    assert after_decline(BED, 2).to_back
    assert after_decline(BED, 2).status is EntryStatus.WAITING


def test_expiry_removes_one_from_the_line_unless_configured_otherwise():
    assert after_expiry(BED).status is EntryStatus.REMOVED
    lenient = OfferTerms(hold=timedelta(days=1), expiry_removes=False)
    assert (after_expiry(lenient).status, after_expiry(lenient).to_back) == (EntryStatus.WAITING, True)


def test_staff_can_move_an_entry_to_any_place_in_the_line():
    assert moved_to([1, 2, 3, 4], 4, 1) == [4, 1, 2, 3]
    assert moved_to([1, 2, 3, 4], 1, 3) == [2, 3, 1, 4]
    assert moved_to([1, 2, 3, 4], 2, 99) == [1, 3, 4, 2]
    with pytest.raises(InvalidPosition):
        moved_to([1, 2], 1, 0)


def test_one_waits_for_at_most_every_unit_an_item_has():
    check_within_stock(20, 20)
    with pytest.raises(MoreThanStock) as refused:
        check_within_stock(20, 25)
    assert (refused.value.code, refused.value.status, refused.value.extra) == ("more_than_stock", 422, {"stock": 20, "wanted": 25})


def test_a_bed_suits_those_who_named_it_need_what_it_offers_or_take_any():
    assert bed_suits({}, 5, [])
    assert bed_suits({"beds": [5], "any": False}, 5, [])
    assert not bed_suits({"beds": [6], "any": False}, 5, [])
    assert bed_suits({"beds": [6]}, 5, [])
    assert not bed_suits({"raised": True}, 5, [])
    assert bed_suits({"raised": True}, 3, ["raised", "wheelchair_reachable"])
