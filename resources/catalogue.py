"""Parse and check a catalogue TOML text into frozen specs that the importer upserts by key."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from config.errors import InvalidInput
from resources.rules import (
    OSLO,
    BookerKind,
    Closure,
    InvalidPolicy,
    Policy,
    ResourceKind,
    WeeklyWindow,
    validate_policy,
)

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
    code = "invalid_catalogue"
    title = "The catalogue file is not valid"


Path = tuple[str | int, ...]


class _Bad(Exception):
    """One or more problems, each at a field path; raised by a reader, collected per item."""

    def __init__(self, *problems: tuple[Path, str]) -> None:
        super().__init__(problems)
        self.problems = list(problems)


def dotted(path: Path) -> str:
    """("resources", 3, "policy") -> "resources[3].policy"."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


# ---------------------------------------------------------------- values


def _text(value: Any, _: Path) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be text in quotes, not {value!r}")
    return value.strip()


def _slug(value: Any, path: Path) -> str:
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", key := _text(value, path)):
        raise ValueError(f"{value!r} is not a key: use lower-case a-z, digits and hyphens, like 'moterom-1'")
    return key


def _flag(value: Any, _: Path) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, not {value!r}")
    return value


def _count(value: Any, _: Path) -> int:
    # bool is an int in Python; `capacity = true` is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"must be a whole number of at least 1, not {value!r}")
    return value


def _hours(value: Any, _: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"must be a number of hours, zero or more, not {value!r}")
    return float(value)


def _postal_code(value: Any, path: Path) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}", value.strip()):
        raise ValueError(f"must be four digits in quotes, like \"3044\", not {value!r}")
    return value.strip()


_DURATION = re.compile(r"(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?")


def _duration(value: Any, _: Path) -> timedelta:
    match = _DURATION.fullmatch(value.strip()) if isinstance(value, str) else None
    if not match or not any(match.groups()):
        raise ValueError(f"write durations like \"30m\", \"2h\", \"7d\" or \"1h30m\", not {value!r}")
    days, hours, minutes = (int(g or 0) for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes)


def _clock(value: Any, _: Path, *, may_be_midnight_end: bool = False) -> time:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip()) if isinstance(value, str) else None
    hour, minute = (int(match[1]), int(match[2])) if match else (-1, -1)
    if may_be_midnight_end and (hour, minute) == (24, 0):
        return time(0)  # a window "to 24:00" ends at the following midnight
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ValueError(f"write times as \"HH:MM\" on the 24-hour clock, like \"17:00\", not {value!r}")
    return time(hour, minute)


def _end_clock(value: Any, path: Path) -> time:
    return _clock(value, path, may_be_midnight_end=True)


def _day(value: Any, _: Path) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(value.strip())
    except (AttributeError, ValueError):
        raise ValueError(f"write dates as \"YYYY-MM-DD\", not {value!r}") from None


_WEEKDAYS = {name: i for names in ("mon tue wed thu fri sat sun", "man tir ons tor fre lør søn")
             for i, name in enumerate(names.split())}


def _weekday(name: str) -> int:
    if name.strip() not in _WEEKDAYS:
        raise ValueError(f"{name.strip()!r} is not a weekday: use mon, tue, wed, thu, fri, sat, sun")
    return _WEEKDAYS[name.strip()]


def _days(value: Any, path: Path) -> frozenset[int]:
    """"mon-fri", "sat,sun" or "fri-mon" (ranges wrap round the week)."""
    days: set[int] = set()
    for part in _text(value, path).lower().split(","):
        first, _, last = part.partition("-")
        start = _weekday(first)
        end = _weekday(last) if last else start
        days.update((start + i) % 7 for i in range((end - start) % 7 + 1))
    return frozenset(days)


