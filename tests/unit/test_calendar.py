"""iCalendar: the Oslo VTIMEZONE against zoneinfo, invitations read by an independent parser, and the feed writer."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject
from dateutil.tz import tzical

from notifications import calendar, feed_text
from notifications.calendar import CalendarEvent, Party, VtimezoneMismatch
from notifications.rules import BookingFacts, Place

OSLO = ZoneInfo("Europe/Oslo")
ORGANIZER, ATTENDEE = Party("Knutepunkt Strømsø", "post@allmenning.local"), Party("Kari Nordmann", "kari@example.no")


def event(start: datetime, hours: float = 2, **changes) -> CalendarEvent:
    base = dict(
        uid="booking-1@allmenning.local",
        sequence=0,
        status="CONFIRMED",
        start=start,
        end=start + timedelta(hours=hours),
        stamp=datetime(2026, 1, 5, 12, tzinfo=UTC),
        summary="Møterom: Lesesirkel",
        location="Huset, Gata 1, 3044 Drammen",
    )
    return CalendarEvent(**{**base, **changes})


def test_oslo_moves_its_clocks_at_one_in_the_night_utc_on_the_last_sundays_of_march_and_october():
    transitions = calendar.zone_transitions(OSLO, 2026, 2027)
    assert [(t.utc, t.offset_to) for t in transitions] == [
        (datetime(2026, 3, 29, 1, tzinfo=UTC), timedelta(hours=2)),
        (datetime(2026, 10, 25, 1, tzinfo=UTC), timedelta(hours=1)),
        (datetime(2027, 3, 28, 1, tzinfo=UTC), timedelta(hours=2)),
        (datetime(2027, 10, 31, 1, tzinfo=UTC), timedelta(hours=1)),
    ]
    spring = transitions[0]
    assert spring.local_onset == datetime(2026, 3, 29, 2, 0)  # wall time before the jump, not 03:00


def test_the_oslo_vtimezone_agrees_with_zoneinfo_on_every_change_for_a_decade():
    timezone = calendar.vtimezone("Europe/Oslo", 2026, 2036)
    calendar.check_vtimezone(timezone, OSLO, 2026, 2036)
    assert len(calendar.vtimezone_transitions(timezone, 2026, 2036)) == 22
    daylight = timezone.walk("DAYLIGHT")[0]
    assert daylight["DTSTART"].dt == datetime(2025, 3, 30, 2, 0)
    assert daylight["RRULE"].to_ical() in (b"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3", b"FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU")


def test_the_check_refuses_a_vtimezone_whose_spring_onset_is_an_hour_late():
    timezone = icalendar.Timezone.from_ical(calendar.vtimezone("Europe/Oslo", 2026, 2027).to_ical())
    daylight = timezone.walk("DAYLIGHT")[0]
    daylight["DTSTART"].dt = datetime(2025, 3, 30, 3, 0)  # the quirk: the onset written in the new offset's wall time
    with pytest.raises(VtimezoneMismatch, match="2026, 3, 29, 1, 0"):
        calendar.check_vtimezone(timezone, OSLO, 2026, 2027)


def test_a_zone_without_daylight_saving_gets_one_standard_offset():
    timezone = calendar.vtimezone("Asia/Tokyo", 2026, 2026)
    assert [c.name for c in timezone.subcomponents] == ["STANDARD"]
    calendar.check_vtimezone(timezone, ZoneInfo("Asia/Tokyo"), 2026, 2026)


def parsed(ics: bytes):
    return vobject.readOne(ics.decode())


@pytest.mark.parametrize(
    ("local", "utc"),
    [
        (datetime(2026, 3, 28, 10, 0), datetime(2026, 3, 28, 9, 0)),  # the Saturday before: winter time
        (datetime(2026, 3, 29, 3, 30), datetime(2026, 3, 29, 1, 30)),  # the first hour of summer time
        (datetime(2026, 10, 25, 12, 0), datetime(2026, 10, 25, 11, 0)),  # the autumn Sunday, after falling back
    ],
)
def test_an_independent_parser_reads_invitation_times_around_daylight_saving_as_the_same_instants(local, utc):
    ics = calendar.invitation("REQUEST", [event(local.replace(tzinfo=OSLO))], OSLO, organizer=ORGANIZER, attendee=ATTENDEE)
    start = parsed(ics).vevent.dtstart.value
    assert "Europe/Oslo" in repr(start.tzinfo)  # read from the VTIMEZONE sent along, not from a zone database
    assert start.astimezone(UTC) == utc.replace(tzinfo=UTC)


def oslo_as_read_from(ics: bytes) -> object:
    text = ics.decode()
    return tzical(io.StringIO(text[text.index("BEGIN:VTIMEZONE") : text.index("END:VTIMEZONE") + len("END:VTIMEZONE")])).get()


def test_a_calendar_reading_our_vtimezone_shows_the_first_summer_hour_where_an_hour_late_onset_would_not():
    ics = calendar.invitation("REQUEST", [event(datetime(2026, 3, 29, 10, tzinfo=OSLO))], OSLO, organizer=ORGANIZER, attendee=ATTENDEE)
    late = ics.replace(b"DTSTART:20250330T020000", b"DTSTART:20250330T030000")
    first_summer_hour = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert first_summer_hour.astimezone(oslo_as_read_from(ics)).isoformat() == "2026-03-29T03:30:00+02:00"
    assert first_summer_hour.astimezone(oslo_as_read_from(late)).isoformat() == "2026-03-29T02:30:00+01:00"  # a time that never was


def test_an_invitation_carries_method_uid_sequence_and_who_invites_whom():
    ics = calendar.invitation(
        "REQUEST", [event(datetime(2026, 11, 30, 18, tzinfo=OSLO), sequence=2)], OSLO, organizer=ORGANIZER, attendee=ATTENDEE
    )
    cal = parsed(ics)
    assert cal.method.value == "REQUEST"
    assert (cal.vevent.uid.value, cal.vevent.sequence.value, cal.vevent.status.value) == ("booking-1@allmenning.local", "2", "CONFIRMED")
    assert cal.vevent.organizer.value == "mailto:post@allmenning.local"
    assert cal.vevent.attendee.value == "mailto:kari@example.no" and cal.vevent.attendee.params["PARTSTAT"] == ["ACCEPTED"]
    assert cal.vevent.location.value == "Huset, Gata 1, 3044 Drammen"


def test_a_cancellation_is_a_cancel_message_with_a_cancelled_event():
    ics = calendar.invitation(
        "CANCEL",
        [event(datetime(2026, 11, 30, 18, tzinfo=OSLO), sequence=3, status="CANCELLED")],
        OSLO,
        organizer=ORGANIZER,
        attendee=ATTENDEE,
    )
    cal = parsed(ics)
    assert (cal.method.value, cal.vevent.status.value, cal.vevent.sequence.value) == ("CANCEL", "CANCELLED", "3")


def test_text_is_escaped_and_long_lines_fold_without_splitting_a_character():
    assert calendar.escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    line = "DESCRIPTION:" + "ø" * 100
    folded = calendar.fold(line)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == line


ROOM = Place("Møterom 2", "Huset", "Gata 1", "3044", "Drammen", "Ring på, 2. etasje; nøkkel i resepsjonen")
BED = Place("Pallekarm 1", "Strømsøhagen")
PLACES = {1: (ROOM, "room"), 2: (BED, "garden_bed")}


def row(id_: int, start: datetime, end: datetime, *, title: str = "", status: str = "confirmed", sequence: int = 0, resource_id: int = 1):
    """A booking as the feed's query returns it: its times in iCalendar's UTC text."""
    changed = datetime(2026, 1, 5, 12, tzinfo=UTC)
    return (id_, title, *(calendar.utc_text(t) for t in (start, end, changed)), status, sequence, resource_id)


def booking_feed(rows, places=PLACES) -> bytes:
    return feed_text.booking_feed(
        "Allmenning: mine bookinger", rows, places, base_url="https://a.no", host="a.no", refresh=timedelta(hours=1)
    )


def test_a_feed_reads_back_the_same_in_icalendar_and_vobject():
    title = "Kor, øving; «Vår» \\ sang " + "lang " * 20
    body = booking_feed(
        [
            row(1, datetime(2026, 11, 30, 18, tzinfo=OSLO), datetime(2026, 11, 30, 20, tzinfo=OSLO), title=title),
            row(2, datetime(2026, 12, 1, 18, tzinfo=OSLO), datetime(2026, 12, 1, 19, tzinfo=OSLO)),
        ]
    )
    assert all(len(line.encode()) <= 75 for line in body.decode().split("\r\n"))
    first = icalendar.Calendar.from_ical(body).walk("VEVENT")[0]
    assert str(first["SUMMARY"]) == f"Møterom 2: {title}"
    assert str(first["DESCRIPTION"]) == "Ring på, 2. etasje; nøkkel i resepsjonen\n\nhttps://a.no/bookings/1"
    assert first.decoded("DTSTART") == datetime(2026, 11, 30, 17, tzinfo=UTC)
    cal = vobject.readOne(body.decode())
    assert [v.uid.value for v in cal.vevent_list] == ["booking-1@a.no", "booking-2@a.no"]
    assert cal.contents["refresh-interval"][0].value == "PT1H" and cal.x_published_ttl.value == "PT1H"


@pytest.mark.parametrize("status", ["confirmed", "requested", "offered", "handed_out"])
@pytest.mark.parametrize("resource_id", [1, 2])
def test_a_bookings_event_in_a_feed_reads_back_as_its_invitation_event(status, resource_id):
    place, kind = PLACES[resource_id]
    start, end = (
        (datetime(2027, 4, 15, tzinfo=OSLO), datetime(2027, 11, 1, tzinfo=OSLO))
        if kind == "garden_bed"
        else (datetime(2026, 10, 25, 1, 30, tzinfo=OSLO), datetime(2026, 10, 25, 3, 15, tzinfo=OSLO))
    )  # across the autumn change
    facts = BookingFacts(7, "Årsmøte, «Vel»", start, end, status, 3, place, resource_kind=kind)
    invited = calendar.booking_event(facts, base_url="https://a.no", host="a.no", stamp=datetime(2026, 1, 5, 12, tzinfo=UTC))
    ics = calendar.invitation("REQUEST", [invited], OSLO, organizer=ORGANIZER, attendee=ATTENDEE)
    fed = booking_feed([row(7, start, end, title=facts.title, status=status, sequence=3, resource_id=resource_id)])
    shown = ("UID", "SEQUENCE", "STATUS", "TRANSP", "SUMMARY", "LOCATION", "DESCRIPTION", "URL", "DTSTAMP")
    a, b = (icalendar.Calendar.from_ical(body).walk("VEVENT")[0] for body in (ics, fed))
    assert {k: a.decoded(k, None) for k in shown} == {k: b.decoded(k, None) for k in shown}
    for k in ("DTSTART", "DTEND"):
        x, y = a.decoded(k), b.decoded(k)
        assert (x == y) if not isinstance(x, datetime) else x.astimezone(UTC) == y.astimezone(UTC)


SEASON_START, SEASON_END = datetime(2027, 4, 15, tzinfo=OSLO), datetime(2027, 11, 1, tzinfo=OSLO)  # the bed's whole season


def test_a_garden_beds_season_is_an_all_day_free_event_in_an_invitation():
    bed = event(SEASON_START, end=SEASON_END, summary="Pallekarm 1", all_day=True)
    cal = parsed(calendar.invitation("REQUEST", [bed], OSLO, organizer=ORGANIZER, attendee=ATTENDEE))
    start, end = cal.vevent.dtstart.value, cal.vevent.dtend.value
    assert not isinstance(start, datetime) and (start, end) == (date(2027, 4, 15), date(2027, 11, 1))  # DTEND: the day after the last
    assert cal.vevent.dtstart.params["VALUE"] == ["DATE"] and cal.vevent.transp.value == "TRANSPARENT"


def test_a_garden_beds_season_is_an_all_day_free_event_in_a_feed_and_a_booked_time_stays_busy():
    meeting = datetime(2026, 11, 30, 18, tzinfo=OSLO)
    body = booking_feed([row(1, meeting, meeting + timedelta(hours=2)), row(2, SEASON_START, SEASON_END, resource_id=2)])
    room, season = vobject.readOne(body.decode()).vevent_list
    assert isinstance(room.dtstart.value, datetime) and room.transp.value == "OPAQUE"
    assert not isinstance(season.dtstart.value, datetime) and (season.dtstart.value, season.dtend.value) == (
        date(2027, 4, 15),
        date(2027, 11, 1),
    )
    assert season.transp.value == "TRANSPARENT"
    read = icalendar.Calendar.from_ical(body).walk("VEVENT")[1]
    assert (read.decoded("DTSTART"), read.decoded("DTEND"), str(read["TRANSP"])) == (date(2027, 4, 15), date(2027, 11, 1), "TRANSPARENT")


def test_a_closures_reason_is_the_summary_of_its_busy_block_in_a_public_feed():
    closure = ("closure-1@x", "20261220T230000Z", "20270101T230000Z", "Stengt: Juleferie, vask", "20261123T090000Z")
    body = feed_text.busy_feed("Møterom: opptatt", [], summary="Opptatt", refresh=timedelta(hours=1), closed=[closure])
    event_ = vobject.readOne(body.decode()).vevent
    assert (event_.summary.value, event_.transp.value) == ("Stengt: Juleferie, vask", "OPAQUE")
    assert event_.dtstart.value == datetime(2026, 12, 21, tzinfo=OSLO)
