"""HTTP for equipment loans: kit loans, hand-over at the counter, overdue loans and the day's hand-overs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec
from litestar import get, post
from litestar.params import Parameter

from booking.loans import service as loans
from booking.representation import booking_json
from infra.database import Db
from people.actor import Actor

Note = Annotated[str, msgspec.Meta(max_length=1000)]
# Staff lists show the actor's own places by default; `all` every place they read, `location_id` one of them.
Places = Annotated[str, Parameter(pattern="^(mine|all)$", description="mine (the default): where I do this work; all: all I read")]
LocationId = Annotated[int | None, Parameter(ge=1, le=2**31 - 1, description="one location (one I read at)")]


class KitLoanIn(msgspec.Struct, forbid_unknown_fields=True):
    start: datetime
    end: datetime
    title: Annotated[str, msgspec.Meta(max_length=200)] = ""
    organisation_id: int | None = None


class CheckOutIn(msgspec.Struct, forbid_unknown_fields=True):
    at: datetime | None = None
    note: Note = ""


class CheckInIn(msgspec.Struct, forbid_unknown_fields=True):
    at: datetime | None = None
    condition: Annotated[str, msgspec.Meta(pattern="^(ok|damaged|dirty)$")] = "ok"
    note: Note = ""
    missing_units: Annotated[int, msgspec.Meta(ge=0)] = 0
    # A damaged or incomplete item goes to repair in the same step: it is lent to no one until staff clear it.
    to_maintenance: bool = False


@post("/api/v1/kits/{kit_id:int}/loans", summary="Borrow a whole kit: every item or none")
async def borrow_kit(kit_id: int, data: KitLoanIn, db: Db, actor: Actor, now: datetime) -> dict:
    rows = await loans.create_kit_loan(
        db, actor, kit_id, data.start, data.end, association_id=data.organisation_id, title=data.title, now=now
    )
    return {"kit_loan_id": rows[0].kit_loan_id, "items": [booking_json(b) for b in rows]}


@post("/api/v1/bookings/{booking_id:int}/check-out", summary="Staff: hand a loan over", status_code=200)
async def check_out(booking_id: int, db: Db, actor: Actor, now: datetime, data: CheckOutIn | None = None) -> dict:
    body = data or CheckOutIn()
    return booking_json(await loans.check_out(db, actor, booking_id, at=body.at, note=body.note, now=now))


@post("/api/v1/bookings/{booking_id:int}/check-in", summary="Staff: take a loan back", status_code=200)
async def check_in(booking_id: int, db: Db, actor: Actor, now: datetime, data: CheckInIn | None = None) -> dict:
    body = data or CheckInIn()
    loan = await loans.check_in(
        db,
        actor,
        booking_id,
        at=body.at,
        condition=body.condition,
        note=body.note,
        missing_units=body.missing_units,
        to_maintenance=body.to_maintenance,
        now=now,
    )
    return booking_json(loan)


@get("/api/v1/loans/overdue", summary="Staff: loans handed out and past their return time (at my places unless asked)")
async def overdue(db: Db, actor: Actor, now: datetime, location_id: LocationId = None, places: Places = "mine") -> dict:
    rows = await loans.overdue_loans(db, actor, now=now, location_id=location_id, all_places=places == "all")
    return {"items": [booking_json(b) for b in rows]}


@get("/api/v1/loans/handovers", summary="Staff: a day's pickups and returns (at my places unless asked)")
async def handovers(db: Db, actor: Actor, day: date, location_id: LocationId = None, places: Places = "mine") -> dict:
    pickups, returns = await loans.handovers_on(db, actor, day, location_id=location_id, all_places=places == "all")
    return {"date": day.isoformat(), "pickups": [booking_json(b) for b in pickups], "returns": [booking_json(b) for b in returns]}


ROUTES = [borrow_kit, check_out, check_in, overdue, handovers]
