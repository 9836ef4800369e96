"""Staff pages for the audit trail and for who holds which staff role where."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.response import Redirect, Template

from infra.database import Db
from infra.errors import DomainError, ErrorCode, Forbidden, NotAuthenticated, NotFound
from infra.settings import Settings
from infra.time import MIDNIGHT, local_datetime
from oversight import audit, staff
from oversight.audit import Entry, Filters
from people.actor import Actor, Duty
from people.roles import StaffRole
from resources import service as catalogue
from web.frame import day_value, posted, render, see_other
from web.pages import today
from web.refusals import N_, field_of, message_of
from web.staff_frame import staff as staff_member

PAGE_SIZE = 50
DEFAULT_DAYS = 30

# The refusals these pages meet that the site's common messages do not say.
MESSAGES = {
    ErrorCode.RANGE_TOO_WIDE: N_("Ask for at most 366 days at a time."),
    ErrorCode.INVALID_INTERVAL: N_("The last day must not come before the first."),
    ErrorCode.PERSON_NOT_FOUND: N_("We could not find this person. Write their email address or number."),
    ErrorCode.LOCATION_NOT_FOUND: N_("There is no such place."),
    ErrorCode.UNKNOWN_ROLE: N_("Choose one of the roles in the list."),
    ErrorCode.UNKNOWN_OBJECT_KIND: N_("Choose one of the kinds in the list."),
    ErrorCode.UNKNOWN_ACTION: N_("Choose one of the kinds in the list."),
    ErrorCode.ROLE_NEEDS_LOCATION: N_("Location staff work at one place: choose it."),
    ErrorCode.ROLE_IS_EVERYWHERE: N_("An operator's role holds everywhere: choose no place."),
    ErrorCode.LAST_OPERATOR: N_("Somebody must stay operator. Make another person operator first."),
    ErrorCode.GRANT_NOT_FOUND: N_("This person no longer holds this role here."),
    ErrorCode.INVALID_INPUT: N_("An object number is looked for with its kind: choose the kind too."),
}


def said(error: DomainError) -> dict[str, str]:
    """The refusal's message beside its field (untranslated: the template translates it)."""
    return {field_of(error, "form"): MESSAGES.get(error.code, message_of(error))}


def changes_of(entry: Entry) -> list[tuple[str, str, str]]:
    """Each value the entry changed, as (name, before, after), the values as JSON writes them ('' where none)."""
    names = sorted(set(entry.before) | set(entry.after))
    return [(name, _shown(entry.before, name), _shown(entry.after, name)) for name in names]


def _shown(values: dict[str, Any], name: str) -> str:
    return json.dumps(values[name], ensure_ascii=False) if name in values else ""


# ---------------------------------------------------------------- the audit trail


def _number(text: str) -> int | None:
    return int(text) if text.strip().isdigit() and len(text.strip()) < 10 else None


def asked_days(query: dict[str, str], now: datetime) -> tuple[date, date]:
    """The first and last day asked for (Oslo days); the last 30 days when none are."""
    last = day_value(query, "to") if query.get("to") else today(now)
    first = day_value(query, "from") if query.get("from") else last - timedelta(days=DEFAULT_DAYS)
    return first, last


async def filters_of(db: Db, actor: Actor, query: dict[str, str], now: datetime) -> Filters:
    first, last = asked_days(query, now)
    person = await audit.find_person(db, actor, query["person"]) if query.get("person") else None
    return Filters(
        start=local_datetime(first, MIDNIGHT),
        end=local_datetime(last + timedelta(days=1), MIDNIGHT),  # the last day is read to its end
        object_kind=query.get("kind") or None,
        object_id=_number(query.get("object_id", "")),
        person_id=person,
        location_id=_number(query.get("location", "")),
        action=query.get("action") or None,
        limit=PAGE_SIZE,
        after_id=_number(query.get("after", "")),
    )


def csv_link(filters: Filters) -> str:
    """The export of every entry these filters find (not only this page)."""
    params = {"from": filters.start.isoformat(), "to": filters.end.isoformat()}
    named = {"kind": filters.object_kind, "object_id": filters.object_id, "person_id": filters.person_id}
    named |= {"location_id": filters.location_id, "action": filters.action}
    return "/api/v1/audit.csv?" + urlencode(params | {k: v for k, v in named.items() if v is not None})


async def places_read(db: Db, actor: Actor) -> list[Any]:
    """The places the actor reads at (every one, for those who read everywhere), for the filter's list."""
    where = actor.places(Duty.READ)
    return [p for p in await catalogue.list_locations(db) if where is None or p.id in where]


@get("/staff/audit", name="staff_audit")
async def audit_page(request: Request, db: Db, settings: Settings, viewer: Actor | None, now: datetime) -> Template:
    """The trail, newest first, filtered as the form asks; refused filters are said beside their field."""
    actor = staff_member(viewer)
    query = {key: str(value).strip() for key, value in request.query_params.items()}
    page, filters, errors = None, None, {}
    try:
        filters = await filters_of(db, actor, query, now)
        page = await audit.entries(db, actor, filters)
    except (Forbidden, NotAuthenticated):
        raise
    except DomainError as refusal:
        errors = said(refusal)
    first, last = _days_shown(query, now)
    places = await places_read(db, actor)
    paging = {k: v for k, v in query.items() if k not in ("after", "lang") and v}
    return render(
        request, settings, actor, "staff/audit.html", status=422 if errors else 200, errors=errors,
        values={**query, "from": first, "to": last}, page=page, places=places, place_names={p.id: p.name for p in places},
        kinds=audit.KINDS, changes_of=changes_of, csv=csv_link(filters) if filters and not errors else "",
        older="/staff/audit?" + urlencode(paging | {"after": page.next_after_id}) if page and page.next_after_id else "",
        newest="/staff/audit?" + urlencode(paging) if query.get("after") else "",
    )  # fmt: skip


