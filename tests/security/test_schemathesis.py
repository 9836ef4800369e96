"""Schemathesis against a real server: generated requests to every `/api/v1` operation, as a resident and as staff.

No answer is a 5xx; every answer has a status, a content type and (for JSON) a body its operation documents.
The run is bounded (a few examples per operation and a time budget), seeded so a failure can be replayed, and on
SQLite only: what it checks is the HTTP contract, not storage.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from config.servers import running_servers
from infra.database import Db
from people import service as people_service
from tests import builders
from tests.conftest import run_aside

pytestmark = pytest.mark.e2e

ST = Path(sys.executable).parent / "st"
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance")
SEED = 1234
MAX_EXAMPLES = 5
SECONDS_PER_RUN = 25  # schemathesis's own budget for one run (the suite stays under ten minutes); killed 60 s after it

# Findings not yet fixed: (operation id, check) → what schemathesis found. Only that check is left out, only there.
KNOWN_FINDINGS: dict[tuple[str, str], str] = {}


def config_file(path: Path) -> Path:
    """The checks to run, and the known findings each switched off for its one operation only."""
    lines = ["[checks]", "enabled = false", *(f"{check}.enabled = true" for check in CHECKS)]
    for (operation_id, check), reason in KNOWN_FINDINGS.items():
        lines += ["", f"# {reason}", "[[operations]]", f'include-operation-id = "{operation_id}"', f"checks.{check}.enabled = false"]
    path.write_text("\n".join(lines) + "\n")
    return path


async def seed(url: str) -> dict[str, str]:
    """A resident and a staff member with tokens valid now (the server runs on the wall clock), a room and an item."""
    db = Db(url)
    try:
        tokens = {}
        for who, email in (("resident", "alice@example.no"), ("staff", "staff@knutepunkt.no")):
            await builders.person(db, email, staff=who == "staff")
            tokens[who] = "Bearer " + await people_service.issue_credential(db, email, "api", now=datetime.now(UTC))
        await builders.room(db, key="ovingsrom")
        await builders.item(db, "drill", 2)
    finally:
        await db.dispose()
    return tokens


@pytest.fixture(scope="module")
def server(sqlite_template, tmp_path_factory):
    assert ST.exists(), f"schemathesis is not installed ({ST}): `make install-dev` (it is a dev dependency)"
    tmp_path = tmp_path_factory.mktemp("schemathesis")
    path = tmp_path / "allmenning.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    tokens = run_aside(seed(url))
    with running_servers(url, 1, tmp_path) as [base_url]:
        yield base_url, tokens, tmp_path


def schemathesis(base_url: str, token: str, report: Path, *options: str) -> subprocess.CompletedProcess:
    command = [
        str(ST),
        "--no-color",
        "--config-file",
        str(config_file(report.parent / f"{report.name}.toml")),
        "run",
        f"{base_url}/schema/openapi.json",
        "--header",
        f"Authorization: {token}",
        "--include-path-regex",
        "^/api/v1/",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--max-time",
        str(SECONDS_PER_RUN),
        "--seed",
        str(SEED),
        # One worker: with threads, Hypothesis's ast.parse of lambdas trips CPython 3.11's "AST constructor recursion
        # depth mismatch" (a race inside the interpreter, not the app), which schemathesis reports as a runtime error.
        "--workers",
        "1",
        "--generation-database",
        "none",
        # Erasure would erase the run's own caller (or the resident) midway and leave the rest unauthenticated: its
        # own tests (tests/api/test_erasure.py) hold its answers.
        "--exclude-name",
        "DELETE /api/v1/me",
        "--exclude-name",
        "DELETE /api/v1/people/{person_id}",
        "--report",
        "junit",
        "--report-dir",
        str(report),
        *options,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=SECONDS_PER_RUN + 60)


@pytest.mark.parametrize("who", ["resident", "staff"])
def test_generated_requests_get_no_server_error_and_only_documented_answers(server, who):
    base_url, tokens, tmp_path = server
    report = tmp_path / f"report-{who}"
    done = schemathesis(base_url, tokens[who], report)
    report.mkdir(exist_ok=True)
    (report / "output.txt").write_text(done.stdout + done.stderr)
    assert done.returncode == 0, (
        f"schemathesis found problems (whole output: {report / 'output.txt'}):\n" + done.stdout[-12000:] + done.stderr[-2000:]
    )
