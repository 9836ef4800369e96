"""Published calendars written as text straight from rows: a person's or association's bookings, a resource's busy times."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from notifications import rules
from notifications.calendar import PRODID, date_text, duration, escape, fold

# A booking as a feed reads it: id, title, start, end, last change (those three already in iCalendar's UTC text, as the
# database formats them: converting 30,000 times in Python cost more than the rest of a large feed), status, sequence,
# resource id.
BookingRow = tuple[int, str, str, str, str, str, int, int]
Places = Mapping[int, tuple[rules.Place, str]]  # resource id: its place and its kind
BusyBlock = tuple[str, str, str, int, str]  # uid, start, end, sequence, stamp; times already in iCalendar UTC form
ClosedBlock = tuple[str, str, str, str, str]  # uid, start, end, summary, stamp; times in iCalendar UTC form
UTC_TEXT = "%Y%m%dT%H%M%SZ"


def _calendar_head(name: str, refresh: timedelta) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        fold(f"NAME:{escape(name)}"),
        fold(f"X-WR-CALNAME:{escape(name)}"),
        f"REFRESH-INTERVAL;VALUE=DURATION:{duration(refresh)}",
        f"X-PUBLISHED-TTL:{duration(refresh)}",
    ]
    return "".join(line + "\r\n" for line in lines)


class _Resource:
    """What every booking of one resource writes alike, escaped and folded once for all of them."""

    def __init__(self, place: rules.Place, kind: str) -> None:
        self.name = escape(place.resource)
        self.location = fold(f"LOCATION:{escape(place.line)}") + "\r\n" if place.line else ""
        self.notes = escape(place.access_notes + "\n\n") if place.access_notes else ""
        self.all_day = rules.shown_as_days(kind)
        self.transp = "TRANSP:TRANSPARENT\r\n" if self.all_day else "TRANSP:OPAQUE\r\n"

    def span(self, start: str, end: str) -> str:
        if not self.all_day:
            return f"DTSTART:{start}\r\nDTEND:{end}\r\n"
        first, after = rules.local_days(*(datetime.strptime(t, UTC_TEXT).replace(tzinfo=UTC) for t in (start, end)))
        return f"DTSTART;VALUE=DATE:{date_text(first)}\r\nDTEND;VALUE=DATE:{date_text(after)}\r\n"


def booking_feed(name: str, rows: Sequence[BookingRow], places: Places, *, base_url: str, host: str, refresh: timedelta) -> bytes:
    """A published calendar of bookings (times in UTC), each event as its invitation writes it (`calendar.booking_event`)
    so that clients match them by UID: what every event of a resource shares is written once."""
    resources = {resource_id: _Resource(place, kind) for resource_id, (place, kind) in places.items()}
    uid, link = f"@{escape(host)}", f"{base_url}/bookings/"
    said, statuses = escape(link), {}
    parts = [_calendar_head(name, refresh)]
    for id_, title, start, end, changed, status, sequence, resource_id in rows:
        r = resources[resource_id]
        if (shown := statuses.get(status)) is None:
            shown = statuses[status] = f"STATUS:{rules.calendar_status(status)}\r\n"
        summary = f"{r.name}: {escape(title)}" if title else r.name
        parts.append(
            f"BEGIN:VEVENT\r\n{fold(f'UID:booking-{id_}{uid}')}\r\nSEQUENCE:{sequence}\r\nDTSTAMP:{changed}\r\n{r.span(start, end)}"
            f"{fold('SUMMARY:' + summary)}\r\n{shown}{r.transp}{r.location}{fold(f'DESCRIPTION:{r.notes}{said}{id_}')}\r\n"
            f"{fold(f'URL:{link}{id_}')}\r\nEND:VEVENT\r\n"
        )
    parts.append("END:VCALENDAR\r\n")
    return "".join(parts).encode()


def busy_feed(name: str, blocks: list[BusyBlock], *, summary: str, refresh: timedelta, closed: Sequence[ClosedBlock] = ()) -> bytes:
    """Busy time only, one word and no one's details: the shape a 10,000-booking public feed is written fast in; and the
    few closures, each with the reason staff gave it."""
    what = fold(f"SUMMARY:{escape(summary)}")
    events = "".join(
        f"BEGIN:VEVENT\r\n{fold('UID:' + uid)}\r\nSEQUENCE:{sequence}\r\nDTSTAMP:{stamp}\r\nDTSTART:{start}\r\n"
        f"DTEND:{end}\r\n{what}\r\nSTATUS:CONFIRMED\r\nTRANSP:OPAQUE\r\nEND:VEVENT\r\n"
        for uid, start, end, sequence, stamp in blocks
    )
    closures = "".join(
        f"BEGIN:VEVENT\r\n{fold('UID:' + uid)}\r\nSEQUENCE:0\r\nDTSTAMP:{stamp}\r\nDTSTART:{start}\r\n"
        f"DTEND:{end}\r\n{fold('SUMMARY:' + escape(said))}\r\nSTATUS:CONFIRMED\r\nTRANSP:OPAQUE\r\nEND:VEVENT\r\n"
        for uid, start, end, said, stamp in closed
    )
    return (_calendar_head(name, refresh) + events + closures + "END:VCALENDAR\r\n").encode()
