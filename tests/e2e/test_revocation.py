"""Revocation reaches every process at once on PostgreSQL: the next request to another instance is refused."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from config.servers import running_servers
from tests import builders

pytestmark = pytest.mark.e2e

# Far longer than the test: only hearing the other process's commit can make the second instance forget in time.
LONG_MEMO = {"ALLMENNING_MEMO_SECONDS": "600"}
ON_POSTGRESQL = pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgresql)])


def database_url(db_url: str) -> str:
    return db_url.replace("postgresql+asyncpg://", "postgresql://")


@ON_POSTGRESQL
async def test_a_token_revoked_through_one_instance_is_refused_by_the_next_request_to_another(db, db_url: str, tmp_path: Path) -> None:
    _, signed_in = await builders.person(db, "ola@example.no")
    with running_servers(database_url(db_url), 2, tmp_path, **LONG_MEMO) as (first, second):
        async with httpx.AsyncClient(timeout=30) as http:
            made = (await http.post(f"{first}/api/v1/me/tokens", json={"label": "script"}, headers=signed_in)).json()
            script = {"Authorization": f"Bearer {made['token']}"}
            assert (await http.get(f"{second}/api/v1/me", headers=script)).status_code == 200  # remembered there now
            revoked = await http.delete(f"{first}/api/v1/me/tokens/{made['id']}", headers=signed_in)
            assert revoked.status_code == 204
            refused = await http.get(f"{second}/api/v1/me", headers=script)
            assert refused.status_code == 401, refused.text
            assert refused.json()["code"] == "not_authenticated"


@ON_POSTGRESQL
async def test_a_member_removed_through_one_instance_loses_the_association_at_the_next_request_to_another(
    db, db_url: str, tmp_path: Path
) -> None:
    admin_id, admin = await builders.person(db, "admin@example.no")
    member_id, member = await builders.person(db, "kari@example.no")
    association_id = await builders.association(db, "Strømsø sjakklubb", "998877665", {admin_id: "admin", member_id: "member"})
    with running_servers(database_url(db_url), 2, tmp_path, **LONG_MEMO) as (first, second):
        async with httpx.AsyncClient(timeout=30) as http:
            seen = await http.get(f"{second}/api/v1/associations/{association_id}", headers=member)
            assert seen.status_code == 200  # the membership is remembered there now
            removed = await http.delete(f"{first}/api/v1/associations/{association_id}/members/{member_id}", headers=admin)
            assert removed.status_code in (200, 204), removed.text
            refused = await http.get(f"{second}/api/v1/associations/{association_id}", headers=member)
            assert refused.status_code == 403, refused.text
