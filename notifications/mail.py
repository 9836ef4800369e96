"""Mail: a notification rendered in the recipient's language with its calendar part, and the transports that send it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
from babel.dates import format_date, format_skeleton, format_time
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from config.settings import TIMEZONE, Settings
from notifications import calendar, rules
from notifications.rules import BookingFacts

LOCALES = {"nb": "nb_NO", "en": "en_GB"}  # en_GB: 24-hour clock and day-month order, as read in Norway
TEMPLATES = Environment(
    loader=PackageLoader("notifications", "templates"), autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
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


def when_text(start: datetime, end: datetime, language: str) -> str:
    """Local time as the recipient's locale writes it: one date for a same-day span, two for a loan over days."""
    locale, s, e = LOCALES[language], start.astimezone(TIMEZONE), end.astimezone(TIMEZONE)
    if s.date() == e.date():
        return f"{format_date(s, 'full', locale=locale)}, {format_time(s, 'short', locale=locale)}–{format_time(e, 'short', locale=locale)}"
    return f"{moment_text(s, language)} – {moment_text(e, language)}"


def moment_text(moment: datetime, language: str) -> str:
    local, locale = moment.astimezone(TIMEZONE), LOCALES[language]
    return f"{format_date(local, 'full', locale=locale)} {format_time(local, 'short', locale=locale)}"


def short_when(moment: datetime, language: str) -> str:
    local = moment.astimezone(TIMEZONE)
    locale = LOCALES[language]
    return f"{format_skeleton('MMMEd', local, locale=locale)} {format_time(local, 'short', locale=locale)}"


def render(letter: Letter, site: Site) -> EmailMessage:
    """The mail for one notification: plain text and HTML, and for booking news an invitation to the calendar."""
    meaning = rules.meaning_of(letter.kind)
    words = TEMPLATES.get_template(f"{letter.language}/words.j2").module
    context = context_of(letter, site, words)
    message = envelope(letter, site, context["subject"])
    message.set_content(TEMPLATES.get_template(f"{meaning.template}.txt").render(context))
    message.add_alternative(TEMPLATES.get_template(f"{meaning.template}.html").render(context), subtype="html")
    if meaning.method:
        attach_calendar(message, letter, site, meaning.method)
    message["Content-Language"] = letter.language  # after the parts are made: making them moves Content-* headers inward
    return message


def context_of(letter: Letter, site: Site, words: object) -> dict:
    """What the templates fill in, already in the recipient's language and local time."""
    booking, details, language = letter.booking, letter.details, letter.language
    wording = rules.wording_of(letter.kind, details)
    wording = wording if wording in words.subjects else letter.kind  # an outcome with no words of its own reads generally
    season = str(details.get("season") or "")
    what = season if rules.meaning_of(letter.kind).template == "season" or not booking else booking.place.resource
    when = short_when(booking.start, language) if booking else ""
    deadline = details.get("deadline")
    return {
        "lang": language, "w": words, "kind": wording, "name": letter.recipient.name or letter.recipient.email,
        "subject": words.subjects[wording] % {"what": what, "when": when}, "reason": str(details.get("reason") or ""),
        "refused": int(details.get("refused") or 0), "has_calendar": rules.meaning_of(letter.kind).method is not None,
        "season": season, "deadline": moment_text(datetime.fromisoformat(deadline), language) if deadline else "",
        "series": [when_text(b.start, b.end, language) for b in letter.series],
        "link": rules.manage_url(site.base_url, booking.id) if booking else f"{site.base_url}/",
        "b": booking and {"what": booking.place.resource, "title": booking.title, "when": when_text(booking.start, booking.end, language),
                          "place": booking.place.line, "access": booking.place.access_notes, "association": booking.association,
                          "status": booking.status},
    }


def envelope(letter: Letter, site: Site, subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = site.mail_from
    message["To"] = Address(letter.recipient.name, addr_spec=letter.recipient.email)
    message["Subject"] = subject
    message["Date"] = format_datetime(letter.created_at)
    message["Message-ID"] = rules.message_id(letter.notification_id, site.host)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to the booking desk
    return message


def calendar_events(letter: Letter, site: Site) -> list[calendar.CalendarEvent]:
    bookings = letter.series or (letter.booking,)
    return [calendar.booking_event(b, base_url=site.base_url, host=site.host, stamp=letter.created_at) for b in bookings]


def attach_calendar(message: EmailMessage, letter: Letter, site: Site, method: str) -> None:
    """The iTIP part calendar clients act on, and the same calendar as an .ics file for everyone else."""
    ics = calendar.invitation(method, calendar_events(letter, site), TIMEZONE, organizer=site.organizer, attendee=letter.recipient)
    message.add_alternative(ics.decode(), subtype="calendar", params={"method": method}, cte="quoted-printable")
    message.add_attachment(ics, maintype="application", subtype="ics", filename=f"booking-{letter.booking.id}.ics")


# ---------------------------------------------------------------- transports

Send = Callable[[EmailMessage], Awaitable[None]]


class SmtpTransport:
    """ALLMENNING_SMTP_URL: smtp://host:port, smtp://user:password@host:port?starttls=true, or smtps://host:port."""

    def __init__(self, url: str, *, timeout: float = 30) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError(f"ALLMENNING_SMTP_URL must start with smtp:// or smtps://, not {parts.scheme}://")
        query = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
        self.use_tls = parts.scheme == "smtps"
        self.start_tls = query.get("starttls") in ("true", "1", "yes", "on")
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.use_tls else 587 if self.start_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Send]:
        """One SMTP conversation for a batch of mails."""
        smtp = aiosmtplib.SMTP(hostname=self.host, port=self.port, username=self.username, password=self.password,
                               use_tls=self.use_tls, start_tls=self.start_tls, timeout=self.timeout)
        await smtp.connect()
        try:
            async def send(message: EmailMessage) -> None:
                await smtp.send_message(message)

            yield send
        finally:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError):
                smtp.close()


class FolderTransport:
    """Without SMTP, each mail lands as an .eml file named by its Message-ID, so a re-send overwrites, not repeats."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Send]:
        self.folder.mkdir(parents=True, exist_ok=True)

        async def send(message: EmailMessage) -> None:
            name = (message["Message-ID"] or make_msgid()).strip("<>").replace("@", "_at_").replace("/", "_")
            partial = self.folder / f".{name}.tmp"
            partial.write_bytes(bytes(message))
            partial.replace(self.folder / f"{name}.eml")  # a reader of the folder never sees half a mail

        yield send


Transport = SmtpTransport | FolderTransport


def transport_for(settings: Settings) -> Transport:
    return SmtpTransport(settings.smtp_url) if settings.smtp_url else FolderTransport(settings.mail_dir)


async def deliver_now(settings: Settings, message: EmailMessage) -> None:
    """For mail that cannot wait for the outbox, such as a sign-in link: sent at once, by SMTP or into the folder."""
    async with transport_for(settings).connect() as send:
        await send(message)


def failure_of(exc: BaseException) -> tuple[bool, str]:
    """(permanent, what went wrong): a refused recipient or message stays refused; the server's own trouble passes."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        return all(rules.is_permanent_smtp_code(c) for c in codes), f"recipients refused: {exc}"
    if isinstance(exc, aiosmtplib.SMTPDataError):
        return rules.is_permanent_smtp_code(exc.code), f"message refused: {exc.code} {exc.message}"
    return False, f"{type(exc).__name__}: {exc}"


def breaks_connection(exc: BaseException) -> bool:
    """After these the SMTP conversation is over: the rest of the batch waits for the next drain."""
    return isinstance(exc, (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, ConnectionError, OSError))
