"""The transaction boundaries every service relies on: group commit, the one-hop SQLite driver, the memo."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from infra.database import Db
from infra.errors import DomainError
from infra.memo import Memo
from notifications.store import JobRun
from people import service as people
from tests import builders

TICK = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Refused(DomainError):
    code = "refused_for_the_test"
    status = 409
    title = "Refused"


def run(job: str, *, fail_after: bool = False, fail_before: bool = False, twice: bool = False):
    """A writer that records one job run, refusing before or after writing when told to."""

    async def work(s):
        if fail_before:
            raise Refused(job=job)
        await s.execute(insert(JobRun).values(job=job, tick=TICK, owner="test", started_at=TICK))
        if twice:  # the same (job, tick) again: the database refuses it
            await s.execute(insert(JobRun).values(job=job, tick=TICK, owner="test", started_at=TICK))
        if fail_after:
            raise Refused(job=job)
        return job

    return work


async def jobs(db: Db) -> list[str]:
    async with db.read() as s:
        return sorted((await s.execute(select(JobRun.job))).scalars())


async def together(db: Db, *works) -> list:
    return await asyncio.gather(*(db.write_together(w) for w in works), return_exceptions=True)


async def test_writers_queued_together_commit_together_and_a_refusal_leaves_the_others_in_place(db):
    answers = await together(db, run("a"), run("b", fail_before=True), run("c"))
    assert answers[0] == "a" and answers[2] == "c"
    assert isinstance(answers[1], Refused)
    assert await jobs(db) == ["a", "c"]


async def test_a_writer_refused_after_writing_loses_its_own_rows_and_no_one_elses(db):
    answers = await together(db, run("a"), run("b", fail_after=True), run("c"))
    assert [answers[0], answers[2]] == ["a", "c"] and isinstance(answers[1], Refused)
    assert await jobs(db) == ["a", "c"]


async def test_a_database_refusal_in_a_group_reaches_only_its_writer(db):
    answers = await together(db, run("a"), run("b", twice=True), run("c"))
    assert [answers[0], answers[2]] == ["a", "c"] and isinstance(answers[1], IntegrityError)
    assert await jobs(db) == ["a", "c"]


@pytest.mark.parametrize("backend", ["sqlite"])  # PostgreSQL writers run in parallel, each in its own transaction
async def test_on_sqlite_writers_queued_together_share_one_durable_commit(db):
    commits = []
    event.listen(db.engine.sync_engine, "commit", lambda conn: commits.append(conn))
    await together(db, *(run(f"job {i}") for i in range(10)))
    assert len(commits) == 1 and len(await jobs(db)) == 10


# ---------------------------------------------------------------- the one-hop SQLite driver


@pytest.mark.parametrize("backend", ["sqlite"])  # the aiosqlite driver only
async def test_on_sqlite_a_statement_is_one_call_on_the_connections_thread(db, monkeypatch):
    import aiosqlite

    calls = []
    original = aiosqlite.Connection._execute

    async def counted(self, fn, *args, **kwargs):
        calls.append(fn)
        return await original(self, fn, *args, **kwargs)

    async with db.write() as s:
        await s.execute(insert(JobRun).values(job="x", tick=TICK, owner="", started_at=TICK))
        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
        assert (await s.execute(select(func.count()).select_from(JobRun))).scalar_one() == 1
        assert len(calls) == 1


async def test_the_driver_reports_rows_changed_inserted_ids_and_many_rows_at_once(db):
    async with db.write() as s:
        await s.execute(insert(JobRun), [{"job": f"j{i}", "tick": TICK, "owner": "", "started_at": TICK} for i in range(3)])
        changed = await s.execute(update(JobRun).where(JobRun.job.in_(["j0", "j1"])).values(owner="moved"))
        assert changed.rowcount == 2
        row = JobRun(job="orm", tick=TICK, started_at=TICK)
        s.add(row)
        await s.flush()
        assert row.id is not None
        assert (await s.execute(text("SELECT count(*) FROM job_run WHERE owner = 'moved'"))).scalar_one() == 2
    assert await jobs(db) == ["j0", "j1", "j2", "orm"]


# ---------------------------------------------------------------- the memo


async def test_a_revoked_token_is_refused_at_once_even_when_revoked_through_another_db_of_this_process(db, db_url):
    person_id, headers = await builders.person(db, "alice@example.no")
    token = headers["Authorization"].removeprefix("Bearer ")
    serving = Db(db_url)  # as the server's own handle would be
    try:
        assert (await people.authenticate(serving, token, now=TICK)).person_id == person_id
        async with db.write() as s:
            await s.execute(text("UPDATE credential SET revoked_at = created_at"))
        assert await people.authenticate(serving, token, now=TICK) is None
    finally:
        await serving.dispose()


async def test_a_change_by_another_process_is_seen_once_the_memo_expires(db, db_url):
    person_id, headers = await builders.person(db, "alice@example.no")
    token = headers["Authorization"].removeprefix("Bearer ")
    serving = Db(db_url, memo_seconds=0.3)
    other_process = create_async_engine(db_url)  # no hooks of ours: as another server would write
    try:
        assert (await people.authenticate(serving, token, now=TICK)).person_id == person_id
        async with other_process.begin() as conn:
            await conn.execute(text("UPDATE credential SET revoked_at = created_at"))
        await asyncio.sleep(0.35)
        assert await people.authenticate(serving, token, now=TICK) is None
    finally:
        await other_process.dispose()
        await serving.dispose()


async def test_an_expired_session_is_refused_though_its_actor_is_remembered(db):
    await builders.person(db, "alice@example.no")
    token = await people.issue_credential(db, "alice@example.no", "session", now=TICK, lifetime=timedelta(hours=1))
    assert await people.authenticate(db, token, now=TICK) is not None
    assert await people.authenticate(db, token, now=TICK + timedelta(hours=2)) is None


async def test_a_value_read_while_something_was_forgotten_is_not_kept():
    memo = Memo(seconds=60)

    async def read_during_a_write() -> str:
        memo.forget()  # a write to a watched table happened while this read ran
        return "as it was"

    async def read_again() -> str:
        return "as it is"

    assert await memo.get_or_read("key", read_during_a_write) == "as it was"
    assert await memo.get_or_read("key", read_again) == "as it is"
    assert await memo.get_or_read("key", read_during_a_write) == "as it is"


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgresql)])
async def test_on_postgresql_a_booking_follows_a_policy_another_process_changed_a_moment_ago(client, db, db_url, alice, room_id):
    monday = {"start": "2026-11-30T18:00:00+01:00", "end": "2026-11-30T20:00:00+01:00"}
    tuesday = {"start": "2026-12-01T18:00:00+01:00", "end": "2026-12-01T20:00:00+01:00"}
    first = await client.post("/api/v1/bookings", json={"resource_id": room_id, "title": "Styremøte", **monday}, headers=alice[1])
    assert first.status_code == 201  # the policy is now remembered by this process
    other_process = create_async_engine(db_url)
    try:
        async with other_process.begin() as conn:  # staff elsewhere: at most one hour from now on
            policy = (await conn.execute(text("SELECT policy FROM resource WHERE id = :id"), {"id": room_id})).scalar_one()
            changed = json.dumps({**(json.loads(policy) if isinstance(policy, str) else policy), "max_duration": 3600})
            await conn.execute(
                text("UPDATE resource SET policy = CAST(:policy AS json) WHERE id = :id"), {"policy": changed, "id": room_id}
            )
    finally:
        await other_process.dispose()
    refused = await client.post("/api/v1/bookings", json={"resource_id": room_id, "title": "Styremøte", **tuesday}, headers=alice[1])
    assert refused.status_code == 422 and refused.json()["code"] == "too_long"


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgresql)])
async def test_on_postgresql_a_booking_is_refused_inside_a_closure_another_process_added_a_moment_ago(client, db, db_url, alice, room_id):
    monday = {"start": "2026-11-30T18:00:00+01:00", "end": "2026-11-30T20:00:00+01:00"}
    tuesday = {"start": "2026-12-01T18:00:00+01:00", "end": "2026-12-01T20:00:00+01:00"}
    first = await client.post("/api/v1/bookings", json={"resource_id": room_id, "title": "Styremøte", **monday}, headers=alice[1])
    assert first.status_code == 201  # the policy and its closures are now remembered by this process
    other_process = create_async_engine(db_url)
    try:
        async with other_process.begin() as conn:  # staff elsewhere close the room on Tuesday for a water leak
            await conn.execute(text("SELECT id FROM resource WHERE id = :id FOR UPDATE"), {"id": room_id})
            await conn.execute(
                text("INSERT INTO closure (resource_id, start, \"end\", reason) VALUES (:id, :start, :end, 'Vannlekkasje')"),
                {"id": room_id, "start": datetime(2026, 12, 1, 8, tzinfo=UTC), "end": datetime(2026, 12, 1, 22, tzinfo=UTC)},
            )
            await conn.execute(text("UPDATE resource SET updated_at = now() WHERE id = :id"), {"id": room_id})
    finally:
        await other_process.dispose()
    refused = await client.post("/api/v1/bookings", json={"resource_id": room_id, "title": "Styremøte", **tuesday}, headers=alice[1])
    assert refused.status_code == 422 and refused.json()["code"] == "resource_closed", refused.text


async def test_the_memo_keeps_no_more_than_its_limit_however_many_tokens_are_tried():
    memo = Memo(seconds=60, limit=100)

    async def unknown() -> None:
        return None

    for attempt in range(1_000):
        await memo.get_or_read(("actor", f"made-up {attempt}"), unknown)
    assert len(memo._values) <= 100


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgresql)])
async def test_a_connection_lent_for_one_statement_commits_each_statement_and_goes_back_to_the_pool_transactional(db):
    # The quick bookings run in autocommit; a connection left so would make every later write's row locks vanish.
    xact = text("SELECT pg_current_xact_id()::text")
    for _ in range(3):  # the pool hands the same connection back each time
        async with db.one_statement() as conn:
            assert (await conn.execute(xact)).scalar() != (await conn.execute(xact)).scalar()
        async with db.write() as s:
            assert (await s.execute(xact)).scalar() == (await s.execute(xact)).scalar()
    assert db.engine.pool.checkedin() == 1


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgresql)])
async def test_a_pooled_connection_the_server_closed_is_replaced_before_anyone_uses_it(db, db_url):
    async with db.read() as s:
        pid = (await s.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    other_process = create_async_engine(db_url)  # as when PostgreSQL restarts or an operator ends our sessions
    try:
        async with other_process.begin() as conn:
            assert (await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})).scalar_one()
    finally:
        await other_process.dispose()
    await asyncio.sleep(0.2)  # the server's goodbye reaches the pooled connection's socket
    async with db.read() as s:
        assert (await s.execute(text("SELECT pg_backend_pid()"))).scalar_one() != pid
