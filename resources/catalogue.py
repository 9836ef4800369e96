"""Parse and check a catalogue TOML text into frozen specs that the importer upserts by key."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infra.errors import ErrorCode, InvalidInput
from resources.catalogue_lines import Lines
from resources.catalogue_values import (
    Bad,
    Path,
    collect,
    count,
    fields,
    flag,
    kind_defaults,
    known,
    list_of,
    one_of,
    plain_text,
    postal_code,
    slug,
    table,
    try_policy,
    window,
)
from resources.rules import Policy, ResourceKind, WeeklyWindow

__all__ = [
    "BED_FEATURES",
    "FEATURES",
    "ROOM_FEATURES",
    "Catalogue",
    "CatalogueError",
    "KitSpec",
    "LocationSpec",
    "ResourceSpec",
    "dotted",
    "kind_defaults",
    "parse_catalogue",
]


ROOM_FEATURES = frozenset({"projector", "kitchen", "step_free_access", "hearing_loop", "whiteboard", "sound_system"})
BED_FEATURES = frozenset({"raised", "wheelchair_reachable"})
FEATURES = ROOM_FEATURES | BED_FEATURES


@dataclass(frozen=True)
class LocationSpec:
    key: str
    name: str
    address: str
    postal_code: str
    city: str
    description: str
    opening_hours: tuple[WeeklyWindow, ...]
    step_free_access: bool
    accessible_toilet: bool
    hearing_loop: bool
    access_notes: str


@dataclass(frozen=True)
class ResourceSpec:
    key: str
    location: str
    kind: ResourceKind
    name: str
    description: str
    capacity: int | None
    stock: int | None
    features: frozenset[str]
    policy: Policy
    number: int | None = None


@dataclass(frozen=True)
class KitSpec:
    key: str
    name: str
    location: str
    items: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Catalogue:
    locations: tuple[LocationSpec, ...]
    resources: tuple[ResourceSpec, ...]
    kits: tuple[KitSpec, ...]


class CatalogueError(InvalidInput):
    code = ErrorCode.INVALID_CATALOGUE
    title = "The catalogue file is not valid"


def dotted(path: Path) -> str:
    """("resources", 3, "policy") -> "resources[3].policy"."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


# ---------------------------------------------------------------- locations, resources, beds, kits

_LOCATION = {
    "key": slug,
    "name": plain_text,
    "address": plain_text,
    "postal_code": postal_code,
    "city": plain_text,
    "description": plain_text,
    "opening_hours": list_of(window),
    "access_notes": plain_text,
    **dict.fromkeys(("step_free_access", "accessible_toilet", "hearing_loop"), flag),
}


def _location(data: Any, path: Path) -> LocationSpec:
    v = fields(data, path, _LOCATION, required=("key", "name", "address", "postal_code"))
    defaults = {
        "city": "Drammen",
        "description": "",
        "opening_hours": (),
        "access_notes": "",
        "step_free_access": False,
        "accessible_toilet": False,
        "hearing_loop": False,
    }
    return LocationSpec(**(defaults | v))


_RESOURCE = {
    "key": slug,
    "kind": one_of(frozenset(ResourceKind), "resource kind"),
    "name": plain_text,
    "description": plain_text,
    "capacity": count,
    "stock": count,
    "number": count,
    "features": list_of(one_of(FEATURES, "known feature")),
    "policy": table,
}
# Which count belongs to which kind: a room seats people, equipment has units, a bed has a number.
_COUNT_OF = {ResourceKind.ROOM: "capacity", ResourceKind.EQUIPMENT: "stock", ResourceKind.GARDEN_BED: "number"}


def _count_problems(data: dict, path: Path, kind: ResourceKind) -> list[tuple[Path, str]]:
    count = _COUNT_OF[kind]
    problems = [(path + (n,), f"a {kind} has no {n}") for n in _COUNT_OF.values() if n in data and n != count]
    if kind != ResourceKind.GARDEN_BED and count not in data:
        problems.append((path + (count,), f"a {kind} needs a {count}"))
    return problems


