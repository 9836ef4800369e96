"""Readers for the catalogue's field values: text, counts, durations, times, days, windows, closures and policies."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from infra.time import OSLO
from resources.rules import (
    BookerKind,
    Closure,
    InvalidPolicy,
    Policy,
    ResourceKind,
    WeeklyWindow,
    validate_policy,
)

Path = tuple[str | int, ...]


class Bad(Exception):
    """One or more problems, each at a field path; raised by a reader, collected per item."""

    def __init__(self, *problems: tuple[Path, str]) -> None:
        super().__init__(problems)
        self.problems = list(problems)


# ---------------------------------------------------------------- values


def plain_text(value: Any, _: Path) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be text in quotes, not {value!r}")
    return value.strip()


def slug(value: Any, path: Path) -> str:
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", key := plain_text(value, path)):
        raise ValueError(f"{value!r} is not a key: use lower-case a-z, digits and hyphens, like 'moterom-1'")
    return key


def flag(value: Any, _: Path) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, not {value!r}")
    return value


def count(value: Any, _: Path) -> int:
    # bool is an int in Python; `capacity = true` is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"must be a whole number of at least 1, not {value!r}")
    return value


def _hours(value: Any, _: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"must be a number of hours, zero or more, not {value!r}")
    return float(value)


def postal_code(value: Any, path: Path) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}", value.strip()):
        raise ValueError(f'must be four digits in quotes, like "3044", not {value!r}')
    return value.strip()


_DURATION = re.compile(r"(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?")


def _duration(value: Any, _: Path) -> timedelta:
    match = _DURATION.fullmatch(value.strip()) if isinstance(value, str) else None
    if not match or not any(match.groups()):
        raise ValueError(f'write durations like "30m", "2h", "7d" or "1h30m", not {value!r}')
    days, hours, minutes = (int(g or 0) for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes)


def _clock(value: Any, _: Path, *, may_be_midnight_end: bool = False) -> time:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip()) if isinstance(value, str) else None
    hour, minute = (int(match[1]), int(match[2])) if match else (-1, -1)
    if may_be_midnight_end and (hour, minute) == (24, 0):
        return time(0)  # a window "to 24:00" ends at the following midnight
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ValueError(f'write times as "HH:MM" on the 24-hour clock, like "17:00", not {value!r}')
    return time(hour, minute)


def _end_clock(value: Any, path: Path) -> time:
    return _clock(value, path, may_be_midnight_end=True)


def _day(value: Any, _: Path) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(value.strip())
    except (AttributeError, ValueError):
        raise ValueError(f'write dates as "YYYY-MM-DD", not {value!r}') from None


_WEEKDAYS = {name: i for names in ("mon tue wed thu fri sat sun", "man tir ons tor fre lør søn") for i, name in enumerate(names.split())}


def _weekday(name: str) -> int:
    if name.strip() not in _WEEKDAYS:
        raise ValueError(f"{name.strip()!r} is not a weekday: use mon, tue, wed, thu, fri, sat, sun")
    return _WEEKDAYS[name.strip()]


def _days(value: Any, path: Path) -> frozenset[int]:
    """ "mon-fri", "sat,sun" or "fri-mon" (ranges wrap round the week)."""
    days: set[int] = set()
    for part in plain_text(value, path).lower().split(","):
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
            raise ValueError(f'write instants like "2026-12-21T00:00+01:00", not {value!r}') from None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time(0))
    if not isinstance(value, datetime):
        raise ValueError(f'write instants like "2026-12-21T00:00+01:00", not {value!r}')
    return value if value.tzinfo else value.replace(tzinfo=OSLO)


def list_of(read: Callable[[Any, Path], Any]) -> Callable[[Any, Path], tuple]:
    def read_list(value: Any, path: Path) -> tuple:
        if not isinstance(value, list):
            raise ValueError(f"must be a list in square brackets, not {value!r}")
        found, problems = [], []
        for i, item in enumerate(value):
            try:
                found.append(read(item, path + (i,)))
            except ValueError as e:
                problems.append((path + (i,), str(e)))
            except Bad as e:
                problems.extend(e.problems)
        if problems:
            raise Bad(*problems)
        return tuple(found)

    return read_list


def one_of(allowed: frozenset[str], what: str) -> Callable[[Any, Path], str]:
    def read(value: Any, path: Path) -> str:
        if (text := plain_text(value, path)) not in allowed:
            raise ValueError(f"{value!r} is not a {what}: use one of {', '.join(sorted(allowed))}")
        return text

    return read


def table(value: Any, _: Path) -> dict:
    if not isinstance(value, dict):
        raise ValueError("must be a table")
    return value


def collect(data: Any, path: Path, readers: dict[str, Callable], required: tuple[str, ...] = ()) -> tuple[dict, list]:
    """Each present field read; unknown and missing fields refused; the good values and every problem."""
    if not isinstance(data, dict):
        return {}, [(path, 'must be a table of fields, like { key = "..." }')]
    problems: list[tuple[Path, str]] = [(path + (n,), f"{n!r} is missing") for n in required if n not in data]
    problems += [(path + (n,), f"unknown field {n!r}") for n in data if n not in readers]
    values: dict[str, Any] = {}
    for name in data.keys() & readers.keys():
        try:
            values[name] = readers[name](data[name], path + (name,))
        except ValueError as e:
            problems.append((path + (name,), str(e)))
        except Bad as e:
            problems.extend(e.problems)
    return values, problems


def fields(data: Any, path: Path, readers: dict[str, Callable], required: tuple[str, ...] = ()) -> dict[str, Any]:
    values, problems = collect(data, path, readers, required)
    if problems:
        raise Bad(*problems)
    return values


def known(keys: dict[str, Any], what: str) -> Callable[[Any, Path], str]:
    def read(value: Any, path: Path) -> str:
        if (key := slug(value, path)) not in keys:
            raise ValueError(f"no {what} has the key {value!r}")
        return key

    return read


# ---------------------------------------------------------------- windows, closures, policies

_WINDOW = {"days": _days, "from": _clock, "to": _end_clock, "valid_from": _day, "valid_until": _day}


def window(value: Any, path: Path) -> WeeklyWindow:
    v = fields(value, path, _WINDOW, required=("days", "from", "to"))
    if v["to"] != time(0) and v["to"] <= v["from"]:
        raise Bad((path + ("to",), f"the window ends at {v['to']:%H:%M}, before it starts at {v['from']:%H:%M}"))
    if "valid_from" in v and "valid_until" in v and v["valid_until"] < v["valid_from"]:
        raise Bad((path + ("valid_until",), "the window stops being valid before it starts"))
    return WeeklyWindow(v["days"], v["from"], v["to"], v.get("valid_from"), v.get("valid_until"))


def _closure(value: Any, path: Path) -> Closure:
    v = fields(value, path, {"from": _moment, "to": _moment, "reason": plain_text}, required=("from", "to", "reason"))
    if v["to"] <= v["from"]:
        raise Bad((path + ("to",), "the closure ends before it starts"))
    return Closure(start=v["from"], end=v["to"], reason=v["reason"])


_BOOKERS = list_of(lambda v, p: BookerKind(one_of(frozenset(BookerKind), "kind of booker")(v, p)))
_POLICY: dict[str, Callable] = {
    "windows": list_of(window),
    "closures": list_of(_closure),
    "bookable_by": lambda v, p: frozenset(_BOOKERS(v, p)),
    **dict.fromkeys(
        (
            "min_duration",
            "max_duration",
            "granularity",
            "buffer_before",
            "buffer_after",
            "horizon",
            "lead_time",
            "cancellation_notice",
            "max_loan",
        ),
        _duration,
    ),
    "needs_approval": flag,
    "open_on_holidays": flag,
    "association_hours_per_week": _hours,
    "max_active_bookings_per_person": count,
    "max_active_loans": count,
}


def kind_defaults(kind: ResourceKind, opening_hours: tuple[WeeklyWindow, ...] = ()) -> Policy:
    """The policy a resource of this kind has before its own catalogue entry says otherwise."""
    if kind == ResourceKind.EQUIPMENT:
        # Loans start and end while the lending point is open; anyone local may borrow.
        return Policy(
            windows=opening_hours,
            granularity=timedelta(minutes=15),
            min_duration=timedelta(hours=1),
            max_duration=timedelta(days=7),
            max_loan=timedelta(days=7),
            bookable_by=frozenset(BookerKind),
        )
    if kind == ResourceKind.GARDEN_BED:
        # Beds are held for a whole season through allocation; booking windows and slots do not apply.
        return Policy(
            bookable_by=frozenset({BookerKind.RESIDENT}),
            granularity=timedelta(days=1),
            min_duration=timedelta(days=1),
            max_duration=timedelta(days=366),
            horizon=timedelta(days=400),
            lead_time=timedelta(0),
            cancellation_notice=timedelta(0),
            open_on_holidays=True,
        )
    return Policy()


def _policy(data: Any, path: Path, kind: ResourceKind, opening_hours: tuple[WeeklyWindow, ...]) -> Policy:
    given = fields(data, path, _POLICY)
    if kind == ResourceKind.EQUIPMENT and "max_duration" not in given and "max_loan" in given:
        given["max_duration"] = given["max_loan"]  # a loan's length is its duration
    policy = dataclasses.replace(kind_defaults(kind, opening_hours), **given)
    try:
        validate_policy(policy)
    except InvalidPolicy as e:
        raise Bad((path + (e.extra.get("field", ""),), e.detail)) from None
    return policy


def try_policy(data: Any, path: Path, kind: ResourceKind, hours: tuple[WeeklyWindow, ...]) -> tuple[Any, list]:
    """The policy and no problems, or None and the problems: an item reports them with its other fields."""
    try:
        return _policy(data, path, kind, hours), []
    except Bad as e:
        return None, e.problems
