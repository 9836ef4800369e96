"""Pure parts of the web pages: language choice, refusals placed by field, utilisation sums (catalogues: test_translations)."""

from __future__ import annotations

from datetime import date, datetime, time
from types import SimpleNamespace

from booking.rules import SlotTaken
from booking.seasons.rules import take_up_of
from booking.usage_rules import Week, item_weeks, summed, weekly_use
from infra.time import Interval, local_datetime
from resources.rules import Policy, WeeklyWindow
from web.i18n import Speaker, chosen
from web.refusals import MESSAGES, field_of, message_of

MONDAY = date(2026, 11, 23)


def test_the_first_language_we_speak_wins_and_bokmal_is_the_default():
    assert chosen("de", None, "en") == "en"
    assert chosen(None, "nb", "en") == "nb"
    assert chosen(None, None, None) == "nb"


def test_dates_and_times_are_written_in_oslo_time_for_the_language():
    evening = datetime.fromisoformat("2026-11-23T17:00:00+00:00")
    assert Speaker("nb").when(evening) == "mandag 23. november 2026, 18:00"
    assert Speaker("en").when(evening) == "Monday 23 November 2026, 18:00"


def test_a_refusal_is_placed_next_to_the_field_it_concerns():
    refusal = SlotTaken(resource_id=1)
    assert (field_of(refusal), message_of(refusal)) == ("start", MESSAGES["slot_taken"])


def test_a_room_is_measured_against_its_open_hours_and_equipment_against_the_whole_week():
    evenings = Policy(windows=(WeeklyWindow(frozenset({0, 1, 2, 3, 4}), time(17), time(22)),), open_on_holidays=True)
    two_hours = (Interval(local_datetime(MONDAY, time(18)), local_datetime(MONDAY, time(20))), 1)
    [room] = weekly_use(evenings, 1, [two_hours], [MONDAY], pooled=False)
    assert (room.available, room.booked) == (25.0, 2.0)
    [item] = weekly_use(evenings, 4, [(two_hours[0], 3)], [MONDAY], pooled=True)
    assert (item.available, item.booked) == (4 * 168.0, 6.0)


def test_a_places_weeks_add_up_the_hours_of_its_rooms():
    first = [Week(MONDAY, 25.0, 2.0)]
    second = [Week(MONDAY, 45.0, 1.0)]
    assert summed([first, second], [MONDAY]) == [Week(MONDAY, 70.0, 3.0)]


def test_a_loan_counts_in_each_week_it_runs_with_its_unit_hours_inside_that_week():
    sunday_to_tuesday = Interval(local_datetime(date(2026, 11, 29), time(12)), local_datetime(date(2026, 12, 1), time(12)))
    first, second = item_weeks(2, [(sunday_to_tuesday, 3)], [MONDAY, date(2026, 11, 30)])
    assert (first.loans, first.unit_hours, first.available) == (1, 36.0, 336.0)
    assert (second.loans, second.unit_hours) == (1, 108.0)


def test_garden_take_up_counts_a_bed_once_and_an_offer_apart_from_a_held_bed():
    held = SimpleNamespace(resource_id=1, status="confirmed")
    offered = SimpleNamespace(resource_id=2, status="offered")
    take_up = take_up_of("2027", 4, [held, offered, SimpleNamespace(resource_id=1, status="requested")])
    assert (take_up.held, take_up.offered, take_up.share) == (1, 1, 0.25)


def test_the_new_waitlist_refusals_are_in_both_languages():
    assert Speaker("nb")(MESSAGES["not_taken"]) == "Denne tiden er ledig: book den i stedet for å vente."
    assert Speaker("en")(MESSAGES["use_season_waitlist"]) == "Garden beds are waited for on the garden page."
