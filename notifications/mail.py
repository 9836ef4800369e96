"""Mail: a notification rendered in the recipient's language with its calendar part, and the transports that send it."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from babel.numbers import format_decimal
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from booking.seasons import room_rules
from booking.seasons import rules as seasons
from infra.i18n import Speaker
from infra.settings import TIMEZONE, Settings
from notifications import calendar, recurrence, rules
from notifications.rules import BookingFacts

# The templates say their words as _("English"), from the one catalogue in the recipient's language (infra.i18n).
TEMPLATES = Environment(
    loader=PackageLoader("notifications", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Site:
    base_url: str
    mail_from: str

    @classmethod
    def of(cls, settings: Settings) -> Site:
        return cls(settings.base_url, settings.mail_from)

    @property
    def host(self) -> str:
        return rules.host_of(self.base_url)

    @property
    def organizer(self) -> calendar.Party:
        name, email = parseaddr(self.mail_from)
        return calendar.Party(name, email)


@dataclass(frozen=True)
class Letter:
    """Everything one mail says, as plain values read from the outbox row and what it refers to."""

    notification_id: int
    kind: str
    created_at: datetime
    recipient: calendar.Party
    language: str
    booking: BookingFacts | None  # None only for news of a season as a whole (results, renewals)
    details: dict = field(default_factory=dict)  # the outbox payload: reason, deadline, season, outcome…
    series: tuple[BookingFacts, ...] = ()
    items: tuple[BookingFacts, ...] = ()  # a kit's loans, for news told once for the whole kit
    recurring: recurrence.Series | None = None  # the series told of, or the one the booking is an occurrence of


def render(letter: Letter, site: Site) -> EmailMessage:
    """The mail for one notification: plain text and HTML, and for booking news an invitation to the calendar."""
    meaning = rules.meaning_of(letter.kind)
    context = context_of(letter, site, Speaker(letter.language))
    message = envelope(letter, site, context["subject"])
    message.set_content(TEMPLATES.get_template(f"{meaning.template}.txt").render(context))
    message.add_alternative(TEMPLATES.get_template(f"{meaning.template}.html").render(context), subtype="html")
    if meaning.method:
        attach_calendar(message, letter, site, meaning.method)
    message["Content-Language"] = letter.language  # after the parts are made: making them moves Content-* headers inward
    return message


def context_of(letter: Letter, site: Site, speak: Speaker) -> dict:
    """What the templates fill in, already in the recipient's language and local time."""
    booking, details = letter.booking, letter.details
    wording = rules.wording_of(letter.kind, details)
    season = str(details.get("season") or "")
    what = season if rules.meaning_of(letter.kind).template in ("season", "room_season") or not booking else what_of(booking, letter)
    what = str(details.get("association") or "") or what  # an invitation is told by its association's name
    deadline = details.get("deadline")
    name = letter.recipient.name
    return {
        "_": speak,
        "lang": letter.language,
        "greeting": speak(rules.GREETING_BY_NAME, name=name) if name else speak(rules.GREETING),
        "subject": speak(wording.subject, what=what, when=short_when(booking, speak) if booking else ""),
        "headline": speak(wording.headline),
        "reason": str(details.get("reason") or ""),
        "outcome": season_outcome(details, booking, speak),
        "message": str(details.get("message_to_resident") or ""),  # a season adjustment's words staff wrote to the resident
        "refused": int(details.get("refused") or 0),
        "has_calendar": rules.meaning_of(letter.kind).method is not None,
        "season": season,
        "deadline": speak.when(datetime.fromisoformat(deadline)) if deadline else "",
        "series": [speak.span(b.start, b.end) for b in letter.series],
        "link": rules.manage_url(site.base_url, booking.id) if booking else f"{site.base_url}{details.get('path') or '/'}",
        "association": str(details.get("association") or ""),
        "role": str(details.get("role") or ""),
        "b": booking and booking_context(booking, speak, letter),
        "wishes": room_wishes(details, speak),
    }


def room_wishes(details: dict, speak: Speaker) -> list[dict]:
    """A room season's result, wish by wish, in the reader's words: the outcome with its times by room name."""
    told = []
    for wish in details.get("wishes") or []:
        words = room_rules.told(str(wish.get("outcome") or ""))
        slots = ", ".join(_slot_words(x, speak) for x in wish.get("slots") or [])
        cap = details.get("cap")
        outcome = speak(words, slots=slots, cap=format_decimal(cap, locale=speak.locale) if cap else "") if words else ""
        told.append(
            {
                "rank": wish.get("rank"),
                "activity": str(wish.get("activity") or ""),
                "outcome": outcome,
                "message": str(wish.get("message") or ""),
            }
        )
    return told


def _slot_words(slot: dict, speak: Speaker) -> str:
    said, values = room_rules.slot_told(
        room_rules.Slot(slot["room"], slot["weekday"], slot["start"], slot["minutes"], slot["every_weeks"], slot["parity"])
    )
    return speak(said, weekday=speak(room_rules.WEEKDAY_WORDS[slot["weekday"]]), room=str(slot.get("room_name") or ""), **values)


def season_outcome(details: dict, booking: BookingFacts | None, speak: Speaker) -> str:
    """A season result's outcome as its code tells it, the bed by its name: never the audit text or a staff note."""
    bed = booking.place.resource if booking else ""
    said = seasons.told(str(details.get("reason_code") or ""), details.get("reason_params") or {}, bed=bed)
    return speak(said[0], **said[1]) if said else ""


