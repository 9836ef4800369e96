"""Mail to a real SMTP server (aiosmtpd in this process): invitations an independent parser reads, outages, two senders."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from datetime import time as wall

import httpx
import pytest
import vobject
from aiosmtpd.controller import Controller

from config.servers import free_port, running_servers
from infra.mail_transport import SmtpTransport
from infra.time import OSLO, is_public_holiday, local_datetime
from notifications import service
from notifications.mail import Site
from tests import builders
from tests.api.test_bookings import MONDAY_EVENING, at, book
from tests.conftest import _truncate_all


class Inbox:
    """What the SMTP server accepted, in order (aiosmtpd runs on its own thread)."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        with self._lock:
            return [m["Message-ID"] for m in self.messages]


@contextmanager
def smtp_server(port: int):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


def invitation_of(message: email.message.EmailMessage):
    """The iTIP part, read with vobject: a parser that shares no code with the one that wrote it."""
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") in ("REQUEST", "CANCEL")
    return part.get_param("method"), vobject.readOne(part.get_content())


async def drain(db, settings, port: int, when: datetime):
    return await service.drain_outbox(db, Site.of(settings), SmtpTransport(f"smtp://127.0.0.1:{port}"), clock=lambda: when, owner="test")


async def test_a_booking_its_change_and_its_cancellation_arrive_as_one_calendar_event_updated_then_cancelled(client, db, settings, clock):
    _, alice = await builders.person(db, "alice@example.no", name="Alice Ås")
    room = await builders.room(db)
    booking = (await book(client, alice, room, title="Lesesirkel", **MONDAY_EVENING)).json()
    moved = await client.patch(f"/api/v1/bookings/{booking['id']}", json=at("2026-11-30", "19:00", "21:00"), headers=alice)
    assert moved.status_code == 200, moved.text
    assert (await client.post(f"/api/v1/bookings/{booking['id']}/cancel", json={"reason": "Syk"}, headers=alice)).status_code == 200
    port = free_port()
    with smtp_server(port) as inbox:
        assert (await drain(db, settings, port, clock())).sent == 3
    invitations = [invitation_of(m) for m in inbox.messages]
    assert [method for method, _ in invitations] == ["REQUEST", "REQUEST", "CANCEL"]
    events = [cal.vevent for _, cal in invitations]
    assert len({e.uid.value for e in events}) == 1
    assert [int(e.sequence.value) for e in events] == [0, 1, 2]
    assert [e.dtstart.value.astimezone(OSLO).hour for e in events] == [18, 19, 19]  # each as it was when it happened
    assert events[-1].status.value == "CANCELLED"
    assert [p.get_filename() for p in inbox.messages[0].iter_attachments()] == [f"booking-{booking['id']}.ics"]
    assert "Syk" in inbox.messages[-1].get_body(("plain",)).get_content()


async def test_mail_held_up_by_an_smtp_outage_arrives_once_each_when_the_server_is_back(client, db, settings, clock):
    people = [(await builders.person(db, f"p{i}@example.no"))[1] for i in range(2)]
    room = await builders.room(db)
    for i in range(10):
        day = ("2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04")[i // 2]  # Monday to Friday
        response = await book(client, people[i % 2], room, **(at(day, "18:00", "19:00") if i % 2 else at(day, "20:00", "21:00")))
        assert response.status_code == 201, response.text
    port = free_port()  # nothing listens here yet: the server is down
    assert (await drain(db, settings, port, clock())).retrying == 10
    with smtp_server(port) as inbox:
        assert (await drain(db, settings, port, clock() + timedelta(seconds=20))).sent == 0  # still backing off
        assert (await drain(db, settings, port, clock() + timedelta(minutes=1))).sent == 10
        assert (await drain(db, settings, port, clock() + timedelta(minutes=10))).sent == 0
    ids = inbox.message_ids()
    assert len(ids) == 10 and len(set(ids)) == 10


def a_weekday_soon(days_ahead: int = 9) -> date:
    """A working day a little ahead of the real clock the server processes read."""
    day = datetime.now(OSLO).date() + timedelta(days=days_ahead)
    while day.weekday() > 4 or is_public_holiday(day):
        day += timedelta(days=1)
    return day


async def wait_for(inbox: Inbox, count: int, *, within: float) -> float:
    started = time.monotonic()
    while len(inbox.message_ids()) < count and time.monotonic() - started < within:
        await asyncio.sleep(0.05)
    return time.monotonic() - started


@pytest.mark.e2e
@pytest.mark.postgresql
async def test_two_server_processes_on_postgresql_mail_each_booking_once_within_seconds(postgres_url, tmp_path):
    from infra.database import Db

    await _truncate_all(postgres_url)
    db = Db(postgres_url)
    try:
        rooms = [await builders.room(db, key=f"rom{i}") for i in range(4)]
        people = [(await builders.person(db, f"e2e{i}@example.no"))[1] for i in range(4)]
    finally:
        await db.dispose()
    day = a_weekday_soon()
    port = free_port()
    with (
        smtp_server(port) as inbox,
        running_servers(postgres_url, 2, tmp_path, ALLMENNING_SCHEDULER="on", ALLMENNING_SMTP_URL=f"smtp://127.0.0.1:{port}") as urls,
    ):
        async with httpx.AsyncClient(timeout=30) as http:
            for i in range(20):
                start = local_datetime(day, wall(17 + i // 4))
                body = {"resource_id": rooms[i % 4], "start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}
                response = await http.post(f"{urls[i % 2]}/api/v1/bookings", json=body, headers=people[i % 4])
                assert response.status_code == 201, response.text
        waited = await wait_for(inbox, 20, within=20)
        await asyncio.sleep(2)  # time for a second copy to show up, if one were coming
    ids = inbox.message_ids()
    assert len(ids) == 20 and len(set(ids)) == 20
    assert waited < 10, f"mail took {waited:.1f} s; the sender should be woken by the commit, not by the 30 s safety net"
