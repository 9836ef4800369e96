"""Importing a catalogue file: the default Strømsø catalogue, re-imports, and broken files that change nothing."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from config.cli import DEFAULT_CATALOGUE
from resources.catalogue import CatalogueError, KitSpec, parse_catalogue
from resources.catalogue_import import CatalogueConflict, import_catalogue, seed_catalogue
from resources.store import Closure, Kit, KitItem, Location, Resource

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LATER = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]
DEFAULT_TEXT = DEFAULT_CATALOGUE.read_text(encoding="utf-8")


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


def with_bad_duration(text: str) -> str:
    """The default file with the kitchen's minimum duration unreadable, and a location renamed before it."""
    assert 'min_duration = "1h"' in text and 'name = "Knutepunkt Strømsø"' in text
    text = text.replace('name = "Knutepunkt Strømsø"', 'name = "Knutepunkt Sentrum"', 1)
    return text.replace('min_duration = "1h"', 'min_duration = "banana"', 1)


def with_grill_as_room(text: str) -> str:
    """A well-formed file that turns stored equipment into a room: only the database can tell."""
    block = text.index('key = "grill"')
    end = text.index("[[", block)
    grill = text[block:end].replace('kind = "equipment"', 'kind = "room"').replace("stock = 2", "capacity = 2")
    assert 'kind = "room"' in grill and "capacity = 2" in grill
    renamed = text[:block].replace('name = "Knutepunkt Strømsø"', 'name = "Knutepunkt Sentrum"', 1)
    return renamed + grill + text[end:]


async def snapshot(db) -> dict[str, list[dict]]:
    """Every catalogue row, ids and timestamps included: what "nothing changed" is checked against."""
    found = {}
    async with db.read() as s:
        for table in (Location, Resource, Closure, Kit, KitItem):
            rows = (await s.execute(select(table).order_by(table.id))).scalars()
            found[table.__name__] = [row.model_dump() for row in rows]
    return found


async def import_text(db, text: str, *, now: datetime = NOW, apply: bool = True):
    return await import_catalogue(db, parse_catalogue(text), now=now, apply=apply)


@pytest.fixture
async def loaded(db):
    """A database that already holds the default catalogue."""
    await import_text(db, DEFAULT_TEXT)
    return await snapshot(db)


async def test_the_default_catalogue_offers_70_garden_beds(client, db):
    report = await import_text(db, DEFAULT_TEXT)
    assert report.created == report.locations + report.resources + report.kits
    beds = (await client.get("/api/v1/resources", params={"kind": "garden_bed"})).json()
    assert beds["count"] == 70
    assert sorted(b["number"] for b in beds["items"]) == list(range(1, 71))


async def test_the_default_catalogue_has_rooms_in_four_buildings_and_equipment_in_stock(client, db):
    await import_text(db, DEFAULT_TEXT)
    rooms = (await client.get("/api/v1/resources", params={"kind": "room"})).json()["items"]
    equipment = (await client.get("/api/v1/resources", params={"kind": "equipment"})).json()["items"]
    assert len({room["location_id"] for room in rooms}) >= 4
    assert equipment and all(item["stock"] >= 1 for item in equipment)
    kits = (await client.get("/api/v1/kits")).json()
    assert kits["count"] >= 1 and all(kit["items"] for kit in kits["items"])


async def test_the_default_catalogue_brings_its_closures(client, db):
    await import_text(db, DEFAULT_TEXT)
    rooms = (await client.get("/api/v1/resources", params={"kind": "room"})).json()["items"]
    gym = next(room for room in rooms if room["key"] == "stromso-skole-gymsal")
    detail = (await client.get(f"/api/v1/resources/{gym['id']}")).json()
    assert "Juleferie" in [c["reason"] for c in detail["closures"]]


async def test_importing_the_same_catalogue_twice_changes_nothing(db, loaded):
    report = await import_text(db, DEFAULT_TEXT, now=LATER)
    assert (report.created, report.updated) == (0, 0)
    assert report.unchanged == report.locations + report.resources + report.kits
    assert str(report).endswith(f"(created 0, updated 0, unchanged {report.unchanged})")
    assert await snapshot(db) == loaded


async def test_a_changed_name_is_updated_in_place(db, loaded):
    text = DEFAULT_TEXT.replace('name = "Kullgrill stor"', 'name = "Stor kullgrill"')
    report = await import_text(db, text, now=LATER)
    assert (report.created, report.updated) == (0, 1)
    after = await snapshot(db)
    grill = next(r for r in after["Resource"] if r["key"] == "grill")
    assert grill["name"] == "Stor kullgrill" and grill["updated_at"] == LATER
    assert [r["id"] for r in after["Resource"]] == [r["id"] for r in loaded["Resource"]]


async def test_resources_left_out_of_a_file_are_left_alone(db, loaded):
    only_gardens = DEFAULT_TEXT[: DEFAULT_TEXT.index("[[resources]]")] + DEFAULT_TEXT[DEFAULT_TEXT.index("[[bed_ranges]]") :]
    await import_text(db, only_gardens, now=LATER)
    assert await snapshot(db) == loaded


