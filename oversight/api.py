"""Each person's rights over their data over HTTP: export (a JSON download) and erasure, their own or staff's on request."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Response, delete, get
from litestar.params import Parameter

from infra.database import Db
from infra.settings import TIMEZONE, Settings
from oversight import rights
from people.actor import Actor

PersonId = Annotated[int, Parameter(ge=1, le=2**31 - 1)]
Reason = Annotated[str, msgspec.Meta(max_length=2000)]


class ErasureIn(msgspec.Struct, forbid_unknown_fields=True):
    """Why the person is erased (what they asked, and how): kept in the audit trail."""

    reason: Reason


def download(held: dict[str, Any], now: datetime) -> Response:
    name = f"allmenning-{held['person_id']}-{now.astimezone(TIMEZONE).date()}.json"
    return Response(held, media_type="application/json", headers={"Content-Disposition": f'attachment; filename="{name}"'})


def erased_json(done: rights.Erased) -> dict[str, Any]:
    return {"person_id": done.person_id, **done.summary()}


@get("/api/v1/me/export", summary="Everything held about me, as a JSON download")
async def export_me(db: Db, actor: Actor, now: datetime) -> Response:
    return download(await rights.export_me(db, actor, now=now), now)


@get("/api/v1/people/{person_id:int}/export", summary="Staff who manage people: everything held about a person, on their request")
async def export_person(person_id: PersonId, db: Db, actor: Actor, now: datetime) -> Response:
    return download(await rights.export_person(db, actor, person_id, now=now), now)


@delete("/api/v1/me", status_code=200, summary="Erase my account: future bookings cancelled, my name and address gone")
async def erase_me(db: Db, settings: Settings, actor: Actor, now: datetime) -> dict:
    return erased_json(await rights.erase_me(db, settings, actor, now=now))


@delete("/api/v1/people/{person_id:int}", status_code=200, summary="Staff who manage people: erase a person on request, saying why")
async def erase_person(person_id: PersonId, data: ErasureIn, db: Db, settings: Settings, actor: Actor, now: datetime) -> dict:
    return erased_json(await rights.erase_on_request(db, settings, actor, person_id, data.reason, now=now))


ROUTES = [export_me, export_person, erase_me, erase_person]
