"""The audit trail and staff roles over HTTP: filter, export as CSV, grant and revoke."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Response, delete, get, post
from litestar.params import Parameter

from infra.database import Db
from infra.errors import InvalidInput
from infra.settings import TIMEZONE
from oversight import audit, staff
from oversight.audit import Entry, Filters, Who
from people.actor import Actor

Id = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
QueryId = Annotated[int | None, Parameter(ge=1, le=2**31 - 1)]
Email = Annotated[str, msgspec.Meta(max_length=254)]
Role = Annotated[str, msgspec.Meta(max_length=40)]


class GrantIn(msgspec.Struct, forbid_unknown_fields=True):
    """Whom (an email address or a person id, one of them), which role, and where (none: everywhere)."""

    role: Role
    email: Email | None = None
    person_id: Id | None = None
    location_id: Id | None = None

    def who(self) -> int | str:
        if (self.email is None) == (self.person_id is None):
            raise InvalidInput("Give either email or person_id", field="email")
        return self.person_id if self.person_id is not None else self.email  # type: ignore[return-value]


def local(moment: datetime) -> str:
    return moment.astimezone(TIMEZONE).isoformat()


def who_json(who: Who | None) -> dict[str, Any] | None:
    return None if who is None else {"id": who.person_id, "name": who.display, "erased": who.erased}


def entry_json(e: Entry) -> dict[str, Any]:
    return {
        "id": e.id,
        "at": local(e.at),
        "action": e.action,
        "object_kind": e.object_kind,
        "object_id": e.object_id,
        "location_id": e.location_id,
        "actor": who_json(e.actor),
        "subject": who_json(e.subject),
        "reason": e.reason,
        "before": e.before,
        "after": e.after,
    }


def filters_of(
    start: datetime, end: datetime, kind: str | None, object_id: int | None, person_id: int | None,
    location_id: int | None, action: str | None, limit: int, after_id: int | None,
) -> Filters:  # fmt: skip
    return Filters(start, end, kind, object_id, person_id, location_id, action, limit, after_id)


# The same query parameters for JSON and CSV; kinds and actions are checked by the service (422 with the known ones).
async def _filters(
    start: Annotated[datetime, Parameter(query="from", description="from this moment (with its time zone)")],
    end: Annotated[datetime, Parameter(query="to", description="until this moment; at most 366 days after from")],
    kind: Annotated[str | None, Parameter(max_length=20, description="object kind, e.g. booking, role, person")] = None,
    object_id: QueryId = None,
    person_id: Annotated[int | None, Parameter(ge=1, le=2**31 - 1, description="as the one who acted or whom it concerned")] = None,
    location_id: QueryId = None,
    action: Annotated[str | None, Parameter(max_length=40, description="e.g. booking.approved")] = None,
    limit: Annotated[int, Parameter(ge=1, le=audit.MAX_LIMIT)] = 100,
    after_id: Annotated[
        int | None, Parameter(ge=1, le=2**63 - 1, description="the next page: the `next_after_id` of the page before")
    ] = None,
) -> Filters:
    return filters_of(start, end, kind, object_id, person_id, location_id, action, limit, after_id)


@get("/api/v1/audit", summary="Staff: the audit trail, newest first (at most 366 days at a time)", dependencies={"filters": _filters})
async def audit_trail(db: Db, actor: Actor, filters: Filters) -> dict:
    page = await audit.entries(db, actor, filters)
    return {"items": [entry_json(e) for e in page.entries], "next_after_id": page.next_after_id}


@get("/api/v1/audit.csv", summary="Staff: the audit trail as CSV, every entry the filters find", dependencies={"filters": _filters})
async def audit_csv(db: Db, actor: Actor, filters: Filters) -> Response:
    found = await audit.export(db, actor, filters)
    name = f"audit-{filters.start.astimezone(TIMEZONE).date()}-{filters.end.astimezone(TIMEZONE).date()}.csv"
    return Response(
        audit.as_csv(found), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


# ---------------------------------------------------------------- staff roles


def member_json(member: staff.StaffMember) -> dict[str, Any]:
    return {
        "person_id": member.person_id,
        "name": member.name,
        "email": member.email,
        "grants": [{"role": g.role.value, "location_id": g.location_id} for g in member.grants],
    }


@get("/api/v1/staff", summary="Staff: who holds which staff role where")
async def staff_list(db: Db, actor: Actor) -> dict:
    return {"items": [member_json(m) for m in await staff.staff_members(db, actor)]}


@post("/api/v1/staff/grants", summary="Operators: give a person a staff role (201; 200 when they held it already)")
async def grant_role(data: GrantIn, db: Db, actor: Actor, now: datetime) -> Response:
    granted = await staff.grant(db, actor, data.who(), data.role, data.location_id, now=now)
    body = {"role": data.role, "location_id": data.location_id, "granted": granted}
    return Response(body, status_code=201 if granted else 200)


@delete("/api/v1/staff/grants", summary="Operators: take a staff role back (the body as for granting, or the same as query parameters)")
async def revoke_role(
    db: Db,
    actor: Actor,
    now: datetime,
    data: GrantIn | None = None,
    role: Annotated[str | None, Parameter(max_length=40)] = None,
    email: Annotated[str | None, Parameter(max_length=254)] = None,
    person_id: QueryId = None,
    location_id: QueryId = None,
) -> None:
    asked = data or GrantIn(role=role or "", email=email, person_id=person_id, location_id=location_id)
    await staff.revoke(db, actor, asked.who(), asked.role, asked.location_id, now=now)


ROUTES = [audit_trail, audit_csv, staff_list, grant_role, revoke_role]
