"""Pure notification rules: what each kind means, retry backoff, reminders, ticks, identifiers and busy time."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit

from booking.loans.rules import HANDED_OUT
from booking.rules import BookingStatus
from infra.errors import DomainError, ErrorCode
from infra.i18n import DEFAULT_LANGUAGE, LANGUAGES, N_, NC_, Phrasebook
from infra.time import OSLO
from resources.rules import ResourceKind

BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=2)
# Twenty attempts with this backoff span about a day: a weekend-long SMTP outage is the operator's to see.
MAX_ATTEMPTS = 20
LEASE = timedelta(minutes=5)  # far longer than one SMTP conversation (30 s timeout), so a lease never lapses mid-send

REMINDER_LEAD = timedelta(hours=24)
SWEEP_EVERY = timedelta(minutes=5)
FEED_HISTORY = timedelta(days=180)
FEED_REFRESH = timedelta(hours=1)


class UnknownKind(DomainError):
    code = ErrorCode.UNKNOWN_NOTIFICATION_KIND
    title = "No mail is written for this kind of notification"


@dataclass(frozen=True)
class Meaning:
    """How a kind of notification reads: which template words it, and what its calendar part says."""

    template: str  # "booking", "series", "season", "room_season", "invitation" or "digest"
    method: str | None  # iTIP method of the calendar part; None sends no calendar part
    worded_by: str | None = None  # a payload field whose value picks the wording (a season result's outcome)


INVITE, CANCEL = "REQUEST", "CANCEL"
KINDS: dict[str, Meaning] = {
    "booking_confirmed": Meaning("booking", INVITE),
    "booking_requested": Meaning("booking", INVITE),
    "booking_approved": Meaning("booking", INVITE),
    "booking_changed": Meaning("booking", INVITE),
    "booking_cancelled": Meaning("booking", CANCEL),
    "booking_declined": Meaning("booking", CANCEL),
    "kit_loan_confirmed": Meaning("booking", INVITE),
    "series_booked": Meaning("series", "PUBLISH"),
    "booking_reminder": Meaning("booking", None),
    "pickup_reminder": Meaning("booking", None),
    "return_reminder": Meaning("booking", None),
    "loan_checked_out": Meaning("booking", None),
    "loan_returned": Meaning("booking", None),
    "loan_overdue": Meaning("booking", None),
    # An offer holds capacity for someone until a deadline: it is theirs only once accepted.
    "offer_made": Meaning("booking", None),
    "offer_accepted": Meaning("booking", INVITE),
    "offer_declined": Meaning("booking", None),
    "offer_expired": Meaning("booking", None),
    "season_result": Meaning("season", None, worded_by="outcome"),
    "renewal_invited": Meaning("season", None),
    # An admin's invitation to join an association: about no booking, told by the association's name.
    "association_invitation": Meaning("invitation", None),
    # A room season: one result per association, then per granted weekly time one recurring invitation, held until
    # confirmed (tentative), confirmed, or given back (the dates to come leave the calendar).
    "room_season_result": Meaning("room_season", None),
    "room_slot_offered": Meaning("series", INVITE),
    "room_slot_confirmed": Meaning("series", INVITE),
    "room_slot_released": Meaning("series", INVITE),
    # Staff's daily list of the requests awaiting their approval: about no one booking, it links to the requests page.
    "staff_digest": Meaning("digest", None),
}


def meaning_of(kind: str) -> Meaning:
    """Every kind recorded in the outbox must have a mail written for it."""
    try:
        return KINDS[kind]
    except KeyError:
        raise UnknownKind(f"No mail is written for notifications of kind {kind!r}", kind=kind) from None


# The words of mail and feeds are English messages of the one catalogue (infra/locale), translated when said.
@dataclass(frozen=True)
class Wording:
    """What a mail says first: its subject (of {what}, and {when} for a booking) and its headline."""

    subject: str
    headline: str


WORDINGS: dict[str, Wording] = {
    "booking_confirmed": Wording(N_("Confirmed: {what}, {when}"), NC_("mail", "Your booking is confirmed.")),
    "booking_requested": Wording(
        N_("Request received: {what}, {when}"),
        N_("We have received your request. It must be approved before it holds, and you will hear from us by email."),
    ),
    "booking_approved": Wording(N_("Approved: {what}, {when}"), N_("Your request is approved, and the booking is confirmed.")),
    "booking_changed": Wording(N_("Changed: {what}, {when}"), N_("Your booking has changed. This is how it stands now:")),
    "booking_cancelled": Wording(N_("Cancelled: {what}, {when}"), N_("Your booking is cancelled.")),
    "booking_declined": Wording(N_("Declined: {what}, {when}"), N_("We are sorry: your request was declined.")),
    "kit_loan_confirmed": Wording(N_("Loan confirmed: {what}, {when}"), N_("Your loan is confirmed.")),
    "series_booked": Wording(N_("Weekly booking: {what} from {when}"), N_("Your weekly booking is registered.")),
    "booking_reminder": Wording(N_("Reminder: {what}, {when}"), N_("A reminder: your booking starts soon.")),
    "pickup_reminder": Wording(
        N_("Remember to pick up: {what}, {when}"), N_("A reminder: you can soon pick up the equipment you borrowed.")
    ),
    "return_reminder": Wording(N_("Remember to return: {what}, {when}"), N_("A reminder: the equipment you borrowed is due back soon.")),
    "loan_checked_out": Wording(N_("Handed out: {what}"), N_("You have picked up the equipment. Please return it on time.")),
    "loan_returned": Wording(N_("Returned: {what}"), N_("Thank you! The equipment has been returned.")),
    "loan_overdue": Wording(
        N_("Overdue: please return {what}"),
        N_("The equipment you borrowed was due back. Please return it as soon as you can."),
    ),
    "offer_made": Wording(
        N_("Offer: {what}, {when}"),
        N_(
            "You have an offer: the place is held for you until the deadline below. "
            "If you do not answer by then, it passes to the next in line."
        ),
    ),
    "offer_accepted": Wording(N_("Confirmed: {what}, {when}"), N_("You accepted, and the booking is yours.")),
    "offer_declined": Wording(N_("Offer declined: {what}, {when}"), N_("You declined the offer. The place passes to the next in line.")),
    "offer_expired": Wording(
        N_("Offer expired: {what}, {when}"),
        N_("The offer's deadline passed without an answer, so the place went to the next in line."),
    ),
    "season_result": Wording(N_("Season result: {what}"), N_("The results of the seasonal allocation are ready.")),
    "season_result_offered": Wording(
        N_("Place allocated: {what}"), N_("You have been given a place this season. Answer by the deadline to keep it.")
    ),
    "season_result_waitlisted": Wording(
        N_("Waiting list: {what}"),
        N_("You did not get a place this time, but you are on the waiting list. We will tell you if one frees up."),
    ),
    "season_result_renewed": Wording(N_("Renewed: {what}"), N_("Your place is renewed for the season.")),
    "renewal_invited": Wording(
        N_("Renew your place: {what}"),
        N_("You can renew your place for the next season. Confirm before the renewal window closes."),
    ),
    "room_season_result": Wording(
        N_("Room season result: {what}"), N_("The rooms for the term are allocated. This is the result for your association.")
    ),
    "room_slot_offered": Wording(
        N_("Weekly time for the term: {what} from {when}"),
        N_("Your association has been given this weekly time for the term. Confirm it by the deadline to keep it."),
    ),
    "room_slot_confirmed": Wording(
        N_("Confirmed for the term: {what} from {when}"), N_("You confirmed the weekly time. It is yours for the term.")
    ),
    "room_slot_released": Wording(
        N_("Weekly time released: {what}"), N_("The weekly time is no longer yours: its dates to come are not booked for you.")
    ),
    "association_invitation": Wording(
        N_("Invitation to join {what}"),
        N_("You are invited to join an association in Allmenning. Sign in and accept before the deadline to become a member."),
    ),
    "staff_digest": Wording(
        N_("Requests awaiting approval: {what}"), N_("These requests are waiting for staff to approve or decline them.")
    ),
}

FEED_WORDS = Phrasebook(
    {
        "mine": N_("Allmenning: my bookings"),
        "busy": N_("Busy"),
        "resource": N_("{name}: busy"),
        "closed": NC_("feed", "Closed"),
        "closed_for": N_("Closed: {reason}"),
    }
)
# A mail greets by name, or without one when no name is known: an email address is not a name.
GREETING, GREETING_BY_NAME = N_("Hello,"), N_("Hello {name},")


def wording_of(kind: str, payload: dict) -> Wording:
    """The words a mail uses: its kind's, or for a season result, those of its outcome (offered, waitlisted…);
    an outcome with no words of its own reads as its kind."""
    refined_by = meaning_of(kind).worded_by
    refined = f"{kind}_{payload[refined_by]}" if refined_by and payload.get(refined_by) else kind
    return WORDINGS.get(refined) or WORDINGS[kind]


def language_of(value: str | None) -> str:
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def calendar_status(booking_status: str) -> str:
    """A request awaiting approval, or an offer awaiting an answer, is tentative; a cancelled, declined or
    expired one is gone."""
    if booking_status in ("cancelled", "declined", "expired"):
        return "CANCELLED"
    return "TENTATIVE" if booking_status in ("requested", "offered") else "CONFIRMED"


# ---------------------------------------------------------------- what a mail or feed tells of a booking


@dataclass(frozen=True)
class Place:
    resource: str
    location: str
    address: str = ""
    postal_code: str = ""
    city: str = ""
    access_notes: str = ""

    @property
    def line(self) -> str:
        town = " ".join(p for p in (self.postal_code, self.city) if p)
        return ", ".join(p for p in (self.location, self.address, town) if p)


@dataclass(frozen=True)
class BookingFacts:
    id: int
    title: str
    start: datetime
    end: datetime
    status: str
    sequence: int
    place: Place
    association: str = ""
    resource_kind: str = ""
    quantity: int = 1
    kit_loan_id: str | None = None
    series_id: int | None = None


def summary_of(booking: BookingFacts) -> str:
    return f"{booking.place.resource}: {booking.title}" if booking.title else booking.place.resource


def as_of(facts: BookingFacts, payload: dict) -> BookingFacts:
    """The booking as the event saw it: the outbox payload carries its times, title, status and sequence then."""
    changes = {k: payload[k] for k in ("title", "status", "sequence") if k in payload}
    changes.update({k: datetime.fromisoformat(payload[k]) for k in ("start", "end") if k in payload})
    return replace(facts, **changes)


def is_all_day(booking: BookingFacts) -> bool:
    return shown_as_days(booking.resource_kind)


def shown_as_days(resource_kind: str) -> bool:
    """A garden bed is held day by day for a whole season: a calendar shows it as days, not as a six-month meeting."""
    return resource_kind == ResourceKind.GARDEN_BED


def local_days(start: datetime, end: datetime) -> tuple[date, date]:
    """The first Oslo day of a span and the day after its last (an all-day event's DTSTART and exclusive DTEND):
    an end at midnight closes the day before it, any later end its own day."""
    first, last = start.astimezone(OSLO), end.astimezone(OSLO)
    after = last.date() if last.time() == time(0) else last.date() + timedelta(days=1)
    return first.date(), max(after, first.date() + timedelta(days=1))


# ---------------------------------------------------------------- kits

# The loans of a kit are borrowed, picked up and returned together: these are told once for the kit, listing its items.
TOLD_PER_KIT = frozenset({"kit_loan_confirmed", "pickup_reminder", "return_reminder", "loan_overdue"})
KIT_ITEM = N_("{quantity} × {name}")
LOAN_STAGES = (frozenset({BookingStatus.REQUESTED, BookingStatus.CONFIRMED}), HANDED_OUT)


def is_told_per_kit(kind: str, booking: BookingFacts | None) -> bool:
    return kind in TOLD_PER_KIT and booking is not None and booking.kit_loan_id is not None


def kit_items(told: BookingFacts, kit: list[BookingFacts]) -> tuple[BookingFacts, ...]:
    """The items a kit's notice lists: its loans at the stage the told loan was at (still to pick up for a pickup,
    out for a return or an overdue notice, even if fallen overdue since); the told loan alone when none is any more."""
    stage = next((s for s in LOAN_STAGES if told.status in s), frozenset({told.status}))
    return tuple(b for b in kit if b.status in stage) or (told,)


# ---------------------------------------------------------------- retries


def backoff(attempts: int) -> timedelta:
    """The wait after the n-th failed attempt: doubling from 30 s, never more than two hours."""
    if attempts < 1:
        return timedelta(0)
    return min(BACKOFF_FIRST * 2 ** min(attempts - 1, 30), BACKOFF_CAP)


def next_attempt_at(attempts: int, *, permanent: bool, now: datetime) -> datetime | None:
    """When to try again after `attempts` failures, or None when the notification has failed for good."""
    if permanent or attempts >= MAX_ATTEMPTS:
        return None
    return now + backoff(attempts)


# ---------------------------------------------------------------- reminders and ticks


@dataclass(frozen=True)
class Reminder:
    kind: str
    moment: datetime  # the start or end the reminder is about


def reminder_for(resource_kind: str, exclusive: bool, status: str, start: datetime, end: datetime) -> Reminder | None:
    """A room booking is reminded of before it starts; a loan before its pickup and before its return."""
    if status == "confirmed" and resource_kind == "room":
        return Reminder("booking_reminder", start)
    if status == "confirmed" and not exclusive:
        return Reminder("pickup_reminder", start)
    if status == "checked_out" and not exclusive:
        return Reminder("return_reminder", end)
    return None


def is_reminder_due(moment: datetime, last_heard: datetime, *, now: datetime, lead: timedelta = REMINDER_LEAD) -> bool:
    """Due within the lead time before the moment, unless the person already heard about it in that time."""
    opens = moment - lead
    return opens <= now < moment and last_heard < opens


def reminder_key(reminder: Reminder, booking_id: int, kit_loan_id: str | None = None) -> str:
    """One reminder per booking (per kit, for a kit's loans) and moment: a moved booking is reminded of again, a
    repeated sweep is not."""
    about = f"kit-{kit_loan_id}" if kit_loan_id else booking_id
    return f"{reminder.kind}:{about}:{reminder.moment.astimezone(UTC):%Y%m%dT%H%M}"


def tick_of(now: datetime, every: timedelta = SWEEP_EVERY) -> datetime:
    """The start of the sweep period `now` falls in: processes firing in the same period share one tick."""
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    periods = (now - epoch) // every
    return epoch + periods * every


# ---------------------------------------------------------------- identifiers


def host_of(base_url: str) -> str:
    return urlsplit(base_url).hostname or "allmenning.local"


def message_id(notification_id: int, host: str) -> str:
    """The same notification always carries the same Message-ID, so a re-sent mail is known as a duplicate."""
    return f"<notification-{notification_id}@{host}>"


def booking_uid(booking_id: int, host: str) -> str:
    return f"booking-{booking_id}@{host}"


def series_uid(series_id: int, host: str) -> str:
    """A series is one recurring event in a calendar; each of its bookings is an occurrence of it, not an event."""
    return f"series-{series_id}@{host}"


def manage_url(base_url: str, booking_id: int) -> str:
    return f"{base_url}/bookings/{booking_id}"


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison, as If-None-Match asks for: any listed tag, W/ or not, or `*`."""
    if not if_none_match:
        return False
    tags = [t.strip() for t in if_none_match.split(",")]
    return "*" in tags or etag.removeprefix("W/") in {t.removeprefix("W/") for t in tags}


# ---------------------------------------------------------------- busy time of pooled stock


@dataclass(frozen=True)
class Busy:
    start: datetime
    end: datetime


def fully_booked(loans: list[tuple[datetime, datetime, int]], stock: int) -> list[Busy]:
    """The spans in which loans take every unit: the only busy time a pooled resource has."""
    if stock <= 0:  # a resource with nothing to lend is closed, not busy
        return []
    changes: dict[datetime, int] = {}
    for start, end, quantity in loans:
        changes[start] = changes.get(start, 0) + quantity
        changes[end] = changes.get(end, 0) - quantity
    busy: list[Busy] = []
    out, opened = 0, None
    for moment in sorted(changes):
        out += changes[moment]
        if out >= stock and opened is None:
            opened = moment
        elif out < stock and opened is not None:
            busy.append(Busy(opened, moment))
            opened = None
    return busy
