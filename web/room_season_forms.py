"""The room-season forms read: an association's application (activities and ranked wishes, blank blocks left out),
a round as staff set it up, and the times staff give a wish; each field that cannot be read gets its own message."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from booking.seasons.room_plans import ActivityPlan, ApplicationPlan, WishPlan
from booking.seasons.room_rules import MAX_WINDOWS, MAX_WISHES, AgeBand, Slot, Window
from booking.seasons.room_service import RoundPlan
from infra.errors import DomainError, ErrorCode
from infra.i18n import N_
from infra.time import local_datetime
from web.refusals import field_of, message_for, message_of
from web.room_season_words import AGE_BANDS, clock

ACTIVITY_BLOCKS, WISH_BLOCKS, WINDOW_ROWS = 3, 5, 3
MAX_ACTIVITIES = 10
LENGTHS = tuple(range(30, 301, 15))
FIELD_WORDS = {
    "activity_name": N_("Write the activity's name."),
    "age_band": N_("Choose who the activity is for."),
    "participants": N_("Write how many take part, at least 1."),
    "under_20": N_("Of the participants, those under 20 cannot be more than all of them."),
    "responsible_name": N_("Write the name of the adult responsible."),
    "responsible_phone": N_("Write a phone number for the adult responsible."),
    "room": N_("Choose a room of this season, or any room at a location."),
    "activity": N_("Choose one of the activities above."),
    "minutes": N_("Choose how long each time lasts."),
    "windows": N_("Give a weekday with hours at least as long as the wish, like 17:00 to 21:00."),
    "times": N_("Several times a week need as many different weekdays."),
    "no_wish": N_("Give at least one wish: a room and a weekday with hours that suit."),
}


def blank(form: dict[str, str], *names: str) -> bool:
    return not any(form.get(n, "") for n in names)


def whole(form: dict[str, str], name: str, errors: dict, message: str, *, low: int = 0, default: int | None = None) -> int:
    raw = form.get(name, "")
    if not raw and default is not None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < low:
        errors[name] = message
        return low
    return value


def minutes_in(form: dict[str, str], name: str, errors: dict, *, end: bool = False) -> int:
    found = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", form.get(name, ""))
    if not found:
        errors[name] = message_for(ErrorCode.INVALID_TIME)
        return 0
    value = int(found.group(1)) * 60 + int(found.group(2))
    return 24 * 60 if end and value == 0 else value  # a time that suits "to 00:00" runs to midnight


def read_activities(form: dict[str, str], errors: dict) -> tuple[list[ActivityPlan], dict[int, int]]:
    """The activity blocks filled in (the first always); the block number of each, for the wishes to name."""
    found, index = [], {}
    for i in range(1, MAX_ACTIVITIES + 1):
        p = f"a{i}_"
        if i > 1 and blank(form, *(p + k for k in ("name", "participants", "under_20", "responsible_name", "responsible_phone"))):
            continue
        name, person, phone = form.get(p + "name", ""), form.get(p + "responsible_name", ""), form.get(p + "responsible_phone", "")
        for key, value, minimum in (("name", name, 1), ("responsible_name", person, 1), ("responsible_phone", phone, 3)):
            if len(value) < minimum:
                errors[p + key] = FIELD_WORDS["activity_name" if key == "name" else key]
        if form.get(p + "age_band", "") not in AGE_BANDS:
            errors[p + "age_band"] = FIELD_WORDS["age_band"]
        participants = whole(form, p + "participants", errors, FIELD_WORDS["participants"], low=1)
        under_20 = whole(form, p + "under_20", errors, FIELD_WORDS["under_20"], default=0)
        if under_20 > participants and p + "participants" not in errors:
            errors[p + "under_20"] = FIELD_WORDS["under_20"]
        index[i] = len(found)
        band = AgeBand(form[p + "age_band"]) if form.get(p + "age_band") in AGE_BANDS else AgeBand.ADULTS
        found.append(ActivityPlan(name, band, participants, under_20, person, phone))
    return found, index


def read_wish(form: dict[str, str], n: int, activities: dict[int, int], errors: dict) -> WishPlan | None:
    p = f"w{n}_"
    if blank(form, p + "room", *(f"{p}d{k}_day" for k in range(1, MAX_WINDOWS + 1))):
        return None
    kind, _, ident = form.get(p + "room", "").partition(":")
    if kind not in ("room", "loc") or not ident.isdigit():
        errors[p + "room"] = FIELD_WORDS["room"]
    activity = whole(form, p + "activity", errors, FIELD_WORDS["activity"], low=1, default=1)
    if activity not in activities:
        errors[p + "activity"] = FIELD_WORDS["activity"]
    minutes = whole(form, p + "minutes", errors, FIELD_WORDS["minutes"], low=15)
    windows = []
    for k in range(1, MAX_WINDOWS + 1):
        q = f"{p}d{k}_"
        if not form.get(q + "day", "").isdigit():
            continue
        start, end = minutes_in(form, q + "from", errors), minutes_in(form, q + "to", errors, end=True)
        windows.append(Window(int(form[q + "day"]) % 7, start, end, form.get(q + "first", "1") != "0"))
    if not windows:
        errors[p + "d1_day"] = FIELD_WORDS["windows"]
    seats = whole(form, p + "seats", errors, message_for(ErrorCode.INVALID_NUMBER), default=0)
    times = whole(form, p + "times", errors, FIELD_WORDS["times"], low=1, default=1)
    every = 2 if form.get(p + "every") == "2" else 1
    number = int(ident) if ident.isdigit() else 0
    room, place = (number, None) if kind == "room" else (None, number)
    return WishPlan(activities.get(activity, 0), minutes, tuple(windows), room, place, seats if place else 0, (), min(times, 3), every)


def read_application(form: dict[str, str]) -> tuple[ApplicationPlan, list[int], list[int], dict[str, str]]:
    """The plan the form describes, the form's block number of each wish and activity, and what could not be read."""
    errors: dict[str, str] = {}
    activities, index = read_activities(form, errors)
    wishes, blocks = [], []
    for n in range(1, MAX_WISHES + 1):
        if (wish := read_wish(form, n, index, errors)) is not None:
            wishes.append(wish)
            blocks.append(n)
    if not wishes:
        errors.setdefault("w1_room", FIELD_WORDS["no_wish"])
    plan = ApplicationPlan(bool(form.get("non_profit")), form.get("postal_code", ""), tuple(activities), tuple(wishes))
    return plan, blocks, list(index), errors


