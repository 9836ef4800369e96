"""Two instances started at once on an empty database: one migrates and seeds, the other carries on; both serve."""

from __future__ import annotations

import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from config.servers import running_servers
from tests.conftest import PG_ADMIN, REQUIRE_PG, run_aside

pytestmark = pytest.mark.e2e


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
def empty_database(backend: str, tmp_path: Path):
    """A database nobody has migrated or seeded yet."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"allmenning_empty_{uuid.uuid4().hex[:8]}"
    try:
        run_aside(_admin(f'CREATE DATABASE "{name}"'))
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL not reachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    yield "postgresql://" + PG_ADMIN.split("://", 1)[1].rsplit("/", 1)[0] + f"/{name}"
    run_aside(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_two_instances_started_at_once_on_an_empty_database_both_serve_one_catalogue(empty_database: str, tmp_path: Path) -> None:
    with running_servers(empty_database, 2, tmp_path, at_once=True) as urls:
        answers = [httpx.get(f"{url}/api/v1/locations", timeout=10) for url in urls]
        assert [a.status_code for a in answers] == [200, 200]
        first, second = (sorted(loc["key"] for loc in a.json()["items"]) for a in answers)
        assert first == second and len(first) == len(set(first)) == 7
        beds = httpx.get(f"{urls[1]}/api/v1/resources", params={"kind": "garden_bed"}, timeout=10).json()
        assert beds["count"] == 70
