"""iCalendar: a VTIMEZONE built with icalendar and checked against zoneinfo, invitations written directly, and the text values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from icalendar import Timezone, TimezoneDaylight, TimezoneStandard
from icalendar.parser import param_value

from notifications import rules
from notifications.recurrence import Weekly

PRODID = "-//Allmenning//Knutepunkt Stromso//NO"
WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True)
class Transition:
    utc: datetime
    offset_from: timedelta
    offset_to: timedelta
    name: str
    is_dst: bool

    @property
    def local_onset(self) -> datetime:
        """RFC 5545 dates an onset in the wall time that was in force before it (02:00 in spring, not 03:00)."""
        return (self.utc + self.offset_from).replace(tzinfo=None)


class VtimezoneMismatch(ValueError):
    """A VTIMEZONE whose offset changes differ from the time zone database's."""


def zone_transitions(zone: ZoneInfo, first_year: int, last_year: int) -> list[Transition]:
    """Every offset change of the zone in these years, found day by day in UTC and bisected to the minute."""
    moment, end = datetime(first_year, 1, 1, tzinfo=UTC), datetime(last_year + 1, 1, 1, tzinfo=UTC)
    found = []
    while moment < end:
        later = moment + timedelta(days=1)
        before, after = moment.astimezone(zone).utcoffset(), later.astimezone(zone).utcoffset()
        if before != after:
            found.append(_transition_between(zone, moment, later))
        moment = later
    return found


