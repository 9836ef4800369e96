"""Refusals from the services as a person reads them: a translated sentence, placed next to the field it concerns."""

from __future__ import annotations

from config.errors import DomainError


def N_(message: str) -> str:
    """Marks a message for the catalogue; it is translated where it is shown."""
    return message


MESSAGES = {
    "slot_taken": N_("This time is already taken. Choose another time."),
    "outside_booking_window": N_("The room cannot be booked at this time. See the free times on the room's page."),
    "outside_opening_hours": N_("Pickup and return must be while the lending point is open."),
    "resource_closed": N_("The place is closed then (holiday or maintenance)."),
    "too_short": N_("The booking is too short."),
    "too_long": N_("The booking is too long."),
    "loan_too_long": N_("The loan is longer than this item may be lent."),
    "off_grid": N_("Start and end must be on the half hour or quarter hour, as the room allows."),
    "too_soon": N_("This is too soon: book a little further ahead."),
    "too_far_ahead": N_("This is too far ahead."),
    "booker_not_allowed": N_("You cannot book this yourself. It is only for some groups."),
    "over_capacity": N_("Too many people for this room."),
    "over_quota": N_("You have used up your quota."),
    "insufficient_stock": N_("Not enough units are free then."),
    "invalid_interval": N_("The end must come after the start."),
    "invalid_quantity": N_("Choose how many units."),
    "not_cancellable": N_("This booking can no longer be cancelled."),
    "cancellation_too_late": N_("It is too late to cancel this booking. Contact the staff."),
    "not_decidable": N_("This request has already been decided."),
    "reason_required": N_("Give a reason."),
    "in_maintenance": N_("This item is being repaired."),
    "borrower_overdue": N_("Return what you have borrowed before borrowing more."),
    "not_checked_out": N_("This loan has not been handed out."),
    "not_ready_for_check_out": N_("This loan cannot be handed out now."),
    "too_many_missing": N_("More units are missing than were lent."),
    "series_too_long": N_("A weekly series can have at most 60 dates."),
    "series_unbookable": N_("None of the dates could be booked."),
    "invalid_recurrence": N_("Choose a last date after the first."),
    "invalid_email": N_("Write a valid email address."),
    "invalid_date": N_("Write the date as day, month and year."),
    "invalid_time": N_("Write the time as hours and minutes, like 18:00."),
    "invalid_number": N_("Write a whole number."),
    "invalid_policy": N_("The closure is not valid: the end must come after the start."),
    "resource_retired": N_("This can no longer be booked."),
    "not_a_member": N_("You are not a member of this association."),
    "staff_only": N_("Only staff may do this."),
    "forbidden": N_("You may not do this."),
    "csrf_failed": N_("The form had expired. Please try again."),
    "not_found": N_("We could not find this page."),
    "phase_out_of_order": N_("A season moves through its phases in order."),
    "outside_window": N_("The season is not open for this now."),
    "already_applied": N_("Your household has already applied this season."),
    "household_has_bed": N_("Your household already has a bed."),
    "bed_taken": N_("Another household has this bed."),
    "not_a_bed": N_("There is no such bed."),
    "not_previewed": N_("Preview the allocation first."),
    "offer_expired": N_("The offer has run out."),
    "offer_not_open": N_("The offer has already been answered."),
    "not_your_offer": N_("This offer is for someone else."),
    "already_waiting": N_("You are already on the waiting list."),
    "not_waiting": N_("You are not waiting in this line."),
    "invalid_postal_code": N_("Write a Norwegian postal code with four digits."),
    "invalid_address": N_("Write your street address."),
    "not_taken": N_("This time is free: book it instead of waiting."),
    "use_season_waitlist": N_("Garden beds are waited for on the garden page."),
}
FALLBACK = N_("This could not be done.")

# Refusals that mean "it is taken": the page then offers to wait for it instead.
WAITABLE = frozenset({"slot_taken", "insufficient_stock"})

# Which form field a refusal concerns, when the service does not say.
FIELD_OF = {
    "slot_taken": "start", "outside_booking_window": "start", "outside_opening_hours": "start", "resource_closed": "date",
    "too_short": "end", "too_long": "end", "loan_too_long": "end", "off_grid": "start", "too_soon": "date",
    "too_far_ahead": "date", "invalid_interval": "end", "over_capacity": "attendees", "insufficient_stock": "quantity",
    "invalid_quantity": "quantity", "reason_required": "reason", "invalid_email": "email", "too_many_missing": "missing_units",
    "series_too_long": "until", "invalid_recurrence": "until", "series_unbookable": "until", "not_a_member": "association_id",
    "booker_not_allowed": "association_id", "over_quota": "association_id", "borrower_overdue": "quantity",
    "invalid_postal_code": "postal_code", "invalid_address": "street", "already_applied": "street", "already_waiting": "street",
    "household_has_bed": "street", "bed_taken": "reason", "not_a_bed": "reason", "not_taken": "start",
}


class FormInvalid(DomainError):
    """A form value that cannot even be read (a date that is no date); the services never see it."""

    status = 422

    def __init__(self, code: str, field: str) -> None:
        super().__init__(code, field=field)
        self.code = code  # type: ignore[misc]


class CsrfFailed(DomainError):
    code = "csrf_failed"
    status = 403
    title = "The form's token does not match; reload the page"


def field_of(error: DomainError, default: str = "form") -> str:
    named = error.extra.get("field")
    return named if isinstance(named, str) else FIELD_OF.get(error.code, default)


def message_of(error: DomainError) -> str:
    """The untranslated message; the page translates it into its language."""
    return message_for(error.code)


def message_for(code: str) -> str:
    return MESSAGES.get(code, FALLBACK)
