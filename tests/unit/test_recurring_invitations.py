"""A weekly series mailed as one recurring event, read back with vobject; news of one of its evenings as that occurrence."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import vobject

from notifications import mail, recurrence
from notifications.calendar import Party
from notifications.mail import Letter, Site
from notifications.recurrence import Series
from notifications.rules import BookingFacts, Place

OSLO = ZoneInfo("Europe/Oslo")
SITE = Site("https://allmenning.example", "Knutepunkt <post@allmenning.example>")
STAMP = datetime(2027, 9, 20, 10, tzinfo=UTC)
PLACE = Place("Møterom 1", "Knutepunkt Strømsø", "Tordenskiolds gate 6", "3044", "Drammen")
# Tuesdays 18:00-20:00 from 5 October to 9 November 2027: Oslo falls back to winter time on Sunday 31 October.
TUESDAYS = [date(2027, 10, 5) + timedelta(weeks=k) for k in range(6)]
# Every other Thursday from 7 October to 2 December 2027.
THURSDAYS = [date(2027, 10, 7) + timedelta(weeks=2 * k) for k in range(5)]


def evening(day: date, start: time = time(18), end: time = time(20)) -> tuple[datetime, datetime]:
    """An evening as the booking tables store it: in UTC."""
    return datetime.combine(day, start, OSLO).astimezone(UTC), datetime.combine(day, end, OSLO).astimezone(UTC)


def booking(id_: int, day: date, *, series_id: int, status: str = "confirmed", sequence: int = 0, at: tuple | None = None) -> BookingFacts:
    start, end = at or evening(day)
    return BookingFacts(id_, "Strikkekafé", start, end, status, sequence, PLACE, series_id=series_id)


def series_of(series_id: int, every_weeks: int, rows: list[BookingFacts]) -> Series:
    """The Series facts.series_of reads: every row the series has, and those at SEQUENCE 0."""
    spans = tuple((b.start, b.end) for b in rows)
    return Series(series_id, every_weeks, spans, tuple((b.start, b.end) for b in rows if b.sequence == 0))


def weekly_with_a_refused_date() -> tuple[list[BookingFacts], Series]:
    """Six Tuesdays asked for, 19 October refused when the series was made: it has no row at all."""
    rows = [booking(10 + i, day, series_id=1) for i, day in enumerate(TUESDAYS) if day != date(2027, 10, 19)]
    return rows, series_of(1, 1, rows)


def fortnightly_with_a_holiday_and_a_cancellation() -> tuple[list[BookingFacts], Series]:
    """Every other Thursday: 4 November skipped as a holiday week (no row), 21 October cancelled since."""
    rows = [
        booking(20 + i, day, series_id=2, **({"status": "cancelled", "sequence": 1} if day == date(2027, 10, 21) else {}))
        for i, day in enumerate(THURSDAYS)
        if day != date(2027, 11, 4)
    ]
    return [b for b in rows if b.status != "cancelled"], series_of(2, 2, rows)


def series_mail(active: list[BookingFacts], series: Series) -> tuple[str, object]:
    """The calendar part of a series' mail as a calendar client gets it, and vobject's reading of it."""
    kari = Party("Kari", "kari@example.no")
    letter = Letter(9, "series_booked", STAMP, kari, "nb", active[0], {"series_id": series.id}, tuple(active), recurring=series)
    message = mail.render(letter, SITE)
    ics = message.get_body(("calendar",)).get_content()
    return ics, vobject.readOne(ics)


def booking_mail(kind: str, told: BookingFacts, series: Series) -> tuple[str, object]:
    letter = Letter(9, kind, STAMP, Party("Kari", "kari@example.no"), "nb", told, {"reason": "Syk"}, recurring=series)
    part = next(p for p in mail.render(letter, SITE).walk() if p.get_content_type() == "text/calendar")
    ics = part.get_content()
    return ics, vobject.readOne(ics)


def instances(vevent) -> list[datetime]:
    """The occurrences a calendar shows for a recurring event, in Oslo time."""
    return [d.astimezone(OSLO) for d in vevent.getrruleset()]


def test_a_weekly_series_with_a_refused_date_is_one_event_whose_rule_yields_each_booked_tuesday_at_18_across_the_clock_change():
    active, series = weekly_with_a_refused_date()
    ics, cal = series_mail(active, series)
    [event] = cal.vevent_list
    assert cal.method.value == "PUBLISH" and event.uid.value == "series-1@allmenning.example"
    assert "DTSTART;TZID=Europe/Oslo:20271005T180000" in ics and "DTEND;TZID=Europe/Oslo:20271005T200000" in ics
    assert "FREQ=WEEKLY" in event.rrule.value and "INTERVAL=1" in event.rrule.value and "UNTIL=20271109T170000Z" in event.rrule.value
    assert "EXDATE;TZID=Europe/Oslo:20271019T180000" in ics
    shown = instances(event)
    assert [d.date() for d in shown] == [b.start.astimezone(OSLO).date() for b in active]
    assert {d.time() for d in shown} == {time(18)}  # on both sides of 31 October
    assert [d.astimezone(UTC) for d in shown] == [b.start for b in active]  # the very instants booked: 16:00Z, then 17:00Z
    assert [d.utcoffset() for d in shown] == [timedelta(hours=2)] * 3 + [timedelta(hours=1)] * 2
    length = event.dtend.value - event.dtstart.value
    assert length == timedelta(hours=2)


def test_an_every_other_week_series_skips_its_holiday_week_and_its_cancelled_evening():
    active, series = fortnightly_with_a_holiday_and_a_cancellation()
    ics, cal = series_mail(active, series)
    [event] = cal.vevent_list
    assert event.uid.value == "series-2@allmenning.example"
    assert "INTERVAL=2" in event.rrule.value and "UNTIL=20271202T170000Z" in event.rrule.value
    assert [d.isoformat() for d in instances(event)] == [
        "2027-10-07T18:00:00+02:00",
        "2027-11-18T18:00:00+01:00",
        "2027-12-02T18:00:00+01:00",
    ]
    exdates = {d.astimezone(OSLO).isoformat() for line in event.exdate_list for d in line.value}
    assert exdates == {"2027-10-21T18:00:00+02:00", "2027-11-04T18:00:00+01:00"}
    assert "EXDATE;TZID=Europe/Oslo:" in ics


def test_each_series_is_one_event_of_its_own_uid_when_both_are_mailed():
    (weekly, first), (fortnightly, second) = weekly_with_a_refused_date(), fortnightly_with_a_holiday_and_a_cancellation()
    uids = [[e.uid.value for e in series_mail(active, s)[1].vevent_list] for active, s in ((weekly, first), (fortnightly, second))]
    assert uids == [["series-1@allmenning.example"], ["series-2@allmenning.example"]]


def test_a_cancelled_tuesday_after_the_clock_change_is_a_cancel_of_that_occurrence_of_the_series():
    active, series = weekly_with_a_refused_date()
    _, sent = series_mail(active, series)
    cancelled = booking(14, date(2027, 11, 2), series_id=1, status="cancelled", sequence=1)
    ics, cal = booking_mail("booking_cancelled", cancelled, series)
    [event] = cal.vevent_list
    assert cal.method.value == "CANCEL" and event.status.value == "CANCELLED"
    assert event.uid.value == sent.vevent.uid.value
    assert "RECURRENCE-ID;TZID=Europe/Oslo:20271102T180000" in ics
    assert event.recurrence_id.value.astimezone(OSLO) in instances(sent.vevent)  # what a client matches it to
    assert int(event.sequence.value) > int(sent.vevent.sequence.value)


def test_an_evening_moved_within_its_day_is_that_occurrence_moved_and_later_mail_keeps_the_series_at_18():
    active, series = weekly_with_a_refused_date()
    moved = booking(11, date(2027, 10, 12), series_id=1, sequence=1, at=evening(date(2027, 10, 12), time(19), time(21)))
    _, cal = booking_mail("booking_changed", moved, series)
    assert (cal.method.value, cal.vevent.uid.value) == ("REQUEST", "series-1@allmenning.example")
    assert cal.vevent.recurrence_id.value.astimezone(OSLO).isoformat() == "2027-10-12T18:00:00+02:00"
    assert cal.vevent.dtstart.value.astimezone(OSLO).isoformat() == "2027-10-12T19:00:00+02:00"

    now = [moved if b.id == 11 else b for b in active]  # the series mailed after the move: an exception for that evening
    _, cal = series_mail(now, series_of(1, 1, now))
    master, exception = cal.vevent_list
    assert master.uid.value == exception.uid.value and instances(master)[0].time() == time(18)
    assert exception.recurrence_id.value.astimezone(OSLO) == instances(master)[1]
    assert exception.dtstart.value.astimezone(OSLO).time() == time(19)


def test_an_evening_moved_to_a_day_the_series_skips_is_told_as_its_own_event():
    # The booking tables do not keep where a moved evening was: off the series' days it cannot be matched to its slot.
    active, series = weekly_with_a_refused_date()
    moved = booking(11, date(2027, 10, 13), series_id=1, sequence=1)
    _, cal = booking_mail("booking_changed", moved, series)
    assert cal.vevent.uid.value == "booking-11@allmenning.example" and not hasattr(cal.vevent, "recurrence_id")


def test_the_pattern_stays_where_the_series_was_made_when_its_first_evenings_are_cancelled_or_moved():
    days = TUESDAYS[:4]
    spans = [evening(d) for d in days]
    moved_first = [evening(days[0], time(16), time(17)), *spans[1:]]
    pattern = recurrence.pattern_of(moved_first, 1, OSLO)
    assert (pattern.anchor.time(), pattern.length) == (time(18), timedelta(hours=2))
    assert pattern.slot_of(moved_first[0][0]) == datetime.combine(days[0], time(18), OSLO)
    assert pattern.slot_of(evening(days[0] + timedelta(days=1))[0]) is None
    # Cancelled evenings keep their times, so a series whose first evening is cancelled still has its first date.
    rule = recurrence.weekly(pattern, [datetime.combine(d, time(18), OSLO) for d in days[1:]])
    assert (rule.start, rule.exdates) == (datetime.combine(days[1], time(18), OSLO), ())


def test_a_series_mailed_again_once_every_evening_has_changed_supersedes_the_first_mail():
    # A room season's series: held as offers (SEQUENCE 0), then all confirmed at once (each SEQUENCE 1).
    offered = [booking(30 + i, day, series_id=3, status="offered") for i, day in enumerate(TUESDAYS)]
    confirmed = [booking(b.id, TUESDAYS[i], series_id=3, sequence=1) for i, b in enumerate(offered)]
    _, first = series_mail(offered, series_of(3, 1, offered))
    _, again = series_mail(confirmed, series_of(3, 1, confirmed))
    assert (first.vevent.status.value, again.vevent.status.value) == ("TENTATIVE", "CONFIRMED")
    assert (first.vevent.uid.value, int(first.vevent.sequence.value)) == (again.vevent.uid.value, 0)
    assert int(again.vevent.sequence.value) == 1 and instances(again.vevent) == instances(first.vevent)


def test_a_series_whose_every_evening_was_cancelled_before_its_mail_is_the_series_cancelled():
    _, series = weekly_with_a_refused_date()
    first = booking(10, TUESDAYS[0], series_id=1, status="cancelled", sequence=1)
    kari = Party("Kari", "kari@example.no")
    letter = Letter(9, "series_booked", STAMP, kari, "nb", first, {"series_id": 1}, (), recurring=series)
    cal = vobject.readOne(mail.render(letter, SITE).get_body(("calendar",)).get_content())
    [event] = cal.vevent_list
    assert (event.uid.value, event.status.value) == ("series-1@allmenning.example", "CANCELLED")
    assert not hasattr(event, "rrule")
