"""The staff's form for a resource: its details and rules as the form shows them, the changes a posted form asks for,
and a refusal of them said beside the field it concerns."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from infra.errors import DomainError, ErrorCode
from resources.catalogue import BED_FEATURES, ROOM_FEATURES
from resources.rules import BookerKind, Policy, ResourceKind
from resources.service import COUNT_OF, ResourceDetail
from web.refusals import FormInvalid, field_of, message_of


def N_(message: str) -> str:
    """Marks a message for the catalogue; it is translated where it is shown."""
    return message


# Each length is a number and its unit; a stored length shows in the largest unit that says it exactly.
UNITS = {"days": 24 * 60, "hours": 60, "minutes": 1}

# The rules a kind's form shows. A bed is held for a season through the allocation: only its details are edited here.
LENGTHS = {
    ResourceKind.ROOM: ("min_duration", "max_duration", "granularity", "buffer_before", "buffer_after", "lead_time", "horizon"),
    ResourceKind.EQUIPMENT: ("min_duration", "max_loan", "granularity", "lead_time", "horizon"),
    ResourceKind.GARDEN_BED: (),
}
DEADLINES = {ResourceKind.ROOM: ("cancellation_notice",), ResourceKind.EQUIPMENT: ("cancellation_notice",), ResourceKind.GARDEN_BED: ()}
LIMITS = {
    ResourceKind.ROOM: ("association_hours_per_week", "max_active_bookings_per_person"),
    ResourceKind.EQUIPMENT: ("max_active_loans",),
    ResourceKind.GARDEN_BED: (),
}
SWITCHES = ("needs_approval", "open_on_holidays")
FEATURES_OF = {ResourceKind.ROOM: sorted(ROOM_FEATURES), ResourceKind.EQUIPMENT: [], ResourceKind.GARDEN_BED: sorted(BED_FEATURES)}

# What a refused value needs, said beside its field.
SAID_OF_FIELD = {
    "name": N_("Write a name, at most 200 characters."),
    "description": N_("Write at most 2000 characters."),
    "capacity": N_("Write how many people the room seats: a whole number from 1."),
    "stock": N_("Write how many units there are: a whole number from 1."),
    "number": N_("Write the bed's number, a whole number from 1, or leave it empty."),
    "min_duration": N_("The shortest booking must be longer than nothing, no longer than the longest, and a whole number of time steps."),
    "max_duration": N_("The longest booking must be at least the shortest, and a whole number of time steps."),
    "max_loan": N_("The longest loan must be at least the shortest, and a whole number of time steps."),
    "granularity": N_("The time step must be longer than nothing."),
    "bookable_by": N_("Choose at least one kind of booker."),
    "features": N_("Choose among the features listed."),
}
NOT_NEGATIVE = N_("This cannot be below zero.")
STOCK_BELOW = N_("The stock cannot be lower than the units out on loan now: {units_out}.")


def kind_of(detail: ResourceDetail) -> ResourceKind:
    return ResourceKind(detail.resource.kind)


def in_units(span: timedelta) -> tuple[int, str]:
    minutes = round(span / timedelta(minutes=1))
    unit = next((u for u, size in UNITS.items() if minutes and minutes % size == 0), "minutes")
    return minutes // UNITS[unit], unit


def values_of(detail: ResourceDetail) -> dict[str, str]:
    """The form's fields filled in with the resource as it is."""
    resource, policy, kind = detail.resource, detail.policy, kind_of(detail)
    count = getattr(resource, COUNT_OF[kind])
    values = {"name": resource.name, "description": resource.description, COUNT_OF[kind]: "" if count is None else str(count)}
    for name in LENGTHS[kind] + DEADLINES[kind]:
        number, unit = in_units(getattr(policy, name))
        values |= {name: str(number), f"{name}_unit": unit}
    for name in LIMITS[kind]:
        limit = getattr(policy, name)
        values[name] = "" if limit is None else f"{limit:g}"
    values |= {name: "1" for name in SWITCHES if getattr(policy, name)}
    values |= {f"bookable_by_{b}": "1" for b in policy.bookable_by}
    values |= {f"feature_{f}": "1" for f in resource.features}
    return values | ({"in_maintenance": "1"} if resource.in_maintenance else {})


