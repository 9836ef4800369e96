"""The operator's `allmenning` command, run as a real process against a SQLite file."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from infra.database import Db
from people import service as people

VALID_ORGNR = "974760673"


def allmenning_command() -> str:
    """The installed entry point beside this interpreter, so the test runs what operators run."""
    bin_dir = Path(sys.executable).parent
    found = shutil.which("allmenning", path=str(bin_dir))
    assert found, f"the allmenning entry point is not installed in {bin_dir}"
    return found


def run_allmenning(args: tuple[str, ...], *, cwd: Path, database: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "ALLMENNING_DATABASE_URL": f"sqlite:///{database}", "ALLMENNING_MAIL_DIR": str(cwd / "mail")}
    return subprocess.run([allmenning_command(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    """`allmenning db upgrade` on a fresh file, once per module: each test starts from a copy."""
    folder = tmp_path_factory.mktemp("cli")
    database = folder / "var" / "allmenning.db"
    upgraded = run_allmenning(("db", "upgrade"), cwd=folder, database=database)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "newest schema" in upgraded.stdout
    return database


@pytest.fixture
def database(tmp_path, migrated) -> Path:
    copy = tmp_path / "allmenning.db"
    shutil.copy(migrated, copy)
    return copy


@pytest.fixture
def allmenning(tmp_path, database):
    """Run `allmenning ARGS…` against this test's database; returns the finished process."""
    return lambda *args: run_allmenning(args, cwd=tmp_path, database=database)


def succeeded(process: subprocess.CompletedProcess) -> str:
    assert process.returncode == 0, process.stderr
    return process.stdout


def test_the_console_adds_an_operator(allmenning):
    output = succeeded(allmenning("users", "add", "x@y.no", "--name", "X", "--staff"))
    assert "x@y.no (operator)" in output


def test_adding_a_person_again_updates_them_instead_of_failing(allmenning):
    first = succeeded(allmenning("users", "add", "X@Y.no", "--name", "X"))
    again = succeeded(allmenning("users", "add", "x@y.no", "--name", "Xavier", "--staff"))
    assert first.split()[1] == again.split()[1]  # the same person id
    assert "(operator)" in again


async def test_a_token_made_on_the_command_line_authenticates_its_person(allmenning, database):
    succeeded(allmenning("users", "add", "x@y.no", "--name", "X", "--staff"))
    token = succeeded(allmenning("tokens", "create", "x@y.no")).strip().splitlines()[-1]
    db = Db(f"sqlite+aiosqlite:///{database}")
    try:
        actor = await people.authenticate(db, token, now=datetime.now(UTC))
    finally:
        await db.dispose()
    assert actor is not None
    assert (actor.email, actor.name, actor.is_staff) == ("x@y.no", "X", True)


def test_a_token_for_an_unknown_person_is_refused(allmenning):
    refused = allmenning("tokens", "create", "nobody@y.no")
    assert refused.returncode != 0
    assert "person_not_found" in refused.stderr


def test_the_operator_registers_an_association_with_its_admin(allmenning):
    succeeded(allmenning("users", "add", "x@y.no", "--name", "X"))
    output = succeeded(allmenning("associations", "add", "Strømsø Sjakklubb", "--orgnr", VALID_ORGNR, "--admin", "x@y.no"))
    assert "Strømsø Sjakklubb (974760673), admin x@y.no" in output


def test_an_association_with_an_invalid_orgnr_is_refused_on_the_command_line(allmenning):
    succeeded(allmenning("users", "add", "x@y.no"))
    refused = allmenning("associations", "add", "Feil", "--orgnr", "974760674", "--admin", "x@y.no")
    assert refused.returncode != 0
    assert "invalid_orgnr" in refused.stderr
    assert refused.stdout == ""


# ---------------------------------------------------------------- staff roles from the console


def rows_of(database: Path, sql: str) -> list[tuple]:
    import sqlite3

    with sqlite3.connect(database) as conn:
        return conn.execute(sql).fetchall()


async def add_place(database: Path, key: str) -> int:
    from resources.store import Location

    db = Db(f"sqlite+aiosqlite:///{database}")
    try:
        async with db.write() as s:
            row = Location(key=key, name="Huset", address="Gata 1", postal_code="3044")
            s.add(row)
            await s.flush()
            return row.id
    finally:
        await db.dispose()


async def test_the_console_grants_a_role_at_a_place_and_takes_it_back_each_in_the_audit_trail(allmenning, database):
    succeeded(allmenning("users", "add", "x@y.no", "--name", "X"))
    huset = await add_place(database, "huset")
    assert "x@y.no is location_staff at huset" in succeeded(allmenning("staff", "grant", "x@y.no", "location_staff", "--location", "huset"))
    assert "(already)" in succeeded(allmenning("staff", "grant", "X@y.no", "location_staff", "--location", "huset"))
    assert rows_of(database, "SELECT role, location_id FROM staff_grant") == [("location_staff", huset)]
    assert "no longer location_staff" in succeeded(allmenning("staff", "revoke", "x@y.no", "location_staff", "--location", "huset"))
    assert rows_of(database, "SELECT * FROM staff_grant") == []
    trail = rows_of(database, "SELECT action, actor_id, location_id FROM audit_entry WHERE object_kind = 'role' ORDER BY id")
    assert trail == [("role.granted", None, huset), ("role.revoked", None, huset)]  # the console acts as nobody


@pytest.fixture(scope="module")
def staffed(migrated, tmp_path_factory) -> Path:
    """X, a resident; Boss, the only operator; the place huset: made once, each test refused on a copy."""
    folder = tmp_path_factory.mktemp("staffed")
    database = folder / "allmenning.db"
    shutil.copy(migrated, database)
    succeeded(run_allmenning(("users", "add", "x@y.no", "--name", "X"), cwd=folder, database=database))
    succeeded(run_allmenning(("users", "add", "boss@y.no", "--name", "Boss", "--staff"), cwd=folder, database=database))
    asyncio.run(add_place(database, "huset"))
    return database


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("grant", "nobody@y.no", "reporting"), "person_not_found"),
        (("grant", "x@y.no", "janitor"), "unknown_role"),
        (("grant", "x@y.no", "location_staff"), "role_needs_location"),
        (("grant", "x@y.no", "location_staff", "--location", "nowhere"), "location_not_found"),
        (("grant", "x@y.no", "operator", "--location", "huset"), "role_is_everywhere"),
        (("revoke", "x@y.no", "reporting"), "grant_not_found"),
        (("revoke", "boss@y.no", "operator"), "last_operator"),
    ],
)
def test_a_bad_staff_command_says_why_and_writes_nothing(tmp_path, staffed, args, code):
    database = tmp_path / "allmenning.db"
    shutil.copy(staffed, database)
    before = rows_of(database, "SELECT (SELECT count(*) FROM staff_grant), (SELECT count(*) FROM audit_entry)")
    refused = run_allmenning(("staff", *args), cwd=tmp_path, database=database)
    assert refused.returncode == 1 and f"error ({code})" in refused.stderr and refused.stdout == ""
    assert rows_of(database, "SELECT (SELECT count(*) FROM staff_grant), (SELECT count(*) FROM audit_entry)") == before
