"""What happened to a booking, in order: read from its outbox events, each of which was told to the booker.

The outbox is the booking's one ordered record: every step (a request, its approval, a move and to when, a move back to
a request, a cancellation, a hand-over) is a row stamped with the booking as it was then (`infra.outbox.as_of`), where
the booking's own row keeps only its latest decision and cancellation. A reason on an event is the one its mail told the
booker (a decline's, a cancellation's, a closure's), so it may be shown to whoever may see the booking; the notes staff
write at the counter are never in an event. A pure read: nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from booking import store as bookings
from booking.engine import check_may_see, location_of
from infra.database import Db
from infra.outbox import Notification
from people.actor import Actor

# Outbox kinds as steps of a booking's history; reminders and mails about other things are not steps.
STEPS = {
    "booking_requested": "requested",
    "booking_confirmed": "confirmed",
    "kit_loan_confirmed": "confirmed",
    "series_booked": "series",
    "booking_approved": "approved",
    "booking_declined": "declined",
    "booking_cancelled": "cancelled",
    "loan_checked_out": "checked_out",
    "loan_returned": "returned",
    "loan_overdue": "overdue",
    "offer_made": "offered",
    "offer_accepted": "offer_accepted",
    "offer_declined": "offer_declined",
    "offer_expired": "offer_expired",
    "room_slot_offered": "term_offered",
    "room_slot_confirmed": "term_confirmed",
    "room_slot_released": "term_released",
}
GIVEN_BACK_WITHOUT_REASON = "given back"  # booking.seasons.room_answers.give_back's stand-in for an empty reason
# Steps that begin a booking; a booking without one (a later date of a series, the second item of a kit, a garden
# bed held by a season's draw) begins when its row was made.
BEGINNINGS = frozenset({"requested", "confirmed", "series", "offered", "term_offered", "season_offered", "renewed"})


@dataclass(frozen=True)
class Step:
    """One thing that happened to a booking: what (a word above), when, why (as told to the booker), and the booking's
    status and times just after it; a move also has the times it moved from, when they are known."""

    what: str
    at: datetime
    status: str = ""
    reason: str = ""
    start: datetime | None = None
    end: datetime | None = None
    was_start: datetime | None = None
    was_end: datetime | None = None
    missing_units: int = 0


def moment(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def what_of(kind: str, payload: dict[str, Any]) -> str | None:
    if kind == "booking_changed":
        return "moved" if payload.get("moved") else "changed"
    if kind == "season_result":  # a garden bed held by the draw: offered, or kept from last season
        return {"offered": "season_offered", "renewed": "renewed"}.get(str(payload.get("outcome")))
    return STEPS.get(kind)


def reason_of(kind: str, payload: dict[str, Any]) -> str:
    """The reason the booker was told; a weekly time given back without one carries the service's placeholder, no reason."""
    reason = str(payload.get("reason") or "").strip()
    return "" if kind == "room_slot_released" and reason == GIVEN_BACK_WITHOUT_REASON else reason


def steps_of(rows: list[Notification]) -> list[Step]:
    """The steps in the order they happened; a move knows where from by the times the step before it carried."""
    steps: list[Step] = []
    last: tuple[datetime | None, datetime | None] = (None, None)
    for row in rows:
        payload = row.payload or {}
        what = what_of(row.kind, payload)
        if what is None:
            continue
        start, end = moment(payload.get("start")), moment(payload.get("end"))
        was = last if what == "moved" and last != (start, end) else (None, None)
        missing = payload.get("missing_units")
        steps.append(
            Step(
                what=what,
                at=row.created_at,
                status=str(payload.get("status") or ""),
                reason=reason_of(row.kind, payload),
                start=start,
                end=end,
                was_start=was[0],
                was_end=was[1],
                missing_units=missing if isinstance(missing, int) else 0,
            )
        )
        if start is not None and end is not None:
            last = (start, end)
    return steps


async def booking_history(db: Db, actor: Actor, booking_id: int) -> list[Step]:
    """A booking's steps for those who may see it (its booker, its association's members, staff), first to last."""
    query = select(Notification).where(Notification.booking_id == booking_id).order_by(Notification.created_at, Notification.id)
    async with db.read() as s:
        booking = await bookings.get_booking(s, booking_id)
        check_may_see(actor, booking, await location_of(s, booking.resource_id))  # staff read it where they read
        rows = list((await s.execute(query)).scalars())
    steps = steps_of(rows)
    if not any(step.what in BEGINNINGS for step in steps):
        steps.insert(0, Step("booked", booking.created_at))
    return steps
