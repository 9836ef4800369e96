"""Retention jobs, run daily: warn and then erase inactive accounts, remove never-used ones, prune old mail and spent secrets."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import String, and_, cast, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from booking.seasons.room_store import RoomApplication
from booking.seasons.store import SeasonApplication
from booking.store import Booking, BookingSeries
from booking.waitlists.store import WaitlistEntry
from infra import audit
from infra.audit import Action, AuditEntry
from infra.database import Db
from infra.errors import DomainError
from infra.i18n import N_, Speaker
from infra.outbox import FAILED, SENT, Notification
from infra.settings import Settings
from oversight import rights
from oversight.personal import Whom, deleting
from oversight.rules import Cutoffs, Periods, cutoffs, is_due_for_erasure, needs_warning
from people.store import Credential, Invitation, Membership, Person, SigninLink, StaffGrant

log = logging.getLogger("allmenning.retention")
BATCH = 500  # persons looked at per step and run: a backlog is worked off over a few days, never in one long transaction

WARNING_MAIL = (
    N_("Your Allmenning account will be erased"),
    N_(
        "You have not signed in to Allmenning for a long time. If you want to keep your account, sign in before "
        "{day}: {link}\n\nOtherwise your account is erased on that day, with your name, address and email address. "
        "Nothing else needs doing.\n\nKnutepunkt Strømsø\n"
    ),
)


def periods_of(settings: Settings) -> Periods:
    """The retention periods the settings give: the jobs keep to them and the privacy page says them."""
    return Periods.of_days(
        settings.inactive_after_days,
        settings.erase_after_warning_days,
        settings.unused_account_days,
        settings.mail_kept_days,
        settings.spent_credentials_days,
    )


@dataclass
class Report:
    warned: int = 0
    erased: list[int] = field(default_factory=list)
    kept: list[int] = field(default_factory=list)  # due for erasure but refused (loans out, the last operator)
    removed: list[int] = field(default_factory=list)  # never signed in, held nothing
    mail_pruned: int = 0
    credentials_purged: int = 0
    signin_links_purged: int = 0


async def run_retention(db: Db, settings: Settings, *, now: datetime) -> Report:
    """One daily run; its counts (and the ids, which name no one) go into the audit trail."""
    cut = cutoffs(periods_of(settings), now=now)
    report = Report()
    await erase_warned(db, settings, cut, report, now=now)
    report.warned = await warn_inactive(db, settings, cut, now=now)
    report.removed = await remove_unused(db, cut, now=now)
    await prune(db, cut, report)
    async with db.write() as s:
        audit.record(s, Action.RETENTION_RUN, actor_id=None, at=now, after=asdict(report))
    return report


async def _warnings(s: AsyncSession) -> dict[int, datetime]:
    """When each person was last warned (the audit trail is the record: it is never pruned)."""
    query = select(AuditEntry.subject_id, func.max(AuditEntry.at)).where(AuditEntry.action == Action.PERSON_WARNED.value)
    return {person_id: at for person_id, at in (await s.execute(query.group_by(AuditEntry.subject_id))).all()}


async def _inactive(s: AsyncSession, cut: Cutoffs) -> list[Person]:
    seen = func.coalesce(Person.last_seen_at, Person.created_at)
    query = select(Person).where(Person.erased_at.is_(None), seen < cut.seen_before).order_by(Person.id).limit(BATCH)
    return list((await s.execute(query)).scalars())


async def warn_inactive(db: Db, settings: Settings, cut: Cutoffs, *, now: datetime) -> int:
    """Mail each inactive person once; the warning counts (and is recorded) only once the mail server took it."""
    async with db.read() as s:
        warned = await _warnings(s)
        due = [p for p in await _inactive(s, cut) if needs_warning(p.last_seen_at, p.created_at, warned.get(p.id), cut)]
    sent = 0
    erase_on = now + (now - cut.warned_before)
    for person in due:
        day = Speaker(person.language).day(erase_on)
        try:
            await rights.mail_now(
                settings, person.email, person.language, person.name, *WARNING_MAIL, day=day, link=f"{settings.base_url}/sign-in"
            )
        except Exception:  # noqa: BLE001 - tried again on the next run; the grace period starts from a mail sent
            log.warning("the inactivity warning to person %s was not sent", person.id)
            continue
        async with db.write() as s:
            audit.record(
                s, Action.PERSON_WARNED, actor_id=None, at=now, object_id=person.id, subject_id=person.id, after={"erase_on": erase_on}
            )
        sent += 1
    return sent


async def erase_warned(db: Db, settings: Settings, cut: Cutoffs, report: Report, *, now: datetime) -> None:
    """Those warned long enough ago who did not sign in since are erased, as if they had asked."""
    async with db.read() as s:
        warned = await _warnings(s)
        due = [p.id for p in await _inactive(s, cut) if is_due_for_erasure(p.last_seen_at, warned.get(p.id), cut)]
    for person_id in due:
        try:
            await rights.erase(db, settings, person_id, actor_id=None, reason="inactive: warned and not signed in since", now=now)
        except DomainError as refusal:
            log.info("person %s is due for erasure but kept: %s", person_id, refusal.code)
            report.kept.append(person_id)
            continue
        report.erased.append(person_id)


def _holds_something(now: datetime) -> list:
    """What keeps an account that was never signed in to: anything of theirs but an invitation past or a dead secret."""
    pid = Person.id
    owned = [Booking.person_id, BookingSeries.person_id, WaitlistEntry.person_id, SeasonApplication.person_id]
    owned += [RoomApplication.person_id, Membership.person_id, StaffGrant.person_id]
    held = [exists().where(column == pid) for column in owned]
    held.append(exists().where(Invitation.person_id == pid, Invitation.state == "pending", Invitation.expires_at > now))
    live = or_(Credential.expires_at.is_(None), Credential.expires_at > now)
    held.append(exists().where(Credential.person_id == pid, Credential.revoked_at.is_(None), live))
    return held


async def remove_unused(db: Db, cut: Cutoffs, *, now: datetime) -> list[int]:
    """Accounts made for an address (an invitation, the console) whose link was never followed and that hold
    nothing are deleted outright: no history rests on them, so not even a pseudonym stays."""
    removed = []
    async with db.write() as s:
        query = select(Person).where(Person.last_seen_at.is_(None), Person.erased_at.is_(None), Person.created_at < cut.created_before)
        for person in (await s.execute(query.where(~or_(*_holds_something(now))).order_by(Person.id).limit(BATCH))).scalars():
            for statement in deleting(Whom(person.id, person.email, person.name)):
                await s.execute(statement)
            await s.execute(delete(Notification).where(Notification.person_id == person.id))
            await s.execute(delete(Person).where(Person.id == person.id))
            removed.append(person.id)
    return removed


async def prune(db: Db, cut: Cutoffs, report: Report) -> None:
    """What old mail said goes (kind, time and status stay: the record that it was sent); spent secrets go entirely."""
    async with db.write() as s:
        old_mail = and_(Notification.status.in_((SENT, FAILED)), Notification.created_at < cut.mail_before)
        words = or_(cast(Notification.payload, String) != "{}", Notification.last_error != "")
        pruned = await s.execute(update(Notification).where(old_mail, words).values(payload={}, last_error=""))
        report.mail_pruned = pruned.rowcount or 0
        spent = or_(Credential.expires_at < cut.spent_before, Credential.revoked_at < cut.spent_before)
        report.credentials_purged = (await s.execute(delete(Credential).where(spent))).rowcount or 0
        dead = or_(
            SigninLink.expires_at < cut.spent_before, SigninLink.used_at < cut.spent_before, SigninLink.revoked_at < cut.spent_before
        )
        report.signin_links_purged = (await s.execute(delete(SigninLink).where(dead))).rowcount or 0
