"""A burst of mail to a real SMTP server goes out over two conversations at once, each person's mails in order."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading

import pytest
from aiosmtpd.controller import Controller

from config.servers import free_port
from infra.mail_transport import KEEP_OPEN, SmtpTransport
from notifications import service
from notifications.mail import Site
from tests import builders
from tests.api.test_bookings import at, book


class SlowInbox:
    """An SMTP server that takes a moment over each mail, and notes which conversation brought it and how many were
    being taken at once (aiosmtpd runs on its own thread and event loop)."""

    def __init__(self) -> None:
        self.arrived: list[tuple[tuple, str, str]] = []  # (conversation's peer, recipient, subject)
        self.busy = self.most_at_once = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        with self._lock:
            self.busy += 1
            self.most_at_once = max(self.most_at_once, self.busy)
        await asyncio.sleep(0.02)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.busy -= 1
            self.arrived.append((session.peer, envelope.rcpt_tos[0], str(message["Subject"])))
        return "250 Message accepted for delivery"


async def test_a_burst_goes_out_over_two_conversations_at_once_and_each_persons_mails_arrive_in_the_order_they_happened(
    client, db, settings, clock
):
    people = [(await builders.person(db, f"p{i}@example.no"))[1] for i in range(6)]
    room = await builders.room(db)
    for i, person in enumerate(people):
        day, hour = ("2026-11-30", "2026-12-01", "2026-12-02")[i // 2], (18, 20)[i % 2]
        booked = await book(client, person, room, **at(day, f"{hour}:00", f"{hour + 1}:00"))
        assert booked.status_code == 201, booked.text
        assert (
            await client.post(f"/api/v1/bookings/{booked.json()['id']}/cancel", json={"reason": "Syk"}, headers=person)
        ).status_code == 200
    inbox, port = SlowInbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    transport = SmtpTransport(f"smtp://127.0.0.1:{port}", keep_open=KEEP_OPEN)
    try:
        report = await service.drain_outbox(db, Site.of(settings), transport, clock=clock, owner="test")
    finally:
        await transport.close()
        controller.stop()
    assert report.sent == 12 and len(inbox.arrived) == 12
    assert inbox.most_at_once == 2 and len({peer for peer, _, _ in inbox.arrived}) == 2
    for i in range(6):
        theirs = [subject for _, to, subject in inbox.arrived if to == f"p{i}@example.no"]
        assert len(theirs) == 2 and "avlyst" in theirs[1].lower() and "avlyst" not in theirs[0].lower(), theirs
        assert len({peer for peer, to, _ in inbox.arrived if to == f"p{i}@example.no"}) == 1  # one person, one conversation


@pytest.mark.parametrize(("query", "conversations"), [("", 2), ("?connections=1", 1), ("?connections=8", 8)])
def test_the_smtp_address_says_how_many_conversations_a_drain_holds(query, conversations):
    assert SmtpTransport(f"smtp://mail.example.no:25{query}").conversations == conversations


@pytest.mark.parametrize("value", ["0", "9", "two", "-1"])
def test_a_number_of_conversations_outside_one_to_eight_is_refused_with_its_reason(value):
    with pytest.raises(ValueError, match="connections must be a whole number from 1 to 8"):
        SmtpTransport(f"smtp://mail.example.no:25?connections={value}")
