"""PostgreSQL books a room in one statement (lock, overlap check, insert and its outbox event), and takes the careful
way whenever the resource changed since this process read it."""

from __future__ import annotations

from datetime import datetime

import asyncpg
import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import make_url

from infra.outbox import Notification
from tests.api.test_bookings import MONDAY_EVENING, assert_problem, at, book


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgresql)])
def backend(request) -> str:
    return request.param


class Statements:
    def __init__(self, engine) -> None:
        self.seen: list[str] = []
        event.listen(engine.sync_engine, "before_cursor_execute", self.count)

    def count(self, conn, cursor, statement, *args) -> None:
        self.seen.append(statement)


async def test_a_room_booking_and_its_event_are_one_statement_once_the_room_is_remembered(client, db, alice, room_id):
    assert (await book(client, alice[1], room_id, **MONDAY_EVENING)).status_code == 201  # the token and the room remembered
    assert (await book(client, alice[1], room_id, **at("2026-12-02", "18:00", "20:00"))).status_code == 201  # (once surely)
    statements = Statements(client.app.state.db.engine)
    second = await book(client, alice[1], room_id, **at("2026-12-01", "18:00", "20:00"))
    assert second.status_code == 201, second.text
    assert len(statements.seen) == 1 and statements.seen[0].lstrip().startswith("WITH locked AS")
    async with db.read() as s:
        kinds = list((await s.execute(select(Notification.kind).where(Notification.booking_id == second.json()["id"]))).scalars())
    assert kinds == ["booking_confirmed"]


async def test_a_taken_slot_in_one_statement_is_still_refused_by_name(client, alice, bob, room_id):
    assert (await book(client, alice[1], room_id, **MONDAY_EVENING)).status_code == 201
    assert_problem(await book(client, bob[1], room_id, **MONDAY_EVENING), 409, "slot_taken")


async def test_a_closure_another_process_added_unseen_is_honoured_because_the_resource_changed(client, db_url, alice, room_id):
    assert (await book(client, alice[1], room_id, **MONDAY_EVENING)).status_code == 201  # this process remembers the room
    # Another process, whose change this one has not heard of: its own connection, outside this process's engines
    # (which would make this process forget at once), and no notification.
    other = await asyncpg.connect(make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        await other.execute(
            "INSERT INTO closure (resource_id, start, \"end\", reason) VALUES ($1, $2, $3, 'Vannlekkasje')",
            room_id,
            datetime.fromisoformat("2026-12-01T00:00:00+01:00"),
            datetime.fromisoformat("2026-12-02T00:00:00+01:00"),
        )
        await other.execute("UPDATE resource SET updated_at = now() WHERE id = $1", room_id)
    finally:
        await other.close()
    refused = await book(client, alice[1], room_id, **at("2026-12-01", "18:00", "20:00"))
    assert_problem(refused, 422, "resource_closed")
    assert "Vannlekkasje" in refused.json()["detail"]


async def test_a_loan_is_one_call_that_locks_the_item_then_inserts_the_loan_and_its_event(client, db, alice):
    from tests import builders
    from tests.api.test_loans import MON_TO_TUE, WED_TO_THU

    chairs = await builders.item(db, "stoler", 20)
    for _ in range(2):  # the token and the item remembered (a read that raced the item's creation is not kept)
        assert (await book(client, alice[1], chairs, quantity=5, **MON_TO_TUE)).status_code == 201
    statements = Statements(client.app.state.db.engine)
    second = await book(client, alice[1], chairs, quantity=5, **WED_TO_THU)
    assert second.status_code == 201, second.text
    assert len(statements.seen) == 1 and statements.seen[0].lstrip().startswith("SELECT allmenning_lend(")
    async with db.read() as s:
        kinds = list((await s.execute(select(Notification.kind).where(Notification.booking_id == second.json()["id"]))).scalars())
    assert kinds == ["booking_confirmed"]


async def test_stock_another_process_lowered_unseen_is_honoured_because_the_item_changed(client, db, db_url, alice, bob):
    from tests import builders
    from tests.api.test_loans import MON_TO_TUE, WED_TO_THU

    chairs = await builders.item(db, "stoler", 20)
    assert (await book(client, alice[1], chairs, quantity=5, **WED_TO_THU)).status_code == 201  # the item remembered: 20
    other = await asyncpg.connect(make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False))
    try:  # another process, unheard of, leaves 8 chairs
        await other.execute("UPDATE resource SET stock = 8, updated_at = now() WHERE id = $1", chairs)
    finally:
        await other.close()
    assert (await book(client, bob[1], chairs, quantity=5, **MON_TO_TUE)).status_code == 201  # 5 of 8: still fits
    refused = await book(client, bob[1], chairs, quantity=4, **MON_TO_TUE)  # 9 of 8 then: refused by name
    assert_problem(refused, 409, "insufficient_stock")


async def test_a_loan_past_the_stock_in_one_call_is_refused_by_name_and_writes_nothing(client, db, alice, bob):
    from tests import builders
    from tests.api.test_loans import MON_TO_TUE

    chairs = await builders.item(db, "stoler", 6)
    assert (await book(client, alice[1], chairs, quantity=5, **MON_TO_TUE)).status_code == 201
    assert (await book(client, alice[1], chairs, quantity=1, **MON_TO_TUE)).status_code == 201  # the item remembered
    assert_problem(await book(client, bob[1], chairs, quantity=1, **MON_TO_TUE), 409, "insufficient_stock")
    async with db.read() as s:
        assert len(list((await s.execute(select(Notification.id).where(Notification.kind == "booking_confirmed"))).scalars())) == 2


async def test_the_lend_function_postgresql_runs_is_the_loan_statement_this_code_would_run(db):
    from sqlalchemy import text

    from booking.inserts import LEND_FUNCTION_BODY

    async with db.read() as s:
        installed = (await s.execute(text("SELECT prosrc FROM pg_proc WHERE proname = 'allmenning_lend'"))).scalar_one()
    # A loan's statement changed (a new column, a new check): a new migration must CREATE OR REPLACE the function
    # with this body, or PostgreSQL keeps lending by the old one.
    assert " ".join(installed.split()) == " ".join(LEND_FUNCTION_BODY.split()), f"install this body:\n{LEND_FUNCTION_BODY}"