def what_of(booking: BookingFacts, letter: Letter) -> str:
    """What a booking is called: its resource, or for a kit's news the kit (a kit loan is titled by its kit)."""
    if not letter.items:
        return booking.place.resource
    return str(letter.details.get("kit") or booking.title or booking.place.resource)


def short_when(booking: BookingFacts, speak: Speaker) -> str:
    return speak.short_day(booking.start) if rules.is_all_day(booking) else speak.short_when(booking.start)


def when_of(booking: BookingFacts, speak: Speaker) -> str:
    """A booking's time as a person reads it; a bed's season as its first and last day, not midnight to midnight."""
    if not rules.is_all_day(booking):
        return speak.span(booking.start, booking.end)
    first, after = rules.local_days(booking.start, booking.end)
    return f"{speak.day(first)} – {speak.day(after - timedelta(days=1))}"


def booking_context(booking: BookingFacts, speak: Speaker, letter: Letter) -> dict:
    """The booking as the templates tell it: what, when and where (a kit's items), and its status in words."""
    status = booking.status  # a status with no words of its own (an offer's) is told by its code
    what = what_of(booking, letter)
    return {
        "what": what,
        "title": booking.title if booking.title != what else "",
        "kit_items": [speak(rules.KIT_ITEM, quantity=b.quantity, name=b.place.resource) for b in letter.items],
        "when": when_of(booking, speak),
        "place": booking.place.line,
        "access": booking.place.access_notes,
        "association": booking.association,
        "status": speak(rules.STATUSES[status]) if status in rules.STATUSES else status,
    }


def plain_name(name: str) -> str:
    """A name with each control character (CR, LF, tab…) as a space: a name stored before names were checked still mails."""
    return " ".join("".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in name).split())


def recipient_of(party: calendar.Party) -> Address:
    """The To address, named only when that fits on one header line.

    Python's folding of a long display name drops its quotes, so a name with commas would read as several
    addresses; the greeting still names the person.
    """
    named = Address(plain_name(party.name), addr_spec=party.email)
    probe = EmailMessage()
    probe["To"] = named
    return named if probe["To"].fold(policy=probe.policy).count("\n") == 1 else Address(addr_spec=party.email)


def envelope(letter: Letter, site: Site, subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = site.mail_from
    message["To"] = recipient_of(letter.recipient)
    message["Subject"] = subject
    message["Date"] = format_datetime(letter.created_at)
    message["Message-ID"] = rules.message_id(letter.notification_id, site.host)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to the booking desk
    return message


def calendar_events(letter: Letter, site: Site) -> list[calendar.CalendarEvent]:
    """Each booking as its event; but a series as one recurring event, and news of one of its bookings as news of
    that event's occurrence, so that calendar clients match the two."""
    bookings = letter.series or (letter.booking,)
    events = [calendar.booking_event(b, base_url=site.base_url, host=site.host, stamp=letter.created_at) for b in bookings]
    series = letter.recurring
    if series is None or not series.spans or any(e.all_day for e in events):  # a bed's season is days, not a weekly time
        return events
    pattern = recurrence.pattern_of(series.untouched or series.spans, series.every_weeks, TIMEZONE)
    uid = rules.series_uid(series.id, site.host)
    if letter.series or "series_id" in letter.details:  # news of the whole series; with none of it left, the series as it ended
        return recurring_events(events, pattern, uid) if letter.series else [replace(events[0], uid=uid)]
    slot = pattern.slot_of(events[0].start)  # None: moved to a day the series skips, so it was sent as its own event
    return [replace(events[0], uid=uid, recurrence_id=slot)] if slot else events


def recurring_events(events: list[calendar.CalendarEvent], pattern: recurrence.Pattern, uid: str) -> list[calendar.CalendarEvent]:
    """A series' occurrences as one recurring event, with an exception for each one moved within its day (or in
    another state), and an event of its own for each one moved to a day the series skips."""
    placed = recurrence.place(pattern, [(e.start, e.end) for e in events])
    if not placed.slots:
        return events
    rule = recurrence.weekly(pattern, list(placed.slots))
    on_slots = [events[i] for i in placed.slots.values()]
    sequence = min(e.sequence for e in on_slots)  # news of any one occurrence since then has a higher one
    master = replace(on_slots[0], uid=uid, sequence=sequence, start=rule.start, end=rule.end, rule=rule)
    exceptions = [
        replace(events[i], uid=uid, recurrence_id=slot)
        for slot, i in placed.slots.items()
        if (events[i].start, events[i].end, events[i].status) != (*pattern.at(slot.date()), master.status)
    ]
    return [master, *exceptions, *(events[i] for i in placed.apart)]


def attach_calendar(message: EmailMessage, letter: Letter, site: Site, method: str) -> None:
    """The iTIP part calendar clients act on, and the same calendar as an .ics file for everyone else."""
    ics = calendar.invitation(method, calendar_events(letter, site), TIMEZONE, organizer=site.organizer, attendee=letter.recipient)
    message.add_alternative(ics.decode(), subtype="calendar", params={"method": method}, cte="quoted-printable")
    message.add_attachment(ics, maintype="application", subtype="ics", filename=f"booking-{letter.booking.id}.ics")


# ---------------------------------------------------------------- transports
