"""Utilisation beyond one resource: per location (its rooms summed), garden-bed take-up per season, loans per item."""

from __future__ import annotations

from datetime import datetime, timedelta

from litestar import Request, Response, get
from litestar.response import Template

from booking.seasons.service import garden_take_up
from booking.usage import loans_per_item, location_use
from infra.database import Db
from infra.settings import Settings
from people.actor import Actor, Duty, check_may
from resources import service as catalogue
from web.frame import render
from web.staff_pages import staff
from web.utilisation import WEEKS_SHOWN, csv_file, first_week, mine, week_shares, weeks_csv


def reader_at(viewer: Actor | None, location_id: int) -> Actor:
    actor = staff(viewer)
    check_may(actor, Duty.READ, location_id)
    return actor


@get("/staff/utilisation", name="utilisation_index")
async def utilisation_index(request: Request, db: Db, settings: Settings, viewer: Actor | None) -> Template:
    actor = staff(viewer)
    return render(
        request,
        settings,
        actor,
        "staff/utilisation_index.html",
        locations=mine(actor, await catalogue.list_locations(db), lambda loc: loc.id),
        resources=mine(actor, await catalogue.list_resources(db)),
    )


# ---------------------------------------------------------------- per location


@get("/staff/locations/{location_id:int}/utilisation", name="location_utilisation")
async def location_utilisation(
    request: Request, location_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime, start: str = ""
) -> Template:
    actor = reader_at(viewer, location_id)
    first = first_week(now, start)
    location, weeks = await location_use(db, actor, location_id, first, WEEKS_SHOWN)
    return render(
        request,
        settings,
        actor,
        "staff/utilisation.html",
        resource=location,
        weeks=weeks,
        shares=week_shares(weeks),
        first=first,
        previous=first - timedelta(weeks=len(weeks)),
        following=first + timedelta(weeks=len(weeks)),
        summed_rooms=True,
        csv_url=f"/staff/locations/{location_id}/utilisation.csv",
        crumb="/staff/utilisation",
    )


@get("/staff/locations/{location_id:int}/utilisation.csv", name="location_utilisation_csv")
async def location_utilisation_csv(location_id: int, db: Db, viewer: Actor | None, now: datetime, start: str = "") -> Response:
    first = first_week(now, start)
    location, weeks = await location_use(db, reader_at(viewer, location_id), location_id, first, WEEKS_SHOWN)
    return weeks_csv(f"utilisation-{location.key}-{first.isoformat()}.csv", weeks)


# ---------------------------------------------------------------- garden beds


@get("/staff/garden/utilisation", name="garden_take_up")
async def garden_page(request: Request, db: Db, settings: Settings, viewer: Actor | None) -> Template:
    actor = staff(viewer)
    rows = await garden_take_up(db, places=actor.places(Duty.READ))
    shares = [(r.season.name, r.share, r) for r in reversed(rows)]
    return render(request, settings, actor, "staff/garden_take_up.html", rows=rows, shares=shares)


@get("/staff/garden/utilisation.csv", name="garden_take_up_csv")
async def garden_csv(db: Db, viewer: Actor | None) -> Response:
    places = staff(viewer).places(Duty.READ)
    rows = [[r.season.name, r.season.phase, r.beds, r.held, r.offered, f"{r.share:.3f}"] for r in await garden_take_up(db, places=places)]
    return csv_file("garden-bed-take-up.csv", ["season", "phase", "beds", "beds_held", "beds_offered", "share_held"], rows)


# ---------------------------------------------------------------- loans per item


@get("/staff/loans/utilisation", name="loans_per_item")
async def loans_page(request: Request, db: Db, settings: Settings, viewer: Actor | None, now: datetime, start: str = "") -> Template:
    actor = staff(viewer)
    first = first_week(now, start)
    items = mine(actor, await loans_per_item(db, actor, first, WEEKS_SHOWN), lambda row: row[0].location_id)
    # The busiest first: what a 100-chair stock and a 2-projector stock have in common is the share of it out.
    shares = sorted(((item.name, use.share, (item, use)) for item, use in items), key=lambda row: -row[1])
    return render(
        request,
        settings,
        actor,
        "staff/loans_per_item.html",
        items=items,
        shares=shares,
        first=first,
        last=first + timedelta(weeks=WEEKS_SHOWN, days=-1),
        previous=first - timedelta(weeks=WEEKS_SHOWN),
        following=first + timedelta(weeks=WEEKS_SHOWN),
    )


@get("/staff/loans/utilisation.csv", name="loans_per_item_csv")
async def loans_csv(db: Db, viewer: Actor | None, now: datetime, start: str = "") -> Response:
    first = first_week(now, start)
    actor = staff(viewer)
    items = mine(actor, await loans_per_item(db, actor, first, WEEKS_SHOWN), lambda row: row[0].location_id)
    rows = [
        [item.key, w.monday.isoformat(), w.loans, f"{w.unit_hours:.2f}", f"{w.available:.2f}"] for item, use in items for w in use.weeks
    ]
    return csv_file(
        f"loans-per-item-{first.isoformat()}.csv", ["item", "week_starting", "loans", "unit_hours", "available_unit_hours"], rows
    )


ROUTES = [utilisation_index, location_utilisation, location_utilisation_csv, garden_page, garden_csv, loans_page, loans_csv]
