"""Refusals from the services as a person reads them: a translated sentence, placed next to the field it concerns."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from infra.errors import DomainError, ErrorCode
from web.rule_words import duration_words


def N_(message: str) -> str:
    """Marks a message for the catalogue; it is translated where it is shown."""
    return message


MESSAGES = {
    ErrorCode.SLOT_TAKEN: N_("This time is already taken. Choose another time."),
    ErrorCode.OUTSIDE_BOOKING_WINDOW: N_("The room cannot be booked at this time. See the free times on the room's page."),
    ErrorCode.OUTSIDE_OPENING_HOURS: N_("Pickup and return must be while the lending point is open."),
    ErrorCode.RESOURCE_CLOSED: N_("The place is closed then (holiday or maintenance)."),
    ErrorCode.TOO_SHORT: N_("The booking is too short."),
    ErrorCode.TOO_LONG: N_("The booking is too long."),
    ErrorCode.LOAN_TOO_LONG: N_("The loan is longer than this item may be lent."),
    ErrorCode.OFF_GRID: N_("Start and end must be on the half hour or quarter hour, as the room allows."),
    ErrorCode.TOO_SOON: N_("This is too soon: book a little further ahead."),
    ErrorCode.IN_THE_PAST: N_("This time has already passed. Choose a later time."),
    ErrorCode.TOO_FAR_AHEAD: N_("This is too far ahead."),
    ErrorCode.BOOKER_NOT_ALLOWED: N_("You cannot book this yourself. It is only for some groups."),
    ErrorCode.OVER_CAPACITY: N_("Too many people for this room."),
    ErrorCode.OVER_QUOTA: N_("You have used up your quota."),
    ErrorCode.INSUFFICIENT_STOCK: N_("Not enough units are free then."),
    ErrorCode.MORE_THAN_STOCK: N_("There are not that many of this item. Choose fewer."),
    ErrorCode.INVALID_INTERVAL: N_("The end must come after the start."),
    ErrorCode.INVALID_QUANTITY: N_("Choose how many units."),
    ErrorCode.NOT_CANCELLABLE: N_("This booking can no longer be cancelled."),
    ErrorCode.NOT_CHANGEABLE: N_("This booking can no longer be changed: it has begun, ended or been cancelled."),
    ErrorCode.CANCELLATION_TOO_LATE: N_("It is too late to cancel this booking. Contact the staff."),
    ErrorCode.NOT_DECIDABLE: N_("This request has already been decided."),
    ErrorCode.REASON_REQUIRED: N_("Give a reason."),
    ErrorCode.IN_MAINTENANCE: N_("This item is being repaired."),
    ErrorCode.BORROWER_OVERDUE: N_("Return what you have borrowed before borrowing more."),
    ErrorCode.NOT_CHECKED_OUT: N_("This loan has not been handed out."),
    ErrorCode.NOT_READY_FOR_CHECK_OUT: N_("This loan cannot be handed out now."),
    ErrorCode.TOO_MANY_MISSING: N_("More units are missing than were lent."),
    ErrorCode.SERIES_TOO_LONG: N_("A weekly series can have at most 60 dates."),
    ErrorCode.SERIES_UNBOOKABLE: N_("None of the dates could be booked."),
    ErrorCode.INVALID_RECURRENCE: N_("Choose a last date after the first."),
    ErrorCode.INVALID_EMAIL: N_("Write a valid email address."),
    ErrorCode.INVALID_DATE: N_("Write the date as day, month and year."),
    ErrorCode.INVALID_TIME: N_("Write the time as hours and minutes, like 18:00."),
    ErrorCode.INVALID_NUMBER: N_("Write a whole number."),
    ErrorCode.INVALID_POLICY: N_("The closure is not valid: the end must come after the start."),
    ErrorCode.COVERED_CHOICE_REQUIRED: N_("Choose whether to cancel the bookings in this period or keep them."),
    ErrorCode.COVERED_BOOKINGS_CHANGED: N_("The bookings in this period changed while you looked. Check the list and choose again."),
    ErrorCode.RESOURCE_RETIRED: N_("This can no longer be booked."),
    ErrorCode.NOT_A_MEMBER: N_("You are not a member of this association."),
    ErrorCode.ALREADY_MEMBER: N_("This person is already a member of the association."),
    ErrorCode.LAST_ADMIN: N_("The association must keep at least one admin. Make another member admin first."),
    ErrorCode.MEMBERSHIP_NOT_FOUND: N_("This person is not a member of the association."),
    ErrorCode.INVALID_ROLE: N_("Choose admin or member."),
    ErrorCode.ASSOCIATION_NOT_FOUND: N_("We could not find this association."),
    ErrorCode.INVITATION_NOT_FOUND: N_("We could not find this invitation."),
    ErrorCode.INVITATION_CLOSED: N_("This invitation is already answered, withdrawn or expired."),
    ErrorCode.INVALID_NAME: N_("Write the name on one line, without special control characters."),
    ErrorCode.INVALID_LANGUAGE: N_("Choose one of the languages in the list."),
    ErrorCode.SPAN_TOO_LONG: N_("Ask for at most 92 days at a time."),
    ErrorCode.INVALID_INPUT: N_("This is not valid here, or too long. Check what you wrote."),
    ErrorCode.STAFF_ONLY: N_("Only staff may do this."),
    ErrorCode.NOT_AT_THIS_LOCATION: N_("Your staff role does not cover this place. Ask an operator if it should."),
    ErrorCode.LOANS_OUT: N_("Return what you have borrowed first: an account cannot be erased while loans are out."),
    ErrorCode.LAST_OPERATOR: N_("Somebody must be able to grant roles: make another person an operator first."),
    ErrorCode.FORBIDDEN: N_("You may not do this."),
    ErrorCode.CSRF_FAILED: N_("The form had expired. Please try again."),
    ErrorCode.SIGNIN_LINK_INVALID: N_("This sign-in link is used, replaced by a newer one or expired. Ask for a new link."),
    ErrorCode.TOO_MANY_REQUESTS: N_("Too many sign-in links were asked for just now. Try again in a quarter of an hour."),
    ErrorCode.NOT_FOUND: N_("We could not find this page."),
    ErrorCode.PHASE_OUT_OF_ORDER: N_("A season moves through its phases in order."),
    ErrorCode.OUTSIDE_WINDOW: N_("The season is not open for this now."),
    ErrorCode.ALREADY_APPLIED: N_("Your household has already applied this season."),
    ErrorCode.HOUSEHOLD_HAS_BED: N_("Your household already has a bed."),
    ErrorCode.BED_TAKEN: N_("Another household has this bed."),
    ErrorCode.NOT_A_BED: N_("There is no such bed."),
    ErrorCode.NOT_PREVIEWED: N_("Preview the allocation first."),
    ErrorCode.OFFER_EXPIRED: N_("The offer has run out."),
    ErrorCode.OFFER_NOT_OPEN: N_("The offer has already been answered."),
    ErrorCode.NOT_YOUR_OFFER: N_("This offer is for someone else."),
    ErrorCode.ALREADY_WAITING: N_("You are already on the waiting list."),
    ErrorCode.NOT_WAITING: N_("You are not waiting in this line."),
    ErrorCode.INVALID_POSTAL_CODE: N_("Write a Norwegian postal code with four digits."),
    ErrorCode.INVALID_ADDRESS: N_("Write your street address."),
    ErrorCode.NOT_TAKEN: N_("This time is free: book it instead of waiting."),
    ErrorCode.USE_SEASON_WAITLIST: N_("Garden beds are waited for on the garden page."),
    ErrorCode.WISH_OUTSIDE_ROOM_WINDOWS: N_("None of the times you gave fit inside the hours the room is open. Look at the room's hours."),
    ErrorCode.WISHES_OVERLAP: N_("Two wishes for the same activity ask for the same fixed time. Change one of them."),
    ErrorCode.APPLICATION_WINDOW_CLOSED: N_("The season does not take applications now."),
    ErrorCode.SEASON_SLOT_TAKEN: N_("This time is taken in the room on some of the term's dates. Choose another time or room."),
    ErrorCode.ALREADY_PUBLISHED: N_("The allocation is already published."),
    ErrorCode.NOT_USED_ENOUGH: N_("You cannot keep this time: it was not used on enough of its dates last term."),
    ErrorCode.NOT_AN_ADMIN: N_("Only the association's admins can apply for rooms and answer for it."),
    ErrorCode.NOT_A_ROOM_SEASON: N_("This is not a room season."),
    ErrorCode.HOLIDAY: N_("A holiday week of the term: nothing is booked."),
}
FALLBACK = N_("This could not be done.")

# A value a sentence needs, read from what the refusal carries (its problem details' members) in the page's language;
# a value that is missing or empty raises, and the next sentence (at last the plain one) is said instead.
Value = Callable[[Mapping[str, Any], Any], str]


def _number(key: str) -> Value:
    return lambda data, speak: speak.number(float(data[key]))


def _length(key: str, minutes_per: int = 1) -> Value:
    return lambda data, speak: duration_words(float(data[key]) * minutes_per, speak)


def _moment(key: str) -> Value:
    return lambda data, speak: speak.when(datetime.fromisoformat(data[key]))


def _text(key: str) -> Value:
    def read(data: Mapping[str, Any], speak: Any) -> str:
        if not str(data[key]).strip():
            raise KeyError(key)
        return str(data[key]).strip()

    return read


# Refusals said with their numbers: "at most 4 hours", "3 free of 20", a closure's own reason. Tried in order. A taken
# time is not among them: the block it reports includes the other booking's buffers, and the form offers to wait.
SAID: dict[ErrorCode, tuple[tuple[str, dict[str, Value]], ...]] = {
    ErrorCode.TOO_SHORT: ((N_("The booking is too short: it must last at least {length}."), {"length": _length("minimum_minutes")}),),
    ErrorCode.TOO_LONG: ((N_("The booking is too long: it may last at most {length}."), {"length": _length("maximum_minutes")}),),
    ErrorCode.LOAN_TOO_LONG: (
        (N_("The loan is too long: this item is lent for at most {length}."), {"length": _length("maximum_days", 24 * 60)}),
    ),
    ErrorCode.OFF_GRID: (
        (N_("Start and end must fall on steps of {length} from the whole hour."), {"length": _length("granularity_minutes")}),
    ),
    ErrorCode.TOO_SOON: ((N_("This is too soon: the earliest start now is {when}."), {"when": _moment("earliest")}),),
    ErrorCode.TOO_FAR_AHEAD: ((N_("This is too far ahead: the latest start now is {when}."), {"when": _moment("latest")}),),
    ErrorCode.OVER_CAPACITY: ((N_("Too many people for this room: it holds {capacity}."), {"capacity": _number("capacity")}),),
    ErrorCode.OVER_QUOTA: (
        (
            N_("The association may book at most {quota} hours a week here, and {booked} hours are booked that week."),
            {"quota": _number("quota_hours"), "booked": _number("booked_hours")},
        ),
        (N_("You have used up your quota: at most {limit} at a time here."), {"limit": _number("limit")}),
    ),
    ErrorCode.INSUFFICIENT_STOCK: (
        (
            N_("Not enough units are free then: {available} free of {stock}."),
            {"available": _number("available"), "stock": _number("stock")},
        ),
    ),
    ErrorCode.MORE_THAN_STOCK: ((N_("There are only {stock} of this item. Choose fewer."), {"stock": _number("stock")}),),
    ErrorCode.RESOURCE_CLOSED: ((N_("The place is closed then: {reason}."), {"reason": _text("reason")}),),
    ErrorCode.CANCELLATION_TOO_LATE: (
        (N_("It is too late to cancel: the last time was {when}. Contact the staff."), {"when": _moment("deadline")}),
    ),
    ErrorCode.SERIES_TOO_LONG: (
        (N_("A weekly series can have at most 60 dates; this one would have {count}."), {"count": _number("occurrences")}),
    ),
}


def said(code: str, data: Mapping[str, Any], speak: Any) -> str:
    """A refusal in the page's language, with the numbers its problem details carry where a sentence says them."""
    for message, values in SAID.get(code, ()):  # type: ignore[call-overload]
        try:
            return speak(message, **{name: value(data, speak) for name, value in values.items()})
        except (KeyError, TypeError, ValueError):
            continue
    return speak(message_for(code))  # type: ignore[arg-type]


