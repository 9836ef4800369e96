"""Use cases for people: sign-in, sessions and tokens, and profiles."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from enum import StrEnum

from infra import audit, rate_limit
from infra import mail_transport as mail
from infra.audit import Action
from infra.database import Db
from infra.errors import DomainError, ErrorCode, InvalidInput, NotFound
from infra.i18n import N_, Speaker
from infra.rate_limit import Limit
from infra.settings import Settings
from people import store
from people.actor import Actor
from people.rules import Language, check_name, check_postal_code, normalise_email
from people.store import Credential, Person, SigninLink

log = logging.getLogger("allmenning")

SESSION_LENGTH = timedelta(days=30)
EMAILED_LINK_LIFETIME = timedelta(minutes=30)
OPERATOR_LINK_LIFETIME = timedelta(hours=24)  # the operator copies it from a terminal, maybe hours later
TOKEN_KINDS = ("api",)
SIGNED_IN = ("session", "api")  # the credentials a request may carry


class SigninLinkInvalid(DomainError):
    code = ErrorCode.SIGNIN_LINK_INVALID
    status = 400
    title = "The sign-in link is unknown, already used or expired; ask for a new one"


class PersonNotFound(NotFound):
    code = ErrorCode.PERSON_NOT_FOUND
    title = "No person has this email address"


class TokenNotFound(NotFound):
    code = ErrorCode.TOKEN_NOT_FOUND
    title = "You have no such token"


class InvalidLanguage(InvalidInput):
    code = ErrorCode.INVALID_LANGUAGE
    title = "The language must be nb (bokmål), en (English), pl (Polish) or ar (Arabic)"


def check_language(value: str) -> str:
    if value not in set(Language):
        raise InvalidLanguage(f"{value!r} is not one of {', '.join(Language)}", field="language")
    return value


def signin_url(settings: Settings, token: str) -> str:
    return f"{settings.base_url}/auth/verify?token={token}"


# ---------------------------------------------------------------- authentication


async def authenticate(db: Db, token: str, *, now: datetime) -> Actor | None:
    """The actor a session cookie or bearer token proves, or None. Every request asks, so the answer is
    remembered briefly (`Db.memo`): revoking, signing out or a change of roles forgets it at once."""

    async def read() -> tuple[Actor, datetime | None] | None:
        async with db.read() as s:
            return await store.actor_by_token(s, token, SIGNED_IN)

    found = await db.memo.get_or_read(("actor", store.hash_token(token)), read)
    if found is None:
        return None
    actor, expires_at = found
    return actor if expires_at is None or expires_at > now else None


async def issue_credential(db: Db, email: str, kind: str, *, now: datetime, lifetime: timedelta | None = None, label: str = "") -> str:
    """A new secret of this kind for this person; only its hash is stored."""
    async with db.write() as s:
        person = await store.person_by_email(s, normalise_email(email))
        if person is None:
            raise PersonNotFound(f"No person with email {email}", email=email)
        _, token = store.add_credential(s, person.id, kind, now=now, lifetime=lifetime, label=label)
    return token


async def add_person(
    db: Db,
    email: str,
    *,
    name: str = "",
    staff: bool = False,
    now: datetime,
    language: str = "nb",
    street: str = "",
    postal_code: str = "",
    city: str = "",
) -> Person:
    """A person by email; adding one who exists updates their name (when given). `staff` makes them an operator (the
    console's way to the first one: further roles are granted by an operator, `allmenning staff grant`)."""
    email = normalise_email(email)
    fields = dict(
        name=check_name(name.strip()),
        language=check_language(language),
        street=street.strip(),
        postal_code=check_postal_code(postal_code) if postal_code else "",
        city=city.strip(),
    )
    async with db.write() as s:
        person, created = await store.ensure_person(s, email, now=now, **fields)
        if not created:
            person.name = fields["name"] or person.name
        if created:
            audit.record(s, Action.PERSON_ADDED, actor_id=None, at=now, object_id=person.id, subject_id=person.id, reason="command line")
        if staff and await store.add_operator(s, person.id, now=now):
            audit.record(
                s,
                Action.ROLE_GRANTED,
                actor_id=None,
                at=now,
                object_id=person.id,
                subject_id=person.id,
                reason="command line",
                after={"role": "operator", "location_id": None},
            )
    return person


async def create_signin_link(db: Db, settings: Settings, email: str, *, now: datetime, lifetime: timedelta = OPERATOR_LINK_LIFETIME) -> str:
    """A one-time sign-in link for an existing person (the operator's way in); it revokes their older unused links."""
    email = normalise_email(email)
    async with db.write() as s:
        person = await store.person_by_email(s, email)
        if person is None:
            raise PersonNotFound(f"No person with email {email}", email=email)
        await store.revoke_signin_links(s, email, now=now)
        _, token = store.add_signin_link(s, email, person.language, now=now, lifetime=lifetime)
    return signin_url(settings, token)


# Sign-in mails asked for by anyone: per address (so one inbox is not flooded) and per client (so one client cannot
# mail the town). Counted in the database (infra.rate_limit), so every server process shares the counts.
SIGNINS_PER_ADDRESS = Limit(count=5, window=timedelta(minutes=15))
SIGNINS_PER_CLIENT = Limit(count=20, window=timedelta(minutes=15))
MAIL_RETRY_FOR = timedelta(hours=6)  # while SMTP is away, a sign-in mail is retried this long, then given up
MAIL_LEASE = timedelta(minutes=2)  # a mail being sent is not picked up by another drain meanwhile


class SigninOutcome(StrEnum):
    SENT = "sent"
    QUEUED = "queued"  # the mail server did not take it now: it is retried and the link sent when it does


def mail_backoff(attempts: int) -> timedelta:
    """15 s, 30 s, 1 min, 2 min, … at most 10 minutes between tries."""
    return timedelta(seconds=min(600, 15 * 2 ** max(0, attempts - 1)))


async def request_signin(db: Db, settings: Settings, email: str, *, now: datetime, language: str | None = None, client: str = "") -> str:
    """Mail a sign-in link. Nothing is stored about a person yet: following the link creates a new address's person
    (joining takes only an email address), so a stranger's request leaves no row but the link's. No name is taken:
    only what the person (or staff) stored is ever written in a mail."""
    email = normalise_email(email)
    language = check_language(language or "nb")
    async with db.write() as s:
        await rate_limit.hit(s, f"signin:client:{client}", SIGNINS_PER_CLIENT, now=now)
        # The address's counter row is locked until COMMIT (the upsert), so two requests for one address take turns
        # and the later one revokes the earlier one's link on PostgreSQL too.
        await rate_limit.hit(s, f"signin:email:{email}", SIGNINS_PER_ADDRESS, now=now)
        person = await store.person_by_email(s, email)
        if person is not None:  # an existing person's language is not changed by an unauthenticated request
            language = person.language
        name = person.name if person is not None else ""
        await store.revoke_signin_links(s, email, now=now)
        # Due for a retry a little later, in case this process stops before the mail is out; a sent mail clears it.
        link, token = store.add_signin_link(s, email, language, now=now, lifetime=EMAILED_LINK_LIFETIME, mail_at=now + MAIL_LEASE)
    # After commit: never mail a dead link.
    return await mail_signin_link(db, settings, link.id, email, language, name, token, attempts=1, now=now)


async def mail_signin_link(
    db: Db, settings: Settings, link_id: int | None, email: str, language: str, name: str, token: str, *, attempts: int, now: datetime
) -> str:
    """Send one sign-in mail and note how it went: sent, or when to try again (or given up, if refused for good)."""
    try:
        await deliver_signin_mail(settings, email, language, name, signin_url(settings, token))
    except Exception as exc:  # noqa: BLE001 - classified below: refused for good, or try again later
        permanent, error = mail.failure_of(exc)
        log.warning("sign-in mail to %s not sent (%s): %s", email, "given up" if permanent else "will retry", error)
        async with db.write() as s:
            link = await s.get(SigninLink, link_id)
            if link is not None:
                link.mail_attempts, link.last_error = attempts, error[:500]
                link.next_mail_at = None if permanent else now + mail_backoff(attempts)
        return SigninOutcome.QUEUED
    async with db.write() as s:
        link = await s.get(SigninLink, link_id)
        if link is not None:
            link.mailed_at, link.next_mail_at, link.mail_attempts, link.last_error = now, None, attempts, ""
    return SigninOutcome.SENT


async def resend_signin_mails(db: Db, settings: Settings, *, now: datetime) -> int:
    """Send the sign-in mails SMTP did not take before; each gets a fresh token (only hashes are kept) and a full
    lifetime from now. Returns how many went out. The scheduler calls this with every outbox drain."""
    due = []
    async with db.write() as s:
        for link in await store.signin_links_to_mail(s, now=now, since=now - MAIL_RETRY_FOR):
            token = secrets.token_urlsafe(32)
            link.token_hash, link.expires_at = store.hash_token(token), now + EMAILED_LINK_LIFETIME
            link.next_mail_at = now + MAIL_LEASE
            person = await store.person_by_email(s, link.email)
            due.append((link.id, link.email, link.language, person.name if person else "", token, link.mail_attempts + 1))
    sent = 0
    for link_id, email, language, name, token, attempts in due:
        outcome = await mail_signin_link(db, settings, link_id, email, language, name, token, attempts=attempts, now=now)
        sent += outcome == SigninOutcome.SENT
    return sent


SIGNIN_MAIL = (  # subject and body, English messages of the one catalogue (infra/locale)
    N_("Sign in to Allmenning"),
    N_(
        "Follow this link to sign in to Allmenning. It works once, for {minutes} minutes:\n\n{link}\n\n"
        "If you did not ask to sign in, you can ignore this email.\n\nKnutepunkt Strømsø\n"
    ),
)
# Greeted by name, or without one when none is known: an email address is not a name (the same words as other mail).
GREETING, GREETING_BY_NAME = N_("Hello,"), N_("Hello {name},")


async def deliver_signin_mail(settings: Settings, email: str, language: str, name: str, link: str) -> None:
    """Send the sign-in link at once (it cannot wait for the outbox's next round), by SMTP or into the mail folder.

    `name` is only ever the name stored for the person (by them or by staff), never one given with the request."""
    speak, (subject, body) = Speaker(language), SIGNIN_MAIL
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = email
    message["Subject"] = speak(subject)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain="allmenning.local")
    minutes = int(EMAILED_LINK_LIFETIME.total_seconds() // 60)
    greeting = speak(GREETING_BY_NAME, name=name) if name else speak(GREETING)
    message.set_content(f"{greeting}\n\n{speak(body, minutes=minutes, link=link)}")
    message["Content-Language"] = speak.language  # after set_content, which drops the Content- headers before it
    await mail.deliver_now(settings, message)


async def signin_link_is_live(db: Db, token: str, *, now: datetime) -> bool:
    """Whether this token is a link that would still sign in (looking does not use it)."""
    async with db.read() as s:
        return await store.signin_link(s, token, now=now) is not None


async def signin_link_was_made(db: Db, token: str) -> bool:
    """Whether this token was ever a sign-in link (live or not): then a new link can go to its address unasked."""
    async with db.read() as s:
        return await store.signin_link_email(s, token) is not None


async def send_signin_link_again(
    db: Db, settings: Settings, token: str, *, now: datetime, language: str | None = None, client: str = ""
) -> str | None:
    """A new link to the address an old link (used, replaced or expired) was for, within the same rate limits;
    None when no link ever had this token. The address itself is never told to whoever holds the old link."""
    async with db.read() as s:
        email = await store.signin_link_email(s, token)
    if email is None:
        return None
    return await request_signin(db, settings, email, now=now, language=language, client=client)


async def redeem_signin_link(db: Db, token: str, *, now: datetime) -> str:
    """Use a sign-in link once and open a session; a new address's person is created now. Returns the session token."""
    async with db.write() as s:
        link = await store.signin_link(s, token, now=now, lock=True)
        if link is None:
            raise SigninLinkInvalid()
        link.used_at, link.next_mail_at = now, None
        person, _ = await store.ensure_person(s, link.email, now=now, language=link.language)
        person.last_seen_at = now
        _, session = store.add_credential(s, person.id, "session", now=now, lifetime=SESSION_LENGTH)
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
        if credential.revoked_at is None:  # the holder revokes their own: they are the actor and the person affected
            credential.revoked_at = now
            audit.record(
                s, Action.TOKEN_REVOKED, actor_id=actor.person_id, at=now, object_id=credential.id, subject_id=actor.person_id,
                reason="revoked by its holder", before={"kind": credential.kind, "revoked_at": None}, after={"revoked_at": now},
            )  # fmt: skip


async def profile(db: Db, actor: Actor) -> Person:
    async with db.read() as s:
        person = await s.get(Person, actor.person_id)
    assert person is not None
    return person


def check_fits(changes: dict[str, str]) -> None:
    """Each value fits its column: a page's form has no length limit of its own, and PostgreSQL would fail, not refuse."""
    for key, value in changes.items():
        limit = getattr(Person.__table__.c[key].type, "length", None)
        if limit is not None and len(value) > limit:
            raise InvalidInput(f"{key} is longer than {limit} characters", field=key, max_length=limit)


async def update_me(
    db: Db,
    actor: Actor,
    *,
    name: str | None = None,
    language: str | None = None,
    street: str | None = None,
    postal_code: str | None = None,
    city: str | None = None,
    now: datetime,
) -> Person:
    """Change one's own profile; None leaves a field as it is, an empty postal code clears it."""
    changes = {"name": name, "language": language, "street": street, "postal_code": postal_code, "city": city}
    changes = {k: v.strip() for k, v in changes.items() if v is not None}
    if "language" in changes:
        check_language(changes["language"])
    if "name" in changes:
        check_name(changes["name"])
    if changes.get("postal_code"):
        changes["postal_code"] = check_postal_code(changes["postal_code"])
    check_fits(changes)
    async with db.write() as s:
        person = await s.get(Person, actor.person_id)
        assert person is not None
        for key, value in changes.items():
            setattr(person, key, value)
    return person


async def persons_by_id(db: Db, ids: set[int]) -> dict[int, Person]:
    """The persons with these ids, by id; an id nobody has is left out."""
    async with db.read() as s:
        return {i: p for i in ids if (p := await s.get(Person, i)) is not None}
