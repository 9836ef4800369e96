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
