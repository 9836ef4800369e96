"""Hostile names through a real SMTP server: one recipient, the name whole or left out, no header of its making."""

from __future__ import annotations

import pytest

from config.servers import free_port
from tests import builders
from tests.api.test_bookings import MONDAY_EVENING, assert_problem, book
from tests.e2e.test_mail import drain, smtp_server

HOSTILE = [
    "Ola, admin@evil.example",
    '"Ola, admin@evil.example" <admin@evil.example>',
    (", ".join(["Ola Nordmann"] * 14) + ", admin@evil.example")[-200:],  # 200 characters: longer than one header line
    "Øla Å, «sjef» <admin@evil.example>",
    "Åse, sjef",
]


async def mail_to(client, db, settings, clock, name: str):
    """The one mail a booking sends to a person of this name, as the SMTP server received it."""
    person_id, auth = await builders.person(db, "ola@example.no", name=name)
    await book(client, auth, await builders.room(db), **MONDAY_EVENING)
    port = free_port()
    with smtp_server(port) as inbox:
        assert (await drain(db, settings, port, clock())).sent == 1
    (message,) = inbox.messages
    return message


@pytest.mark.parametrize("name", HOSTILE)
async def test_a_hostile_name_makes_one_recipient_and_is_shown_whole_or_not_at_all(client, db, settings, clock, name):
    message = await mail_to(client, db, settings, clock, name)
    (address,) = message["To"].addresses
    assert address.addr_spec == "ola@example.no"
    assert address.display_name in (name, "")
    assert "evil" not in address.addr_spec and message.get_all("Bcc") is None and message.get_all("Cc") is None
    if len(name) < 40 and (name.isascii() or len(name) < 12):  # what fits on the header line is shown whole
        assert address.display_name == name


@pytest.mark.parametrize("name", ["Ola\r\nBcc: admin@evil.example", "Ola\nNordmann", "Ola\rNordmann\x0b"])
async def test_a_stored_name_with_a_line_break_still_gets_its_mail_with_no_header_injected(client, db, settings, clock, name):
    message = await mail_to(client, db, settings, clock, name)  # stored directly, as before names were checked
    (address,) = message["To"].addresses
    assert address.addr_spec == "ola@example.no" and "\n" not in address.display_name and "\r" not in address.display_name
    assert message.get_all("Bcc") is None
    assert message.get_all("To") == [message["To"]]


@pytest.mark.parametrize("name", ["Ola\r\nBcc: admin@evil.example", "Ola\nNordmann", "Ola\tNordmann", "Ola\u2028Nordmann", "\u202eanisO"])
async def test_a_name_with_a_control_character_is_refused_on_the_profile_and_for_an_association(client, db, name):
    _, auth = await builders.person(db, "ola@example.no", name="Ola")
    assert_problem(await client.patch("/api/v1/me", json={"name": name}, headers=auth), 422, "invalid_name")
    _, staff = await builders.person(db, "staff@knutepunkt.no", staff=True)
    created = await client.post(
        "/api/v1/associations", json={"name": name, "orgnr": "974760673", "admin_email": "ola@example.no"}, headers=staff
    )
    assert_problem(created, 422, "invalid_name")
    me = (await client.get("/api/v1/me", headers=auth)).json()
    assert me["name"] == "Ola"


async def test_a_name_with_commas_quotes_and_letters_of_any_script_is_accepted(client, db):
    _, auth = await builders.person(db, "ola@example.no", name="Ola")
    for name in HOSTILE + ["محمد\u200cرضا", "Åse 👨\u200d👩\u200d👧"]:
        response = await client.patch("/api/v1/me", json={"name": name}, headers=auth)
        assert response.status_code == 200 and response.json()["name"] == name
