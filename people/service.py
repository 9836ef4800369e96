"""Use cases for people: authenticate a request, issue and revoke credentials."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from config.database import Db
from config.errors import NotFound
from people import store
from people.actor import Actor
from people.store import Credential, Person

SESSION_LENGTH = timedelta(days=30)


async def authenticate(db: Db, token: str, *, now: datetime) -> Actor | None:
    """The actor a session cookie or bearer token proves, or None."""
    async with db.read() as s:
        credential = await store.live_credential(s, token, ("session", "api"), now=now)
        if credential is None:
            return None
        person = await s.get(Person, credential.person_id)
        return await store.actor_of(s, person) if person else None


async def issue_credential(
    db: Db, email: str, kind: str, *, now: datetime, lifetime: timedelta | None = None, label: str = ""
) -> str:
    """A new secret of this kind for this person; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    async with db.write() as s:
        person = await store.person_by_email(s, email.strip().lower())
        if person is None:
            raise NotFound(f"No person with email {email}")
        s.add(
            Credential(
                person_id=person.id,
                kind=kind,
                token_hash=store.hash_token(token),
                label=label,
                created_at=now,
                expires_at=now + lifetime if lifetime else None,
            )
        )
    return token


async def find_person(db: Db, email: str) -> Person | None:
    async with db.read() as s:
        return (await s.execute(select(Person).where(Person.email == email.strip().lower()))).scalar_one_or_none()
