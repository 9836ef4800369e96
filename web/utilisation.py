"""Utilisation per resource: booked hours against available hours per week, as shares, a table and a CSV file."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from litestar import Request, Response, get
from litestar.response import Template

from booking.usage import use_of
from booking.usage_rules import Week
from infra.database import Db
from infra.settings import Settings
from people.actor import Actor, Duty, check_may
from resources import service as catalogue
from web.frame import render
from web.pages import monday_of, today
from web.staff_pages import staff

WEEKS_BEFORE, WEEKS_AFTER = 4, 4
WEEKS_SHOWN = WEEKS_BEFORE + WEEKS_AFTER
WEEK_COLUMNS = ["week_starting", "available_hours", "booked_hours", "share"]


def csv_file(name: str, header: list[str], rows: list[list[object]]) -> Response:
    """A CSV download: the header, then the rows, offered to be saved under the name."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'})


def weeks_csv(name: str, weeks: list[Week]) -> Response:
    return csv_file(name, WEEK_COLUMNS, [[w.monday.isoformat(), f"{w.available:.2f}", f"{w.booked:.2f}", f"{w.share:.3f}"] for w in weeks])


def week_shares(weeks: list[Week]) -> list[tuple[date, float, Week]]:
    """The rows of the chart of shares (staff/_bars.html): each week's Monday, its share booked, and the week."""
    return [(w.monday, w.share, w) for w in weeks]


async def reader_of(db: Db, viewer: Actor | None, resource_id: int) -> Actor:
    """Staff who read at the resource's place (a resource's use is read where it stands)."""
    actor = staff(viewer)
    check_may(actor, Duty.READ, (await catalogue.get_resource(db, resource_id)).resource.location_id)
    return actor


def mine(actor: Actor, rows: list, location_of: Callable[[Any], int] = lambda row: row.location_id) -> list:
    """The rows at the places where the actor reads (all of them for those who read everywhere)."""
    places = actor.places(Duty.READ)
    return rows if places is None else [row for row in rows if location_of(row) in places]


def first_week(now: datetime, start: str) -> date:
    try:
        return monday_of(date.fromisoformat(start))
    except ValueError:
        return monday_of(today(now)) - timedelta(weeks=WEEKS_BEFORE)


@get("/staff/resources/{resource_id:int}/utilisation", name="utilisation")
async def utilisation(
    request: Request, resource_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime, start: str = ""
) -> Template:
    actor = await reader_of(db, viewer, resource_id)
    first = first_week(now, start)
    resource, weeks = await use_of(db, actor, resource_id, first, WEEKS_SHOWN)
    return render_page(request, settings, actor, resource, weeks, first)


def render_page(request: Request, settings: Settings, actor: Actor, resource: object, weeks: list[Week], first: date) -> Template:
    return render(
        request,
        settings,
        actor,
        "staff/utilisation.html",
        resource=resource,
        weeks=weeks,
        shares=week_shares(weeks),
        first=first,
        previous=first - timedelta(weeks=len(weeks)),
        following=first + timedelta(weeks=len(weeks)),
    )


@get("/staff/resources/{resource_id:int}/utilisation.csv", name="utilisation_csv")
async def utilisation_csv(resource_id: int, db: Db, viewer: Actor | None, now: datetime, start: str = "") -> Response:
    first = first_week(now, start)
    resource, weeks = await use_of(db, await reader_of(db, viewer, resource_id), resource_id, first, WEEKS_SHOWN)
    return weeks_csv(f"utilisation-{resource.key}-{first.isoformat()}.csv", weeks)


ROUTES = [utilisation, utilisation_csv]