def _moment(value: Any, _: Path) -> datetime:
    """An instant; a date or a wall time without offset is read in Oslo, where staff live."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"write instants like \"2026-12-21T00:00+01:00\", not {value!r}") from None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time(0))
    if not isinstance(value, datetime):
        raise ValueError(f"write instants like \"2026-12-21T00:00+01:00\", not {value!r}")
    return value if value.tzinfo else value.replace(tzinfo=OSLO)


def _list(read: Callable[[Any, Path], Any]) -> Callable[[Any, Path], tuple]:
    def read_list(value: Any, path: Path) -> tuple:
        if not isinstance(value, list):
            raise ValueError(f"must be a list in square brackets, not {value!r}")
        found, problems = [], []
        for i, item in enumerate(value):
            try:
                found.append(read(item, path + (i,)))
            except ValueError as e:
                problems.append((path + (i,), str(e)))
            except _Bad as e:
                problems.extend(e.problems)
        if problems:
            raise _Bad(*problems)
        return tuple(found)

    return read_list


def _one_of(allowed: frozenset[str], what: str) -> Callable[[Any, Path], str]:
    def read(value: Any, path: Path) -> str:
        if (text := _text(value, path)) not in allowed:
            raise ValueError(f"{value!r} is not a {what}: use one of {', '.join(sorted(allowed))}")
        return text

    return read


def _table(value: Any, _: Path) -> dict:
    if not isinstance(value, dict):
        raise ValueError("must be a table")
    return value


def _collect(data: Any, path: Path, readers: dict[str, Callable], required: tuple[str, ...] = ()) -> tuple[dict, list]:
    """Each present field read; unknown and missing fields refused; the good values and every problem."""
    if not isinstance(data, dict):
        return {}, [(path, "must be a table of fields, like { key = \"...\" }")]
    problems: list[tuple[Path, str]] = [(path + (n,), f"{n!r} is missing") for n in required if n not in data]
    problems += [(path + (n,), f"unknown field {n!r}") for n in data if n not in readers]
    values: dict[str, Any] = {}
    for name in data.keys() & readers.keys():
        try:
            values[name] = readers[name](data[name], path + (name,))
        except ValueError as e:
            problems.append((path + (name,), str(e)))
        except _Bad as e:
            problems.extend(e.problems)
    return values, problems


def _fields(data: Any, path: Path, readers: dict[str, Callable], required: tuple[str, ...] = ()) -> dict[str, Any]:
    values, problems = _collect(data, path, readers, required)
    if problems:
        raise _Bad(*problems)
    return values


def _known(keys: dict[str, Any], what: str) -> Callable[[Any, Path], str]:
    def read(value: Any, path: Path) -> str:
        if (key := _slug(value, path)) not in keys:
            raise ValueError(f"no {what} has the key {value!r}")
        return key

    return read


# ---------------------------------------------------------------- windows, closures, policies

_WINDOW = {"days": _days, "from": _clock, "to": _end_clock, "valid_from": _day, "valid_until": _day}


def _window(value: Any, path: Path) -> WeeklyWindow:
    v = _fields(value, path, _WINDOW, required=("days", "from", "to"))
    if v["to"] != time(0) and v["to"] <= v["from"]:
        raise _Bad((path + ("to",), f"the window ends at {v['to']:%H:%M}, before it starts at {v['from']:%H:%M}"))
    if "valid_from" in v and "valid_until" in v and v["valid_until"] < v["valid_from"]:
        raise _Bad((path + ("valid_until",), "the window stops being valid before it starts"))
    return WeeklyWindow(v["days"], v["from"], v["to"], v.get("valid_from"), v.get("valid_until"))


def _closure(value: Any, path: Path) -> Closure:
    v = _fields(value, path, {"from": _moment, "to": _moment, "reason": _text}, required=("from", "to", "reason"))
    if v["to"] <= v["from"]:
        raise _Bad((path + ("to",), "the closure ends before it starts"))
    return Closure(start=v["from"], end=v["to"], reason=v["reason"])


_BOOKERS = _list(lambda v, p: BookerKind(_one_of(frozenset(BookerKind), "kind of booker")(v, p)))
_POLICY: dict[str, Callable] = {
    "windows": _list(_window), "closures": _list(_closure), "bookable_by": lambda v, p: frozenset(_BOOKERS(v, p)),
    **dict.fromkeys(("min_duration", "max_duration", "granularity", "buffer_before", "buffer_after", "horizon",
                     "lead_time", "cancellation_notice", "max_loan"), _duration),
    "needs_approval": _flag, "open_on_holidays": _flag, "association_hours_per_week": _hours,
    "max_active_bookings_per_person": _count, "max_active_loans": _count,
}


def kind_defaults(kind: ResourceKind, opening_hours: tuple[WeeklyWindow, ...] = ()) -> Policy:
    """The policy a resource of this kind has before its own catalogue entry says otherwise."""
    if kind == ResourceKind.EQUIPMENT:
        # Loans start and end while the lending point is open; anyone local may borrow.
        return Policy(windows=opening_hours, granularity=timedelta(minutes=15), min_duration=timedelta(hours=1),
                      max_duration=timedelta(days=7), max_loan=timedelta(days=7), bookable_by=frozenset(BookerKind))
    if kind == ResourceKind.GARDEN_BED:
        # Beds are held for a whole season through allocation; booking windows and slots do not apply.
        return Policy(bookable_by=frozenset({BookerKind.RESIDENT}), granularity=timedelta(days=1),
                      min_duration=timedelta(days=1), max_duration=timedelta(days=366), horizon=timedelta(days=400),
                      lead_time=timedelta(0), cancellation_notice=timedelta(0), open_on_holidays=True)
    return Policy()


def _policy(data: Any, path: Path, kind: ResourceKind, opening_hours: tuple[WeeklyWindow, ...]) -> Policy:
    given = _fields(data, path, _POLICY)
    if kind == ResourceKind.EQUIPMENT and "max_duration" not in given and "max_loan" in given:
        given["max_duration"] = given["max_loan"]  # a loan's length is its duration
    policy = dataclasses.replace(kind_defaults(kind, opening_hours), **given)
    try:
        validate_policy(policy)
    except InvalidPolicy as e:
        raise _Bad((path + (e.extra.get("field", ""),), e.detail)) from None
    return policy


def _try_policy(data: Any, path: Path, kind: ResourceKind, hours: tuple[WeeklyWindow, ...]) -> tuple[Any, list]:
    """The policy and no problems, or None and the problems: an item reports them with its other fields."""
    try:
        return _policy(data, path, kind, hours), []
    except _Bad as e:
        return None, e.problems


# ---------------------------------------------------------------- locations, resources, beds, kits

_LOCATION = {
    "key": _slug, "name": _text, "address": _text, "postal_code": _postal_code, "city": _text,
    "description": _text, "opening_hours": _list(_window), "access_notes": _text,
    **dict.fromkeys(("step_free_access", "accessible_toilet", "hearing_loop"), _flag),
}


def _location(data: Any, path: Path) -> LocationSpec:
    v = _fields(data, path, _LOCATION, required=("key", "name", "address", "postal_code"))
    defaults = {"city": "Drammen", "description": "", "opening_hours": (), "access_notes": "",
                "step_free_access": False, "accessible_toilet": False, "hearing_loop": False}
    return LocationSpec(**(defaults | v))


_RESOURCE = {
    "key": _slug, "kind": _one_of(frozenset(ResourceKind), "resource kind"),
    "name": _text, "description": _text, "capacity": _count, "stock": _count, "number": _count,
    "features": _list(_one_of(FEATURES, "known feature")), "policy": _table,
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
    readers = _RESOURCE | {"location": _known(locations, "location")}
    v, problems = _collect(data, path, readers, required=("key", "location", "kind", "name"))
    kind = ResourceKind(v["kind"]) if "kind" in v else None
    if kind is not None:
        problems += _count_problems(data, path, kind)
        hours = locations[v["location"]].opening_hours if "location" in v else ()
        policy, policy_problems = _try_policy(v.get("policy", {}), path + ("policy",), kind, hours)
        problems += policy_problems
    if problems:
        raise _Bad(*problems)
    return ResourceSpec(key=v["key"], location=v["location"], kind=kind, name=v["name"],
                        description=v.get("description", ""), capacity=v.get("capacity"), stock=v.get("stock"),
                        features=frozenset(v.get("features", ())), policy=policy, number=v.get("number"))


def _template(value: Any, path: Path) -> str:
    try:
        if "{n" not in _text(value, path):
            raise ValueError
        value.format(n=1)
    except (KeyError, ValueError, IndexError):
        raise ValueError(f"{value!r} is not a template: write the bed number as {{n}} or {{n:02}}") from None
    return value


_BED_RANGE = {
    "from": _count, "to": _count, "name": _template, "key": _template, "description": _text,
    "raised": _list(_count), "features": _list(_one_of(FEATURES, "known feature")), "policy": _table,
}


def _bed_keys(v: dict, path: Path) -> list[str]:
    # Without a key template, "Pallekarm {n}" from 1 to 70 gives pallekarm-01 .. pallekarm-70.
    prefix = re.sub(r"[^a-z0-9]+", "-", re.sub(r"\{[^}]*\}", "", v["name"]).lower().replace("ø", "o")).strip("-")
    template = v.get("key", prefix + "-{n:0%d}" % max(2, len(str(v["to"]))))
    keys = [template.format(n=n) for n in range(v["from"], v["to"] + 1)]
    if bad := [k for k in keys if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", k)]:
        raise _Bad((path + ("key",), f"the bed key {bad[0]!r} is not a key: use lower-case a-z, digits and hyphens"))
    return keys


def _bed_range(data: Any, path: Path, locations: dict[str, LocationSpec]) -> list[ResourceSpec]:
    """`from`..`to` numbered garden beds; the `raised` ones reachable from a wheelchair."""
    readers = _BED_RANGE | {"location": _known(locations, "location")}
    v, problems = _collect(data, path, readers, required=("location", "from", "to", "name"))
    numbers = range(v.get("from", 1), v.get("to", 0) + 1)
    if "from" in v and "to" in v and not numbers:
        problems.append((path + ("to",), f"the range ends at {v['to']}, before it starts at {v['from']}"))
    if numbers and (stray := sorted(set(v.get("raised", ())) - set(numbers))):
        problems.append((path + ("raised",), f"beds {stray} are outside {v['from']}..{v['to']}"))
    policy, policy_problems = _try_policy(v.get("policy", {}), path + ("policy",), ResourceKind.GARDEN_BED, ())
    if problems or policy_problems:
        raise _Bad(*problems, *policy_problems)
    raised, features = set(v.get("raised", ())), frozenset(v.get("features", ()))
    return [
        ResourceSpec(key=key, location=v["location"], kind=ResourceKind.GARDEN_BED, name=v["name"].format(n=n),
                     description=v.get("description", ""), capacity=None, stock=None, policy=policy, number=n,
                     features=features | BED_FEATURES if n in raised else features)
        for n, key in zip(numbers, _bed_keys(v, path))
    ]


def _kit_items(value: Any, path: Path) -> tuple[tuple[str, int], ...]:
    items = _table(value, path)
    if not items:
        raise ValueError("a kit needs at least one item, like { klappbord = 4 }")
    return tuple((_slug(key, path + (key,)), _count(n, path + (key,))) for key, n in items.items())


def _kit(data: Any, path: Path, locations: dict[str, LocationSpec], resources: dict[str, ResourceSpec]) -> KitSpec:
    readers = {"key": _slug, "name": _text, "location": _known(locations, "location"), "items": _kit_items}
    v, problems = _collect(data, path, readers, required=("key", "name", "location", "items"))
    for key, quantity in v.get("items", ()):
        item, at = resources.get(key), path + ("items", key)
        if item is None or item.kind != ResourceKind.EQUIPMENT:
            problems.append((at, f"no equipment has the key {key!r}"))
        elif "location" in v and item.location != v["location"]:
            problems.append((at, f"{key!r} is kept at {item.location!r}, not where the kit is lent"))
        elif quantity > (item.stock or 0):
            problems.append((at, f"the kit needs {quantity} of {key!r} but the stock is {item.stock}"))
    if problems:
        raise _Bad(*problems)
    return KitSpec(**v)


# ---------------------------------------------------------------- where a field stands in the text

_STRING = re.compile(r"\"(?:\\.|[^\"\\])*\"|'[^']*'")
_MULTILINE_QUOTES = re.compile(r'"""|' + r"'''")
_KEY_PART = re.compile(r"\s*(?:\"((?:\\.|[^\"\\])*)\"|'([^']*)'|([A-Za-z0-9_-]+))\s*")


