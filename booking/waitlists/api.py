"""HTTP for waitlists and offers: join, see one's place, leave, staff reorder; accept or decline a held offer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import get, post

from booking.representation import BookingIn, booking_json, local
from booking.waitlists import offers
from booking.waitlists import service as waitlist
from booking.waitlists.service import Place
from booking.waitlists.store import WaitlistOffer
from infra.database import Db
from people.actor import Actor


class WaitIn(BookingIn, forbid_unknown_fields=True):
    """What one waits for: the same fields as a booking."""


class MoveIn(msgspec.Struct, forbid_unknown_fields=True):
    position: Annotated[int, msgspec.Meta(ge=1, le=100_000)]
    reason: Annotated[str, msgspec.Meta(max_length=1000)] = ""


def offer_json(offer: WaitlistOffer | None) -> dict[str, Any] | None:
    if offer is None:
        return None
    return {
        "booking_id": offer.booking_id,
        "deadline": local(offer.deadline),
        "made_at": local(offer.made_at),
        "outcome": offer.outcome,
        "accept": f"/api/v1/offers/{offer.booking_id}/accept",
        "decline": f"/api/v1/offers/{offer.booking_id}/decline",
    }


def place_json(place: Place) -> dict[str, Any]:
    e = place.entry
    return {
        "id": e.id,
        "kind": e.kind,
        "status": e.status,
        "position": place.position,
        "resource_id": e.resource_id,
        "season_id": e.season_id,
        "start": local(e.start),
        "end": local(e.end),
        "quantity": e.quantity,
        "person_id": e.person_id,
        "organisation_id": e.association_id,
        "tier": e.tier,
        "declines": e.declines,
        "preferences": e.preferences,
        "joined_at": local(e.joined_at),
        "move_reason": e.move_reason or None,
        "offer": offer_json(place.offer),
    }


@post("/api/v1/waitlist", summary="Wait for a taken room slot or for units of an item")
async def join(data: WaitIn, db: Db, actor: Actor, now: datetime) -> dict:
    return place_json(await waitlist.join(db, actor, data.wanted(), now=now))


@get("/api/v1/waitlist", summary="My waitlist entries with their place in line; staff: a resource's or season's line")
async def entries(db: Db, actor: Actor, resource_id: int | None = None, season_id: int | None = None) -> dict:
    if resource_id is None and season_id is None:
        return {"items": [place_json(p) for p in await waitlist.my_places(db, actor)]}
    return {"items": [place_json(p) for p in await waitlist.line(db, actor, resource_id=resource_id, season_id=season_id)]}


@get("/api/v1/waitlist/{entry_id:int}", summary="One waitlist entry and its place in line")
async def entry(entry_id: int, db: Db, actor: Actor) -> dict:
    return place_json(await waitlist.get_place(db, actor, entry_id))


@post("/api/v1/waitlist/{entry_id:int}/leave", summary="Leave a waitlist", status_code=200)
async def leave(entry_id: int, db: Db, actor: Actor, now: datetime) -> dict:
    return place_json(await waitlist.leave(db, actor, entry_id, now=now))


@post("/api/v1/waitlist/{entry_id:int}/move", summary="Staff: move an entry to a place in its line, with a reason", status_code=200)
async def move(entry_id: int, data: MoveIn, db: Db, actor: Actor, now: datetime) -> dict:
    return place_json(await waitlist.move(db, actor, entry_id, data.position, data.reason, now=now))


@get("/api/v1/offers", summary="My open offers")
async def my_offers(db: Db, actor: Actor) -> dict:
    return {"items": [{**offer_json(p.offer), "entry_id": p.entry.id} for p in await waitlist.my_places(db, actor) if p.offer]}


@post("/api/v1/offers/{booking_id:int}/accept", summary="Accept a held offer: it becomes your booking", status_code=200)
async def accept(booking_id: int, db: Db, actor: Actor, now: datetime) -> dict:
    return booking_json(await offers.accept_offer(db, actor, booking_id, now=now))


@post("/api/v1/offers/{booking_id:int}/decline", summary="Decline a held offer: it passes to the next in line", status_code=200)
async def decline(booking_id: int, db: Db, actor: Actor, now: datetime) -> dict:
    return booking_json(await offers.decline_offer(db, actor, booking_id, now=now))


ROUTES = [join, entries, entry, leave, move, my_offers, accept, decline]
