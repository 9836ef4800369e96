"""Utilisation per resource: booked hours against available hours per week, as a chart, a table and a CSV file."""

from __future__ import annotations

import csv
import dataclasses
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from litestar import Request, Response, get
from litestar.response import Template

from booking import service as bookings
from booking.rules import BookingStatus
from config.database import Db
from config.settings import Settings
from people.actor import Actor
from resources import rules as resource_rules
from resources import service as catalogue
from resources.rules import MIDNIGHT, Interval, ResourceKind, local_datetime, open_intervals
from web.frame import render
from web.pages import monday_of, today
from web.staff_pages import staff

# Held and used capacity: a request holds its slot, a returned loan was used.
COUNTED = frozenset({BookingStatus.REQUESTED, BookingStatus.CONFIRMED, BookingStatus.CHECKED_OUT,
                     BookingStatus.OVERDUE, BookingStatus.RETURNED})
WEEKS_BEFORE, WEEKS_AFTER = 4, 4


@dataclass(frozen=True)
class Week:
    monday: date
    available: float  # hours open for booking (unit-hours for pooled equipment)
    booked: float

    @property
    def share(self) -> float:
        return self.booked / self.available if self.available else 0.0


def hours(interval: Interval) -> float:
    return interval.duration.total_seconds() / 3600


def weekly_use(policy: resource_rules.Policy, units: int, taken: list[tuple[Interval, int]], mondays: list[date], *, pooled: bool) -> list[Week]:
    """Each week's bookable hours and the booked hours that fall inside it, both times the units.

    A room is bookable in its open windows; a loan runs through nights and closed days, so pooled
    equipment is measured against the whole week, or a weekend loan would seem to use more than exists.
    """
    weeks = []
    for monday in mondays:
        span = Interval(local_datetime(monday, MIDNIGHT), local_datetime(monday + timedelta(days=7), MIDNIGHT))
        open_parts = [span] if pooled else open_intervals(policy, span)
        available = sum(hours(i) for i in open_parts) * units
        booked = sum(hours(part) * n for interval, n in taken if (part := interval.intersection(span)) and not part.is_empty)
        weeks.append(Week(monday, available, booked))
    return weeks


async def use_of(db: Db, actor: Actor, resource_id: int, first: date, count: int) -> tuple[object, list[Week]]:
    detail = await catalogue.get_resource(db, resource_id)
    closures = tuple(resource_rules.Closure(c.start, c.end, c.reason) for c in detail.closures)
    policy = dataclasses.replace(detail.policy, closures=closures)
    rows = await bookings.list_bookings(db, actor, resource_id=resource_id)
    taken = [(Interval(b.start, b.end), b.quantity) for b in rows if BookingStatus(b.status) in COUNTED]
    pooled = detail.resource.kind == ResourceKind.EQUIPMENT
    units = (detail.resource.stock or 0) if pooled else 1
    mondays = [first + timedelta(weeks=i) for i in range(count)]
    return detail.resource, weekly_use(policy, units, taken, mondays, pooled=pooled)


def chart(weeks: list[Week], width: int = 640, height: int = 240) -> dict:
    """Bar geometry for the SVG: available hours as a pale bar, booked hours as a dark one in front of it."""
    top = max([w.available for w in weeks] + [w.booked for w in weeks] + [1.0])
    left, bottom, inner = 48, 32, height - 48
    step = (width - left - 8) / max(len(weeks), 1)
    bars = []
    for i, week in enumerate(weeks):
        x = left + i * step + step * 0.15
        bars.append({
            "x": round(x, 1), "w": round(step * 0.7, 1), "week": week,
            "available_y": round(height - bottom - inner * week.available / top, 1), "available_h": round(inner * week.available / top, 1),
            "booked_y": round(height - bottom - inner * week.booked / top, 1), "booked_h": round(inner * week.booked / top, 1),
        })
    return {"width": width, "height": height, "bars": bars, "top": top, "base": height - bottom, "left": left}


def first_week(now: datetime, start: str) -> date:
    try:
        return monday_of(date.fromisoformat(start))
    except ValueError:
        return monday_of(today(now)) - timedelta(weeks=WEEKS_BEFORE)


@get("/staff/resources/{resource_id:int}/utilisation", name="utilisation")
async def utilisation(request: Request, resource_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime, start: str = "") -> Template:
    actor = staff(viewer)
    first = first_week(now, start)
    resource, weeks = await use_of(db, actor, resource_id, first, WEEKS_BEFORE + WEEKS_AFTER)
    return render_page(request, settings, actor, resource, weeks, first)


def render_page(request: Request, settings: Settings, actor: Actor, resource: object, weeks: list[Week], first: date) -> Template:
    return render(request, settings, actor, "staff/utilisation.html", resource=resource, weeks=weeks, chart=chart(weeks),
                  first=first, previous=first - timedelta(weeks=len(weeks)), following=first + timedelta(weeks=len(weeks)))


@get("/staff/resources/{resource_id:int}/utilisation.csv", name="utilisation_csv")
async def utilisation_csv(resource_id: int, db: Db, viewer: Actor | None, now: datetime, start: str = "") -> Response:
    actor = staff(viewer)
    first = first_week(now, start)
    resource, weeks = await use_of(db, actor, resource_id, first, WEEKS_BEFORE + WEEKS_AFTER)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["week_starting", "available_hours", "booked_hours", "share"])
    for w in weeks:
        writer.writerow([w.monday.isoformat(), f"{w.available:.2f}", f"{w.booked:.2f}", f"{w.share:.3f}"])
    name = f"utilisation-{getattr(resource, 'key', resource_id)}-{first.isoformat()}.csv"
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


ROUTES = [utilisation, utilisation_csv]
