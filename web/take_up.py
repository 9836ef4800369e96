"""Utilisation beyond one resource: per location (its rooms summed), garden-bed take-up per season, loans per item."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from litestar import Request, Response, get
from litestar.response import Template

from booking import season_store, seasons
from booking import service as bookings
from booking.rules import BookingStatus
from config.database import Db
from config.settings import Settings
from people.actor import Actor
from resources import service as catalogue
from resources.rules import MIDNIGHT, Interval, local_datetime
from web.frame import render
from web.staff_pages import staff
from web.utilisation import COUNTED, WEEKS_AFTER, WEEKS_BEFORE, Week, chart, first_week, hours, use_of

WEEK_HOURS = 7 * 24.0


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


def csv_file(name: str, header: list[str], rows: list[list[object]]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'})


def mondays_from(first: date) -> list[date]:
    return [first + timedelta(weeks=i) for i in range(WEEKS_BEFORE + WEEKS_AFTER)]


@get("/staff/utilisation", name="utilisation_index")
async def utilisation_index(request: Request, db: Db, settings: Settings, viewer: Actor | None) -> Template:
    actor = staff(viewer)
    return render(request, settings, actor, "staff/utilisation_index.html", locations=await catalogue.list_locations(db),
                  resources=await catalogue.list_resources(db))


# ---------------------------------------------------------------- per location


def summed(per_room: list[list[Week]], mondays: list[date]) -> list[Week]:
    """The weeks of several rooms added up: available hours with available hours, booked with booked."""
    return [Week(monday, sum(r[i].available for r in per_room), sum(r[i].booked for r in per_room)) for i, monday in enumerate(mondays)]


async def location_use(db: Db, actor: Actor, location_id: int, first: date) -> tuple[object, list[Week]]:
    location = await catalogue.get_location(db, location_id)
    mondays = mondays_from(first)
    rooms = await catalogue.list_resources(db, kind="room", location_id=location_id)
    per_room = [(await use_of(db, actor, room.id, first, len(mondays)))[1] for room in rooms]
    return location, summed(per_room, mondays)


@get("/staff/locations/{location_id:int}/utilisation", name="location_utilisation")
async def location_utilisation(request: Request, location_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime, start: str = "") -> Template:
    actor = staff(viewer)
    first = first_week(now, start)
    location, weeks = await location_use(db, actor, location_id, first)
    return render(request, settings, actor, "staff/utilisation.html", resource=location, weeks=weeks, chart=chart(weeks), first=first,
                  previous=first - timedelta(weeks=len(weeks)), following=first + timedelta(weeks=len(weeks)), summed_rooms=True,
                  csv_url=f"/staff/locations/{location_id}/utilisation.csv", crumb="/staff/utilisation")


@get("/staff/locations/{location_id:int}/utilisation.csv", name="location_utilisation_csv")
async def location_utilisation_csv(location_id: int, db: Db, viewer: Actor | None, now: datetime, start: str = "") -> Response:
    first = first_week(now, start)
    location, weeks = await location_use(db, staff(viewer), location_id, first)
    rows = [[w.monday.isoformat(), f"{w.available:.2f}", f"{w.booked:.2f}", f"{w.share:.3f}"] for w in weeks]
    return csv_file(f"utilisation-{location.key}-{first.isoformat()}.csv", ["week_starting", "available_hours", "booked_hours", "share"], rows)


# ---------------------------------------------------------------- garden beds


@dataclass(frozen=True)
class TakeUp:
    """A season's beds: how many are held (accepted or renewed) and how many are offered and not yet answered."""

    season: object
    beds: int
    held: int
    offered: int

    @property
    def share(self) -> float:
        return self.held / self.beds if self.beds else 0.0


def take_up_of(season: object, beds: int, holdings: list) -> TakeUp:
    held = {b.resource_id for b in holdings if b.status != BookingStatus.OFFERED.value}
    offered = {b.resource_id for b in holdings if b.status == BookingStatus.OFFERED.value} - held
    return TakeUp(season, beds, len(held), len(offered))


async def garden_take_up(db: Db) -> list[TakeUp]:
    beds = len(await catalogue.list_resources(db, kind="garden_bed"))
    found = []
    for season in await seasons.list_seasons(db):
        async with db.read() as s:
            found.append(take_up_of(season, beds, await season_store.bed_holdings(s, season)))
    return found


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


@dataclass(frozen=True)
class ItemWeek:
    monday: date
    loans: int  # loans that run at some time in the week
    unit_hours: float  # units lent times hours, inside the week
    available: float  # the item's stock times the week's hours


def item_weeks(stock: int, taken: list[tuple[Interval, int]], mondays: list[date]) -> list[ItemWeek]:
    found = []
    for monday in mondays:
        span = Interval(local_datetime(monday, MIDNIGHT), local_datetime(monday + timedelta(days=7), MIDNIGHT))
        parts = [(part, n) for interval, n in taken if (part := interval.intersection(span)) and not part.is_empty]
        found.append(ItemWeek(monday, len(parts), sum(hours(p) * n for p, n in parts), stock * hours(span)))
    return found


async def loans_per_item(db: Db, actor: Actor, first: date) -> list[tuple[object, list[ItemWeek]]]:
    mondays = mondays_from(first)
    found = []
    for item in await catalogue.list_resources(db, kind="equipment"):
        rows = await bookings.list_bookings(db, actor, resource_id=item.id)
        taken = [(Interval(b.start, b.end), b.quantity) for b in rows if BookingStatus(b.status) in COUNTED]
        found.append((item, item_weeks(item.stock or 0, taken, mondays)))
    return found


@get("/staff/loans/utilisation", name="loans_per_item")
async def loans_page(request: Request, db: Db, settings: Settings, viewer: Actor | None, now: datetime, start: str = "") -> Template:
    actor = staff(viewer)
    first = first_week(now, start)
    items = await loans_per_item(db, actor, first)
    bars = [Bar(item.name, sum(w.available for w in weeks), sum(w.unit_hours for w in weeks)) for item, weeks in items]
    span = WEEKS_BEFORE + WEEKS_AFTER
    return render(request, settings, actor, "staff/loans_per_item.html", items=items, chart=bar_chart(bars), first=first,
                  last=first + timedelta(weeks=span, days=-1), previous=first - timedelta(weeks=span), following=first + timedelta(weeks=span))


@get("/staff/loans/utilisation.csv", name="loans_per_item_csv")
async def loans_csv(db: Db, viewer: Actor | None, now: datetime, start: str = "") -> Response:
    first = first_week(now, start)
    rows = [[item.key, w.monday.isoformat(), w.loans, f"{w.unit_hours:.2f}", f"{w.available:.2f}"]
            for item, weeks in await loans_per_item(db, staff(viewer), first) for w in weeks]
    return csv_file(f"loans-per-item-{first.isoformat()}.csv", ["item", "week_starting", "loans", "unit_hours", "available_unit_hours"], rows)


ROUTES = [utilisation_index, location_utilisation, location_utilisation_csv, garden_page, garden_csv, loans_page, loans_csv]
