"""HTTP for people: sign-in, who am I, tokens, associations and memberships."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, delete, get, patch, post

from infra.database import Db
from infra.errors import NotAuthenticated
from infra.http import SESSION_COOKIE, SIGNED_OUT, bearer_or_cookie
from infra.settings import TIMEZONE, Settings
from people import associations, service
from people.actor import Actor, Duty
from people.rules import Language, MemberRole
from people.store import Association, Credential, Invitation, Membership, Person

Email = Annotated[str, msgspec.Meta(max_length=254)]
Name = Annotated[str, msgspec.Meta(max_length=200)]
Short = Annotated[str, msgspec.Meta(max_length=100)]


class SignInIn(msgspec.Struct, forbid_unknown_fields=True):
    """No name: a name given by whoever asks is never stored nor mailed (the person sets theirs once signed in)."""

    email: Email
    language: Language | None = None


class ProfileIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | None = None
    language: Language | None = None
    street: Name | None = None
    postal_code: Annotated[str, msgspec.Meta(max_length=10)] | None = None
    city: Short | None = None


class TokenIn(msgspec.Struct, forbid_unknown_fields=True):
    label: Short = ""


class AssociationIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    orgnr: Annotated[str, msgspec.Meta(max_length=20)]
    admin_email: Email
    contact_email: Email = ""
    contact_phone: Annotated[str, msgspec.Meta(max_length=40)] = ""


class MemberIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    role: MemberRole = MemberRole.MEMBER


class RoleIn(msgspec.Struct, forbid_unknown_fields=True):
    role: MemberRole


def local(moment: datetime | None) -> str | None:
    return moment.astimezone(TIMEZONE).isoformat() if moment else None


async def provide_actor(request: Request, db: Db, now: datetime) -> Actor:
    """The signed-in actor; every protected handler depends on this."""
    token = bearer_or_cookie(request)
    actor = await service.authenticate(db, token, now=now) if token else None
    if actor is None:
        raise NotAuthenticated("Sign in with an emailed link, or send a bearer token")
    return actor


# ---------------------------------------------------------------- sign-in


def client_of(request: Request) -> str:
    """The client's address as the server saw it (behind a trusted proxy, from its forwarded header)."""
    return request.client.host if request.client else ""


@post(
    "/api/v1/auth/sign-in",
    status_code=202,
    summary="Email me a one-time sign-in link",
    description="At most 5 per address and 20 per client in 15 minutes, then 429 with Retry-After. "
    '`{"status": "queued"}` means the mail server did not take the mail yet: it is retried.',
)
async def sign_in(request: Request, data: SignInIn, db: Db, settings: Settings, now: datetime) -> dict:
    # The same answer for every address: whether someone is registered here is nobody else's business.
    outcome = await service.request_signin(db, settings, data.email, now=now, language=data.language, client=client_of(request))
    return {"status": str(outcome)}


@post("/api/v1/auth/sign-out", status_code=204, response_cookies=[SIGNED_OUT], summary="End this session")
async def sign_out(request: Request, db: Db, now: datetime) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await service.sign_out(db, token, now=now)


# ---------------------------------------------------------------- me and my tokens


def person_json(person: Person, actor: Actor) -> dict[str, Any]:
    return {
        "id": person.id,
        "email": person.email,
        "name": person.name,
        "language": person.language,
        "street": person.street,
        "postal_code": person.postal_code,
        "city": person.city,
        "is_staff": actor.is_staff,
        "staff_roles": [{"role": g.role.value, "location_id": g.location_id} for g in sorted(actor.grants, key=str)],
        "associations": [{"id": a, "role": r} for a, r in sorted(actor.roles.items())],
    }


def token_json(credential: Credential) -> dict[str, Any]:
    return {
        "id": credential.id,
        "label": credential.label,
        "created_at": local(credential.created_at),
        "expires_at": local(credential.expires_at),
    }


@get("/api/v1/me", summary="The signed-in person")
async def me(db: Db, actor: Actor, my_calendar_feed: dict | None) -> dict:
    # The feed is the notifications package's; the app provides whether one exists (`my_calendar_feed`), so people need not know it.
    return {**person_json(await service.profile(db, actor), actor), "calendar_feed": my_calendar_feed}


@patch("/api/v1/me", summary="Change my name, language or address")
async def update_me(data: ProfileIn, db: Db, actor: Actor, now: datetime) -> dict:
    changes = msgspec.structs.asdict(data)
    return person_json(await service.update_me(db, actor, now=now, **changes), actor)


@get("/api/v1/me/tokens", summary="My API tokens")
async def list_tokens(db: Db, actor: Actor) -> dict:
    return {"items": [token_json(c) for c in await service.list_tokens(db, actor)]}


@post("/api/v1/me/tokens", summary="Create an API token (the token is shown only in this answer)")
async def create_token(data: TokenIn, db: Db, actor: Actor, now: datetime) -> dict:
    credential, token = await service.create_api_token(db, actor, data.label, now=now)
    return {**token_json(credential), "token": token}


@delete("/api/v1/me/tokens/{token_id:int}", summary="Revoke one of my API tokens")
async def revoke_token(token_id: int, db: Db, actor: Actor, now: datetime) -> None:
    await service.revoke_token(db, actor, token_id, now=now)


# ---------------------------------------------------------------- associations and members