def _days_shown(query: dict[str, str], now: datetime) -> tuple[str, str]:
    """What the date fields show again: the days asked (as typed, when they are no dates), or the default's."""
    try:
        first, last = asked_days(query, now)
    except DomainError:
        return query.get("from", ""), query.get("to", "")
    return first.isoformat(), last.isoformat()


# ---------------------------------------------------------------- staff roles


async def roles_page(
    request: Request, db: Db, settings: Settings, actor: Actor, *, status: int = 200, errors: dict | None = None, values: dict | None = None
) -> Template:
    locations = await catalogue.list_locations(db)
    return render(
        request, settings, actor, "staff/roles.html", status=status, errors=errors or {}, values=values or {},
        members=await staff.staff_members(db, actor), places=locations, place_names={p.id: p.name for p in locations},
        roles=[r.value for r in StaffRole], manages=actor.may(Duty.ROLES), done=request.query_params.get("done", ""),
    )  # fmt: skip


@get("/staff/roles", name="staff_roles")
async def roles(request: Request, db: Db, settings: Settings, viewer: Actor | None) -> Template:
    """Every staff member and their roles per place; operators also grant and revoke here."""
    return await roles_page(request, db, settings, staff_member(viewer))


@post("/staff/roles/grant", name="grant_role")
async def grant(request: Request, db: Db, settings: Settings, viewer: Actor | None, now: datetime) -> Template | Redirect:
    actor = staff_member(viewer)
    form = await posted(request)
    try:
        granted = await staff.grant(db, actor, form.get("email", ""), form.get("role", ""), _number(form.get("location", "")), now=now)
    except (Forbidden, NotAuthenticated):
        raise
    except DomainError as refusal:
        errors = said(refusal) if refusal.code != ErrorCode.PERSON_NOT_FOUND else {"email": MESSAGES[ErrorCode.PERSON_NOT_FOUND]}
        return await roles_page(request, db, settings, actor, status=_status(refusal), errors=errors, values=form)
    return see_other(f"/staff/roles?done={'granted' if granted else 'held'}")


def _status(refusal: DomainError) -> int:
    return refusal.status if refusal.status in (404, 409) else 422


def asked_grant(values: dict[str, str]) -> tuple[int, str, int | None]:
    """The grant a revoke names: person, role and place (none: everywhere); a malformed one is no grant at all."""
    person, role = _number(values.get("person", "")), values.get("role", "")
    if person is None or role not in set(StaffRole):
        raise NotFound("No such grant")
    return person, role, _number(values.get("location", ""))


@get("/staff/roles/revoke", name="confirm_revoke_role")
async def confirm_revoke(request: Request, db: Db, settings: Settings, viewer: Actor | None) -> Template:
    """Taking a role back is asked first: whom, which role, where."""
    actor = staff_member(viewer)
    staff.check_roles_duty(actor)
    person_id, role, location_id = asked_grant(dict(request.query_params))
    return await revoke_page(request, db, settings, actor, person_id, role, location_id)


async def revoke_page(
    request: Request, db: Db, settings: Settings, actor: Actor, person_id: int, role: str, location_id: int | None,
    *, status: int = 200, error: str = "",
) -> Template:  # fmt: skip
    member = next((m for m in await staff.staff_members(db, actor) if m.person_id == person_id), None)
    if member is None or not any(g.role.value == role and g.location_id == location_id for g in member.grants):
        raise NotFound("This person does not hold this role here")
    places = {p.id: p.name for p in await catalogue.list_locations(db)}
    context = {"member": member, "role": role, "location_id": location_id, "place": places.get(location_id, "") if location_id else ""}
    return render(request, settings, actor, "staff/role_revoke.html", status=status, error=error, **context)


@post("/staff/roles/revoke", name="revoke_role")
async def revoke(request: Request, db: Db, settings: Settings, viewer: Actor | None, now: datetime) -> Template | Redirect:
    actor = staff_member(viewer)
    form = await posted(request)
    person_id, role, location_id = asked_grant(form)
    try:
        await staff.revoke(db, actor, person_id, role, location_id, now=now)
    except (Forbidden, NotAuthenticated):
        raise
    except DomainError as refusal:
        message = MESSAGES.get(refusal.code, message_of(refusal))
        if refusal.code == ErrorCode.GRANT_NOT_FOUND:
            return await roles_page(request, db, settings, actor, status=404, errors={"form": message})
        return await revoke_page(request, db, settings, actor, person_id, role, location_id, status=_status(refusal), error=message)
    return see_other("/staff/roles?done=revoked")


ROUTES = [audit_page, roles, grant, confirm_revoke, revoke]