SERVICE_FIELDS = {"room_id": "room", "location_id": "room", "": "room", "windows": "d1_day", "minutes": "minutes", "times": "times"}


def placed(refusal: DomainError, wishes: list[int], activities: list[int]) -> tuple[dict[str, str], str]:
    """A refusal of the service next to the field it concerns (its form block), or at the top of the page."""
    if refusal.code in (ErrorCode.WISH_OUTSIDE_ROOM_WINDOWS, ErrorCode.WISHES_OVERLAP):
        ranks = refusal.extra.get("wishes") or [refusal.extra.get("wish", 1)]
        n = wishes[min(max(ranks[-1], 1), len(wishes)) - 1] if wishes else 1
        return {f"w{n}_d1_day": message_of(refusal)}, ""
    where = field_of(refusal, "")
    if found := re.fullmatch(r"wishes\[(\d+)\](?:\.(\w+))?", where):
        part = SERVICE_FIELDS.get(found.group(2) or "", "room")
        n = wishes[int(found.group(1))] if int(found.group(1)) < len(wishes) else 1
        return {f"w{n}_{part}": FIELD_WORDS["windows" if part == "d1_day" else part]}, ""
    if found := re.fullmatch(r"activities\[(\d+)\]\.under_20", where):
        return {f"a{activities[int(found.group(1))]}_under_20": FIELD_WORDS["under_20"]}, ""
    if where == "postal_code":
        return {"postal_code": message_of(refusal)}, ""
    return {}, message_of(refusal)