async def test_a_bad_duration_is_refused_at_its_line_and_imports_nothing(db):
    text = with_bad_duration(DEFAULT_TEXT)
    with pytest.raises(CatalogueError) as refused:
        await import_text(db, text)
    assert refused.value.extra["line"] == line_of(text, 'min_duration = "banana"')
    assert refused.value.extra["field"].endswith("policy.min_duration")
    assert all(rows == [] for rows in (await snapshot(db)).values())


async def test_a_bad_duration_changes_nothing_in_a_loaded_catalogue(db, loaded):
    with pytest.raises(CatalogueError):
        await import_text(db, with_bad_duration(DEFAULT_TEXT), now=LATER)
    assert await snapshot(db) == loaded


async def test_a_kit_of_unknown_equipment_rolls_back_everything_it_had_imported(db):
    catalogue = parse_catalogue(DEFAULT_TEXT)
    # The parser refuses such a kit; a catalogue built in code reaches the database phase with it.
    stray = KitSpec(key="tryllesett", name="Tryllesett", location="knutepunkt-stromso", items=(("tryllestav", 1),))
    with pytest.raises(CatalogueConflict) as refused:
        await import_catalogue(db, dataclasses.replace(catalogue, kits=catalogue.kits + (stray,)), now=NOW, apply=True)
    assert refused.value.extra == {"key": "tryllesett", "field": "items.tryllestav"}
    assert all(rows == [] for rows in (await snapshot(db)).values())


async def test_turning_stored_equipment_into_a_room_changes_nothing(db, loaded):
    with pytest.raises(CatalogueConflict) as refused:
        await import_text(db, with_grill_as_room(DEFAULT_TEXT), now=LATER)
    assert refused.value.extra == {"key": "grill", "field": "kind"}
    assert await snapshot(db) == loaded


def run_cli(tmp_path: Path, catalogue: Path, *flags: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ALLMENNING_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "ALLMENNING_SCHEDULER": "off"}
    command = [sys.executable, "-m", "config.cli", "catalogue", "import", str(catalogue), *flags]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


async def lower_stock(db, key: str, stock: int) -> None:
    """What staff do when an item is lost: the stored stock goes down (as `PATCH /api/v1/resources/{id}` does)."""
    async with db.write() as s:
        resource = (await s.execute(select(Resource).where(Resource.key == key))).scalar_one()
        resource.stock = stock
        s.add(resource)


async def stock_of(db, key: str) -> int:
    async with db.read() as s:
        return (await s.execute(select(Resource.stock).where(Resource.key == key))).scalar_one()


async def test_an_import_without_apply_reports_what_it_would_put_back_and_keeps_the_staff_edit(db, loaded):
    await lower_stock(db, "grill", 1)
    report = await import_text(db, DEFAULT_TEXT, now=LATER, apply=False)
    assert (report.updated, report.applied) == (1, False)
    assert "resource grill: stock 1 → 2" in report.changes
    assert "nothing was changed" in str(report) and "--apply" in str(report)
    assert await stock_of(db, "grill") == 1


async def test_an_import_with_apply_puts_the_file_back_and_says_what_it_changed(db, loaded):
    await lower_stock(db, "grill", 1)
    report = await import_text(db, DEFAULT_TEXT, now=LATER, apply=True)
    assert report.changes == ["resource grill: stock 1 → 2"]
    assert str(report).splitlines()[1] == "Changed:"
    assert await stock_of(db, "grill") == 2


async def test_a_dry_run_into_an_empty_database_creates_nothing(db):
    report = await import_text(db, DEFAULT_TEXT, apply=False)
    assert report.created == report.locations + report.resources + report.kits
    assert all(rows == [] for rows in (await snapshot(db)).values())


async def test_seeding_fills_only_an_empty_database(db):
    catalogue = parse_catalogue(DEFAULT_TEXT)
    first = await seed_catalogue(db, catalogue, now=NOW)
    assert first is not None and first.created == first.locations + first.resources + first.kits
    await lower_stock(db, "grill", 1)
    assert await seed_catalogue(db, catalogue, now=LATER) is None
    assert await stock_of(db, "grill") == 1


def test_the_command_line_changes_the_catalogue_only_with_apply(tmp_path):
    shown = run_cli(tmp_path, DEFAULT_CATALOGUE)
    assert shown.returncode == 0, shown.stderr
    assert "Would change" in shown.stdout and "new location knutepunkt-stromso" in shown.stdout
    again = run_cli(tmp_path, DEFAULT_CATALOGUE)
    assert again.stdout == shown.stdout  # the first run stored nothing, so the second would make the same changes


def test_the_command_line_imports_the_default_catalogue_and_refuses_a_broken_one(tmp_path):
    done = run_cli(tmp_path, DEFAULT_CATALOGUE, "--apply")
    assert done.returncode == 0, done.stderr
    assert "7 locations" in done.stdout and "unchanged 0" in done.stdout
    broken = tmp_path / "broken.toml"
    broken.write_text(with_bad_duration(DEFAULT_TEXT), encoding="utf-8")
    refused = run_cli(tmp_path, broken)
    assert refused.returncode != 0
    assert "invalid_catalogue" in refused.stderr
    assert f"line: {line_of(broken.read_text(encoding='utf-8'), 'banana')}" in refused.stderr
