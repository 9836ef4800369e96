"""Domain errors: every refusal carries a stable `code` and an HTTP status, mapped to RFC 9457 in one place."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar


class ErrorCode(StrEnum):
    """Every refusal's stable `code`, as answered in problem details and looked up by the pages' messages."""

    ALREADY_APPLIED = "already_applied"
    ALREADY_MEMBER = "already_member"
    ALREADY_PUBLISHED = "already_published"
    ALREADY_WAITING = "already_waiting"
    APPLICATION_WINDOW_CLOSED = "application_window_closed"
    ASSOCIATION_NOT_FOUND = "association_not_found"
    BAD_REQUEST = "bad_request"
    BED_TAKEN = "bed_taken"
    BOOKER_NOT_ALLOWED = "booker_not_allowed"
    BORROWER_OVERDUE = "borrower_overdue"
    CANCELLATION_TOO_LATE = "cancellation_too_late"
    CATALOGUE_CONFLICT = "catalogue_conflict"
    CONFLICT = "conflict"
    COVERED_BOOKINGS_CHANGED = "covered_bookings_changed"
    COVERED_CHOICE_REQUIRED = "covered_choice_required"
    CROSS_SITE_REQUEST = "cross_site_request"
    CSRF_FAILED = "csrf_failed"
    DOMAIN_ERROR = "domain_error"
    FEED_NOT_FOUND = "feed_not_found"
    FORBIDDEN = "forbidden"
    GRANT_NOT_FOUND = "grant_not_found"
    HOLIDAY = "holiday"
    HOUSEHOLD_HAS_BED = "household_has_bed"
    HTTP_ERROR = "http_error"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    INSUFFICIENT_STOCK = "insufficient_stock"
    INTERNAL_ERROR = "internal_error"
    INVALID_ADDRESS = "invalid_address"
    INVALID_CATALOGUE = "invalid_catalogue"
    INVALID_DATE = "invalid_date"
    INVALID_EMAIL = "invalid_email"
    INVALID_INPUT = "invalid_input"
    INVALID_INTERVAL = "invalid_interval"
    INVALID_LANGUAGE = "invalid_language"
    INVALID_NAME = "invalid_name"
    INVALID_NUMBER = "invalid_number"
    INVALID_ORGNR = "invalid_orgnr"
    INVALID_POLICY = "invalid_policy"
    INVALID_POSITION = "invalid_position"
    INVALID_POSTAL_CODE = "invalid_postal_code"
    INVALID_QUANTITY = "invalid_quantity"
    INVALID_RECURRENCE = "invalid_recurrence"
    INVALID_ROLE = "invalid_role"
    INVALID_TIME = "invalid_time"
    INVITATION_CLOSED = "invitation_closed"
    INVITATION_NOT_FOUND = "invitation_not_found"
    IN_MAINTENANCE = "in_maintenance"
    IN_THE_PAST = "in_the_past"
    KEY_TAKEN = "key_taken"
    LAST_ADMIN = "last_admin"
    LAST_OPERATOR = "last_operator"
    LOANS_OUT = "loans_out"
    LOAN_TOO_LONG = "loan_too_long"
    LOCATION_NOT_FOUND = "location_not_found"
    MEMBERSHIP_NOT_FOUND = "membership_not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    MORE_THAN_STOCK = "more_than_stock"
    NAIVE_TIMESTAMP = "naive_timestamp"
    NOTIFICATION_NOT_FOUND = "notification_not_found"
    NOT_AN_ADMIN = "not_an_admin"
    NOT_AT_THIS_LOCATION = "not_at_this_location"
    NOT_AUTHENTICATED = "not_authenticated"
    NOT_A_BED = "not_a_bed"
    NOT_A_GARDEN_SEASON = "not_a_garden_season"
    NOT_A_LOAN = "not_a_loan"
    NOT_A_MEMBER = "not_a_member"
    NOT_A_ROOM_SEASON = "not_a_room_season"
    NOT_CANCELLABLE = "not_cancellable"
    NOT_CHANGEABLE = "not_changeable"
    NOT_CHECKED_OUT = "not_checked_out"
    NOT_DECIDABLE = "not_decidable"
    NOT_FOUND = "not_found"
    NOT_PREVIEWED = "not_previewed"
    NOT_READY_FOR_CHECK_OUT = "not_ready_for_check_out"
    NOT_TAKEN = "not_taken"
    NOT_USED_ENOUGH = "not_used_enough"
    NOT_WAITING = "not_waiting"
    NOT_YOUR_OFFER = "not_your_offer"
    OFFER_EXPIRED = "offer_expired"
    OFFER_NOT_OPEN = "offer_not_open"
    OFF_GRID = "off_grid"
    ORGNR_TAKEN = "orgnr_taken"
    OUTSIDE_BOOKING_WINDOW = "outside_booking_window"
    OUTSIDE_OPENING_HOURS = "outside_opening_hours"
    OUTSIDE_WINDOW = "outside_window"
    OVER_CAPACITY = "over_capacity"
    OVER_QUOTA = "over_quota"
    PERSON_NOT_FOUND = "person_not_found"
    PHASE_OUT_OF_ORDER = "phase_out_of_order"
    RANGE_TOO_WIDE = "range_too_wide"
    REASON_REQUIRED = "reason_required"
    RESOURCE_CLOSED = "resource_closed"
    RESOURCE_RETIRED = "resource_retired"
    ROLE_IS_EVERYWHERE = "role_is_everywhere"
    ROLE_NEEDS_LOCATION = "role_needs_location"
    SEASON_SLOT_TAKEN = "season_slot_taken"
    SERIES_TOO_LONG = "series_too_long"
    SERIES_UNBOOKABLE = "series_unbookable"
    SIGNIN_LINK_INVALID = "signin_link_invalid"
    SLOT_TAKEN = "slot_taken"
    SPAN_TOO_LONG = "span_too_long"
    STAFF_ONLY = "staff_only"
    STOCK_BELOW_UNITS_OUT = "stock_below_units_out"
    TOKEN_NOT_FOUND = "token_not_found"
    TOO_FAR_AHEAD = "too_far_ahead"
    TOO_LARGE = "too_large"
    TOO_LONG = "too_long"
    TOO_MANY_MISSING = "too_many_missing"
    TOO_MANY_REQUESTS = "too_many_requests"
    TOO_SHORT = "too_short"
    TOO_SOON = "too_soon"
    UNKNOWN_ACTION = "unknown_action"
    UNKNOWN_NOTIFICATION_KIND = "unknown_notification_kind"
    UNKNOWN_OBJECT_KIND = "unknown_object_kind"
    UNKNOWN_ROLE = "unknown_role"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    USE_SEASON_WAITLIST = "use_season_waitlist"
    WISHES_OVERLAP = "wishes_overlap"
    WISH_OUTSIDE_ROOM_WINDOWS = "wish_outside_room_windows"


class DomainError(Exception):
    """A request the domain refuses; subclasses fix `code`, `status` and `title`."""

    code: ClassVar[ErrorCode] = ErrorCode.DOMAIN_ERROR
    status: ClassVar[int] = 422
    title: ClassVar[str] = "The request was refused"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND
    status = 404
    title = "Not found"


class Forbidden(DomainError):
    code = ErrorCode.FORBIDDEN
    status = 403
    title = "You may not do this"


class NotAuthenticated(DomainError):
    code = ErrorCode.NOT_AUTHENTICATED
    status = 401
    title = "Sign in first"


class InvalidInput(DomainError):
    code = ErrorCode.INVALID_INPUT
    status = 422
    title = "The input is not valid"


class Conflict(DomainError):
    code = ErrorCode.CONFLICT
    status = 409
    title = "The request conflicts with the current state"


def problem_document(status: int, code: ErrorCode, title: str, detail: str | None = None, extra: dict[str, Any] | None = None) -> dict:
    """RFC 9457 problem details with our stable `code`, whoever answers (an exception handler or a guard before any route)."""
    body: dict[str, Any] = {"type": f"about:blank#{code}", "title": title, "status": status, "code": code}
    if detail:
        body["detail"] = detail
    # Extension members never shadow the standard ones (a booking's "status" stays out of the problem's).
    body.update({k: v for k, v in (extra or {}).items() if k not in body})
    return body