def prefill(view: Any) -> dict[str, str]:
    """The form's fields from the application as it stands; renewals asked for stay as they are and are not in it."""
    a = view.application
    values = {"postal_code": a.postal_code, "non_profit": "1" if a.non_profit else ""}
    renewing = {w.activity_id for w in view.wishes if w.renews_wish_id is not None}
    index = {}
    for i, x in enumerate([x for x in view.activities if x.id not in renewing], start=1):
        index[x.id] = i
        values |= {f"a{i}_name": x.name, f"a{i}_age_band": x.age_band, f"a{i}_participants": str(x.participants)}
        values |= {f"a{i}_under_20": str(x.under_20), f"a{i}_responsible_name": x.responsible_name}
        values[f"a{i}_responsible_phone"] = x.responsible_phone
    for n, w in enumerate([w for w in view.wishes if w.renews_wish_id is None], start=1):
        p = f"w{n}_"
        values |= {p + "activity": str(index.get(w.activity_id, 1)), p + "minutes": str(w.minutes), p + "times": str(w.times)}
        values |= {p + "every": str(w.every_weeks), p + "seats": str(w.min_seats or "")}
        values[p + "room"] = f"room:{w.room_id}" if w.room_id is not None else f"loc:{w.location_id}"
        for k, x in enumerate(w.windows, start=1):
            q = f"{p}d{k}_"
            values |= {q + "day": str(x["weekday"]), q + "from": clock(x["start"]), q + "to": clock(x["end"] % (24 * 60))}
            values[q + "first"] = "1" if x.get("first_choice", True) else "0"
    return values


ACTIVITY_KEYS = frozenset({"name", "participants", "under_20", "responsible_name", "responsible_phone"})


def filled(values: dict[str, str], errors: dict[str, str]) -> set[str]:
    """The form's blocks with something written in them (or a refusal): an optional block is shown open."""
    found = {m.group(1) for k in errors if (m := re.fullmatch(r"([aw]\d+)_\w+", k))}
    found |= {f"{m.group(1)}_more" for k in errors if (m := re.fullmatch(r"(w\d+)_d([2-9])_\w+", k))}
    for key, value in values.items():
        if value and (m := re.fullmatch(r"([aw]\d+)_(\w+)", key)):
            part = m.group(2)
            if (key[0] == "a" and part in ACTIVITY_KEYS) or (key[0] == "w" and (part == "room" or part.endswith("_day"))):
                found.add(m.group(1))
            if key[0] == "w" and re.fullmatch(r"d[2-9]_day", part):
                found.add(f"{m.group(1)}_more")  # a second time that suits: its block shown open
    return found


def blocks_for(values: dict[str, str], prefix: str, least: int, most: int) -> int:
    """How many blocks of a kind the form shows: the usual few, or as many as are filled in."""
    used = [int(m.group(1)) for k, v in values.items() if v and (m := re.fullmatch(rf"{prefix}(\d+)_\w+", k))]
    return min(max([least, *used]), most)


HOLIDAY_ROWS = 3
ROUND_WORDS = {
    "name": N_("Give the season a name."),
    "last_day": N_("The last day must come after the first, at most a year later."),
    "rooms": N_("Choose at least one room, or every room at a place."),
    "close_day": N_("The application window must close after it opens."),
    "holiday": N_("Give each holiday a name, a first day and a last day on or after it."),
    "hours_cap": N_("Write the hours as a number above 0, like 6 or 7.5."),
    "renewal_share": N_("Write a share from 0 to 99."),
    "confirm_days": N_("Write a number of days from 1 to 60."),
    "previous": N_("Choose an earlier room season."),
    "sure": N_("Tick the box to say you have checked the proposal."),
    "slot": N_("Choose a room, a weekday and a start time for each time."),
}
ROUND_FIELDS = {"last_day": "last_day", "applications_close": "close_day", "holidays": "h1_name", "room_ids": "rooms"}


