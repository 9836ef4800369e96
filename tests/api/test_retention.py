"""Retention with a moved clock: inactive accounts warned then erased, unused ones removed, old mail and spent secrets pruned."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select, update

from config.scheduler import Scheduler
from infra.audit import AuditEntry
from infra.outbox import Notification
from oversight.retention import run_retention
from people import service as people_service
from people.store import Credential, Invitation, Person, SigninLink
from tests import builders

MONDAY_EVENING = {"start": "2026-11-30T18:00:00+01:00", "end": "2026-11-30T20:00:00+01:00"}


def mails_to(settings, address: str) -> list[str]:
    return [p.read_text() for p in settings.mail_dir.glob("*") if address in p.read_text()] if settings.mail_dir.exists() else []


async def seen(db, person_id: int, at) -> None:
    async with db.write() as s:
        (await s.get(Person, person_id)).last_seen_at = at


async def person(db, person_id: int) -> Person:
    async with db.read() as s:
        return await s.get(Person, person_id)


async def test_an_inactive_account_is_warned_once_and_erased_when_the_warning_goes_unanswered(db, settings, clock, alice, bob, backend):
    settings = replace(settings, inactive_after_days=30, erase_after_warning_days=14)
    await seen(db, bob[0], clock.now)
    first = await run_retention(db, settings, now=clock.now)
    assert first.warned == 1 and first.erased == []
    assert len(mails_to(settings, "alice@example.no")) == 1 and mails_to(settings, "bob@example.no") == []
    assert (await run_retention(db, settings, now=clock.now + timedelta(days=1))).warned == 0  # once, not daily
    clock.now += timedelta(days=15)
    later = await run_retention(db, settings, now=clock.now)
    assert later.erased == [alice[0]]
    assert (await person(db, alice[0])).erased_at == clock.now and (await person(db, bob[0])).erased_at is None


async def test_signing_in_after_the_warning_keeps_the_account_and_a_later_silence_is_warned_afresh(db, settings, clock, alice):
    settings = replace(settings, inactive_after_days=30, erase_after_warning_days=14)
    assert (await run_retention(db, settings, now=clock.now)).warned == 1
    await seen(db, alice[0], clock.now + timedelta(days=3))
    clock.now += timedelta(days=20)
    assert (await run_retention(db, settings, now=clock.now)).erased == []
    clock.now += timedelta(days=20)  # 37 days since that sign-in: inactive again, warned again, not erased yet
    again = await run_retention(db, settings, now=clock.now)
    assert (again.warned, again.erased) == (1, [])
    assert (await person(db, alice[0])).erased_at is None


async def test_an_account_never_signed_in_to_and_holding_nothing_is_removed_after_a_week(client, db, settings, clock, bob, backend):
    club = await builders.association(db, "Korpset", "222222222", {bob[0]: "admin"})
    lone = await people_service.add_person(db, "aldri@example.no", now=clock.now)
    member = await people_service.add_person(db, "medlem@example.no", now=clock.now)
    await builders.association(db, "Sjakk", "333333333", {member.id: "member"})
    invited = await client.post(f"/api/v1/associations/{club}/members", json={"email": "invitert@example.no"}, headers=bob[1])
    assert invited.status_code == 202, invited.text
    assert (await run_retention(db, settings, now=clock.now + timedelta(days=6))).removed == []
    week = await run_retention(db, settings, now=clock.now + timedelta(days=8))
    assert week.removed == [lone.id]  # the invitee waits while the invitation is open; the member holds a membership
    month = await run_retention(db, settings, now=clock.now + timedelta(days=15))
    async with db.read() as s:
        invitee = (await s.execute(select(Person).where(Person.email == "invitert@example.no"))).scalar_one_or_none()
        invitations = (await s.execute(select(Invitation))).all()
    assert invitee is None and invitations == [] and len(month.removed) == 1
    assert (await person(db, member.id)) is not None and (await person(db, bob[0])) is not None


async def test_old_mail_loses_its_words_and_spent_secrets_go_while_live_ones_stay(client, db, settings, clock, alice, room_id, backend):
    booked = await client.post("/api/v1/bookings", json={"resource_id": room_id, "title": "Lesesirkel", **MONDAY_EVENING}, headers=alice[1])
    assert booked.status_code == 201, booked.text
    made = await client.post("/api/v1/me/tokens", json={"label": "skript"}, headers=alice[1])
    assert (await client.delete(f"/api/v1/me/tokens/{made.json()['id']}", headers=alice[1])).status_code in (200, 204)
    await people_service.request_signin(db, settings, "alice@example.no", now=clock.now)
    async with db.write() as s:
        await s.execute(update(Notification).values(status="sent", sent_at=clock.now))
    assert (await run_retention(db, settings, now=clock.now + timedelta(days=31))).credentials_purged == 1
    report = await run_retention(db, settings, now=clock.now + timedelta(days=91))
    assert report.mail_pruned == 1 and report.signin_links_purged == 0  # purged already, on day 31
    async with db.read() as s:
        mail = (await s.execute(select(Notification))).scalar_one()
        kinds = list((await s.execute(select(Credential.kind))).scalars())
        links = (await s.execute(select(SigninLink))).all()
    assert (mail.kind, mail.status, mail.payload) == ("booking_confirmed", "sent", {})
    assert kinds == ["api"] and links == []  # the builder's live token stays
    assert (await client.get("/api/v1/me", headers=alice[1])).status_code == 200


async def test_each_run_is_in_the_audit_trail_with_its_counts(db, settings, clock, alice):
    await run_retention(db, replace(settings, inactive_after_days=30), now=clock.now)
    async with db.read() as s:
        entries = {e.action: e for e in (await s.execute(select(AuditEntry))).scalars()}
    assert entries["retention.run"].after["warned"] == 1 and entries["retention.run"].actor_id is None
    assert entries["person.warned"].subject_id == alice[0]


async def test_the_daily_run_is_claimed_by_one_process_only(db, settings, clock, backend):
    one, two = Scheduler(db, settings, clock), Scheduler(db, settings, clock)
    assert [await one.sweep("retention"), await two.sweep("retention")] == [True, False]
    async with db.read() as s:
        runs = list((await s.execute(select(AuditEntry.action))).scalars())
    assert runs == ["retention.run"]
