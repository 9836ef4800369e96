"""Mail: a notification rendered in the recipient's language with its calendar part, written in its wire form."""

from __future__ import annotations

import base64
import binascii
import random
import re
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.utils import format_datetime, parseaddr
from functools import lru_cache
from typing import NamedTuple

from babel.numbers import format_decimal
from jinja2 import BaseLoader, Environment, PackageLoader, StrictUndefined, Template, select_autoescape
from markupsafe import escape

from booking.rules import STATUS_WORDS
from booking.seasons import room_rules
from booking.seasons import rules as seasons
from infra.i18n import Speaker
from infra.mail_transport import Outgoing
from infra.settings import TIMEZONE, Settings
from notifications import calendar, recurrence, rules
from notifications.rules import BookingFacts

# The templates say their words as _("English"), from the one catalogue in the recipient's language (infra.i18n).
SAID = re.compile(r'\{\{ _\("([^"\\{}]*)"\) \}\}')  # {{ _("plain words") }}: no values to fill in


class SaidLoader(BaseLoader):
    """The mail templates with each `{{ _("plain words") }}` already said in one language, as the template would say
    it (escaped in HTML): a mail looks its words up once per language, not twenty times per mail. Words with values
    to fill in (`_("{count} dates…", count=…)`) are still said when the mail is written."""

    def __init__(self, language: str) -> None:
        self.language, self.templates = language, PackageLoader("notifications", "templates")

    def get_source(self, environment: Environment, template: str) -> tuple[str, str | None, Callable[[], bool] | None]:
        source, filename, uptodate = self.templates.get_source(environment, template)
        speak, html = Speaker(self.language), template.endswith(".html")

        def said(words: re.Match) -> str:
            text = speak(words.group(1))
            if "{" in text or "}" in text:  # a translation that would read as template syntax is said at run time
                return words.group(0)
            return str(escape(text)) if html else text

        return SAID.sub(said, source), filename, uptodate


@lru_cache(maxsize=8)
def templates_in(language: str) -> Environment:
    return Environment(
        loader=SaidLoader(language),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # the templates ship with the code: no stat() of each one per mail
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
        return organizer_of(self.mail_from)


@lru_cache(maxsize=8)
def organizer_of(mail_from: str) -> calendar.Party:
    name, email = parseaddr(mail_from)
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


def render(letter: Letter, site: Site) -> Outgoing:
    """The mail for one notification: plain text and HTML, and for booking news an invitation to the calendar.

    Written straight to its wire form (see "the wire" below): the standard library's EmailMessage parses and refolds
    every header it is given and again every header it writes, which cost most of a mail's composition."""
    meaning, speak = rules.meaning_of(letter.kind), speaker(letter.language)
    context = context_of(letter, site, speak)
    alternative = [
        text_part("plain", template(f"{meaning.template}.txt", speak.language).render(context)),
        text_part("html", template(f"{meaning.template}.html", speak.language).render(context)),
    ]
    if meaning.method:
        ics = calendar.invitation(
            meaning.method, calendar_events(letter, site), TIMEZONE, organizer=site.organizer, attendee=letter.recipient
        )
        # The iTIP part calendar clients act on, and the same calendar as an .ics file for everyone else.
        alternative.append(text_part("calendar", ics.decode(), params=f'; method="{meaning.method}"', cte="quoted-printable"))
        body = multipart(
            "mixed", [multipart("alternative", alternative), attachment(ics, "application/ics", f"booking-{letter.booking.id}.ics")]
        )
    else:
        body = multipart("alternative", alternative)
    sender, from_line = sender_of(site.mail_from)
    head = [from_line, *envelope(letter, site, context["subject"]), "MIME-Version: 1.0", body.head, f"Content-Language: {letter.language}"]
    wire = ("\n".join(head) + "\n\n" + body.body).replace("\n", "\r\n").encode()
    message_id = rules.message_id(letter.notification_id, site.host)
    return Outgoing(wire, sender=sender, recipients=(addr_spec(letter.recipient.email),), message_id=message_id, eight_bit=body.eight_bit)


@lru_cache(maxsize=8)
def speaker(language: str) -> Speaker:
    return Speaker(language)


@lru_cache(maxsize=64)
def template(name: str, language: str) -> Template:
    return templates_in(language).get_template(name)


# Which side a line starts on, for the inline styles mail clients keep (many ignore logical properties and `start`).
SIDES = {
    "ltr": {"start": "left", "row_head": "text-align:left;padding:4px 16px 4px 0;vertical-align:top;"},
    "rtl": {"start": "right", "row_head": "text-align:right;padding:4px 0 4px 16px;vertical-align:top;"},
}


def context_of(letter: Letter, site: Site, speak: Speaker) -> dict:
    """What the templates fill in, already in the recipient's language and local time."""
    booking, details = letter.booking, letter.details
    wording = rules.wording_of(letter.kind, details)
    season = str(details.get("season") or "")
    what = season if rules.meaning_of(letter.kind).template in ("season", "room_season") or not booking else what_of(booking, letter)
    what = str(details.get("association") or "") or what  # an invitation is told by its association's name
    if "waiting" in details:  # a staff digest is told by how many requests wait
        what = speak.number(int(details["waiting"]), 0)
    deadline = details.get("deadline")
    name = letter.recipient.name
    return {
        "_": speak,
        "lang": speak.language,
        "dir": speak.direction,
        **SIDES[speak.direction],
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
        # A weekly booking's mail opens the series' page: every date, the ones it could not get and why, cancel the rest.
        "series_link": f"{site.base_url}/series/{details['series_id']}"
        if letter.kind == "series_booked" and details.get("series_id")
        else "",
        "association": str(details.get("association") or ""),
        "role": str(details.get("role") or ""),
        "b": booking and booking_context(booking, speak, letter),
        "wishes": room_wishes(details, speak),
        "requests": requests_waiting(details, site, speak),
        "more": int(details.get("waiting") or 0) - len(details.get("requests") or []),
    }


def requests_waiting(details: dict, site: Site, speak: Speaker) -> list[dict]:
    """A staff digest's requests in the reader's words, each linked to its card on the requests page."""
    return [
        {
            "what": str(r.get("resource") or ""),
            "when": speak.span(datetime.fromisoformat(r["start"]), datetime.fromisoformat(r["end"])),
            "association": str(r.get("association") or ""),
            "asker": str(r.get("asker") or ""),
            "attendees": r.get("attendees"),
            "quantity": int(r.get("quantity") or 1),
            "link": f"{site.base_url}{details.get('path') or '/'}#booking-{int(r['id'])}",
        }
        for r in details.get("requests") or []
    ]


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
    status = STATUS_WORDS.get(booking.status)
    what = what_of(booking, letter)
    return {
        "what": what,
        "title": booking.title if booking.title != what else "",
        "kit_items": [speak(rules.KIT_ITEM, quantity=b.quantity, name=b.place.resource) for b in letter.items],
        "when": when_of(booking, speak),
        "place": booking.place.line,
        "access": booking.place.access_notes,
        "association": booking.association,
        "status": speak(status) if status else "",
    }


def plain_name(name: str) -> str:
    """A name with each control character (CR, LF, tab…) as a space: a name stored before names were checked still mails."""
    if name.isprintable() and "  " not in name and name.strip(" ") == name:  # nothing to change (the common case, at once)
        return name
    return " ".join("".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in name).split())


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


