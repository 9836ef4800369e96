"""The statements every booking and loan runs read no history: SQLite's own query plans, and PostgreSQL's generic plan
of the one-statement booking, say which rows they visit."""

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


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgresql)])
async def test_a_room_booked_in_one_statement_asks_the_exclusion_constraints_index_even_in_a_generic_plan(db):
    # A long-lived connection's prepared statement gets a generic plan after five runs: one that cannot see how narrow
    # the asked window is, and once read a 100,000-booking history for every booking (p50 5x slower).
    from sqlalchemy import text
    from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

    from booking.inserts import BOOKED_WITH_ITS_EVENT

    compiled = BOOKED_WITH_ITS_EVENT.compile(dialect=PGDialect_asyncpg())
    nulls = ", ".join(["NULL"] * len(compiled.positiontup))
    async with db.read() as s:
        await s.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
        await s.execute(text(f"PREPARE one_statement AS {compiled.string}"))
        lines = [row[0] for row in await s.execute(text(f"EXPLAIN EXECUTE one_statement({nulls})"))]
        await s.execute(text("DEALLOCATE one_statement"))
    scans = [(n, line.strip()) for n, line in enumerate(lines) if "Scan" in line and " on booking" in line]
    assert [line for _, line in scans] and all("Index Scan using booking_no_overlap" in line for _, line in scans), "\n".join(lines)
    assert all("&& tstzrange(" in lines[n + 1] and "Index Cond" in lines[n + 1] for n, _ in scans), "\n".join(lines)  # the window, by index
