"""Utilisation beyond one resource: per location (its rooms summed), garden-bed take-up per season, loans per item."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from litestar import Request, Response, get
from litestar.response import Template

from booking.seasons.service import garden_take_up
from booking.usage import loans_per_item, location_use
from booking.usage_rules import Week
from infra.database import Db
from infra.settings import Settings
from people.actor import Actor
from resources import service as catalogue
from web.frame import render
from web.staff_pages import staff
from web.utilisation import WEEKS_SHOWN, chart, csv_file, first_week, weeks_csv


@dataclass(frozen=True)
class Bar:
    """One bar of a chart: the whole (a pale bar) and the part of it used (a dark bar in front)."""

    label: str
    whole: float
    part: float

    @property
    def share(self) -> float:
        return self.part / self.whole if self.whole else 0.0


def bar_chart(bars: list[Bar], width: int = 640, height: int = 240) -> dict:
    """Bar geometry for any labelled pairs, drawn as the per-resource chart draws its weeks."""
    weeks = [Week(date.min, b.whole, b.part) for b in bars]
    geometry = chart(weeks, width, height)
    for bar, drawn in zip(bars, geometry["bars"], strict=True):
        drawn["label"] = bar.label
    return geometry


@get("/staff/utilisation", name="utilisation_index")
async def utilisation_index(request: Request, db: Db, settings: Settings, viewer: Actor | None) -> Template:
    actor = staff(viewer)
    return render(
        request,
        settings,
        actor,
        "staff/utilisation_index.html",
        locations=await catalogue.list_locations(db),
        resources=await catalogue.list_resources(db),
    )


# ---------------------------------------------------------------- per location


@get("/staff/locations/{location_id:int}/utilisation", name="location_utilisation")
async def location_utilisation(
    request: Request, location_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime, start: str = ""
) -> Template:
    actor = staff(viewer)
    first = first_week(now, start)
    location, weeks = await location_use(db, actor, location_id, first, WEEKS_SHOWN)
    return render(
        request,
        settings,
        actor,
        "staff/utilisation.html",
        resource=location,
        weeks=weeks,
        chart=chart(weeks),
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
    location, weeks = await location_use(db, staff(viewer), location_id, first, WEEKS_SHOWN)
    return weeks_csv(f"utilisation-{location.key}-{first.isoformat()}.csv", weeks)


# ---------------------------------------------------------------- garden beds


@get("/staff/garden/utilisation", name="garden_take_up")
async def garden_page(request: Request, db: Db, settings: Settings, viewer: Actor | None) -> Template:
    actor = staff(viewer)
    rows = await garden_take_up(db)
    bars = [Bar(r.season.name, r.beds, r.held) for r in reversed(rows)]
    return render(request, settings, actor, "staff/garden_take_up.html", rows=rows, chart=bar_chart(bars))


@get("/staff/garden/utilisation.csv", name="garden_take_up_csv")
async def garden_csv(db: Db, viewer: Actor | None) -> Response:
    staff(viewer)
    rows = [[r.season.name, r.season.phase, r.beds, r.held, r.offered, f"{r.share:.3f}"] for r in await garden_take_up(db)]
    return csv_file("garden-bed-take-up.csv", ["season", "phase", "beds", "beds_held", "beds_offered", "share_held"], rows)


# ---------------------------------------------------------------- loans per item


@get("/staff/loans/utilisation", name="loans_per_item")
async def loans_page(request: Request, db: Db, settings: Settings, viewer: Actor | None, now: datetime, start: str = "") -> Template:
    actor = staff(viewer)
    first = first_week(now, start)
    items = await loans_per_item(db, actor, first, WEEKS_SHOWN)
    bars = [Bar(item.name, sum(w.available for w in weeks), sum(w.unit_hours for w in weeks)) for item, weeks in items]
    return render(
        request,
        settings,
        actor,
        "staff/loans_per_item.html",
        items=items,
        chart=bar_chart(bars),
        first=first,
        last=first + timedelta(weeks=WEEKS_SHOWN, days=-1),
        previous=first - timedelta(weeks=WEEKS_SHOWN),
        following=first + timedelta(weeks=WEEKS_SHOWN),
    )


@get("/staff/loans/utilisation.csv", name="loans_per_item_csv")
async def loans_csv(db: Db, viewer: Actor | None, now: datetime, start: str = "") -> Response:
    first = first_week(now, start)
    items = await loans_per_item(db, staff(viewer), first, WEEKS_SHOWN)
    rows = [[item.key, w.monday.isoformat(), w.loans, f"{w.unit_hours:.2f}", f"{w.available:.2f}"] for item, weeks in items for w in weeks]
    return csv_file(
        f"loans-per-item-{first.isoformat()}.csv", ["item", "week_starting", "loans", "unit_hours", "available_unit_hours"], rows
    )


ROUTES = [utilisation_index, location_utilisation, location_utilisation_csv, garden_page, garden_csv, loans_page, loans_csv]
