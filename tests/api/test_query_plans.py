"""The statements every booking and loan runs read no history: SQLite's own query plans say which rows they visit."""

from __future__ import annotations

import pytest

from booking.inserts import INSERT_UNLESS_OVERLAPPING
from booking.store import ACTIVE_BLOCKS, ASSOCIATION_HOURS, STANDING


async def plan(db, statement) -> list[str]:
    async with db.read() as s:
        sql = str(statement.compile(dialect=s.bind.dialect))
        rows = await (await s.connection()).exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", (1,) * sql.count("?"))
        return [row[3] for row in rows]


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("statement", [ACTIVE_BLOCKS, INSERT_UNLESS_OVERLAPPING], ids=["read", "insert unless overlapping"])
async def test_the_overlap_check_reads_only_blocks_that_end_after_the_wanted_start(db, statement):
    searches = [line for line in await plan(db, statement) if line.split(" ")[1:2] == ["booking"]]
    assert searches == ["SEARCH booking USING INDEX ix_booking_resource_block (resource_id=? AND block_end>?)"]


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_borrowers_check_reads_only_loans_out_now_and_loans_not_yet_ended(db):
    for statement, who in ((STANDING[(False, True)], "person_id"), (STANDING[(True, True)], "association_id")):
        searches = [line for line in await plan(db, statement) if line.split(" ")[1:2] == ["booking"]]
        borrower = who.removesuffix("_id")
        assert searches == [
            f"SEARCH booking USING INDEX ix_booking_{borrower}_handed_out ({who}=?)",
            f"SEARCH booking USING INDEX ix_booking_{borrower}_end ({who}=? AND end>?)",
        ]


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_an_association_quota_reads_only_its_bookings_not_yet_ended_when_the_week_starts(db):
    searches = [line for line in await plan(db, ASSOCIATION_HOURS) if line.split(" ")[1:2] == ["booking"]]
    assert searches == ["SEARCH booking USING INDEX ix_booking_association_end (association_id=? AND end>?)"]
