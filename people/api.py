"""HTTP for people: who am I, sign-in, tokens, associations and memberships."""

from __future__ import annotations

from datetime import datetime

from litestar import Request, get

from config.database import Db
from config.errors import NotAuthenticated
from people import service
from people.actor import Actor

SESSION_COOKIE = "allmenning_session"


def bearer_or_cookie(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.cookies.get(SESSION_COOKIE)


async def provide_actor(request: Request, db: Db, now: datetime) -> Actor:
    """The signed-in actor; every protected handler depends on this."""
    token = bearer_or_cookie(request)
    actor = await service.authenticate(db, token, now=now) if token else None
    if actor is None:
        raise NotAuthenticated("Sign in with an emailed link, or send a bearer token")
    return actor


@get("/api/v1/me", summary="The signed-in person")
async def me(actor: Actor) -> dict:
    return {
        "id": actor.person_id,
        "email": actor.email,
        "name": actor.name,
        "language": actor.language,
        "is_staff": actor.is_staff,
        "associations": [{"id": a, "role": r} for a, r in sorted(actor.roles.items())],
    }


ROUTES = [me]