# ---------------------------------------------------------------- the wire
# What email.message.EmailMessage would write, written directly: the same MIME tree (multipart/mixed holding the
# alternative of plain text, HTML and the text/calendar part, and the .ics attachment), the standard library's
# choice of transfer encoding for each text, headers that are not ASCII as RFC 2047 "B" encoded words, every header
# line within 78 characters. Lines end in LF while written and in CRLF on the wire. tests/unit/test_mail_speed.py
# reads the result back with the standard library's parser.

MAX_LINE = 78  # RFC 5322's SHOULD, as the standard library folds and chooses encodings by
SPECIALS = re.compile(r'[][\\()<>@,:;".]')  # a display name holding one of these is quoted
ATOM = r'[^\s()<>\[\]:;@\\,."\x00-\x1f\x7f]+'
DOT_ATOM = re.compile(rf"{ATOM}(?:\.{ATOM})*")  # a local part that needs no quotes (UTF-8 allowed, as RFC 6532 does)


class Part(NamedTuple):
    head: str  # its header lines, LF between them
    body: str  # encoded, LF line ends, ending in LF
    eight_bit: bool  # it (or a part inside it) is sent 8bit: the server must take BODY=8BITMIME


def text_part(subtype: str, text: str, *, params: str = "", cte: str | None = None) -> Part:
    cte, body = encoded_text(text, cte)
    return Part(f'Content-Type: text/{subtype}; charset="utf-8"{params}\nContent-Transfer-Encoding: {cte}', body, cte == "8bit")


