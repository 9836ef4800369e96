"""An association's admins manage its members: the list with roles, an invitation by email, a role changed, a member
removed after a page that asks first; anyone else is refused."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from infra.database import Db
from infra.errors import DomainError
from infra.settings import Settings
from people import associations as memberships
from people.actor import Actor, Duty, check_admin
from web.frame import error_map, posted, render, see_other, signed_in


def base(association_id: int) -> str:
    return f"/associations/{association_id}/members"


async def members_page(
    request: Request,
    db: Db,
    settings: Settings,
    actor: Actor,
    association_id: int,
    now: datetime,
    *,
    status: int = 200,
    errors: dict | None = None,
    values: dict | None = None,
) -> Template:
    # The open invitations are the admins' alone: asking for them refuses anyone else before anything is shown.
    invitations = await memberships.list_invitations(db, actor, association_id, now=now)
    return render(
        request,
        settings,
        actor,
        "members.html",
        status=status,
        association=await memberships.get_association(db, actor, association_id),
        members=await memberships.list_members(db, actor, association_id),
        invitations=invitations,
        errors=errors or {},
        values={"role": "member", **(values or {})},
        done=request.query_params.get("done", ""),
    )


async def member_of(db: Db, actor: Actor, association_id: int, person_id: int) -> tuple[Any, Any]:
    for membership, person in await memberships.list_members(db, actor, association_id):
        if person.id == person_id:
            return membership, person
    raise memberships.MembershipNotFound(association_id=association_id, person_id=person_id)


@get("/associations/{association_id:int}/members", name="members")
async def show(request: Request, association_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime) -> Template:
    return await members_page(request, db, settings, signed_in(viewer), association_id, now)


@post("/associations/{association_id:int}/members", name="invite_member")
async def invite(
    request: Request, association_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime
) -> Template | Redirect:
    """Adding by email sends an invitation: the person becomes a member when they accept it."""
    actor = signed_in(viewer)
    form = await posted(request)
    try:
        await memberships.invite_member(db, actor, association_id, form.get("email", ""), form.get("role", ""), now=now)
    except DomainError as refusal:
        errors = error_map(refusal, "email")
        return await members_page(request, db, settings, actor, association_id, now, status=refusal.status, errors=errors, values=form)
    return see_other(base(association_id) + "?done=invited")


@post("/associations/{association_id:int}/members/{person_id:int}/role", name="change_member_role")
async def change_role(
    request: Request, association_id: int, person_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime
) -> Template | Redirect:
    actor = signed_in(viewer)
    form = await posted(request)
    try:
        await memberships.change_role(db, actor, association_id, person_id, form.get("role", ""), now=now)
    except DomainError as refusal:
        errors = {f"member-{person_id}": message for message in error_map(refusal).values()}
        return await members_page(request, db, settings, actor, association_id, now, status=refusal.status, errors=errors)
    return see_other(base(association_id) + "?done=role")


@post("/associations/{association_id:int}/invitations/{invitation_id:int}/withdraw", name="withdraw_invitation")
async def withdraw(request: Request, association_id: int, invitation_id: int, db: Db, viewer: Actor | None, now: datetime) -> Redirect:
    actor = signed_in(viewer)
    await posted(request)
    await memberships.withdraw_invitation(db, actor, association_id, invitation_id, now=now)
    return see_other(base(association_id) + "?done=withdrawn")


@get("/associations/{association_id:int}/members/{person_id:int}/remove", name="confirm_remove_member")
async def confirm_remove(
    request: Request, association_id: int, person_id: int, db: Db, settings: Settings, viewer: Actor | None
) -> Template:
    """Removing asks first, on a page of its own: a form to send, or a way back."""
    actor = signed_in(viewer)
    check_admin(actor, association_id)
    return await remove_page(request, db, settings, actor, association_id, person_id)


async def remove_page(
    request: Request, db: Db, settings: Settings, actor: Actor, association_id: int, person_id: int, *, status: int = 200, error: str = ""
) -> Template:
    membership, person = await member_of(db, actor, association_id, person_id)
    association = await memberships.get_association(db, actor, association_id)
    context = {"association": association, "membership": membership, "person": person, "error": error}
    return render(request, settings, actor, "member_remove.html", status=status, **context)


@post("/associations/{association_id:int}/members/{person_id:int}/remove", name="remove_member")
async def remove(
    request: Request, association_id: int, person_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime
) -> Template | Redirect:
    actor = signed_in(viewer)
    await posted(request)
    check_admin(actor, association_id)  # leaving on one's own is the API's; on this page admins remove
    try:
        await memberships.remove_member(db, actor, association_id, person_id, now=now)
    except DomainError as refusal:
        message = next(iter(error_map(refusal).values()))
        return await remove_page(request, db, settings, actor, association_id, person_id, status=refusal.status, error=message)
    if person_id == actor.person_id and not actor.may(Duty.PEOPLE):  # an admin who removed themselves no longer sees the list
        return see_other("/associations?done=left")
    return see_other(base(association_id) + "?done=removed")


ROUTES = [show, invite, change_role, withdraw, confirm_remove, remove]
