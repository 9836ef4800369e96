"""A resource's rules and its refusals in words: weekday runs, lengths with the language's plurals, who may book, and
refusals said with the numbers their problem details carry (or plainly, when they carry none)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from booking.rules import CancellationTooLate, TooLong
from booking.series import Refusal
from infra.errors import ErrorCode
from infra.time import local_datetime
from people.actor import OPERATOR, Actor
from resources.rules import BookerKind, Policy, ResourceClosed, WeeklyWindow
from web.i18n import Speaker
from web.refusals import MESSAGES, said, said_errors
from web.rule_words import day_runs, duration_words, for_myself, may_book, period_words, who_may_book, window_words

NB, EN = Speaker("nb"), Speaker("en")
RESIDENT = Actor(1, "a@example.no", "A")
MEMBER = Actor(2, "m@example.no", "M", roles={7: "member"})
STAFF = Actor(3, "s@example.no", "S", grants=OPERATOR)
ASSOCIATIONS_ONLY = Policy(bookable_by=frozenset({BookerKind.ASSOCIATION, BookerKind.STAFF}))


def test_weekdays_are_told_as_runs_of_days():
    assert day_runs({0, 1, 2, 3, 4}) == [(0, 4)]
    assert day_runs({6, 0, 2, 3}) == [(0, 0), (2, 3), (6, 6)]
    assert day_runs(()) == []


def test_a_window_says_its_days_hours_and_the_dates_it_holds_between():
    weekdays = WeeklyWindow(frozenset({0, 1, 2, 3, 4}), time(17), time(0))
    assert window_words(weekdays, NB) == "mandag–fredag 17:00–24:00"
    summer = WeeklyWindow(frozenset({5}), time(10), time(14), valid_from=date(2027, 6, 1), valid_until=date(2027, 8, 15))
    assert window_words(summer, EN) == "Saturday 10:00–14:00 (from Tuesday 1 June 2027) (until Sunday 15 August 2027)"


@pytest.mark.parametrize(
    ("minutes", "nb", "en"),
    [(30, "30 minutter", "30 minutes"), (60, "1 time", "1 hour"), (90, "90 minutter", "90 minutes"), (24 * 60, "24 timer", "24 hours"),
     (7 * 24 * 60, "7 døgn", "7 days")],
)  # fmt: skip
def test_a_length_is_said_in_whole_days_hours_or_minutes_with_the_languages_plurals(minutes, nb, en):
    assert (duration_words(minutes, NB), duration_words(minutes, EN)) == (nb, en)


def test_a_closure_of_whole_days_is_told_by_its_first_and_last_day():
    start, end = local_datetime(date(2026, 12, 21), time(0)), local_datetime(date(2027, 1, 4), time(0))
    assert period_words(start, end, NB) == "mandag 21. desember 2026 – søndag 3. januar 2027"
    assert period_words(start, start + timedelta(days=1), NB) == "mandag 21. desember 2026"
    evening = local_datetime(date(2026, 12, 21), time(18)), local_datetime(date(2026, 12, 21), time(22))
    assert period_words(*evening, NB) == "mandag 21. desember 2026, 18:00–22:00"


def test_who_may_book_follows_the_kind_each_viewer_books_as():
    assert [may_book(ASSOCIATIONS_ONLY, v) for v in (RESIDENT, MEMBER, STAFF)] == [False, True, True]
    residents_only = Policy(bookable_by=frozenset({BookerKind.RESIDENT}))
    assert [may_book(residents_only, v) for v in (RESIDENT, MEMBER, STAFF)] == [True, True, False]
    assert [for_myself(ASSOCIATIONS_ONLY, v) for v in (MEMBER, STAFF)] == [False, True]
    assert who_may_book(ASSOCIATIONS_ONLY).startswith("Only associations book this room")
    assert who_may_book(Policy(bookable_by=frozenset({BookerKind.STAFF}))).startswith("Only the staff")


def test_a_refusal_gives_its_numbers_and_a_closure_its_own_reason():
    assert said(ErrorCode.TOO_LONG, TooLong(maximum_minutes=240).extra, EN) == "The booking is too long: it may last at most 4 hours."
    assert said(ErrorCode.INSUFFICIENT_STOCK, {"stock": 20, "available": 3, "wanted": 5}, EN) == (
        "Not enough units are free then: 3 free of 20."
    )
    assert said(ErrorCode.RESOURCE_CLOSED, ResourceClosed("Closed: Juleferie", reason="Juleferie").extra, NB) == (
        "Stedet er stengt da: Juleferie."
    )
    deadline = datetime(2026, 12, 7, 17, 0).astimezone().isoformat()
    assert said(ErrorCode.CANCELLATION_TOO_LATE, CancellationTooLate(deadline=deadline).extra, NB).startswith(
        "Det er for sent å avbestille: siste frist var "
    )


def test_a_refusal_without_its_numbers_is_said_plainly():
    assert said(ErrorCode.RESOURCE_CLOSED, {"reason": " "}, EN) == MESSAGES[ErrorCode.RESOURCE_CLOSED]
    assert said(ErrorCode.TOO_LONG, {}, EN) == MESSAGES[ErrorCode.TOO_LONG]
    assert said("no_such_code", {}, EN) == "This could not be done."


def test_a_quota_refusal_says_the_association_hours_or_the_persons_limit_whichever_it_carries():
    hours = said(ErrorCode.OVER_QUOTA, {"quota_hours": 6, "booked_hours": 4.5}, EN)
    assert hours == "The association may book at most 6 hours a week here, and 4.5 hours are booked that week."
    assert said(ErrorCode.OVER_QUOTA, {"limit": 2, "active": 2}, NB) == "Du har brukt opp kvoten din: høyst 2 om gangen her."


def test_a_booking_that_can_no_longer_be_changed_has_a_message_of_its_own():
    assert said(ErrorCode.NOT_CHANGEABLE, {"status": "cancelled"}, NB) == (
        "Denne bookingen kan ikke lenger endres: den har begynt, er over eller er avbestilt."
    )
    assert said_errors(TooLong(maximum_minutes=300), NB) == {"end": "Bookingen er for lang: den kan vare høyst 5 timer."}


def test_a_series_refusal_is_kept_with_its_numbers_and_read_back_the_same():
    start = local_datetime(date(2026, 12, 1), time(18))
    kept = Refusal.of(date(2026, 12, 1), start, start + timedelta(hours=2), ResourceClosed("Closed: Julebord", reason="Julebord"))
    assert kept.data == {"reason": "Julebord"} and kept.code == "resource_closed"
    assert Refusal.from_json(kept.as_json()) == kept