def said_errors(error: DomainError, speak: Any, default_field: str = "form") -> dict[str, str]:
    """The refusal, said with its numbers, beside the field it concerns (already translated: a page's `_` keeps it)."""
    return {field_of(error, default_field): said(error.code, error.extra, speak)}


# Refusals that mean "it is taken": the page then offers to wait for it instead.
WAITABLE = frozenset({ErrorCode.SLOT_TAKEN, ErrorCode.INSUFFICIENT_STOCK})

# Which form field a refusal concerns, when the service does not say.
FIELD_OF = {
    ErrorCode.SLOT_TAKEN: "start",
    ErrorCode.OUTSIDE_BOOKING_WINDOW: "start",
    ErrorCode.OUTSIDE_OPENING_HOURS: "start",
    ErrorCode.RESOURCE_CLOSED: "date",
    ErrorCode.TOO_SHORT: "end",
    ErrorCode.TOO_LONG: "end",
    ErrorCode.LOAN_TOO_LONG: "end",
    ErrorCode.OFF_GRID: "start",
    ErrorCode.TOO_SOON: "date",
    ErrorCode.IN_THE_PAST: "date",
    ErrorCode.TOO_FAR_AHEAD: "date",
    ErrorCode.INVALID_INTERVAL: "end",
    ErrorCode.OVER_CAPACITY: "attendees",
    ErrorCode.INSUFFICIENT_STOCK: "quantity",
    ErrorCode.MORE_THAN_STOCK: "quantity",
    ErrorCode.INVALID_QUANTITY: "quantity",
    ErrorCode.REASON_REQUIRED: "reason",
    ErrorCode.COVERED_CHOICE_REQUIRED: "covered",
    ErrorCode.COVERED_BOOKINGS_CHANGED: "covered",
    ErrorCode.INVALID_EMAIL: "email",
    ErrorCode.TOO_MANY_MISSING: "missing_units",
    ErrorCode.SERIES_TOO_LONG: "until",
    ErrorCode.INVALID_RECURRENCE: "until",
    ErrorCode.SERIES_UNBOOKABLE: "until",
    ErrorCode.NOT_A_MEMBER: "association_id",
    ErrorCode.BOOKER_NOT_ALLOWED: "association_id",
    ErrorCode.OVER_QUOTA: "association_id",
    ErrorCode.BORROWER_OVERDUE: "quantity",
    ErrorCode.INVALID_POSTAL_CODE: "postal_code",
    ErrorCode.INVALID_ADDRESS: "street",
    ErrorCode.ALREADY_APPLIED: "street",
    ErrorCode.ALREADY_WAITING: "street",
    ErrorCode.HOUSEHOLD_HAS_BED: "street",
    ErrorCode.BED_TAKEN: "reason",
    ErrorCode.NOT_A_BED: "reason",
    ErrorCode.NOT_TAKEN: "start",
}


class FormInvalid(DomainError):
    """A form value that cannot even be read (a date that is no date); the services never see it."""

    status = 422

    def __init__(self, code: ErrorCode, field: str) -> None:
        super().__init__(code, field=field)
        self.code = code  # type: ignore[misc]


class CsrfFailed(DomainError):
    code = ErrorCode.CSRF_FAILED
    status = 403
    title = "The form's token does not match; reload the page"


def field_of(error: DomainError, default: str = "form") -> str:
    named = error.extra.get("field")
    return named if isinstance(named, str) else FIELD_OF.get(error.code, default)


def message_of(error: DomainError) -> str:
    """The untranslated message; the page translates it into its language."""
    return message_for(error.code)


def message_for(code: ErrorCode) -> str:
    return MESSAGES.get(code, FALLBACK)
