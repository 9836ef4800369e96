"""The garden-season forms read: a new season as staff set it up, and the boxes that irreversible steps ask to be ticked."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Any

from booking.seasons.rules import DISTRICT_POSTAL_CODES, DISTRICT_TIER, Phase, tier_of
from infra.errors import DomainError, ErrorCode
from infra.i18n import N_
from infra.settings import TIMEZONE
from infra.time import local_datetime
from people.rules import check_postal_code
from web.refusals import field_of, message_of
from web.room_season_forms import ROUND_WORDS, whole
from web.room_season_forms import _day as day_in  # the room-season form's readers: one way to read a date and a window's close
from web.room_season_forms import _moment as moment_in

SEASON_WORDS = {
    "name": ROUND_WORDS["name"],
    "last_day": ROUND_WORDS["last_day"],
    "draw_day": N_("The draw must be on or after the last day to apply."),
    "district": N_("Write each postal code with four digits, separated by commas, like 3040, 3041."),
    "household_limit": N_("Write a number of beds from 1 to 10."),
    "offer_days": ROUND_WORDS["confirm_days"],
    "previous": N_("Choose an earlier garden season."),
}
SEASON_FIELDS = {"draw_at": "draw_day", "previous_season_id": "previous", "postal_code": "district"}
BY_CODE = {ErrorCode.INVALID_INTERVAL: "last_day", ErrorCode.NOT_FOUND: "previous", ErrorCode.INVALID_POSTAL_CODE: "district"}
DEFAULTS = {"district": ", ".join(DISTRICT_POSTAL_CODES), "household_limit": "1", "offer_days": "7"}


def district_in(form: dict[str, str], errors: dict) -> list[str]:
    codes = [c for c in re.split(r"[\s,;]+", form.get("district", "")) if c]
    if not codes or not all(re.fullmatch(r"[0-9]{4}", c) for c in codes):
        errors["district"] = SEASON_WORDS["district"]
    return codes


def read_season(form: dict[str, str]) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The service's arguments for a new garden season, or what could not be read, field by field."""
    errors: dict[str, str] = {}
    if not form.get("name") or len(form["name"]) > 200:
        errors["name"] = SEASON_WORDS["name"]
    first, last = day_in(form, "first_day", errors), day_in(form, "last_day", errors)
    if first and last and not first <= last <= first + timedelta(days=366):
        errors["last_day"] = SEASON_WORDS["last_day"]
    closes = moment_in(form, "close_day", "close_time", errors, closing=True)
    draw = day_in(form, "draw_day", errors, required=False)
    if closes and draw and local_datetime(draw, time(0)) + timedelta(days=1) < closes:
        errors["draw_day"] = SEASON_WORDS["draw_day"]
    codes = district_in(form, errors)
    limit = whole(form, "household_limit", errors, SEASON_WORDS["household_limit"], low=1, default=1)
    days = whole(form, "offer_days", errors, SEASON_WORDS["offer_days"], low=1, default=7)
    for name, value, high in (("household_limit", limit, 10), ("offer_days", days, 60)):
        if value > high:
            errors[name] = SEASON_WORDS[name]
    previous = form.get("previous", "")
    if previous and not previous.isdigit():
        errors["previous"] = SEASON_WORDS["previous"]
    if errors:
        return None, errors
    return {
        "name": form["name"],
        "start": local_datetime(first, time(0)),
        "end": local_datetime(last + timedelta(days=1), time(0)),
        "applications_close": closes,
        "draw_at": local_datetime(draw, time(0)) if draw else None,
        "previous_season_id": int(previous) if previous else None,
        "district_postal_codes": codes,
        "household_limit": limit,
        "offer_days": days,
    }, {}


def season_refusal(refusal: DomainError) -> dict[str, str]:
    """The service's refusal next to the field it concerns."""
    where = SEASON_FIELDS.get(field_of(refusal, ""), "") or BY_CODE.get(refusal.code, "name")
    return {where: SEASON_WORDS.get(where, message_of(refusal)) if refusal.code == ErrorCode.INVALID_INPUT else message_of(refusal)}


# ---------------------------------------------------------------- what the garden page tells


def last_day(season: Any) -> datetime:
    """The season's last day: its end is the midnight after it."""
    return season.end - timedelta(microseconds=1)


def deadline_words(speak: Any, closing: datetime | None) -> str:
    """The application deadline as a resident reads it: a close at midnight makes the day before the last to apply."""
    if closing is None:
        return speak(N_("Applications are taken until staff close the window."))
    local = closing.astimezone(TIMEZONE)
    if (local.hour, local.minute) == (0, 0):
        return speak(N_("The last day to apply is {day}."), day=speak.day(local - timedelta(days=1)))
    return speak(N_("Applications close {when}."), when=speak.when(closing))


def outside_district(form: dict[str, str], district: list[str]) -> bool:
    """A readable postal code outside the season's district: the applicant is drawn after the district's households."""
    try:
        return tier_of(check_postal_code(form.get("postal_code", "")), district) != DISTRICT_TIER
    except DomainError:  # the service says what is wrong with it
        return False


# ---------------------------------------------------------------- irreversible steps ask first

SURE_WORDS = {
    "publish": N_("Tick the box to say you have checked the allocation."),
    "phase": N_("Tick the box to say you want to go on."),
}


def must_confirm(wanted: Phase, unanswered: int) -> bool:
    """Closing a season cannot be undone; nor can the season running on while offers still wait for answers."""
    return wanted is Phase.CLOSED or (wanted is Phase.RUNNING and unanswered > 0)
