"""Mail to a real SMTP server (aiosmtpd in this process): invitations an independent parser reads, outages, two senders."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall

import httpx
import pytest
import vobject
from aiosmtpd.controller import Controller

from booking.loans import service as loans
from booking.store import Booking
from config.servers import free_port, running_servers
from infra import outbox
from infra.mail_transport import SmtpTransport
from infra.time import OSLO, is_public_holiday, local_datetime
from notifications import service
from notifications.mail import Site
from tests import builders
from tests.api.test_bookings import MONDAY_EVENING, at, book
from tests.api.test_loans import MON_TO_TUE
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


def calendar_of(message: email.message.EmailMessage):
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    return part.get_param("method"), part.get_content(), vobject.readOne(part.get_content())


async def test_a_series_arrives_as_one_recurring_event_and_a_cancelled_evening_as_that_occurrence_cancelled(client, db, settings, clock):
    _, alice = await builders.person(db, "alice@example.no", name="Alice Ås")
    room = await builders.room(db)
    mondays = {"resource_id": room, "title": "Kor", "until": "2027-04-12", **at("2027-03-15", "18:00", "20:00")}
    created = await client.post("/api/v1/series", json=mondays, headers=alice)
    assert created.status_code == 201, created.text
    body = created.json()
    assert [r["date"] for r in body["refused"]] == ["2027-03-29"]  # Easter Monday: closed
    port = free_port()
    with smtp_server(port) as inbox:
        assert (await drain(db, settings, port, clock())).sent == 1
        [booked] = [b for b in body["bookings"] if b["start"].startswith("2027-04-05")]
        cancelled = await client.post(f"/api/v1/bookings/{booked['id']}/cancel", json={"reason": "Påske"}, headers=alice)
        assert cancelled.status_code == 200, cancelled.text
        assert (await drain(db, settings, port, clock())).sent == 1
    (method, ics, series), (then, cancel_ics, cancel) = [calendar_of(m) for m in inbox.messages]
    [event] = series.vevent_list  # one event for the whole series, not one per Monday
    assert (method, then) == ("PUBLISH", "CANCEL")
    assert "EXDATE;TZID=Europe/Oslo:20270329T180000" in ics
    shown = [d.astimezone(OSLO) for d in event.getrruleset()]
    assert [d.isoformat() for d in shown] == [
        "2027-03-15T18:00:00+01:00",
        "2027-03-22T18:00:00+01:00",
        "2027-04-05T18:00:00+02:00",  # after the spring change: still 18:00
        "2027-04-12T18:00:00+02:00",
    ]
    assert [d.astimezone(UTC).isoformat() for d in shown] == [
        datetime.fromisoformat(b["start"]).astimezone(UTC).isoformat() for b in body["bookings"]
    ]
    [occurrence] = cancel.vevent_list
    assert occurrence.uid.value == event.uid.value and occurrence.status.value == "CANCELLED"
    assert "RECURRENCE-ID;TZID=Europe/Oslo:20270405T180000" in cancel_ics
    assert occurrence.recurrence_id.value.astimezone(OSLO) == shown[2]


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


# ---------------------------------------------------------------- kits, languages and garden beds

DAY_BEFORE_PICKUP = datetime(2026, 11, 29, 11, tzinfo=UTC)  # 24 hours before the kit is picked up at 12:00 on Monday
PICKUP, DAY_BEFORE_RETURN, OVERDUE = (DAY_BEFORE_PICKUP + timedelta(hours=h) for h in (23, 24, 49))


async def a_kit_loan(client, db, person) -> list[dict]:
    """A tent, four tables and twenty chairs borrowed together, from Monday to Tuesday noon."""
    tent, tables, chairs = (await builders.item(db, "telt", 1), await builders.item(db, "bord", 10), await builders.item(db, "stol", 40))
    kit = await builders.kit(db, "arrangementspakke", {tent: 1, tables: 4, chairs: 20})
    borrowed = await client.post(f"/api/v1/kits/{kit}/loans", json=MON_TO_TUE, headers=person)
    assert borrowed.status_code == 201, borrowed.text
    return borrowed.json()["items"]


def text_of(message: email.message.EmailMessage) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


async def test_a_kit_loan_gets_one_pickup_reminder_listing_its_items(client, db, settings, clock):
    _, alice = await builders.person(db, "alice@example.no", name="Alice Ås")
    await a_kit_loan(client, db, alice)
    assert await service.record_reminders(db, now=DAY_BEFORE_PICKUP) == 1
    port = free_port()
    with smtp_server(port) as inbox:
        assert (await drain(db, settings, port, DAY_BEFORE_PICKUP)).sent == 2  # the kit's confirmation, and its reminder
    confirmed, reminded = inbox.messages
    assert reminded["Subject"] == "Husk å hente: Arrangementspakke, man. 30. nov. 12:00"
    assert "I pakken:\n- 1 × Telt\n- 4 × Bord\n- 20 × Stol\n" in text_of(reminded) and "- 20 × Stol\n" in text_of(confirmed)


async def test_a_kit_loan_out_gets_one_return_reminder_and_one_overdue_notice_listing_its_items(client, db, settings, clock):
    _, alice = await builders.person(db, "alice@example.no", name="Alice Ås")
    _, staff = await builders.person(db, "staff@knutepunkt.no", staff=True)
    items = await a_kit_loan(client, db, alice)
    clock.now = PICKUP
    for item in items:
        assert (await client.post(f"/api/v1/bookings/{item['id']}/check-out", json={}, headers=staff)).status_code == 200
    assert await service.record_reminders(db, now=DAY_BEFORE_RETURN) == 1
    assert len(await loans.mark_overdue(db, now=OVERDUE)) == 3
    port = free_port()
    with smtp_server(port) as inbox:
        report = await drain(db, settings, port, OVERDUE)
    assert report.sent == 6  # confirmed, three hand-overs at the counter, due back, and one overdue notice for the kit
    *_, due_back, overdue = inbox.messages
    assert [m["Subject"].split(":")[0] for m in (due_back, overdue)] == ["Husk å levere", "Forsinket"]
    for message in (due_back, overdue):
        assert "I pakken:\n- 1 × Telt\n- 4 × Bord\n- 20 × Stol\n" in text_of(message)


async def test_a_person_who_switches_the_pages_to_english_gets_their_mail_in_english(client, db, settings, clock):
    _, alice = await builders.person(db, "alice@example.no", name="Alice Ås")
    assert '<html lang="en">' in (await client.get("/?lang=en", headers=alice)).text
    booking = await book(client, alice, await builders.room(db), **MONDAY_EVENING)
    assert booking.status_code == 201, booking.text
    port = free_port()
    with smtp_server(port) as inbox:
        await drain(db, settings, port, clock())
    [message] = inbox.messages
    assert (message["Content-Language"], message["Subject"]) == ("en", "Confirmed: Moterom, Mon 30 Nov 18:00")
    assert text_of(message).startswith("Hello Alice Ås,\n\nYour booking is confirmed.")


async def test_a_garden_beds_season_arrives_as_an_all_day_event_that_leaves_the_days_free(db, settings, clock):
    person_id, _ = await builders.person(db, "alice@example.no", name="Alice Ås")
    bed = await builders.room(db, key="pallekarm-01", kind="garden_bed", capacity=None)
    start, end = datetime(2027, 4, 14, 22, tzinfo=UTC), datetime(2027, 10, 31, 23, tzinfo=UTC)  # 15 April to 1 November in Oslo
    async with db.write() as s:
        row = Booking(resource_id=bed, person_id=person_id, start=start, end=end, block_start=start, block_end=end, status="confirmed")
        row.created_at = row.updated_at = clock()
        s.add(row)
        await s.flush()
        outbox.record_booking_event(s, "booking_confirmed", row, at=clock())
    port = free_port()
    with smtp_server(port) as inbox:
        await drain(db, settings, port, clock())
    _, calendar = invitation_of(inbox.messages[0])
    event = calendar.vevent
    assert (event.dtstart.value, event.dtend.value) == (date(2027, 4, 15), date(2027, 11, 1))  # dates; DTEND the day after the last
    assert event.dtstart.params["VALUE"] == ["DATE"] and event.transp.value == "TRANSPARENT"
    assert "Når: torsdag 15. april 2027 – søndag 31. oktober 2027" in text_of(inbox.messages[0])


async def test_a_season_result_mail_tells_the_outcome_in_the_residents_language_by_the_beds_name_and_never_the_staff_note(
    client, db, settings, clock
):
    from people.store import Person
    from resources.store import Resource
    from tests.api.test_seasons import apply, by_person, season, to_phase

    staff = await builders.person(db, "staff@knutepunkt.no", staff=True)
    alice, bob = await builders.person(db, "alice@example.no", name="Alice Ås"), await builders.person(db, "bob@example.no", name="Bob")
    beds = [
        await builders.room(db, key=f"pallekarm-{n}", kind="garden_bed", capacity=None, features=f)
        for n, f in ((18, ()), (19, ("raised",)))
    ]
    async with db.write() as s:
        (await s.get(Person, bob[0])).language = "en"
        for n, bed in zip((18, 19), beds, strict=True):
            (await s.get(Resource, bed)).name = f"Pallekarm {n}"
    sid = (await season(client, staff))["id"]
    await apply(client, alice, sid, "Elvegata 1", beds=[beds[0]])
    await apply(client, bob, sid, "Elvegata 2", raised=True)
    await to_phase(client, staff, sid, "allocation")
    placed = by_person((await client.post(f"/api/v1/seasons/{sid}/allocation", json={"seed": 7}, headers=staff[1])).json())
    note = "Private: still owes the key deposit"
    body = {"application_id": placed[bob[0]]["id"], "bed_id": beds[1], "reason": note, "message_to_resident": "Welcome back!"}
    assert (await client.post(f"/api/v1/seasons/{sid}/allocation/adjust", json=body, headers=staff[1])).status_code == 200
    await client.post(f"/api/v1/seasons/{sid}/allocation/publish", headers=staff[1])
    port = free_port()
    with smtp_server(port) as inbox:
        await drain(db, settings, port, clock())
    mails = {m["To"].addresses[0].username: m for m in inbox.messages}
    rank = placed[alice[0]]["lottery_rank"]
    assert f"Du var nummer {rank} i trekningen og fikk Pallekarm 18, en pallekarm du ønsket deg." in text_of(mails["alice"])
    assert "After a review, we have given you Pallekarm 19." in text_of(mails["bob"])
    assert "A message for you: Welcome back!" in text_of(mails["bob"])
    assert "<strong>A message for you:</strong> Welcome back!" in mails["bob"].get_body(("html",)).get_content()
    for message in mails.values():
        for part in (message.get_body(("plain",)), message.get_body(("html",))):
            said = part.get_content()
            assert note not in said and "lottery rank" not in said and f"bed {beds[0]}" not in said and f"bed {beds[1]}" not in said