def _transition_between(zone: ZoneInfo, low: datetime, high: datetime) -> Transition:
    offset_from = low.astimezone(zone).utcoffset()
    while high - low > timedelta(minutes=1):
        middle = low + timedelta(minutes=(high - low) // timedelta(minutes=1) // 2)
        low, high = (middle, high) if middle.astimezone(zone).utcoffset() == offset_from else (low, middle)
    local = high.astimezone(zone)
    return Transition(high, offset_from, local.utcoffset(), local.tzname() or "", bool(local.dst()))


def _yearly_rule(onsets: list[datetime]) -> dict | None:
    """The RRULE that yields exactly these onsets year by year (e.g. last Sunday of March, 02:00), if one does."""
    first = onsets[0]
    if [o.year for o in onsets] != list(range(first.year, first.year + len(onsets))):
        return None
    if any((o.month, o.time(), o.weekday()) != (first.month, first.time(), first.weekday()) for o in onsets):
        return None
    code = WEEKDAY_CODES[first.weekday()]
    if all((o + timedelta(days=7)).month != o.month for o in onsets):
        return {"FREQ": "YEARLY", "BYMONTH": first.month, "BYDAY": f"-1{code}"}
    ordinals = {(o.day - 1) // 7 + 1 for o in onsets}
    return {"FREQ": "YEARLY", "BYMONTH": first.month, "BYDAY": f"{ordinals.pop()}{code}"} if len(ordinals) == 1 else None


def _component(transitions: list[Transition]) -> TimezoneStandard | TimezoneDaylight:
    first = transitions[0]
    component = TimezoneDaylight() if first.is_dst else TimezoneStandard()
    component.add("TZNAME", first.name)
    component.add("TZOFFSETFROM", first.offset_from)
    component.add("TZOFFSETTO", first.offset_to)
    component.add("DTSTART", first.local_onset)
    onsets = [t.local_onset for t in transitions]
    rule = _yearly_rule(onsets) if len(onsets) > 1 else None
    if rule:
        component.add("RRULE", rule)
    elif len(onsets) > 1:
        component.add("RDATE", onsets[1:])
    return component


@lru_cache(maxsize=16)
def vtimezone(zone_key: str, first_year: int, last_year: int) -> Timezone:
    """A VTIMEZONE for events in these years, verified against zoneinfo before it is used."""
    # Not icalendar's Timezone.from_tzid: up to 7.3.2 it dates the spring onset in the new offset's wall time (03:00
    # with TZOFFSETFROM +0100), an hour late; tests/unit/test_timezone_block.py starts failing once icalendar fixes it.
    zone = ZoneInfo(zone_key)
    # Starting a year early puts an onset before every event, so no event falls before the definition begins.
    transitions = zone_transitions(zone, first_year - 1, last_year)
    timezone = Timezone()
    timezone.add("TZID", zone_key)
    if not transitions:
        offset = datetime(first_year, 1, 1, tzinfo=zone).utcoffset()
        name = datetime(first_year, 1, 1, tzinfo=zone).tzname() or zone_key
        transitions = [Transition(datetime(first_year - 1, 1, 1, tzinfo=UTC), offset, offset, name, False)]
    groups: dict[tuple, list[Transition]] = {}
    for t in transitions:
        groups.setdefault((t.offset_from, t.offset_to, t.name, t.is_dst), []).append(t)
    for group in groups.values():
        timezone.add_component(_component(group))
    check_vtimezone(timezone, zone, first_year, last_year)
    return timezone


def vtimezone_transitions(timezone: Timezone, first_year: int, last_year: int) -> list[tuple[datetime, timedelta]]:
    """The (UTC instant, new offset) changes a VTIMEZONE defines within these years, as a calendar client reads it."""
    low, high = datetime(first_year, 1, 1), datetime(last_year + 1, 1, 1)
    found = set()
    for component in timezone.walk():
        if component.name not in ("STANDARD", "DAYLIGHT"):
            continue
        offset_from, offset_to = component["TZOFFSETFROM"].td, component["TZOFFSETTO"].td
        for onset in _onsets(component, low, high):
            if offset_from != offset_to:
                found.add(((onset - offset_from).replace(tzinfo=UTC), offset_to))
    return sorted(t for t in found if low.replace(tzinfo=UTC) <= t[0] < high.replace(tzinfo=UTC))


def _onsets(component: TimezoneStandard | TimezoneDaylight, low: datetime, high: datetime) -> list[datetime]:
    start = component["DTSTART"].dt
    if "RRULE" in component:
        rule = rrulestr(component["RRULE"].to_ical().decode(), dtstart=start)
        return rule.between(low - timedelta(days=1), high + timedelta(days=1), inc=True)
    rdates = component.get("RDATE", [])
    lists = rdates if isinstance(rdates, list) else [rdates]
    return [start, *(leaf.dt for dates in lists for leaf in dates.dts)]


def check_vtimezone(timezone: Timezone, zone: ZoneInfo, first_year: int, last_year: int) -> None:
    """Refuse a VTIMEZONE that moves the clocks at other instants, or to other offsets, than zoneinfo does."""
    expected = [(t.utc, t.offset_to) for t in zone_transitions(zone, first_year, last_year)]
    actual = vtimezone_transitions(timezone, first_year, last_year)
    if actual != expected:
        missing, extra = sorted(set(expected) - set(actual)), sorted(set(actual) - set(expected))
        raise VtimezoneMismatch(f"VTIMEZONE {zone.key} differs from zoneinfo: missing {missing}, unexpected {extra}")


# ---------------------------------------------------------------- invitations


@dataclass(frozen=True)
class Party:
    name: str
    email: str


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    sequence: int
    status: str  # CONFIRMED | TENTATIVE | CANCELLED
    start: datetime
    end: datetime
    stamp: datetime
    summary: str
    location: str = ""
    description: str = ""
    url: str = ""
    all_day: bool = False  # whole Oslo days (a bed's season), written as dates
    rule: Weekly | None = None  # a weekly series as one recurring event: its RRULE and EXDATEs
    recurrence_id: datetime | None = None  # one occurrence of a series: its start in the series' pattern

    @property
    def transparency(self) -> str:
        """A bed held for a season leaves the grower's days free for everything else; a booked time is busy."""
        return "TRANSPARENT" if self.all_day else "OPAQUE"

    @property
    def days(self) -> tuple[date, date]:
        return rules.local_days(self.start, self.end)


def booking_event(booking: rules.BookingFacts, *, base_url: str, host: str, stamp: datetime) -> CalendarEvent:
    """A booking as its calendar event, the same in an invitation and in a feed, so clients match them by UID."""
    link = rules.manage_url(base_url, booking.id)
    return CalendarEvent(
        uid=rules.booking_uid(booking.id, host),
        sequence=booking.sequence,
        status=rules.calendar_status(booking.status),
        start=booking.start,
        end=booking.end,
        stamp=stamp,
        summary=rules.summary_of(booking),
        location=booking.place.line,
        description="\n\n".join(p for p in (booking.place.access_notes, link) if p),
        url=link,
        all_day=rules.is_all_day(booking),
    )


def invitation(method: str, events: list[CalendarEvent], zone: ZoneInfo, *, organizer: Party, attendee: Party) -> bytes:
    """An iTIP message (RFC 5546): the events in local time with their VTIMEZONE, from the organiser to the attendee.

    Written directly, as the feeds are: icalendar's object model cost most of a mail's composition. The VTIMEZONE
    is icalendar's (checked against zoneinfo), serialised once per zone and span of years."""
    years = [e.start.astimezone(zone).year for e in events] + [e.end.astimezone(zone).year for e in events]
    years += [e.rule.until.astimezone(zone).year for e in events if e.rule]  # a series' last evening needs its year's offsets too
    head = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:{PRODID}\r\nCALSCALE:GREGORIAN\r\nMETHOD:{method}\r\n"
    parties = _parties(organizer, attendee)
    body = "".join(fold(line) + "\r\n" for event in events for line in _event_lines(event, zone, parties))
    return (head + vtimezone_text(zone.key, min(years), max(years)) + body + "END:VCALENDAR\r\n").encode()


@lru_cache(maxsize=64)
def vtimezone_text(zone_key: str, first_year: int, last_year: int) -> str:
    """The verified VTIMEZONE block as the text an invitation carries, written once per zone and span of years."""
    return vtimezone(zone_key, first_year, last_year).to_ical().decode()


@lru_cache(maxsize=256)
def _parties(organizer: Party, attendee: Party) -> tuple[str, str]:
    """The ORGANIZER and ATTENDEE lines, the names as quoted parameters (RFC 6868 for a double quote)."""
    attending = f"{_common_name(attendee)};ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=FALSE:mailto:{attendee.email}"
    return f"ORGANIZER{_common_name(organizer)}:mailto:{organizer.email}", f"ATTENDEE{attending}"


def _common_name(party: Party) -> str:
    return f";CN={param_value(party.name, always_quote=True)}" if party.name else ""


def _event_lines(event: CalendarEvent, zone: ZoneInfo, parties: tuple[str, str]) -> list[str]:
    tzid = f";TZID={zone.key}:"
    lines = ["BEGIN:VEVENT", f"UID:{escape(event.uid)}", f"SEQUENCE:{event.sequence}", f"DTSTAMP:{utc_text(event.stamp)}"]
    if event.all_day:
        first, after = event.days
        lines += [f"DTSTART;VALUE=DATE:{date_text(first)}", f"DTEND;VALUE=DATE:{date_text(after)}"]
    else:
        lines += [f"DTSTART{tzid}{local_text(event.start, zone)}", f"DTEND{tzid}{local_text(event.end, zone)}"]
    if event.rule:  # a series' rule, its EXDATEs in local time as DTSTART is
        lines.append(f"RRULE:FREQ=WEEKLY;INTERVAL={event.rule.every_weeks};UNTIL={utc_text(event.rule.until)}")
        if event.rule.exdates:
            lines.append(f"EXDATE{tzid}" + ",".join(local_text(d, zone) for d in event.rule.exdates))
    if event.recurrence_id:  # the occurrence of a series this event is
        lines.append(f"RECURRENCE-ID{tzid}{local_text(event.recurrence_id, zone)}")
    lines += [f"SUMMARY:{escape(event.summary)}", f"STATUS:{event.status}", f"TRANSP:{event.transparency}"]
    lines += [f"{n}:{escape(v)}" for n, v in (("LOCATION", event.location), ("DESCRIPTION", event.description)) if v]
    if event.url:
        lines.append(f"URL:{event.url}")
    return [*lines, *parties, "END:VEVENT"]


def utc_text(moment: datetime) -> str:
    m = moment.astimezone(UTC)
    return f"{m.year:04d}{m.month:02d}{m.day:02d}T{m.hour:02d}{m.minute:02d}{m.second:02d}Z"


def local_text(moment: datetime, zone: ZoneInfo) -> str:
    """A moment as the wall time of `zone`, for a value written with that zone's TZID."""
    m = moment.astimezone(zone)
    return f"{m.year:04d}{m.month:02d}{m.day:02d}T{m.hour:02d}{m.minute:02d}{m.second:02d}"


def date_text(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    return f"PT{seconds // 3600}H" if seconds % 3600 == 0 else f"PT{seconds}S"


def escape(text: str) -> str:
    """TEXT values escape backslash, semicolon, comma and line breaks (RFC 5545 3.3.11)."""
    if not ("\\" in text or ";" in text or "," in text or "\n" in text or "\r" in text):  # a feed asks 10,000 times
        return text
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after CRLF and a space, never inside a character."""
    if len(line) <= 75 and line.isascii():  # most lines: no need to count octets
        return line
    data = line.encode()
    if len(data) <= 75:
        return line
    parts, start, limit = [], 0, 75
    while len(data) - start > limit:
        end = start + limit
        while data[end] & 0xC0 == 0x80:  # a UTF-8 continuation byte: cut before the character it belongs to
            end -= 1
        parts.append(data[start:end])
        start, limit = end, 74  # a continuation line's leading space is its 75th octet
    parts.append(data[start:])
    return b"\r\n ".join(parts).decode()


def year_span(moments: list[datetime], zone: ZoneInfo, *, today: date) -> tuple[int, int]:
    years = [m.astimezone(zone).year for m in moments] or [today.year]
    return min(years), max(years)
