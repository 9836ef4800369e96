"""The page an invitation mail links to: the invitee sees which association and role, and accepts or declines."""

from __future__ import annotations

from datetime import datetime

from litestar import Request, get, post
from litestar.response import Redirect, Template

from infra.database import Db
from infra.errors import NotFound
from infra.settings import Settings
from people import associations
from people.actor import Actor
from web.frame import posted, render, see_other, signed_in


@get("/invitations/{token:str}", name="invitation")
async def invitation_page(request: Request, token: str, db: Db, settings: Settings, viewer: Actor | None, now: datetime) -> Template:
    # Signing in first brings the invitee back here (the sign-in page keeps where it was asked from).
    actor = signed_in(viewer)
    invitation, association, state = await associations.show_invitation(db, actor, token, now=now)
    context = {"invitation": invitation, "association": association, "state": state, "token": token}
    return render(request, settings, actor, "invitation.html", done=request.query_params.get("done", ""), **context)


@post("/invitations/{token:str}/{answer:str}", name="answer_invitation")
async def answer_invitation(request: Request, token: str, answer: str, db: Db, viewer: Actor | None, now: datetime) -> Redirect:
    actor = signed_in(viewer)
    if answer not in ("accept", "decline"):
        raise NotFound(f"No answer {answer!r}")
    await posted(request)
    if answer == "accept":
        membership = await associations.accept_invitation(db, actor, token, now=now)
        return see_other(f"/associations/{membership.association_id}?done=joined")
    await associations.decline_invitation(db, actor, token, now=now)
    return see_other(f"/invitations/{token}?done=declined")


ROUTES = [invitation_page, answer_invitation]
