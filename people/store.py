"""Tables and queries for persons, associations, memberships, invitations and credentials."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import UniqueConstraint, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from infra.database import UtcDateTime
from people.actor import Actor
from people.roles import Grant, StaffRole


class Person(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    name: str = Field(default="", max_length=200)
    language: str = Field(default="nb", max_length=2)
    street: str = Field(default="", max_length=200)
    postal_code: str = Field(default="", max_length=4)
    city: str = Field(default="", max_length=100)
    created_at: datetime = Field(sa_type=UtcDateTime)
    last_seen_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # the last sign-in: retention counts from it
    erased_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # a pseudonym since: no name, no address


class StaffGrant(SQLModel, table=True):
    """A staff role a person holds, at one location or (location None) everywhere."""

    __tablename__ = "staff_grant"
    __table_args__ = (UniqueConstraint("person_id", "role", "location_id"),)
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: str = Field(max_length=20)
    location_id: int | None = Field(default=None, foreign_key="location.id")
    granted_by: int | None = None
    created_at: datetime = Field(sa_type=UtcDateTime)


class Association(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    orgnr: str = Field(max_length=9, unique=True, index=True)
    contact_email: str = Field(default="", max_length=254)
    contact_phone: str = Field(default="", max_length=40)
    created_at: datetime = Field(sa_type=UtcDateTime)


class Membership(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("association_id", "person_id"),)
    id: int | None = Field(default=None, primary_key=True)
    association_id: int = Field(foreign_key="association.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: str = Field(default="member", max_length=10)
    created_at: datetime = Field(sa_type=UtcDateTime)


class Invitation(SQLModel, table=True):
    """An admin's invitation to join an association: a membership only once the invitee accepts."""

    id: int | None = Field(default=None, primary_key=True)
    association_id: int = Field(foreign_key="association.id", index=True)
    email: str = Field(max_length=254)  # as the admin typed it (normalised): all admins are ever shown of the invitee
    person_id: int = Field(foreign_key="person.id", index=True)  # the invitee, whom the mail goes to and who alone answers
    role: str = Field(default="member", max_length=10)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    state: str = Field(default="pending", max_length=10)  # pending | accepted | declined | withdrawn
    created_at: datetime = Field(sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class Credential(SQLModel, table=True):
    """A secret that proves who someone is: a sign-in link, a session cookie or an API token (hashed)."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    kind: str = Field(max_length=12)  # signin_link | session | api | feed
    token_hash: str = Field(max_length=64, unique=True, index=True)
    label: str = Field(default="", max_length=100)
    created_at: datetime = Field(sa_type=UtcDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class SigninLink(SQLModel, table=True):
    """A one-time sign-in link for an email address: the person is created (or found) only when it is followed.

    The mail is sent at once; while SMTP is away, `next_mail_at` says when to try again (each try mints a new token,
    as only the hash is kept). A newer link for the same address revokes the older unused ones."""

    __tablename__ = "signin_link"
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, index=True)
    language: str = Field(default="nb", max_length=2)  # the mail's language, and a new person's
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    mailed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    next_mail_at: datetime | None = Field(default=None, sa_type=UtcDateTime, index=True)  # None: nothing to send
    mail_attempts: int = 0
    last_error: str = ""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def person_by_email(s: AsyncSession, email: str) -> Person | None:
    return (await s.execute(select(Person).where(Person.email == email))).scalar_one_or_none()


async def actor_by_token(s: AsyncSession, token: str, kinds: tuple[str, ...]) -> tuple[Actor, datetime | None] | None:
    """The person an unrevoked credential proves, with their association roles, staff grants and when it expires, in
    one round trip (a person holds few of either, so their product stays small)."""
    query = (
        select(
            Person.id,
            Person.email,
            Person.name,
            Person.language,
            Credential.expires_at,
            Membership.association_id,
            Membership.role,
            StaffGrant.role.label("staff_role"),
            StaffGrant.location_id,
        )
        .join(Credential, Credential.person_id == Person.id)
        .outerjoin(Membership, Membership.person_id == Person.id)
        .outerjoin(StaffGrant, StaffGrant.person_id == Person.id)
        .where(Credential.token_hash == hash_token(token), Credential.kind.in_(kinds), Credential.revoked_at.is_(None))
    )
    rows = (await s.execute(query)).all()
    if not rows:
        return None
    person_id, email, name, language, expires_at = rows[0][:5]
    roles = {row.association_id: row.role for row in rows if row.association_id is not None}
    grants = frozenset(Grant(StaffRole(row.staff_role), row.location_id) for row in rows if row.staff_role is not None)
    return Actor(person_id=person_id, email=email, name=name, language=language, grants=grants, roles=roles), expires_at


async def grants_of(s: AsyncSession, person_ids: set[int]) -> dict[int, frozenset[Grant]]:
    """Each person's staff grants (a person with none is left out)."""
    if not person_ids:
        return {}
    rows = (await s.execute(select(StaffGrant).where(StaffGrant.person_id.in_(person_ids)))).scalars()
    found: dict[int, set[Grant]] = {}
    for row in rows:
        found.setdefault(row.person_id, set()).add(Grant(StaffRole(row.role), row.location_id))
    return {person_id: frozenset(grants) for person_id, grants in found.items()}


async def add_operator(s: AsyncSession, person_id: int, *, now: datetime) -> bool:
    """Make a person an operator; False when they already are one."""
    query = select(StaffGrant.id).where(StaffGrant.person_id == person_id, StaffGrant.role == "operator")
    if (await s.execute(query)).first() is not None:
        return False
    s.add(StaffGrant(person_id=person_id, role="operator", created_at=now))
    await s.flush()
    return True


async def staff_ids(s: AsyncSession) -> list[int]:
    """Everyone who holds a staff role somewhere, in id order."""
    return list((await s.execute(select(StaffGrant.person_id).distinct().order_by(StaffGrant.person_id))).scalars())


async def live_credential(s: AsyncSession, token: str, kinds: tuple[str, ...], *, now: datetime, lock: bool = False) -> Credential | None:
    """The unrevoked, unexpired credential of one of these kinds that this token proves, if any."""
    query = select(Credential).where(Credential.token_hash == hash_token(token), Credential.kind.in_(kinds))
    row = (await s.execute(query.with_for_update() if lock else query)).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    return row


def add_credential(
    s: AsyncSession, person_id: int, kind: str, *, now: datetime, lifetime: timedelta | None = None, label: str = ""
) -> tuple[Credential, str]:
    """A new secret of this kind; only its hash is stored, so the token is returned once, here."""
    token = secrets.token_urlsafe(32)
    credential = Credential(
        person_id=person_id,
        kind=kind,
        token_hash=hash_token(token),
        label=label,
        created_at=now,
        expires_at=now + lifetime if lifetime else None,
    )
    s.add(credential)
    return credential, token


async def credentials_of(s: AsyncSession, person_id: int, kinds: tuple[str, ...]) -> list[Credential]:
    """A person's unrevoked credentials of these kinds, oldest first."""
    query = select(Credential).where(Credential.person_id == person_id, Credential.kind.in_(kinds), Credential.revoked_at.is_(None))
    return list((await s.execute(query.order_by(Credential.id))).scalars())


async def credential_of(s: AsyncSession, person_id: int, credential_id: int, kinds: tuple[str, ...]) -> Credential | None:
    query = select(Credential).where(Credential.id == credential_id, Credential.person_id == person_id, Credential.kind.in_(kinds))
    return (await s.execute(query)).scalar_one_or_none()


async def ensure_person(s: AsyncSession, email: str, *, now: datetime, **fields: object) -> tuple[Person, bool]:
    """The person with this (normalised) email, created with these fields if new; True when created."""
    person = await person_by_email(s, email)
    if person is not None:
        return person, False
    person = Person(email=email, created_at=now, **fields)
    try:
        # A savepoint, so that losing a race for the same new email (a double-clicked form) is not fatal.
        async with s.begin_nested():
            s.add(person)
    except IntegrityError:
        existing = await person_by_email(s, email)
        assert existing is not None
        return existing, False
    return person, True


# ---------------------------------------------------------------- associations and memberships


async def association_by_orgnr(s: AsyncSession, orgnr: str) -> Association | None:
    return (await s.execute(select(Association).where(Association.orgnr == orgnr))).scalar_one_or_none()


async def association(s: AsyncSession, association_id: int, *, lock: bool = False) -> Association | None:
    """An association; locked, it is the mutex every change to its memberships takes on PostgreSQL."""
    query = select(Association).where(Association.id == association_id)
    return (await s.execute(query.with_for_update() if lock else query)).scalar_one_or_none()


async def associations(s: AsyncSession, *, of_person: int | None = None) -> list[Association]:
    """All associations by name, or only those the person is a member of."""
    query = select(Association).order_by(Association.name, Association.id)
    if of_person is not None:
        query = query.join(Membership, Membership.association_id == Association.id).where(Membership.person_id == of_person)
    return list((await s.execute(query)).scalars())


async def membership(s: AsyncSession, association_id: int, person_id: int) -> Membership | None:
    query = select(Membership).where(Membership.association_id == association_id, Membership.person_id == person_id)
    return (await s.execute(query)).scalar_one_or_none()


async def admin_count(s: AsyncSession, association_id: int) -> int:
    query = select(func.count()).where(Membership.association_id == association_id, Membership.role == "admin")
    return (await s.execute(query)).scalar_one()


async def members_of(s: AsyncSession, association_id: int) -> list[tuple[Membership, Person]]:
    """The association's members with their persons: admins first, then by name."""
    query = (
        select(Membership, Person)
        .join(Person, Person.id == Membership.person_id)
        .where(Membership.association_id == association_id)
        .order_by(Membership.role, Person.name, Person.id)
    )
    return [(m, p) for m, p in (await s.execute(query)).all()]


# ---------------------------------------------------------------- invitations


def new_token() -> tuple[str, str]:
    """A secret and its hash: only the hash is stored."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


async def invitation_by_token(s: AsyncSession, token: str, *, lock: bool = False) -> Invitation | None:
    query = select(Invitation).where(Invitation.token_hash == hash_token(token))
    return (await s.execute(query.with_for_update() if lock else query)).scalar_one_or_none()


async def pending_invitations(s: AsyncSession, association_id: int, *, now: datetime, email: str | None = None) -> list[Invitation]:
    """An association's open invitations (not answered, withdrawn or expired), oldest first."""
    query = select(Invitation).where(
        Invitation.association_id == association_id, Invitation.state == "pending", Invitation.expires_at > now
    )
    if email is not None:
        query = query.where(Invitation.email == email)
    return list((await s.execute(query.order_by(Invitation.id))).scalars())


# ---------------------------------------------------------------- sign-in links


def add_signin_link(
    s: AsyncSession, email: str, language: str, *, now: datetime, lifetime: timedelta, mail_at: datetime | None = None
) -> tuple[SigninLink, str]:
    """A new link for this address; the token is returned once, here."""
    token = secrets.token_urlsafe(32)
    link = SigninLink(
        email=email,
        language=language,
        token_hash=hash_token(token),
        created_at=now,
        expires_at=now + lifetime,
        next_mail_at=mail_at,
    )
    s.add(link)
    return link, token


async def revoke_signin_links(s: AsyncSession, email: str, *, now: datetime) -> None:
    """Older unused links for this address stop working (and stop being mailed)."""
    await s.execute(
        update(SigninLink)
        .where(SigninLink.email == email, SigninLink.used_at.is_(None), SigninLink.revoked_at.is_(None))
        .values(revoked_at=now, next_mail_at=None)
    )


async def signin_link(s: AsyncSession, token: str, *, now: datetime, lock: bool = False) -> SigninLink | None:
    """The unused, unrevoked, unexpired link this token proves, if any."""
    query = select(SigninLink).where(SigninLink.token_hash == hash_token(token))
    link = (await s.execute(query.with_for_update() if lock else query)).scalar_one_or_none()
    if link is None or link.used_at is not None or link.revoked_at is not None or link.expires_at <= now:
        return None
    return link


async def signin_link_email(s: AsyncSession, token: str) -> str | None:
    """The address a link with this token was made for, whether it is live, used, replaced or expired."""
    return (await s.execute(select(SigninLink.email).where(SigninLink.token_hash == hash_token(token)))).scalar_one_or_none()


async def signin_links_to_mail(s: AsyncSession, *, now: datetime, since: datetime, limit: int = 50) -> list[SigninLink]:
    """Links whose mail is due again (SMTP was away), locked; another process skips them on PostgreSQL."""
    query = (
        select(SigninLink)
        .where(
            SigninLink.next_mail_at <= now,
            SigninLink.used_at.is_(None),
            SigninLink.revoked_at.is_(None),
            SigninLink.created_at > since,
        )
        .order_by(SigninLink.next_mail_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await s.execute(query)).scalars())
