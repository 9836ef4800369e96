"""Importing a catalogue file: locations, resources and kits created or updated by their keys, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from infra import audit
from infra.audit import Action
from infra.database import Db
from infra.errors import Conflict, ErrorCode
from infra.rows import serialise
from resources import rules, store
from resources.catalogue import Catalogue, KitSpec, ResourceSpec
from resources.rules import ResourceKind
from resources.store import Closure, Kit, KitItem, Location, Resource


class CatalogueConflict(Conflict):
    code = ErrorCode.CATALOGUE_CONFLICT
    title = "The catalogue does not fit what is already stored"


@dataclass
class ImportReport:
    """What a catalogue file holds, what it changes (or would change, unapplied), one line per change."""

    locations: int = 0
    resources: int = 0
    kits: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    applied: bool = True
    audited: bool = False  # an import asked for is kept in the audit trail; the default catalogue's first seeding is not
    changes: list[str] = field(default_factory=list)

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def note(self, what: str, key: str, outcome: str, fields: dict[str, tuple[Any, Any]]) -> None:
        self.count(outcome)
        if outcome == "created":
            self.changes.append(f"new {what} {key}")
        for name, (before, after) in fields.items():
            shown = "changed" if name == "policy" else f"{before!r} → {after!r}"
            self.changes.append(f"{what} {key}: {name} {shown}")

    def __str__(self) -> str:
        counts = (
            f"{self.locations} locations, {self.resources} resources, {self.kits} kits "
            f"(created {self.created}, updated {self.updated}, unchanged {self.unchanged})"
        )
        if not self.changes:
            return counts
        verdict = "Changed:" if self.applied else "Would change (nothing was changed; run again with --apply to change it):"
        return "\n".join([counts, verdict, *(f"  {line}" for line in self.changes)])


class _NotApplied(Exception):
    """Raised inside the import's transaction to roll a dry run back once its report is complete."""


async def _upsert(
    s: AsyncSession, table: type, existing: dict, key: str, values: dict, extra: dict
) -> tuple[Any, str, dict[str, tuple[Any, Any]]]:
    """The row by key, created or brought up to the file's values; with the fields that changed, before and after."""
    row = existing.get(key)
    if row is None:
        row = table(key=key, **values, **extra)
        s.add(row)
        await s.flush()
        existing[key] = row
        return row, "created", {}
    fields = {name: (getattr(row, name), value) for name, value in values.items() if getattr(row, name) != value}
    store.apply_changes(row, values)
    return row, "updated" if fields else "unchanged", fields


def _moment_key(c: rules.Closure | Closure) -> tuple[datetime, datetime, str]:
    return c.start.astimezone(UTC), c.end.astimezone(UTC), c.reason


async def _replace_closures(s: AsyncSession, resource_id: int, wanted: tuple[rules.Closure, ...], have: list[Closure]) -> bool:
    """The file's closures become the resource's; unchanged ones keep their id so a re-import changes nothing."""
    wanted_keys = {_moment_key(c) for c in wanted}
    have_keys = {_moment_key(c) for c in have}
    for closure in have:
        if _moment_key(closure) not in wanted_keys:
            await s.delete(closure)
    for start, end, reason in sorted(wanted_keys - have_keys):
        s.add(Closure(resource_id=resource_id, start=start, end=end, reason=reason))
    return wanted_keys != have_keys


async def _import_resources(
    s: AsyncSession, specs: tuple[ResourceSpec, ...], locations: dict, report: ImportReport, now: datetime
) -> dict[str, Resource]:
    resources = await store.by_key(s, Resource, (r.key for r in specs))
    closures = await store.closures_by_resource(s, [r.id for r in resources.values()])
    for spec in specs:
        known = resources.get(spec.key)
        if known is not None and known.kind != spec.kind:
            # Bookings were made under the old kind's rules (exclusive or pooled); a new key is a new resource.
            raise CatalogueConflict(
                f"{spec.key!r} is a {known.kind}; a key cannot change its kind to {spec.kind}", key=spec.key, field="kind"
            )
        values = store.resource_values(spec, locations[spec.location].id)
        row, outcome, fields = await _upsert(s, Resource, resources, spec.key, values, {"updated_at": now})
        if await _replace_closures(s, row.id, spec.policy.closures, closures.get(row.id, [])) and outcome != "created":
            outcome, fields = "updated", {**fields, "closures": (len(closures.get(row.id, [])), len(spec.policy.closures))}
        if outcome == "updated":
            row.updated_at = now
        report.note("resource", spec.key, outcome, fields)
        if report.audited:
            _record(s, (Action.RESOURCE_CREATED, Action.RESOURCE_CHANGED), row, outcome, fields, values, now=now)
    return resources


def _record(s: AsyncSession, actions: tuple[Action, Action], row: Any, outcome: str, fields: dict, values: dict, *, now: datetime) -> None:
    """An applied import in the audit trail, by the console (no person): what it created, or the fields it changed
    (closures and kit items by their count before and after)."""
    if outcome == "unchanged":
        return
    created = outcome == "created"
    audit.record(
        s, actions[0] if created else actions[1], actor_id=None, at=now, object_id=row.id, location_id=row.location_id,
        reason="catalogue import", before={} if created else {k: b for k, (b, _) in fields.items()},
        after=values if created else {k: a for k, (_, a) in fields.items()},
    )  # fmt: skip