def _day(form: dict[str, str], name: str, errors: dict, *, required: bool = True) -> date | None:
    raw = form.get(name, "")
    if not raw and not required:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = message_for(ErrorCode.INVALID_DATE)
        return None


def _moment(form: dict[str, str], day_field: str, clock_field: str, errors: dict, *, closing: bool) -> datetime | None:
    """An optional moment of the window; a close without a time is the end of its day."""
    day = _day(form, day_field, errors, required=False)
    if day is None:
        return None
    if not form.get(clock_field):
        return local_datetime(day + timedelta(days=1) if closing else day, time(0))
    minutes = minutes_in(form, clock_field, errors)
    return local_datetime(day, time(minutes // 60, minutes % 60))


def _number(form: dict[str, str], name: str, errors: dict, low: float, high: float, default: float | None) -> float | None:
    raw = form.get(name, "").replace(",", ".")
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        errors[name] = ROUND_WORDS[name]
        return default
    return value


def read_round(form: dict[str, str]) -> tuple[RoundPlan | None, dict[str, str]]:
    errors: dict[str, str] = {}
    if not form.get("name"):
        errors["name"] = ROUND_WORDS["name"]
    first, last = _day(form, "first_day", errors), _day(form, "last_day", errors)
    room_ids = tuple(int(k[5:]) for k in form if re.fullmatch(r"room_\d+", k))
    location_ids = tuple(int(k[9:]) for k in form if re.fullmatch(r"location_\d+", k))
    if not room_ids and not location_ids:
        errors["rooms"] = ROUND_WORDS["rooms"]
    opens = _moment(form, "open_day", "open_time", errors, closing=False)
    closes = _moment(form, "close_day", "close_time", errors, closing=True)
    holidays = []
    for k in range(1, HOLIDAY_ROWS + 1):
        name, a, b = (form.get(f"h{k}_{x}", "") for x in ("name", "first", "last"))
        if not (name or a or b):
            continue
        a_day, b_day = _day(form, f"h{k}_first", errors), _day(form, f"h{k}_last", errors)
        if not name or a_day is None or b_day is None or b_day < a_day:
            errors.setdefault(f"h{k}_name", ROUND_WORDS["holiday"])
        else:
            holidays.append((name, a_day, b_day))
    cap = _number(form, "hours_cap", errors, 0.25, 168, None)
    share = _number(form, "renewal_share", errors, 0, 99, 50)
    days = _number(form, "confirm_days", errors, 1, 60, 14)
    previous = form.get("previous", "")
    if previous and not previous.isdigit():
        errors["previous"] = ROUND_WORDS["previous"]
    if errors:
        return None, errors
    plan = RoundPlan(
        form["name"], first, last, room_ids, location_ids, opens, closes, tuple(holidays), cap, None, share / 100, int(days),
        int(previous) if previous else None,
    )  # fmt: skip
    return plan, {}


def read_slots(form: dict[str, str], wish: object, errors: dict) -> list[Slot]:
    """The times staff give a wish (as many as it asks a week), or none to refuse it."""
    if form.get("refuse"):
        return []
    slots, p = [], f"w{wish.id}-"
    for k in range(wish.times):
        room, day, parity = form.get(f"{p}room-{k}", ""), form.get(f"{p}day-{k}", ""), form.get(f"{p}parity-{k}", "0")
        start = minutes_in(form, f"{p}start-{k}", errors)
        if not room.isdigit() or not day.isdigit():
            errors.setdefault(f"{p}room-{k}", ROUND_WORDS["slot"])
            continue
        slots.append(Slot(int(room), int(day) % 7, start, wish.minutes, wish.every_weeks, 1 if parity == "1" else 0))
    return slots