def _resource(data: Any, path: Path, locations: dict[str, LocationSpec]) -> ResourceSpec:
    readers = _RESOURCE | {"location": known(locations, "location")}
    v, problems = collect(data, path, readers, required=("key", "location", "kind", "name"))
    kind = ResourceKind(v["kind"]) if "kind" in v else None
    if kind is not None:
        problems += _count_problems(data, path, kind)
        hours = locations[v["location"]].opening_hours if "location" in v else ()
        policy, policy_problems = try_policy(v.get("policy", {}), path + ("policy",), kind, hours)
        problems += policy_problems
    if problems:
        raise Bad(*problems)
    return ResourceSpec(
        key=v["key"],
        location=v["location"],
        kind=kind,
        name=v["name"],
        description=v.get("description", ""),
        capacity=v.get("capacity"),
        stock=v.get("stock"),
        features=frozenset(v.get("features", ())),
        policy=policy,
        number=v.get("number"),
    )


def _template(value: Any, path: Path) -> str:
    try:
        if "{n" not in plain_text(value, path):
            raise ValueError
        value.format(n=1)
    except (KeyError, ValueError, IndexError):
        raise ValueError(f"{value!r} is not a template: write the bed number as {{n}} or {{n:02}}") from None
    return value


_BED_RANGE = {
    "from": count,
    "to": count,
    "name": _template,
    "key": _template,
    "description": plain_text,
    "raised": list_of(count),
    "features": list_of(one_of(FEATURES, "known feature")),
    "policy": table,
}