def changes_of(form: dict[str, str], detail: ResourceDetail) -> dict[str, Any]:
    """What the posted form asks to change, as `booking.closures.update_resource` takes it; a value that cannot
    even be read (a word for a number) is refused here, beside its field."""
    kind, name = kind_of(detail), form.get("name", "")
    if not name or len(name) > 200:
        raise FormInvalid(ErrorCode.INVALID_INPUT, "name")
    if len(form.get("description", "")) > 2000:
        raise FormInvalid(ErrorCode.INVALID_INPUT, "description")
    count = COUNT_OF[kind]
    changes: dict[str, Any] = {"name": name, "description": form.get("description", ""), count: whole(form, count)}
    changes["features"] = [f for f in FEATURES_OF[kind] if form.get(f"feature_{f}")]
    if kind is ResourceKind.EQUIPMENT:
        changes["in_maintenance"] = bool(form.get("in_maintenance"))  # an unticked box is not sent at all
        if changes["stock"] == detail.resource.stock:
            del changes["stock"]  # a stock left as it was asks nothing of the loans
    if kind is not ResourceKind.GARDEN_BED:
        changes["policy"] = policy_changes(form, kind)
    return changes


def policy_changes(form: dict[str, str], kind: ResourceKind) -> dict[str, Any]:
    rules: dict[str, Any] = {name: length(form, name) for name in LENGTHS[kind] + DEADLINES[kind]}
    if kind is ResourceKind.EQUIPMENT:
        rules["max_duration"] = rules["max_loan"]  # a loan's length is its duration, as the catalogue reads it
    rules |= {name: limit(form, name) for name in LIMITS[kind]}
    rules |= {name: bool(form.get(name)) for name in SWITCHES}
    rules["bookable_by"] = frozenset(b for b in BookerKind if form.get(f"bookable_by_{b}"))
    return rules


def whole(form: dict[str, str], name: str) -> int | None:
    raw = form.get(name, "")
    if not raw:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 100_000:
        raise FormInvalid(ErrorCode.INVALID_NUMBER, name)
    return int(raw)


def length(form: dict[str, str], name: str) -> timedelta:
    raw, unit = form.get(name, ""), form.get(f"{name}_unit", "minutes")
    if not raw.isdigit() or unit not in UNITS or int(raw) > 10_000:
        raise FormInvalid(ErrorCode.INVALID_NUMBER, name)
    return timedelta(minutes=int(raw) * UNITS[unit])


def limit(form: dict[str, str], name: str) -> float | int | None:
    """A quota, or None where left empty: no limit. Hours a week may have a decimal comma."""
    raw = form.get(name, "").replace(",", ".")
    if not raw:
        return None
    try:
        value = float(raw) if name == "association_hours_per_week" else int(raw)
    except ValueError:
        raise FormInvalid(ErrorCode.INVALID_NUMBER, name) from None
    if not 0 <= value <= 100_000:
        raise FormInvalid(ErrorCode.INVALID_NUMBER, name)
    return value


def refused(error: DomainError, kind: ResourceKind, speak: Any) -> dict[str, str]:
    """The refusal said beside its field, in the page's language."""
    name = field_of(error, "form")
    if kind is ResourceKind.EQUIPMENT and name == "max_duration":
        name = "max_loan"  # the form shows one longest loan, which sets both
    if error.code == ErrorCode.STOCK_BELOW_UNITS_OUT:
        return {"stock": speak(STOCK_BELOW, units_out=error.extra.get("units_out", ""))}
    if error.code in (ErrorCode.INVALID_POLICY, ErrorCode.INVALID_INPUT):
        return {name: speak(SAID_OF_FIELD.get(name, NOT_NEGATIVE if name in Policy.__dataclass_fields__ else message_of(error)))}
    return {name: speak(message_of(error))}
