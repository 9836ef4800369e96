"""Tables and queries for persons, associations, memberships and credentials."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from config.database import UtcDateTime
from people.actor import Actor


class Person(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    name: str = Field(default="", max_length=200)
    language: str = Field(default="nb", max_length=2)
    street: str = Field(default="", max_length=200)
    postal_code: str = Field(default="", max_length=4)
    city: str = Field(default="", max_length=100)
    is_staff: bool = False
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


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def person_by_email(s: AsyncSession, email: str) -> Person | None:
    return (await s.execute(select(Person).where(Person.email == email))).scalar_one_or_none()


async def roles_of(s: AsyncSession, person_id: int) -> dict[int, str]:
    rows = await s.execute(select(Membership.association_id, Membership.role).where(Membership.person_id == person_id))
    return {association_id: role for association_id, role in rows.all()}


async def actor_of(s: AsyncSession, person: Person) -> Actor:
    assert person.id is not None
    return Actor(
        person_id=person.id,
        email=person.email,
        name=person.name,
        language=person.language,
        is_staff=person.is_staff,
        roles=await roles_of(s, person.id),
    )


async def live_credential(s: AsyncSession, token: str, kinds: tuple[str, ...], *, now: datetime) -> Credential | None:
    """The unrevoked, unexpired credential of one of these kinds that this token proves, if any."""
    row = (
        await s.execute(select(Credential).where(Credential.token_hash == hash_token(token), Credential.kind.in_(kinds)))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    return row
