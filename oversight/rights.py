"""Each person's rights over their data: export and erase (their own, or staff who manage people, on request)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.rules import BookingStatus, ReasonRequired
from booking.seasons.rules import ApplicationStatus
from booking.seasons.store import SeasonApplication
from booking.store import ACTIVE_VALUES, HANDED_OUT_VALUES, Booking
from booking.waitlists import offers
from booking.waitlists import store as waitlist_store
from booking.waitlists.rules import EntryStatus, OfferOutcome
from booking.waitlists.store import WaitlistEntry
from infra import audit
from infra import mail_transport as mail
from infra.audit import Action
from infra.database import Db
from infra.errors import Conflict, ErrorCode
from infra.i18n import N_, Speaker
from infra.outbox import PENDING, Notification
from infra.rows import locked
from infra.settings import Settings
from oversight.personal import Whom, erase_columns, export_rows
from oversight.staff import LastOperator
from people.actor import Actor, Duty, check_may
from people.service import PersonNotFound
from people.store import Membership, Person, StaffGrant, admin_count

log = logging.getLogger("allmenning.privacy")
ERASED_BY = "erased"  # the reason kept on what erasure cancelled (the audit entry holds the requester's reason)
PENDING_APPLICATIONS = (ApplicationStatus.APPLIED.value, ApplicationStatus.INVITED.value)


class LoansOut(Conflict):
    code = ErrorCode.LOANS_OUT
    title = "Equipment borrowed is not back yet: return it before the account is erased"


@dataclass
class Erased:
    """What one erasure did, by id (the audit entry's `after`), and whom to tell (held in memory only)."""

    person_id: int
    cancelled: list[int] = field(default_factory=list)
    withdrawn: list[int] = field(default_factory=list)  # held offers passed on
    kept_for_associations: list[int] = field(default_factory=list)  # future bookings an association holds
    left_lines: int = 0
    applications_withdrawn: int = 0
    memberships_removed: list[int] = field(default_factory=list)
    left_without_admin: list[int] = field(default_factory=list)
    grants_removed: list[str] = field(default_factory=list)
    unsent_mail_dropped: int = 0
    touched: dict[str, int] = field(default_factory=dict)
    resources: set[int] = field(default_factory=set)

    def summary(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("person_id", "resources")}


# ---------------------------------------------------------------- export


async def export_me(db: Db, actor: Actor, *, now: datetime) -> dict[str, Any]:
    return await _export(db, actor, actor.person_id, now=now)


async def export_person(db: Db, actor: Actor, person_id: int, *, now: datetime) -> dict[str, Any]:
    """Staff who manage people export a person on request; anyone else only themselves (403, nothing written)."""
    if person_id != actor.person_id:
        check_may(actor, Duty.PEOPLE)
    return await _export(db, actor, person_id, now=now)


async def _export(db: Db, actor: Actor, person_id: int, *, now: datetime) -> dict[str, Any]:
    async with db.write() as s:
        person = await s.get(Person, person_id)
        if person is None:
            raise PersonNotFound(f"No person {person_id}", person_id=person_id)
        held = await export_rows(s, Whom(person_id, person.email, person.name))
        audit.record(s, Action.DATA_EXPORTED, actor_id=actor.person_id, at=now, object_id=person_id, subject_id=person_id)
    return {"person_id": person_id, "exported_at": now.isoformat(), "tables": held}


# ---------------------------------------------------------------- erasure


async def erase_me(db: Db, settings: Settings, actor: Actor, *, now: datetime) -> Erased:
    return await erase(db, settings, actor.person_id, actor_id=actor.person_id, reason="asked by the person", now=now)


async def erase_on_request(db: Db, settings: Settings, actor: Actor, person_id: int, reason: str, *, now: datetime) -> Erased:
    """Staff who manage people erase a person who asked them, saying why (the reason stays in the audit trail)."""
    check_may(actor, Duty.PEOPLE)
    if not reason.strip():
        raise ReasonRequired("Say why the person is erased")
    return await erase(db, settings, person_id, actor_id=actor.person_id, reason=reason.strip(), now=now)


async def erase(db: Db, settings: Settings, person_id: int, *, actor_id: int | None, reason: str, now: datetime) -> Erased:
    """Erase a person in one transaction; after it, offer what it freed and tell them (addressed from memory)."""
    async with db.write() as s:
        person = (await s.execute(locked(s, select(Person).where(Person.id == person_id)))).scalar_one_or_none()
        if person is None or person.erased_at is not None:
            raise PersonNotFound(f"No person {person_id}", person_id=person_id)
        await _check_erasable(s, person_id)
        told = (person.email, person.language, person.name)
        done = await _erase_in(s, person, actor_id=actor_id, now=now)
        audit.record(
            s, Action.PERSON_ERASED, actor_id=actor_id, at=now, object_id=person_id, subject_id=person_id, reason=reason,
            after=done.summary(),
        )  # fmt: skip
    for resource_id in sorted(done.resources):
        await offers.offer_freed_capacity(db, resource_id, now=now)
    await tell_erased(settings, *told)
    return done


async def _check_erasable(s: AsyncSession, person_id: int) -> None:
    """Refusals come before any write: loans still out, or the last operator."""
    out = select(func.count()).where(Booking.person_id == person_id, Booking.status.in_(HANDED_OUT_VALUES))
    if (count := (await s.execute(out)).scalar_one()) > 0:
        raise LoansOut(f"{count} loans are not returned", loans_out=count)
    holds = select(StaffGrant.id).where(StaffGrant.person_id == person_id, StaffGrant.role == "operator")
    if (await s.execute(holds)).first() is not None:
        others = select(func.count(func.distinct(StaffGrant.person_id))).where(
            StaffGrant.role == "operator", StaffGrant.person_id != person_id
        )
        if (await s.execute(others)).scalar_one() == 0:
            raise LastOperator("Make another person operator before this one is erased")


async def _erase_in(s: AsyncSession, person: Person, *, actor_id: int | None, now: datetime) -> Erased:
    done = Erased(person.id)
    whom = Whom(person.id, person.email, person.name)
    await _settle_bookings(s, done, actor_id, now=now)
    await _leave_lines(s, done, now=now)
    applications = delete(SeasonApplication).where(
        SeasonApplication.person_id == person.id, SeasonApplication.status.in_(PENDING_APPLICATIONS)
    )
    done.applications_withdrawn = (await s.execute(applications)).rowcount or 0
    await _memberships(s, done)
    grants = select(StaffGrant.role, StaffGrant.location_id).where(StaffGrant.person_id == person.id)
    done.grants_removed = [f"{role}@{where or 'everywhere'}" for role, where in (await s.execute(grants)).all()]
    # Mail not yet sent to them would go to an address no longer kept: it is not sent.
    unsent = delete(Notification).where(Notification.person_id == person.id, Notification.status == PENDING)
    done.unsent_mail_dropped = (await s.execute(unsent)).rowcount or 0
    person.erased_at = now
    s.add(person)
    await s.flush()  # the row changes above are written before the map's statements blank their text
    done.touched = await erase_columns(s, whom)
    return done


async def _settle_bookings(s: AsyncSession, done: Erased, actor_id: int | None, *, now: datetime) -> None:
    """Their bookings still to come are cancelled and held offers withdrawn (passed on after commit); an association's
    bookings they made stay the association's."""
    query = select(Booking).where(Booking.person_id == done.person_id, Booking.status.in_(ACTIVE_VALUES), Booking.end > now)
    for booking in (await s.execute(locked(s, query.order_by(Booking.id)))).scalars():
        if booking.status == BookingStatus.OFFERED.value:
            await _withdraw_offer(s, booking, now=now)
            done.withdrawn.append(booking.id)
        elif booking.association_id is not None:
            done.kept_for_associations.append(booking.id)
            continue
        else:
            done.cancelled.append(booking.id)
        booking.cancel(actor_id, ERASED_BY, now=now)  # type: ignore[arg-type]  # None: the system (retention)
        s.add(booking)
        done.resources.add(booking.resource_id)


async def _withdraw_offer(s: AsyncSession, booking: Booking, *, now: datetime) -> None:
    offer = await waitlist_store.offer_holding(s, booking.id, lock=True)
    if offer is None:
        return
    offer.answer(OfferOutcome.WITHDRAWN, now=now)
    s.add(offer)
    entry = await waitlist_store.get_entry(s, offer.entry_id)
    entry.becomes(EntryStatus.REMOVED, now=now)
    s.add(entry)
    if entry.season_id is not None:  # the season's application hears its offer ended, as when one runs out
        await offers.season_lines().answered(s, entry, OfferOutcome.EXPIRED, booking_id=booking.id, now=now)


async def _leave_lines(s: AsyncSession, done: Erased, *, now: datetime) -> None:
    query = select(WaitlistEntry).where(WaitlistEntry.person_id == done.person_id, WaitlistEntry.status == EntryStatus.WAITING.value)
    for entry in (await s.execute(locked(s, query))).scalars():
        entry.becomes(EntryStatus.LEFT, now=now)
        s.add(entry)
        done.left_lines += 1


async def _memberships(s: AsyncSession, done: Erased) -> None:
    """An association whose last admin is erased keeps its members and bookings; staff who manage people name a new
    admin (nobody is made one unasked). Memberships and invitations go with the map's last pass."""
    for membership in (await s.execute(select(Membership).where(Membership.person_id == done.person_id))).scalars():
        done.memberships_removed.append(membership.association_id)
        if membership.role == "admin" and await admin_count(s, membership.association_id) <= 1:
            done.left_without_admin.append(membership.association_id)


# ---------------------------------------------------------------- telling them


ERASED_MAIL = (
    N_("Your account at Allmenning is erased"),
    N_(
        "Your account at Allmenning is erased, as asked or as our privacy page says. We no longer keep your name, "
        "address or email address. Bookings you had coming up are cancelled.\n\n"
        "You are welcome back at any time: signing in with your email address makes a new account.\n\nKnutepunkt Strømsø\n"
    ),
)
GREETING, GREETING_BY_NAME = N_("Hello,"), N_("Hello {name},")


async def tell_erased(settings: Settings, email: str, language: str, name: str) -> None:
    """One mail, sent now from what was read before erasing (the outbox would have to store the address)."""
    try:
        await mail_now(settings, email, language, name, *ERASED_MAIL)
    except Exception:  # noqa: BLE001 - the erasure stands whether or not the mail went
        log.warning("the mail telling a person of their erasure was not sent")


async def mail_now(settings: Settings, email: str, language: str, name: str, subject: str, body: str, **values: str) -> None:
    """A plain mail sent at once, by SMTP or into the mail folder (raises when the mail server does not take it)."""
    speak = Speaker(language)
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.mail_from, email, speak(subject)
    message["Date"], message["Message-ID"] = formatdate(usegmt=True), make_msgid(domain="allmenning.local")
    greeting = speak(GREETING_BY_NAME, name=name) if name else speak(GREETING)
    message.set_content(f"{greeting}\n\n{speak(body, **values)}")
    message["Content-Language"] = speak.language
    await mail.deliver_now(settings, message)