async def _kit_items(s: AsyncSession, spec: KitSpec, resources: dict[str, Resource]) -> dict[int, int]:
    missing = [key for key, _ in spec.items if key not in resources]
    resources.update(await store.by_key(s, Resource, missing))  # a kit may lend equipment the file leaves out
    wanted: dict[int, int] = {}
    for key, quantity in spec.items:
        item = resources.get(key)
        if item is None or item.kind != ResourceKind.EQUIPMENT:
            raise CatalogueConflict(f"Kit {spec.key!r}: no equipment has the key {key!r}", key=spec.key, field=f"items.{key}")
        wanted[item.id] = quantity
    return wanted


async def _replace_kit_items(s: AsyncSession, kit_id: int, wanted: dict[int, int], have: list[KitItem]) -> bool:
    """The kit lends exactly the file's items; returns whether anything changed."""
    changed = False
    for item in have:
        if item.resource_id not in wanted:
            await s.delete(item)
            changed = True
        else:
            changed |= store.apply_changes(item, {"quantity": wanted[item.resource_id]})
    for resource_id in wanted.keys() - {item.resource_id for item in have}:
        s.add(KitItem(kit_id=kit_id, resource_id=resource_id, quantity=wanted[resource_id]))
        changed = True
    return changed


async def _import_kits(
    s: AsyncSession, specs: tuple[KitSpec, ...], locations: dict, resources: dict, report: ImportReport, now: datetime
) -> None:
    kits = await store.by_key(s, Kit, (k.key for k in specs))
    items = await store.items_by_kit(s, [k.id for k in kits.values()])
    for spec in specs:
        wanted = await _kit_items(s, spec, resources)
        values = {"name": spec.name, "location_id": locations[spec.location].id}
        kit, outcome, fields = await _upsert(s, Kit, kits, spec.key, values, {})
        had = {item.resource_id: item.quantity for item in items.get(kit.id, [])}  # before the file's items replace them
        if await _replace_kit_items(s, kit.id, wanted, items.get(kit.id, [])) and outcome != "created":
            outcome, fields = "updated", {**fields, "items": (len(items.get(kit.id, [])), len(wanted))}
        report.note("kit", spec.key, outcome, fields)
        if report.audited:  # the trail keeps which equipment, how many of each, before and after
            lent = {**fields, "items": (_lent(had), _lent(wanted))} if "items" in fields else fields
            _record(s, (Action.KIT_CREATED, Action.KIT_CHANGED), kit, outcome, lent, values | {"items": _lent(wanted)}, now=now)


def _lent(quantities: dict[int, int]) -> list[list[int]]:
    return [[resource_id, n] for resource_id, n in sorted(quantities.items())]


async def _import_into(s: AsyncSession, catalogue: Catalogue, report: ImportReport, now: datetime) -> None:
    """Upsert everything in the catalogue by key inside the caller's transaction; what it leaves out is left alone."""
    locations = await store.by_key(s, Location, (loc.key for loc in catalogue.locations))
    for spec in catalogue.locations:
        _, outcome, fields = await _upsert(s, Location, locations, spec.key, store.location_values(spec), {})
        report.note("location", spec.key, outcome, fields)
    # Resources and kits may stand at a location that an earlier file brought.
    wanted = {r.location for r in catalogue.resources} | {k.location for k in catalogue.kits}
    locations |= await store.by_key(s, Location, wanted - locations.keys())
    if missing := sorted(wanted - locations.keys()):
        raise CatalogueConflict(f"No location has the key {missing[0]!r}", key=missing[0], field="location")
    resources = await _import_resources(s, catalogue.resources, locations, report, now)
    await _import_kits(s, catalogue.kits, locations, resources, report, now)


def _report_for(catalogue: Catalogue, *, applied: bool) -> ImportReport:
    return ImportReport(len(catalogue.locations), len(catalogue.resources), len(catalogue.kits), applied=applied)


async def import_catalogue(db: Db, catalogue: Catalogue, *, now: datetime, apply: bool = False) -> ImportReport:
    """What the file would change in the stored catalogue, changed only when asked: a staff edit (a lost item, a
    renamed room) is never put back silently. One transaction either way; a dry run is rolled back."""
    report = _report_for(catalogue, applied=apply)
    report.audited = apply
    try:
        async with db.write() as s:
            await _import_into(s, catalogue, report, now)
            if not apply:
                raise _NotApplied()
    except _NotApplied:
        pass
    return report


async def seed_catalogue(db: Db, catalogue: Catalogue, *, now: datetime) -> ImportReport | None:
    """The first start of an empty database brings the default catalogue; any later start keeps what is stored.

    Instances starting at once on one database take turns (an advisory lock on PostgreSQL, BEGIN IMMEDIATE on
    SQLite): the first seeds, the others find it seeded (None)."""
    async with db.write() as s:
        await serialise(s, "seed the catalogue")
        if await store.any_location(s):
            return None
        report = _report_for(catalogue, applied=True)
        await _import_into(s, catalogue, report, now)
        return report
