"""On PostgreSQL the database itself refuses overlapping active blocks of an exclusive resource (invariant 1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from booking.store import Booking
from tests import builders

pytestmark = pytest.mark.postgresql
T0 = datetime(2026, 12, 1, 17, tzinfo=UTC)


def row(resource_id: int, person_id: int, start: datetime, hours: int, *, status: str = "confirmed", exclusive: bool = True) -> Booking:
    end = start + timedelta(hours=hours)
    return Booking(
        resource_id=resource_id,
        person_id=person_id,
        start=start,
        end=end,
        block_start=start,
        block_end=end,
        exclusive=exclusive,
        status=status,
        created_at=T0,
        updated_at=T0,
    )


@pytest.fixture
def backend() -> str:
    return "postgresql"


async def insert(db, *rows: Booking) -> None:
    async with db.write() as s:
        s.add_all(rows)


async def test_the_database_refuses_overlapping_active_bookings_that_skipped_the_service(db):
    room, (alice, _) = await builders.room(db), await builders.person(db, "alice@example.no")
    await insert(db, row(room, alice, T0, 2))
    with pytest.raises(IntegrityError, match="booking_no_overlap"):
        await insert(db, row(room, alice, T0 + timedelta(hours=1), 2))


async def test_cancelled_bookings_and_pooled_loans_are_outside_the_constraint(db):
    room, (alice, _) = await builders.room(db), await builders.person(db, "alice@example.no")
    chairs = await builders.item(db, "stoler", stock=10)
    await insert(db, row(room, alice, T0, 2, status="cancelled"), row(room, alice, T0, 2))
    await insert(db, row(chairs, alice, T0, 2, exclusive=False), row(chairs, alice, T0, 2, exclusive=False))
    await insert(db, row(room, alice, T0 + timedelta(hours=2), 1))  # touching is not overlapping: [start, end)
