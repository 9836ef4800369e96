"""HTTP for bookings, series, approvals and availability: translate requests to service calls and back."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec
from litestar import Response, get, patch, post
from litestar.params import Parameter

from booking import availability, closures, lifecycle, series, service
from booking.closure_rules import Choice, Decision
from booking.loans import api as loan_api
from booking.loans.api import LocationId, Places
from booking.representation import (
    BookingIn,
    Positive,
    Text,
    booking_json,
    intervals_json,
    local,
    series_json,
)
from booking.seasons import api as season_api
from booking.seasons import room_api
from booking.waitlists import api as waitlist_api
from infra.database import Db
from infra.time import OSLO
from people.actor import Actor
from resources.api import ClosureIn, Count, Reason, ResourceChangesIn, closure_json, detail_json


class SeriesIn(BookingIn, forbid_unknown_fields=True):
    until: date | None = None
    every_weeks: Annotated[int, msgspec.Meta(ge=1, le=8)] = 1


class ChangeIn(msgspec.Struct, forbid_unknown_fields=True):
    start: datetime | None = None
    end: datetime | None = None
    title: Text | None = None
    attendees: Positive | None = None
    reason: Annotated[str, msgspec.Meta(max_length=1000)] = ""  # kept in the audit trail when staff move someone's booking


class ReasonIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class SeriesCancelIn(ReasonIn, forbid_unknown_fields=True):
    after: datetime | None = None


@post("/api/v1/bookings", summary="Book a resource (one-off)")
async def create_booking(
    data: BookingIn,
    db: Db,
    actor: Actor,
    now: datetime,
    idempotency_key: Annotated[str | None, Parameter(header="Idempotency-Key", max_length=200)] = None,
) -> Response:
    booking, replayed = await service.create_booking(db, actor, data.wanted(), now=now, idempotency_key=idempotency_key)
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    return Response(booking_json(booking), status_code=201, headers=headers)


@post("/api/v1/series", summary="Book a weekly series; dates that cannot be booked are listed with their reason")
async def create_series(data: SeriesIn, db: Db, actor: Actor, now: datetime) -> Response:
    until = data.until or data.start.astimezone(OSLO).date()
    outcome = await series.create_series(db, actor, data.wanted(), every_weeks=data.every_weeks, until=until, now=now)
    refused = [
        {"date": r.date.isoformat(), "start": local(r.start), "end": local(r.end), "code": r.code, "detail": r.detail}
        for r in outcome.refused
    ]
    body = {"series": series_json(outcome.series), "bookings": [booking_json(b) for b in outcome.booked], "refused": refused}
    return Response(body, status_code=201)


@post("/api/v1/series/{series_id:int}/cancel", summary="Cancel the rest of a series", status_code=200)
async def cancel_series(series_id: int, data: SeriesCancelIn, db: Db, actor: Actor, now: datetime) -> dict:
    cancelled = await series.cancel_series(db, actor, series_id, data.reason, after=data.after, now=now)
    return {"items": [booking_json(b) for b in cancelled]}


@get("/api/v1/bookings", summary="Bookings: mine, an association's, or (staff) by resource or status")
async def list_bookings(
    db: Db, actor: Actor, mine: bool = True, organisation_id: int | None = None, resource_id: int | None = None, status: str | None = None
) -> dict:
    rows = await service.list_bookings(db, actor, association_id=organisation_id, resource_id=resource_id, status=status)
    return {"items": [booking_json(b) for b in rows]}


@get("/api/v1/bookings/awaiting-approval", summary="Requests that await a staff decision (at my places unless asked)")
async def awaiting_approval(db: Db, actor: Actor, location_id: LocationId = None, places: Places = "mine") -> dict:
    rows = await service.awaiting_approval(db, actor, location_id=location_id, all_places=places == "all")
    return {"items": [booking_json(b) for b in rows]}


@get("/api/v1/bookings/{booking_id:int}", summary="One booking")
async def get_booking(booking_id: int, db: Db, actor: Actor) -> dict:
    return booking_json(await service.get_booking(db, actor, booking_id))


@patch("/api/v1/bookings/{booking_id:int}", summary="Move or shorten a booking, or change its title")
async def change_booking(booking_id: int, data: ChangeIn, db: Db, actor: Actor, now: datetime) -> dict:
    booking = await lifecycle.change_booking(
        db, actor, booking_id, start=data.start, end=data.end, title=data.title, attendees=data.attendees, now=now, reason=data.reason
    )
    return booking_json(booking)


@post("/api/v1/bookings/{booking_id:int}/cancel", summary="Cancel a booking", status_code=200)
async def cancel_booking(booking_id: int, db: Db, actor: Actor, now: datetime, data: ReasonIn | None = None) -> dict:
    return booking_json(await lifecycle.cancel_booking(db, actor, booking_id, (data or ReasonIn()).reason, now=now))


@post("/api/v1/bookings/{booking_id:int}/approve", summary="Staff: approve a request", status_code=200)
async def approve(booking_id: int, db: Db, actor: Actor, now: datetime, data: ReasonIn | None = None) -> dict:
    return booking_json(await lifecycle.decide(db, actor, booking_id, approve=True, reason=(data or ReasonIn()).reason, now=now))


@post("/api/v1/bookings/{booking_id:int}/decline", summary="Staff: decline a request with a reason", status_code=200)
async def decline(booking_id: int, data: ReasonIn, db: Db, actor: Actor, now: datetime) -> dict:
    return booking_json(await lifecycle.decide(db, actor, booking_id, approve=False, reason=data.reason, now=now))


# ---------------------------------------------------------------- a resource closed, retired or changed, with its bookings


class ClosingIn(ClosureIn, forbid_unknown_fields=True):
    """`covered` is required when the closure covers bookings; `seen`, the ids shown, guards against a stale preview."""

    covered: Choice | None = None  # each booker cancelled is told the closure's reason
    seen: list[int] | None = None


class RetiringIn(msgspec.Struct, forbid_unknown_fields=True):
    covered: Choice | None = None
    seen: list[int] | None = None
    reason: Reason = ""


class ChangingIn(ResourceChangesIn, forbid_unknown_fields=True):
    covered: Choice | None = None
    seen: list[int] | None = None
    reason: Reason = ""  # told to each borrower whose loan a lower stock cancels

    def changes(self) -> dict:
        return {k: v for k, v in super().changes().items() if k not in ("covered", "seen", "reason")}


class StockIn(msgspec.Struct, forbid_unknown_fields=True):
    stock: Count


def covered_json(found: list[closures.Covered]) -> dict:
    items = [
        {
            "id": c.id,
            "start": local(c.start),
            "end": local(c.end),
            "status": c.status,
            "booker": c.booker,
            "quantity": c.quantity,
            "on_cancel": c.fate,
        }
        for c in found
    ]
    return {"items": items, "count": len(items)}


def outcome_json(o: closures.Outcome) -> dict:
    return {"choice": o.choice, "cancelled": list(o.cancelled), "withdrawn": list(o.withdrawn), "kept": list(o.kept)}


def decision_of(data: ClosingIn | RetiringIn | ChangingIn) -> Decision:
    return Decision(data.covered, frozenset(data.seen) if data.seen is not None else None)


@post("/api/v1/resources/{resource_id:int}/closures/preview", summary="Staff: the bookings a closure would cover", status_code=200)
async def preview_closure(resource_id: int, data: ClosureIn, db: Db, actor: Actor, now: datetime) -> dict:
    return covered_json(await closures.preview_closure(db, actor, resource_id, data.start, data.end, now=now))


@post("/api/v1/resources/{resource_id:int}/closures", summary="Staff: close a resource for a while, cancelling or keeping what it covers")
async def add_closure(resource_id: int, data: ClosingIn, db: Db, actor: Actor, now: datetime) -> Response:
    closure, outcome = await closures.add_closure(db, actor, resource_id, data.start, data.end, data.reason, decision_of(data), now=now)
    return Response({**closure_json(closure), "bookings": outcome_json(outcome)}, status_code=201)


@post("/api/v1/resources/{resource_id:int}/retire/preview", summary="Staff: the bookings retiring a resource would cover", status_code=200)
async def preview_retirement(resource_id: int, db: Db, actor: Actor, now: datetime) -> dict:
    return covered_json(await closures.preview_retirement(db, actor, resource_id, now=now))


@post("/api/v1/resources/{resource_id:int}/retire", summary="Staff: retire a resource, cancelling or keeping its bookings", status_code=200)
async def retire_resource(resource_id: int, db: Db, actor: Actor, now: datetime, data: RetiringIn | None = None) -> dict:
    data = data or RetiringIn()
    detail, outcome = await closures.retire_resource(db, actor, resource_id, decision_of(data), data.reason, now=now)
    return {**detail_json(detail), "bookings": outcome_json(outcome)}


@post("/api/v1/resources/{resource_id:int}/stock/preview", summary="Staff: the loans a lower stock could no longer hold", status_code=200)
async def preview_stock(resource_id: int, data: StockIn, db: Db, actor: Actor, now: datetime) -> dict:
    return covered_json(await closures.preview_stock(db, actor, resource_id, data.stock, now=now))


@patch("/api/v1/resources/{resource_id:int}", summary="Staff: change a resource's details or rules (a lower stock settles its loans)")
async def update_resource(resource_id: int, data: ChangingIn, db: Db, actor: Actor, now: datetime) -> dict:
    detail, outcome = await closures.update_resource(db, actor, resource_id, data.changes(), decision_of(data), data.reason, now=now)
    return {**detail_json(detail), "bookings": outcome_json(outcome)}


@get("/api/v1/resources/{resource_id:int}/availability", summary="Free intervals of a room, or free units of an item")
async def resource_availability(
    resource_id: int,
    db: Db,
    now: datetime,
    start: Annotated[datetime, Parameter(query="from")],
    end: Annotated[datetime, Parameter(query="to")],
) -> dict:
    found = await availability.free_intervals(db, resource_id, start, end, now=now)
    answer = {"resource_id": resource_id, "kind": found.resource.kind, "from": local(found.span.start), "to": local(found.span.end)}
    if found.units is not None:
        return {
            **answer,
            "stock": found.resource.stock,
            "units": [{"start": local(i.start), "end": local(i.end), "free": n} for i, n in found.units],
        }
    return {**answer, "free": intervals_json(found.free)}


@get("/api/v1/rooms/free", summary="Rooms free for a whole interval, with enough seats and the wanted features")
async def free_rooms(
    db: Db,
    now: datetime,
    start: Annotated[datetime, Parameter(query="from")],
    end: Annotated[datetime, Parameter(query="to")],
    seats: int | None = None,
    feature: list[str] | None = None,
) -> dict:
    rooms = await availability.free_rooms(db, start, end, seats=seats, features=frozenset(feature or ()), now=now)
    return {
        "items": [{"id": r.id, "name": r.name, "capacity": r.capacity, "features": r.features, "location_id": r.location_id} for r in rooms]
    }


ROUTES = [
    *loan_api.ROUTES,
    *waitlist_api.ROUTES,
    *season_api.ROUTES,
    *room_api.ROUTES,
    create_booking,
    create_series,
    cancel_series,
    list_bookings,
    awaiting_approval,
    get_booking,
    change_booking,
    cancel_booking,
    approve,
    decline,
    resource_availability,
    free_rooms,
    preview_closure,
    add_closure,
    preview_retirement,
    retire_resource,
    preview_stock,
    update_resource,
]