def _key_parts(text: str) -> tuple[str, ...] | None:
    """`a."b-c".d` -> ("a", "b-c", "d"); None when the text is no key."""
    parts, rest = [], text
    while (match := _KEY_PART.match(rest)) and match.end():
        parts.append(next(g for g in match.groups() if g is not None))
        rest = rest[match.end():]
        if not rest.startswith("."):
            return tuple(parts) if not rest.strip() else None
        rest = rest[1:]
    return None


class _Lines:
    """The line of every table header, key and multi-line array element, by concrete field path.

    tomllib reports no positions, so the raw text is scanned the way TOML nests tables.
    """

    def __init__(self, text: str) -> None:
        self.at: dict[Path, int] = {}
        self.counts: dict[Path, int] = {}
        self.table: Path = ()
        self.array: tuple[Path, int, int] | None = None  # open multi-line array: its path, depth, element
        in_string = False
        for number, raw in enumerate(text.splitlines(), start=1):
            if raw.count('"""') % 2 or raw.count("'''") % 2:
                if not in_string:  # the key opening a multi-line string stands on this line
                    self._scan(number, _MULTILINE_QUOTES.split(raw, maxsplit=1)[0] + '""')
                in_string = not in_string
            elif not in_string:
                self._scan(number, _STRING.sub('""', raw).split("#", 1)[0].strip())

    def _resolve(self, parts: tuple[str, ...]) -> Path:
        path: Path = ()
        for part in parts:
            path += (part,)
            if path in self.counts:  # an array of tables: the latest element is meant
                path += (self.counts[path] - 1,)
        return path

    def _scan(self, number: int, line: str) -> None:
        if self.array is not None:
            self._scan_array(number, line)
        elif line.startswith("[[") and (parts := _key_parts(line[2:].rstrip("]"))):
            node = self._resolve(parts[:-1]) + (parts[-1],)
            self.counts[node] = self.counts.get(node, 0) + 1
            self.table = node + (self.counts[node] - 1,)
            self.at.setdefault(node, number)
            self.at[self.table] = number
        elif line.startswith("[") and (parts := _key_parts(line[1:].rstrip("]"))):
            self.table = self._resolve(parts)
            self.at.setdefault(self.table, number)
        elif "=" in line and (parts := _key_parts(line.split("=", 1)[0])):
            path = self.table + parts
            self.at.setdefault(path, number)
            value = line.split("=", 1)[1]
            if value.strip().startswith("[") and value.count("[") > value.count("]"):
                self.array = (path, 0, -1)
                self._scan_array(number, value)

    def _scan_array(self, number: int, line: str) -> None:
        path, depth, element = self.array  # type: ignore[misc]
        for char in line:
            if char in "[{" and depth == 1:
                element += 1
                self.at.setdefault(path + (element,), number)
            depth += {"[": 1, "{": 1, "]": -1, "}": -1}.get(char, 0)
        self.array = (path, depth, element) if depth > 0 else None

    def of(self, path: Path) -> int:
        """The line of the field, else of the nearest table or key that holds it."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.at:
                return self.at[path[:end]]
        return 1


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
        except _Bad as e:
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
    problems = [((name,), f"unknown section {name!r}") for name in doc
                if name not in ("locations", "resources", "bed_ranges", "kits")]
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
        lines = _Lines(text)
        found = sorted(({"line": lines.of(p), "field": dotted(p), "detail": m} for p, m in problems),
                       key=lambda f: f["line"])
        first = found[0]
        detail = f"line {first['line']}, {first['field']}: {first['detail']}"
        raise CatalogueError(detail, line=first["line"], field=first["field"], errors=found)
    return catalogue