def encoded_text(text: str, cte: str | None = None) -> tuple[str, str]:
    """The text in UTF-8 with LF line ends, by the standard library's rule (email.contentmanager): as it is (7bit,
    or 8bit) when every line fits in 78 octets, else quoted-printable, or base64 where that is shorter."""
    lines = text.encode().splitlines()
    body = b"\n".join(lines) + b"\n"
    if cte is None:
        if max(map(len, lines), default=0) <= MAX_LINE:
            return ("7bit" if body.isascii() else "8bit"), body.decode()
        sniff = b"\n".join(lines[:10]) + b"\n"
        cte = "base64" if len(binascii.b2a_qp(sniff, istext=True)) > len(binascii.b2a_base64(sniff)) else "quoted-printable"
    if cte == "quoted-printable":
        return cte, binascii.b2a_qp(body, istext=True).decode()
    return "base64", base64.encodebytes(body).decode()


def attachment(data: bytes, content_type: str, filename: str) -> Part:
    head = f'Content-Type: {content_type}\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename="{filename}"'
    return Part(head, base64.encodebytes(data).decode(), False)


def multipart(subtype: str, parts: list[Part]) -> Part:
    boundary = _boundary()
    while any(boundary in p.body for p in parts):  # as the standard library checks (fifteen "=" come out of no QP or base64)
        boundary = _boundary()
    delimiter = f"\n--{boundary}\n"
    body = f"--{boundary}\n" + delimiter.join(f"{p.head}\n\n{p.body}" for p in parts) + f"\n--{boundary}--\n"
    return Part(f'Content-Type: multipart/{subtype};\n boundary="{boundary}"', body, any(p.eight_bit for p in parts))


def _boundary() -> str:
    return f"==============={random.randrange(sys.maxsize):019d}=="


def envelope(letter: Letter, site: Site, subject: str) -> list[str]:
    """The headers after From: whom to, what about, when, and the Message-ID a re-sent mail is known by."""
    return [
        to_line(letter.recipient),
        unstructured("Subject", subject),
        f"Date: {format_datetime(letter.created_at)}",
        f"Message-ID: {rules.message_id(letter.notification_id, site.host)}",
        "Auto-Submitted: auto-generated",  # RFC 3834: no vacation replies to the booking desk
    ]


@lru_cache(maxsize=8)
def sender_of(mail_from: str) -> tuple[str, str]:
    """The envelope sender and the From line of the configured sender, written once."""
    name, address = parseaddr(mail_from)
    address = addr_spec(address or mail_from.strip())
    return address, f"From: {mailbox(plain_name(name), address)}"


def to_line(party: calendar.Party) -> str:
    """The To line, the recipient named only when that fits on one line (78 characters): a longer name is left out
    rather than folded, and the greeting still names the person."""
    address = addr_spec(party.email)
    line = f"To: {mailbox(party.name, address)}"
    return line if "\n" not in line and len(line) <= MAX_LINE else f"To: {address}"


def mailbox(name: str, address: str) -> str:
    """`name <address>`: an ASCII name as an atom or a quoted string, any other (or one that reads like an encoded
    word) as RFC 2047 encoded words; no name, the bare address."""
    if not name:
        return address
    if name.isascii() and "=?" not in name:
        shown = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"' if SPECIALS.search(name) else name
    else:
        shown = "\n ".join(encoded_words(name))
    return f"{shown} <{address}>"


def addr_spec(email: str) -> str:
    """The address as a header and the SMTP envelope write it: its local part quoted when it is not a dot-atom."""
    local, at, domain = email.rpartition("@")
    if not at or DOT_ATOM.fullmatch(local):
        return email
    return '"' + local.replace("\\", "\\\\").replace('"', '\\"') + '"@' + domain


def unstructured(name: str, value: str) -> str:
    """A header of free text (the subject): as it is when ASCII and short, else folded, non-ASCII as encoded words."""
    value = plain_name(value)  # a subject carries names people typed: no line break of theirs starts a header
    if not value.isascii() or "=?" in value:
        return f"{name}: " + "\n ".join(encoded_words(value))
    lines = [f"{name}:"]
    for word in value.split(" "):  # folded before a space, which the reader's unfolding keeps
        if len(lines[-1]) + 1 + len(word) > MAX_LINE and lines[-1] != f"{name}:":
            lines.append("")
        lines[-1] += " " + word
    return "\n".join(lines)


WORD_OCTETS = 42  # of UTF-8 in one encoded word: 68 characters, so "Subject: " and one word fit in 78


def encoded_words(text: str) -> list[str]:
    """RFC 2047 "B" encoded words for the text, each holding whole characters; the reader joins them without the
    folding white space between them."""
    data = text.encode()
    if len(data) <= WORD_OCTETS:
        chunks = [data]
    else:
        chunks, chunk = [], b""
        for char in text:
            octets = char.encode()
            if len(chunk) + len(octets) > WORD_OCTETS:
                chunks.append(chunk)
                chunk = b""
            chunk += octets
        chunks.append(chunk)
    return [f"=?utf-8?b?{binascii.b2a_base64(c, newline=False).decode()}?=" for c in chunks]
