"""Test backends: every storage and engine test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import asyncpg
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlmodel import SQLModel

from config import migrate
from config.app import create_app
from infra.database import Db
from infra.settings import Settings

PG_ADMIN = os.environ.get("ALLMENNING_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("ALLMENNING_REQUIRE_POSTGRES") == "1"
_pg_outcomes = {"passed": 0, "skipped": 0, "failed": 0}


class Clock:
    """A clock the test moves by hand; the app reads `now` from it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def run_aside(coroutine) -> object:
    """Run a coroutine to completion on its own loop, even when called from inside a running one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh PostgreSQL database for this test run, migrated to head, dropped at the end."""
    name = f"allmenning_test_{uuid.uuid4().hex[:8]}"
    try:
        run_aside(_pg_admin(f'CREATE DATABASE "{name}"'))
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        reason = f"PostgreSQL not reachable at {PG_ADMIN}: {exc}"
        if REQUIRE_PG:
            pytest.fail(reason + " (ALLMENNING_REQUIRE_POSTGRES=1)")
        pytest.skip(reason)
    url = "postgresql+asyncpg://" + PG_ADMIN.split("://", 1)[1].rsplit("/", 1)[0] + f"/{name}"
    run_aside(migrate.upgrade(url))
    yield url
    run_aside(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "allmenning.db"
    run_aside(migrate.upgrade(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def backend(request) -> str:
    return request.param


@pytest.fixture
async def db_url(backend, request, tmp_path) -> str:
    if backend == "sqlite":
        path = tmp_path / "allmenning.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    await _truncate_all(url)
    return url


async def _truncate_all(url: str) -> None:
    """Empty every table, children first (DELETE on tiny tables is far quicker than TRUNCATE)."""
    import config.tables  # noqa: F401  (every table on the metadata)

    db = Db(url)
    try:
        async with db.engine.begin() as conn:
            # The audit trail refuses DELETE by trigger; only a superuser's replica role (never the app's) skips it.
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
            for table in reversed(SQLModel.metadata.sorted_tables):
                await conn.execute(table.delete())
            # Ids start at 1 again, as on a fresh SQLite copy: both backends answer alike.
            serials = [
                f"setval(pg_get_serial_sequence('\"{t.name}\"', 'id'), 1, false)"
                for t in SQLModel.metadata.sorted_tables
                if "id" in t.c and t.c.id.autoincrement
            ]
            await conn.execute(text("SELECT " + ", ".join(serials)))
    finally:
        await db.dispose()


@pytest.fixture
async def db(db_url):
    database = Db(db_url)
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))  # a Monday morning


@pytest.fixture
def settings(db_url, tmp_path) -> Settings:
    return Settings(database_url=db_url, mail_dir=tmp_path / "mail", scheduler=False)


@pytest.fixture(scope="session")
def app():
    # Building the app costs more than most tests; one serves them all, pointed at each test's database.
    return create_app(Settings(scheduler=False))


@pytest.fixture
async def client(app, settings, db, clock):
    app.state.settings, app.state.clock = settings, clock
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


def pytest_runtest_logreport(report):
    if "postgresql" not in report.keywords:
        return
    if report.when == "call" and report.passed:
        _pg_outcomes["passed"] += 1
    elif report.skipped:
        _pg_outcomes["skipped"] += 1
    elif report.failed:
        _pg_outcomes["failed"] += 1


def pytest_terminal_summary(terminalreporter):
    o = _pg_outcomes
    terminalreporter.write_line(f"PostgreSQL tests: {o['passed']} passed, {o['skipped']} skipped, {o['failed']} failed")


def pytest_sessionfinish(session, exitstatus):
    if REQUIRE_PG and (_pg_outcomes["passed"] == 0 or _pg_outcomes["skipped"]):
        session.exitstatus = 1
