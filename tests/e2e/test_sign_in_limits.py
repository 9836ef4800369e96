"""The sign-in rate limit is one count across server processes on PostgreSQL (a row per key and window)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from config.servers import running_servers
from tests.e2e.test_revocation import ON_POSTGRESQL, database_url

pytestmark = pytest.mark.e2e


@ON_POSTGRESQL
async def test_a_second_process_on_postgresql_sees_the_same_sign_in_counter(db, db_url: str, tmp_path: Path) -> None:
    with running_servers(database_url(db_url), 2, tmp_path) as (first, second):
        async with httpx.AsyncClient(timeout=30) as http:
            for url in (first, second, first, second, first):  # five, shared between the two
                sent = await http.post(f"{url}/api/v1/auth/sign-in", json={"email": "ola@example.no"})
                assert sent.status_code == 202, sent.text
            refused = await http.post(f"{second}/api/v1/auth/sign-in", json={"email": "ola@example.no"})
            assert refused.status_code == 429, refused.text
            assert refused.json()["code"] == "too_many_requests" and int(refused.headers["retry-after"]) >= 1