def _bed_keys(v: dict, path: Path) -> list[str]:
    # Without a key template, "Pallekarm {n}" from 1 to 70 gives pallekarm-01 .. pallekarm-70.
    prefix = re.sub(r"[^a-z0-9]+", "-", re.sub(r"\{[^}]*\}", "", v["name"]).lower().replace("ø", "o")).strip("-")
    template = v.get("key", f"{prefix}-{{n:0{max(2, len(str(v['to'])))}d}}")
    keys = [template.format(n=n) for n in range(v["from"], v["to"] + 1)]
    if bad := [k for k in keys if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", k)]:
        raise Bad((path + ("key",), f"the bed key {bad[0]!r} is not a key: use lower-case a-z, digits and hyphens"))
    return keys


def _bed_range(data: Any, path: Path, locations: dict[str, LocationSpec]) -> list[ResourceSpec]:
    """`from`..`to` numbered garden beds; the `raised` ones reachable from a wheelchair."""
    readers = _BED_RANGE | {"location": known(locations, "location")}
    v, problems = collect(data, path, readers, required=("location", "from", "to", "name"))
    numbers = range(v.get("from", 1), v.get("to", 0) + 1)
    if "from" in v and "to" in v and not numbers:
        problems.append((path + ("to",), f"the range ends at {v['to']}, before it starts at {v['from']}"))
    if numbers and (stray := sorted(set(v.get("raised", ())) - set(numbers))):
        problems.append((path + ("raised",), f"beds {stray} are outside {v['from']}..{v['to']}"))
    policy, policy_problems = try_policy(v.get("policy", {}), path + ("policy",), ResourceKind.GARDEN_BED, ())
    if problems or policy_problems:
        raise Bad(*problems, *policy_problems)
    raised, features = set(v.get("raised", ())), frozenset(v.get("features", ()))
    return [
        ResourceSpec(
            key=key,
            location=v["location"],
            kind=ResourceKind.GARDEN_BED,
            name=v["name"].format(n=n),
            description=v.get("description", ""),
            capacity=None,
            stock=None,
            policy=policy,
            number=n,
            features=features | BED_FEATURES if n in raised else features,
        )
        for n, key in zip(numbers, _bed_keys(v, path), strict=False)
    ]


def _kit_items(value: Any, path: Path) -> tuple[tuple[str, int], ...]:
    items = table(value, path)
    if not items:
        raise ValueError("a kit needs at least one item, like { klappbord = 4 }")
    return tuple((slug(key, path + (key,)), count(n, path + (key,))) for key, n in items.items())


def _kit(data: Any, path: Path, locations: dict[str, LocationSpec], resources: dict[str, ResourceSpec]) -> KitSpec:
    readers = {"key": slug, "name": plain_text, "location": known(locations, "location"), "items": _kit_items}
    v, problems = collect(data, path, readers, required=("key", "name", "location", "items"))
    for key, quantity in v.get("items", ()):
        item, at = resources.get(key), path + ("items", key)
        if item is None or item.kind != ResourceKind.EQUIPMENT:
            problems.append((at, f"no equipment has the key {key!r}"))
        elif "location" in v and item.location != v["location"]:
            problems.append((at, f"{key!r} is kept at {item.location!r}, not where the kit is lent"))
        elif quantity > (item.stock or 0):
            problems.append((at, f"the kit needs {quantity} of {key!r} but the stock is {item.stock}"))
    if problems:
        raise Bad(*problems)
    return KitSpec(**v)


# ---------------------------------------------------------------- the catalogue


def _items(doc: dict, name: str, read: Callable[[Any, Path], Any], problems: list) -> list:
    entries = doc.get(name, [])
    if not isinstance(entries, list):
        problems.append(((name,), f"write each entry under its own [[{name}]] header"))
        return []
    found = []
    for i, entry in enumerate(entries):
        try:
            found.append((i, read(entry, (name, i))))
        except Bad as e:
            problems.extend(e.problems)
    return found


def _duplicates(named: list[tuple[Path, str]]) -> list[tuple[Path, str]]:
    seen: dict[str, Path] = {}
    problems = []
    for path, key in named:
        if key in seen:
            problems.append((path, f"the key {key!r} is already used by {dotted(seen[key])}"))
        seen.setdefault(key, path)
    return problems


def _read(doc: dict) -> tuple[Catalogue, list[tuple[Path, str]]]:
    problems = [((name,), f"unknown section {name!r}") for name in doc if name not in ("locations", "resources", "bed_ranges", "kits")]
    locations = _items(doc, "locations", _location, problems)
    problems += _duplicates([(("locations", i, "key"), loc.key) for i, loc in locations])
    by_key = {loc.key: loc for _, loc in locations}
    singles = _items(doc, "resources", lambda d, p: _resource(d, p, by_key), problems)
    ranges = _items(doc, "bed_ranges", lambda d, p: _bed_range(d, p, by_key), problems)
    named = [(("resources", i, "key"), r) for i, r in singles]
    named += [(("bed_ranges", i), bed) for i, beds in ranges for bed in beds]
    problems += _duplicates([(path, r.key) for path, r in named])
    resources = {r.key: r for _, r in reversed(named)}
    kits = _items(doc, "kits", lambda d, p: _kit(d, p, by_key, resources), problems)
    problems += _duplicates([(("kits", i, "key"), kit.key) for i, kit in kits])
    catalogue = Catalogue(
        locations=tuple(loc for _, loc in locations),
        resources=tuple(r for _, r in named),
        kits=tuple(kit for _, kit in kits),
    )
    return catalogue, problems


def _syntax_error(text: str, error: tomllib.TOMLDecodeError) -> CatalogueError:
    match = re.search(r"at line (\d+)", str(error))
    line = int(match[1]) if match else max(1, len(text.splitlines()))
    message = re.sub(r"\s*\(at .*\)$", "", str(error))
    return CatalogueError(f"line {line}: the file is not valid TOML: {message}", line=line, field=None)


def parse_catalogue(text: str) -> Catalogue:
    """The catalogue the text describes, or CatalogueError at the first faulty line (all problems in `errors`)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise _syntax_error(text, e) from None
    catalogue, problems = _read(doc)
    if problems:
        lines = Lines(text)
        found = sorted(({"line": lines.of(p), "field": dotted(p), "detail": m} for p, m in problems), key=lambda f: f["line"])
        first = found[0]
        detail = f"line {first['line']}, {first['field']}: {first['detail']}"
        raise CatalogueError(detail, line=first["line"], field=first["field"], errors=found)
    return catalogue
