"""The JSON shapes of bookings, series and intervals, in and out, shared by the booking, loan and waitlist controllers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from booking import engine as service
from booking.store import Booking, BookingSeries
from infra.time import OSLO, Interval

Text = Annotated[str, msgspec.Meta(max_length=200)]
Positive = Annotated[int, msgspec.Meta(ge=1, le=100_000)]


class BookingIn(msgspec.Struct, forbid_unknown_fields=True):
    resource_id: int
    start: datetime
    end: datetime
    title: Text = ""
    organisation_id: int | None = None
    attendees: Positive | None = None
    quantity: Positive = 1

    def wanted(self) -> service.NewBooking:
        return service.NewBooking(self.resource_id, self.start, self.end, self.title, self.organisation_id, self.attendees, self.quantity)


def local(moment: datetime | None) -> str | None:
    return moment.astimezone(OSLO).isoformat() if moment else None


def booking_json(b: Booking) -> dict[str, Any]:
    return {
        "id": b.id,
        "status": b.status,
        "resource_id": b.resource_id,
        "person_id": b.person_id,
        "organisation_id": b.association_id,
        "series_id": b.series_id,
        "title": b.title,
        "start": local(b.start),
        "end": local(b.end),
        "attendees": b.attendees,
        "quantity": b.quantity,
        "sequence": b.sequence,
        "created_at": local(b.created_at),
        "updated_at": local(b.updated_at),
        "decided_at": local(b.decided_at),
        "decision_reason": b.decision_reason or None,
        "cancelled_at": local(b.cancelled_at),
        "cancelled_by": b.cancelled_by,
        "cancel_reason": b.cancel_reason or None,
        **(loan_json(b) if not b.exclusive else {}),
    }


def loan_json(b: Booking) -> dict[str, Any]:
    return {
        "kit_loan_id": b.kit_loan_id,
        "checked_out_at": local(b.checked_out_at),
        "check_out_note": b.check_out_note or None,
        "returned_at": local(b.returned_at),
        "return_condition": b.return_condition or None,
        "return_note": b.return_note or None,
        "missing_units": b.missing_units,
    }


def series_json(s: BookingSeries) -> dict[str, Any]:
    return {
        "id": s.id,
        "resource_id": s.resource_id,
        "organisation_id": s.association_id,
        "title": s.title,
        "every_weeks": s.every_weeks,
        "until": s.until.isoformat(),
    }


def intervals_json(intervals: list[Interval]) -> list[dict[str, str | None]]:
    return [{"start": local(i.start), "end": local(i.end)} for i in intervals]
