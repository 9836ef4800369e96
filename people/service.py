"""Use cases for people: sign-in, sessions and tokens, profiles, associations and their members."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from config.database import Db
from config.errors import Conflict, DomainError, InvalidInput, NotFound
from config.settings import Settings
from notifications import mail
from people import store
from people.actor import Actor, check_admin, check_member, check_staff
from people.rules import Language, MemberRole, check_orgnr, check_postal_code, normalise_email
from people.store import Association, Credential, Membership, Person

SESSION_LENGTH = timedelta(days=30)
EMAILED_LINK_LIFETIME = timedelta(minutes=30)
OPERATOR_LINK_LIFETIME = timedelta(hours=24)  # the operator copies it from a terminal, maybe hours later
TOKEN_KINDS = ("api",)


class SigninLinkInvalid(DomainError):
    code = "signin_link_invalid"
    status = 400
    title = "The sign-in link is unknown, already used or expired; ask for a new one"


class PersonNotFound(NotFound):
    code = "person_not_found"
    title = "No person has this email address"


class AssociationNotFound(NotFound):
    code = "association_not_found"
    title = "No such association"


class MembershipNotFound(NotFound):
    code = "membership_not_found"
    title = "This person is not a member of the association"


class TokenNotFound(NotFound):
    code = "token_not_found"
    title = "You have no such token"


class OrgnrTaken(Conflict):
    code = "orgnr_taken"
    title = "An association with this organisation number is already registered"


class AlreadyMember(Conflict):
    code = "already_member"
    title = "This person is already a member of the association"


class LastAdmin(Conflict):
    code = "last_admin"
    title = "An association must keep at least one admin"


class InvalidLanguage(InvalidInput):
    code = "invalid_language"
    title = "The language must be nb (bokmål) or en (English)"


class InvalidRole(InvalidInput):
    code = "invalid_role"
    title = "The role must be admin or member"


class InvalidName(InvalidInput):
    code = "invalid_name"
    title = "The name is missing"


def check_language(value: str) -> str:
    if value not in set(Language):
        raise InvalidLanguage(f"{value!r} is not nb or en", field="language")
    return value


def check_role(value: str) -> str:
    if value not in set(MemberRole):
        raise InvalidRole(f"{value!r} is not admin or member", field="role")
    return value


def signin_url(settings: Settings, token: str) -> str:
    return f"{settings.base_url}/auth/verify?token={token}"


# ---------------------------------------------------------------- authentication


async def authenticate(db: Db, token: str, *, now: datetime) -> Actor | None:
    """The actor a session cookie or bearer token proves, or None."""
    async with db.read() as s:
        return await store.actor_by_token(s, token, ("session", "api"), now=now)


async def issue_credential(
    db: Db, email: str, kind: str, *, now: datetime, lifetime: timedelta | None = None, label: str = ""
) -> str:
    """A new secret of this kind for this person; only its hash is stored."""
    async with db.write() as s:
        person = await store.person_by_email(s, normalise_email(email))
        if person is None:
            raise PersonNotFound(f"No person with email {email}", email=email)
        _, token = store.add_credential(s, person.id, kind, now=now, lifetime=lifetime, label=label)
    return token


async def add_person(
    db: Db, email: str, *, name: str = "", staff: bool = False, now: datetime,
    language: str = "nb", street: str = "", postal_code: str = "", city: str = "",
) -> Person:
    """A person by email; adding one who exists updates their name (when given) and staff flag."""
    email = normalise_email(email)
    fields = dict(name=name.strip(), language=check_language(language), street=street.strip(),
                  postal_code=check_postal_code(postal_code) if postal_code else "", city=city.strip(), is_staff=staff)
    async with db.write() as s:
        person, created = await store.ensure_person(s, email, now=now, **fields)
        if not created:
            person.name = fields["name"] or person.name
            person.is_staff = staff
    return person


async def create_signin_link(
    db: Db, settings: Settings, email: str, *, now: datetime, lifetime: timedelta = OPERATOR_LINK_LIFETIME
) -> str:
    """A one-time sign-in link for an existing person (the operator's way in)."""
    token = await issue_credential(db, email, "signin_link", now=now, lifetime=lifetime)
    return signin_url(settings, token)


async def request_signin(
    db: Db, settings: Settings, email: str, *, now: datetime, name: str = "", language: str | None = None
) -> None:
    """Mail a sign-in link; a new address becomes a resident, so joining takes only an email address."""
    email = normalise_email(email)
    fields = dict(name=name.strip(), language=check_language(language or "nb"))
    async with db.write() as s:
        # An existing person's name and language are not changed by an unauthenticated request.
        person, _ = await store.ensure_person(s, email, now=now, **fields)
        _, token = store.add_credential(s, person.id, "signin_link", now=now, lifetime=EMAILED_LINK_LIFETIME)
    await deliver_signin_mail(settings, person, signin_url(settings, token))  # after commit: never mail a dead link


SIGNIN_MAIL = {
    "nb": ("Logg inn på Allmenning", "Hei {name}!\n\nTrykk på lenken for å logge inn på Allmenning. "
           "Den virker én gang, i {minutes} minutter:\n\n{link}\n\n"
           "Ba du ikke om å logge inn, kan du se bort fra denne e-posten.\n\nHilsen Knutepunkt Strømsø\n"),
    "en": ("Sign in to Allmenning", "Hello {name},\n\nFollow this link to sign in to Allmenning. "
           "It works once, for {minutes} minutes:\n\n{link}\n\n"
           "If you did not ask to sign in, you can ignore this email.\n\nKnutepunkt Strømsø\n"),
}


async def deliver_signin_mail(settings: Settings, person: Person, link: str) -> None:
    """Send the sign-in link at once (it cannot wait for the outbox's next round), by SMTP or into the mail folder."""
    subject, body = SIGNIN_MAIL.get(person.language, SIGNIN_MAIL["nb"])
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = person.email
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain="allmenning.local")
    minutes = int(EMAILED_LINK_LIFETIME.total_seconds() // 60)
    message.set_content(body.format(name=person.name or person.email, minutes=minutes, link=link))
    await mail.deliver_now(settings, message)


async def redeem_signin_link(db: Db, token: str, *, now: datetime) -> str:
    """Use a sign-in link once and open a session; returns the session token."""
    async with db.write() as s:
        link = await store.live_credential(s, token, ("signin_link",), now=now, lock=True)
        if link is None or link.used_at is not None:
            raise SigninLinkInvalid()
        link.used_at = now
        _, session = store.add_credential(s, link.person_id, "session", now=now, lifetime=SESSION_LENGTH)
    return session


async def sign_out(db: Db, token: str, *, now: datetime) -> None:
    """End the session this token proves; other kinds of token are left alone."""
    async with db.write() as s:
        session = await store.live_credential(s, token, ("session",), now=now)
        if session is not None:
            session.revoked_at = now


# ---------------------------------------------------------------- tokens and profile


async def list_tokens(db: Db, actor: Actor) -> list[Credential]:
    async with db.read() as s:
        return await store.credentials_of(s, actor.person_id, TOKEN_KINDS)


async def create_api_token(db: Db, actor: Actor, label: str, *, now: datetime) -> tuple[Credential, str]:
    """A bearer token for scripts; the secret is returned here and never again."""
    async with db.write() as s:
        return store.add_credential(s, actor.person_id, "api", now=now, label=label.strip())


async def revoke_token(db: Db, actor: Actor, token_id: int, *, now: datetime) -> None:
    """Revoke one of the actor's own tokens; revoking twice is harmless."""
    async with db.write() as s:
        credential = await store.credential_of(s, actor.person_id, token_id, TOKEN_KINDS)
        if credential is None:
            raise TokenNotFound(token_id=token_id)
        credential.revoked_at = credential.revoked_at or now


async def profile(db: Db, actor: Actor) -> Person:
    async with db.read() as s:
        person = await s.get(Person, actor.person_id)
    assert person is not None
    return person


async def update_me(
    db: Db, actor: Actor, *, name: str | None = None, language: str | None = None, street: str | None = None,
    postal_code: str | None = None, city: str | None = None, now: datetime,
) -> Person:
    """Change one's own profile; None leaves a field as it is, an empty postal code clears it."""
    changes = {"name": name, "language": language, "street": street, "postal_code": postal_code, "city": city}
    changes = {k: v.strip() for k, v in changes.items() if v is not None}
    if "language" in changes:
        check_language(changes["language"])
    if changes.get("postal_code"):
        changes["postal_code"] = check_postal_code(changes["postal_code"])
    async with db.write() as s:
        person = await s.get(Person, actor.person_id)
        assert person is not None
        for key, value in changes.items():
            setattr(person, key, value)
    return person


# ---------------------------------------------------------------- associations


async def add_association(
    db: Db, name: str, orgnr: str, *, admin_email: str, now: datetime, contact_email: str = "", contact_phone: str = ""
) -> Association:
    """Register an association with its first admin, who must already be a person here."""
    if not name.strip():
        raise InvalidName("An association needs a name", field="name")
    orgnr, admin_email = check_orgnr(orgnr), normalise_email(admin_email)
    contact_email = normalise_email(contact_email) if contact_email.strip() else ""
    async with db.write() as s:
        admin = await store.person_by_email(s, admin_email)
        if admin is None:
            raise PersonNotFound(f"No person with email {admin_email}; add them first", email=admin_email)
        if await store.association_by_orgnr(s, orgnr) is not None:
            raise OrgnrTaken(f"Organisation number {orgnr} is already registered", orgnr=orgnr)
        association = Association(name=name.strip(), orgnr=orgnr, contact_email=contact_email,
                                  contact_phone=contact_phone.strip(), created_at=now)
        s.add(association)
        try:
            await s.flush()
        except IntegrityError:  # registered concurrently, between our check and our insert
            raise OrgnrTaken(f"Organisation number {orgnr} is already registered", orgnr=orgnr) from None
        s.add(Membership(association_id=association.id, person_id=admin.id, role=MemberRole.ADMIN, created_at=now))
    return association


async def open_association(db: Db, actor: Actor, name: str, orgnr: str, *, admin_email: str, now: datetime,
                           contact_email: str = "", contact_phone: str = "") -> Association:
    """Staff register an association over HTTP."""
    check_staff(actor)
    return await add_association(db, name, orgnr, admin_email=admin_email, now=now,
                                 contact_email=contact_email, contact_phone=contact_phone)


async def list_associations(db: Db, actor: Actor) -> list[Association]:
    """Staff see every association; others see their own."""
    async with db.read() as s:
        return await store.associations(s, of_person=None if actor.is_staff else actor.person_id)


async def get_association(db: Db, actor: Actor, association_id: int) -> Association:
    check_member(actor, association_id)
    async with db.read() as s:
        return await _association(s, association_id)


async def list_members(db: Db, actor: Actor, association_id: int) -> list[tuple[Membership, Person]]:
    check_member(actor, association_id)
    async with db.read() as s:
        await _association(s, association_id)
        return await store.members_of(s, association_id)


async def add_member(
    db: Db, actor: Actor, association_id: int, email: str, role: str, *, now: datetime
) -> tuple[Membership, Person]:
    """An admin adds a member by email; someone new here becomes a resident."""
    role, email = check_role(role), normalise_email(email)
    check_admin(actor, association_id)
    async with db.write() as s:
        await _association(s, association_id, lock=True)
        person, _ = await store.ensure_person(s, email, now=now)
        if await store.membership(s, association_id, person.id) is not None:
            raise AlreadyMember(f"{email} is already a member", person_id=person.id)
        membership = Membership(association_id=association_id, person_id=person.id, role=role, created_at=now)
        s.add(membership)
        await s.flush()
    return membership, person


async def change_role(
    db: Db, actor: Actor, association_id: int, person_id: int, role: str, *, now: datetime
) -> tuple[Membership, Person]:
    role = check_role(role)
    check_admin(actor, association_id)
    async with db.write() as s:
        membership = await _membership(s, association_id, person_id)
        if membership.role == MemberRole.ADMIN and role != MemberRole.ADMIN:
            await _check_keeps_an_admin(s, association_id)
        membership.role = role
        person = await s.get(Person, person_id)
    assert person is not None
    return membership, person


async def remove_member(db: Db, actor: Actor, association_id: int, person_id: int, *, now: datetime) -> None:
    """Admins remove members; any member may leave."""
    if person_id != actor.person_id:
        check_admin(actor, association_id)
    async with db.write() as s:
        membership = await _membership(s, association_id, person_id)
        if membership.role == MemberRole.ADMIN:
            await _check_keeps_an_admin(s, association_id)
        await s.delete(membership)


async def _association(s: AsyncSession, association_id: int, *, lock: bool = False) -> Association:
    association = await store.association(s, association_id, lock=lock)
    if association is None:
        raise AssociationNotFound(association_id=association_id)
    return association


async def _membership(s: AsyncSession, association_id: int, person_id: int) -> Membership:
    """The membership to change, with the association locked so that two admins never demote each other."""
    await _association(s, association_id, lock=True)
    membership = await store.membership(s, association_id, person_id)
    if membership is None:
        raise MembershipNotFound(association_id=association_id, person_id=person_id)
    return membership


async def _check_keeps_an_admin(s: AsyncSession, association_id: int) -> None:
    if await store.admin_count(s, association_id) <= 1:
        raise LastAdmin("Make another member admin first", association_id=association_id)
