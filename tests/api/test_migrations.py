"""Migrations run up and down on SQLite and PostgreSQL, and leave exactly the schema the tables describe."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import config.tables  # noqa: F401  (every table on the metadata)
from config import migrate
from infra.database import Db
from tests.conftest import PG_ADMIN, _pg_admin


@pytest.fixture
async def empty_url(backend, tmp_path, request):
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    request.getfixturevalue("postgres_url")  # skips or fails as the other PostgreSQL tests do
    name = f"allmenning_migrations_{uuid.uuid4().hex[:8]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    yield "postgresql+asyncpg://" + PG_ADMIN.split("://", 1)[1].rsplit("/", 1)[0] + f"/{name}"
    await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def schema_differences(url: str) -> list:
    db = Db(url)
    try:
        async with db.engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), SQLModel.metadata)
            )
    finally:
        await db.dispose()


async def table_names(url: str) -> set[str]:
    db = Db(url)
    try:
        async with db.engine.connect() as conn:
            return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names())) - {"alembic_version"}
    finally:
        await db.dispose()


async def test_migrations_build_the_schema_the_tables_describe(empty_url):
    await migrate.upgrade(empty_url)
    assert await schema_differences(empty_url) == []
    assert await table_names(empty_url) == set(SQLModel.metadata.tables)


async def test_migrations_go_all_the_way_down_and_up_again(empty_url):
    await migrate.upgrade(empty_url)
    await migrate.downgrade(empty_url, "base")
    assert await table_names(empty_url) == set()
    await migrate.upgrade(empty_url)
    assert await schema_differences(empty_url) == []


async def test_a_feed_made_before_tokens_were_hashed_keeps_its_address(empty_url):
    from datetime import UTC, datetime

    from sqlalchemy import text

    from notifications import store as feeds

    await migrate.upgrade(empty_url, "0009")
    made = "a-token-as-it-was-mailed-before-hashing-000"  # 43 characters, as token_urlsafe(32) makes them
    db = Db(empty_url)
    try:
        async with db.engine.begin() as conn:
            now = datetime(2026, 11, 1, tzinfo=UTC)
            await conn.execute(
                text(
                    "INSERT INTO person (email, name, language, street, postal_code, city, is_staff, created_at) "
                    "VALUES ('ola@example.no', 'Ola', 'nb', '', '', '', false, :now)"
                ),
                {"now": now},
            )
            await conn.execute(
                text("INSERT INTO calendar_feed (person_id, token, created_at) VALUES (1, :token, :now)"), {"token": made, "now": now}
            )
        await migrate.upgrade(empty_url)
        async with db.read() as s:
            assert await feeds.live_feed(s, made) is not None  # the address in Ola's calendar still opens the feed
            stored = (await s.execute(text("SELECT token FROM calendar_feed"))).scalar_one()
        assert stored != made and len(stored) == 64
    finally:
        await db.dispose()


async def test_todays_staff_become_operators_and_residents_stay_residents(empty_url):
    from datetime import UTC, datetime

    from sqlalchemy import text

    await migrate.upgrade(empty_url, "0014")
    db = Db(empty_url)
    try:
        async with db.engine.begin() as conn:
            for email, staff in (("stine@knutepunkt.no", True), ("ola@example.no", False)):
                await conn.execute(
                    text(
                        "INSERT INTO person (email, name, language, street, postal_code, city, is_staff, created_at) "
                        "VALUES (:email, 'X', 'nb', '', '', '', :staff, :now)"
                    ),
                    {"email": email, "staff": staff, "now": datetime(2026, 11, 1, tzinfo=UTC)},
                )
        await migrate.upgrade(empty_url)
        async with db.engine.begin() as conn:
            grants = (
                await conn.execute(text("SELECT p.email, g.role, g.location_id FROM staff_grant g JOIN person p ON p.id = g.person_id"))
            ).all()
            columns = {c["name"] for c in await conn.run_sync(lambda sync: inspect(sync).get_columns("person"))}
    finally:
        await db.dispose()
    assert [tuple(g) for g in grants] == [("stine@knutepunkt.no", "operator", None)]
    assert "is_staff" not in columns