def association_json(association: Association, actor: Actor) -> dict[str, Any]:
    return {
        "id": association.id,
        "name": association.name,
        "orgnr": association.orgnr,
        "contact_email": association.contact_email,
        "contact_phone": association.contact_phone,
        "my_role": actor.roles.get(association.id),
        "created_at": local(association.created_at),
    }


def member_json(membership: Membership, person: Person, actor: Actor) -> dict[str, Any]:
    # Fellow members see names and roles; addresses only those who manage the membership list.
    managing = actor.may(Duty.PEOPLE) or actor.is_admin_of(membership.association_id)
    return {
        "person_id": person.id,
        "name": person.name,
        "role": membership.role,
        "email": person.email if managing else None,
        "since": local(membership.created_at),
    }


@get("/api/v1/associations", summary="Associations: staff see all, others their own")
async def list_associations(db: Db, actor: Actor) -> dict:
    return {"items": [association_json(a, actor) for a in await associations.list_associations(db, actor)]}


@post("/api/v1/associations", summary="Register an association with its first admin (staff)")
async def create_association(data: AssociationIn, db: Db, actor: Actor, now: datetime) -> dict:
    association = await associations.open_association(
        db,
        actor,
        data.name,
        data.orgnr,
        admin_email=data.admin_email,
        now=now,
        contact_email=data.contact_email,
        contact_phone=data.contact_phone,
    )
    return association_json(association, actor)


@get("/api/v1/associations/{association_id:int}", summary="One association (members and staff)")
async def get_association(association_id: int, db: Db, actor: Actor) -> dict:
    return association_json(await associations.get_association(db, actor, association_id), actor)


@get("/api/v1/associations/{association_id:int}/members", summary="The association's members")
async def list_members(association_id: int, db: Db, actor: Actor) -> dict:
    members = await associations.list_members(db, actor, association_id)
    return {"items": [member_json(m, p, actor) for m, p in members]}


@post("/api/v1/associations/{association_id:int}/members", status_code=202, summary="Invite someone by email (admins)")
async def invite_member(association_id: int, data: MemberIn, db: Db, actor: Actor, now: datetime) -> dict:
    # The same answer for every address: whom an address belongs to is not the admin's to learn from us.
    await associations.invite_member(db, actor, association_id, data.email, data.role, now=now)
    return {"status": "invited"}


def invitation_json(invitation: Invitation) -> dict[str, Any]:
    return {
        "id": invitation.id,
        "email": invitation.email,
        "role": invitation.role,
        "invited_at": local(invitation.created_at),
        "expires_at": local(invitation.expires_at),
    }


@get("/api/v1/associations/{association_id:int}/invitations", summary="Open invitations, by address (admins)")
async def list_invitations(association_id: int, db: Db, actor: Actor, now: datetime) -> dict:
    return {"items": [invitation_json(i) for i in await associations.list_invitations(db, actor, association_id, now=now)]}


@delete("/api/v1/associations/{association_id:int}/invitations/{invitation_id:int}", summary="Withdraw an invitation (admins)")
async def withdraw_invitation(association_id: int, invitation_id: int, db: Db, actor: Actor, now: datetime) -> None:
    await associations.withdraw_invitation(db, actor, association_id, invitation_id, now=now)


@get("/api/v1/invitations/{token:str}", summary="My invitation: which association and role, until when")
async def show_invitation(token: str, db: Db, actor: Actor, now: datetime) -> dict:
    invitation, association, state = await associations.show_invitation(db, actor, token, now=now)
    return {
        "association": {"id": association.id, "name": association.name},
        "role": invitation.role,
        "state": state,
        "expires_at": local(invitation.expires_at),
    }


@post("/api/v1/invitations/{token:str}/accept", status_code=200, summary="Accept my invitation and become a member")
async def accept_invitation(token: str, db: Db, actor: Actor, now: datetime) -> dict:
    membership = await associations.accept_invitation(db, actor, token, now=now)
    return {"association_id": membership.association_id, "role": membership.role, "since": local(membership.created_at)}


@post("/api/v1/invitations/{token:str}/decline", status_code=204, summary="Decline my invitation")
async def decline_invitation(token: str, db: Db, actor: Actor, now: datetime) -> None:
    await associations.decline_invitation(db, actor, token, now=now)


@patch("/api/v1/associations/{association_id:int}/members/{person_id:int}", summary="Change a member's role (admins)")
async def change_role(association_id: int, person_id: int, data: RoleIn, db: Db, actor: Actor, now: datetime) -> dict:
    membership, person = await associations.change_role(db, actor, association_id, person_id, data.role, now=now)
    return member_json(membership, person, actor)


@delete("/api/v1/associations/{association_id:int}/members/{person_id:int}", summary="Remove a member, or leave")
async def remove_member(association_id: int, person_id: int, db: Db, actor: Actor, now: datetime) -> None:
    await associations.remove_member(db, actor, association_id, person_id, now=now)


ROUTES = [
    sign_in,
    sign_out,
    me,
    update_me,
    list_tokens,
    create_token,
    revoke_token,
    list_associations,
    create_association,
    get_association,
    list_members,
    invite_member,
    list_invitations,
    withdraw_invitation,
    show_invitation,
    accept_invitation,
    decline_invitation,
    change_role,
    remove_member,
]
