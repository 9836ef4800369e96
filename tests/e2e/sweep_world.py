"""What the page sweep looks at: a booking, a refused series date, a request, loans out and overdue, a waiting list,
an invitation, a garden season open for applications and two room seasons (one open, one published), made through
the services as people would make them, and every page that shows them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select

from booking import service as bookings
from booking.engine import NewBooking
from booking.loans import service as loans
from booking.seasons import allocation, room_allocation, room_service
from booking.seasons import service as seasons
from booking.seasons.room_plans import ActivityPlan, ApplicationPlan, WishPlan
from booking.seasons.room_rules import AgeBand, Window
from booking.seasons.rules import Phase
from booking.series import create_series
from booking.waitlists import offers
from booking.waitlists import service as waitlists
from infra.outbox import Notification
from infra.settings import Settings
from infra.time import local_datetime
from notifications.service import rotate_calendar_feed
from oversight import staff
from people import associations
from people import service as people
from people.actor import OPERATOR, Actor
from people.store import Association, Person
from resources import service as catalogue
from tests.e2e import browser
from tests.e2e.browser import next_weekday


@dataclass(frozen=True)
class Page:
    """A page of the site (its route as the app names it), the address it is looked at under and by whom."""

    route: str
    path: str
    viewer: str  # "anyone", "resident", "admin" or "staff"


async def actors(db) -> dict[str, Actor]:
    async with db.read() as s:
        found = {p.email: p for p in (await s.execute(select(Person))).scalars()}
        club = (await s.execute(select(Association).where(Association.orgnr == "914778271"))).scalar_one()
    if "ole@example.no" not in found:  # the borrower who is late: the others must still be free to borrow
        await people.add_person(db, "ole@example.no", name="Ole Olsen", now=browser.now())
        return await actors(db)
    amina, lars, stine, ole = (found[e] for e in ("amina@example.no", "lars@example.no", "stine@knutepunkt.no", "ole@example.no"))
    return {
        "resident": Actor(amina.id, amina.email, amina.name),
        "admin": Actor(lars.id, lars.email, lars.name, roles={club.id: "admin"}),
        "staff": Actor(stine.id, stine.email, stine.name, grants=OPERATOR),
        "late": Actor(ole.id, ole.email, ole.name),
        "club": club.id,
    }


def at(day, hour: int, minutes: int = 0) -> datetime:
    return local_datetime(day, time(hour, minutes))


async def lend_late(db, who: dict, stock: dict[str, int]) -> None:
    """Ole took the projector out last week and has not brought it back."""
    monday = next_weekday(0, at_least=0) - timedelta(weeks=2)
    wanted = NewBooking(stock["prosjektor"], at(monday, 12), at(monday + timedelta(days=1), 12), "Foredrag")
    loan, _ = await bookings.create_booking(db, who["late"], wanted, now=at(monday, 9))
    await loans.check_out(db, who["staff"], loan.id, at=None, note="", now=at(monday, 12, 5))


async def room_round(db, who: dict, stock: dict[str, int], name: str, *, publish: bool) -> tuple[int, int]:
    """A term of weekly times in the workshop at Grønland; the chess club asks for Thursday evenings."""
    now = browser.now()
    first = next_weekday(0, at_least=21)
    plan = room_service.RoundPlan(name, first, first + timedelta(weeks=8, days=4), room_ids=(stock["gronland-verksted"],),
                                  applications_close=now + timedelta(days=10), holidays=(("Høstferie", first + timedelta(weeks=3),
                                  first + timedelta(weeks=3, days=4)),), hours_cap=4)  # fmt: skip
    season = await room_service.create_round(db, who["staff"], plan, now=now)
    await seasons.move_phase(db, who["staff"], season.id, Phase.APPLICATIONS, now=now)
    chess = ActivityPlan("Sjakkveld for alle", AgeBand.ALL_AGES, 14, 5, "Lars Larsen", "912 34 567")
    wish = WishPlan(0, 120, (Window(3, 17 * 60, 21 * 60), Window(1, 18 * 60, 22 * 60, first_choice=False)), room_id=plan.room_ids[0])
    await room_service.submit(db, who["admin"], season.id, who["club"], ApplicationPlan(True, "3044", (chess,), (wish,)), now=now)
    if not publish:
        return season.id, 0
    await seasons.move_phase(db, who["staff"], season.id, Phase.ALLOCATION, now=now)
    await room_allocation.preview(db, who["staff"], season.id, seed=2027, now=now)
    _, rows = await room_allocation.publish(db, who["staff"], season.id, now=now)
    return season.id, rows[0][0].id


async def garden(db, who: dict) -> int:
    now = browser.now()
    start = at(now.date().replace(year=now.year + 1, month=4, day=20), 0)
    season = await seasons.create_season(db, who["staff"], name="Hagesesongen (sveip)", start=start, end=start.replace(month=10, day=25),
                                         previous_season_id=None, district_postal_codes=None, household_limit=1, offer_days=7, now=now)  # fmt: skip
    await seasons.move_phase(db, who["staff"], season.id, Phase.APPLICATIONS, now=now)
    await seasons.apply(db, who["resident"], season.id, street="Torggata 5", postal_code="3044", preferences={}, now=now)
    return season.id


async def held_bed(db, who: dict) -> tuple[int, int]:
    """A season the year after, drawn and published, in which Ole took the bed he was offered."""
    now = browser.now()
    start = at(now.date().replace(year=now.year + 2, month=4, day=20), 0)
    season = await seasons.create_season(db, who["staff"], name="Hagesesongen året etter (sveip)", start=start,
                                         end=start.replace(month=10, day=25), previous_season_id=None, district_postal_codes=None,
                                         household_limit=1, offer_days=7, now=now)  # fmt: skip
    await seasons.move_phase(db, who["staff"], season.id, Phase.APPLICATIONS, now=now)
    await seasons.apply(db, who["late"], season.id, street="Tollbugata 7", postal_code="3044", preferences={}, now=now)
    await seasons.move_phase(db, who["staff"], season.id, Phase.ALLOCATION, now=now)
    await allocation.preview(db, who["staff"], season.id, seed=2028, now=now)
    _, [row] = await allocation.publish(db, who["staff"], season.id, now=now)
    await offers.accept_offer(db, who["late"], row.booking_id, now=now)
    return season.id, row.booking_id


async def build(db) -> dict:
    """Everything the pages show, made once per run of the sweep."""
    who = await actors(db)
    stock = {r.key: r.id for r in await catalogue.list_resources(db)}
    now, saturday, thursday = browser.now(), next_weekday(5, at_least=10), next_weekday(3, at_least=10)
    mine, _ = await bookings.create_booking(db, who["resident"], NewBooking(stock["tangen-moterom"], at(saturday, 11), at(saturday, 13),
                                                                         "Leksehjelp", attendees=8), now=now)  # fmt: skip
    taken = NewBooking(stock["gronland-verksted"], at(thursday + timedelta(weeks=1), 18), at(thursday + timedelta(weeks=1), 20))
    await bookings.create_booking(db, who["late"], taken, now=now)
    weekly = NewBooking(stock["gronland-verksted"], at(thursday, 18), at(thursday, 20), "Sjakktrening", association_id=who["club"])
    series = await create_series(db, who["admin"], weekly, every_weeks=1, until=thursday + timedelta(weeks=2), now=now)
    await waitlists.join(db, who["resident"], taken, now=now)
    hall = NewBooking(
        stock["gronland-storsalen"], at(saturday, 14), at(saturday, 18), "Kulturkveld", association_id=who["club"], attendees=60
    )
    await bookings.create_booking(db, who["admin"], hall, now=now)  # a request for staff
    monday = next_weekday(0, at_least=3)
    tent = NewBooking(stock["partytelt-3x6"], at(monday, 12), at(monday + timedelta(days=1), 12), "Gatefest")
    await bookings.create_booking(db, who["resident"], tent, now=now)
    await lend_late(db, who, stock)
    await rotate_calendar_feed(db, Settings.from_env(), who["resident"], now=now)
    open_round, _ = await room_round(db, who, stock, "Vår (sveip)", publish=False)
    published, wish = await room_round(db, who, stock, "Høst (sveip)", publish=True)
    gronland = next(loc.id for loc in await catalogue.list_locations(db) if loc.key == "gronland-aktivitetshus")
    return {
        "who": who, "stock": stock, "booking": mine.id, "series": series.series.id, "monday": monday, "garden": await garden(db, who),
        "open_round": open_round, "published": published, "wish": wish, "invitation": await invitation(db, who, who["late"].email),
        "member": await member(db, who), "bed": await held_bed(db, who), "kit": (await catalogue.list_kits(db))[0][0].id,
        "location": gronland, "caretaker": await caretaker(db, who, gronland),
    }  # fmt: skip


async def caretaker(db, who: dict, location_id: int) -> int:
    """Kari looks after Grønland aktivitetshus: location staff there, a role the operator may take back."""
    async with db.read() as s:
        kari = (await s.execute(select(Person).where(Person.email == "kari@knutepunkt.no"))).scalar_one_or_none()
    kari = kari or await people.add_person(db, "kari@knutepunkt.no", name="Kari Vaktmester", now=browser.now())
    await staff.grant(db, who["staff"], kari.id, "location_staff", location_id, now=browser.now())
    return kari.id


async def invitation(db, who: dict, email: str) -> str:
    """The chess club invites someone; the path in the invitation mail."""
    await associations.invite_member(db, who["admin"], who["club"], email, "member", now=browser.now())
    async with db.read() as s:
        query = select(Notification).where(Notification.kind == "association_invitation").order_by(Notification.id.desc())
        return (await s.execute(query)).scalars().first().payload["path"]


async def member(db, who: dict) -> int:
    """Nora has joined the chess club: a member her admin may remove."""
    nora = await people.add_person(db, "nora@example.no", name="Nora Nilsen", now=browser.now())
    path = await invitation(db, who, nora.email)
    await associations.accept_invitation(db, Actor(nora.id, nora.email, nora.name), path.rsplit("/", 1)[-1], now=browser.now())
    return nora.id


STAFF_LISTS = ("requests", "overdue", "catalogue", "utilisation", "garden/utilisation", "loans/utilisation", "seasons", "room-seasons")


def at_route(route: str, viewer: str, query: str = "", **ids: object) -> Page:
    """A page by its route, with the ids put in its place-holders: "/bookings/{booking_id:int}" and booking_id=7."""
    return Page(route, re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(ids[m[1]]), route) + query, viewer)


def pages(world: dict) -> list[Page]:
    """Every page of the site with something on it, as the person who would look at it, and the error pages."""
    s, club, monday = world["stock"], world["who"]["club"], world["monday"].isoformat()
    season, bed = world["bed"]
    room, item, workshop = s["knutepunkt-moterom"], s["stol"], s["gronland-verksted"]
    rounds, member = "/associations/{association_id:int}/room-seasons/{season_id:int}", "/associations/{association_id:int}/members"
    return [
        *(at_route(route, "anyone") for route in ("/", "/sign-in", "/sign-in/sent", "/garden", "/rooms/free")),
        at_route("/resources/{resource_id:int}", "anyone", resource_id=room),
        at_route("/resources/{resource_id:int}", "anyone", resource_id=item),
        at_route("/auth/verify", "anyone", "?token=no-such-link"),
        Page("unknown", "/no-such-page", "anyone"),
        Page("refused", f"/bookings/{world['booking']}", "admin"),  # someone else's booking
        *(at_route(route, "resident") for route in ("/garden", "/my/bookings", "/my/waitlists", "/my/profile", "/my/calendar-feed/revoke")),
        at_route("/bookings/{booking_id:int}", "resident", booking_id=world["booking"]),
        at_route("/bookings/{booking_id:int}/cancel", "resident", booking_id=world["booking"]),
        *(at_route("/resources/{resource_id:int}/book", "resident", resource_id=r) for r in (s["tangen-moterom"], s["klappbord"])),
        at_route("/resources/{resource_id:int}/wait", "resident", resource_id=workshop),
        at_route("/rooms/free", "resident", f"?date={monday}&from=18:00&to=20:00&seats=10"),
        at_route("/kits/{kit_id:int}/borrow", "resident", kit_id=world["kit"]),
        *(at_route(route, "late") for route in ("/garden", "/my/bookings")),
        at_route("/garden/{season_id:int}/beds/{booking_id:int}/give-back", "late", season_id=season, booking_id=bed),
        Page("/invitations/{token:str}", world["invitation"], "late"),
        at_route("/associations", "admin"),
        at_route("/associations/{association_id:int}", "admin", association_id=club),
        at_route(member, "admin", association_id=club),
        at_route(member + "/{person_id:int}/remove", "admin", association_id=club, person_id=world["member"]),
        at_route("/series/{series_id:int}", "admin", series_id=world["series"]),
        at_route("/series/{series_id:int}/cancel", "admin", series_id=world["series"]),
        at_route("/resources/{resource_id:int}/book", "admin", resource_id=workshop),
        at_route("/associations/{association_id:int}/room-seasons", "admin", association_id=club),
        at_route(rounds, "admin", association_id=club, season_id=world["open_round"]),
        at_route(rounds + "/withdraw", "admin", association_id=club, season_id=world["open_round"]),
        at_route(rounds, "admin", association_id=club, season_id=world["published"]),
        at_route(
            rounds + "/wishes/{wish_id:int}/give-back", "admin", association_id=club, season_id=world["published"], wish_id=world["wish"]
        ),
        *(at_route(f"/staff/{name}", "staff") for name in STAFF_LISTS),
        at_route("/staff/handovers", "staff", f"?day={monday}"),
        *(
            at_route(f"/staff/resources/{{resource_id:int}}/{name}", "staff", resource_id=workshop)
            for name in ("closures", "edit", "retire", "utilisation")
        ),
        at_route("/staff/resources/{resource_id:int}/edit", "staff", resource_id=item),
        at_route("/staff/locations/{location_id:int}/closures", "staff", location_id=world["location"]),
        at_route("/staff/locations/{location_id:int}/utilisation", "staff", location_id=world["location"]),
        at_route("/staff/seasons/{season_id:int}", "staff", season_id=world["garden"]),
        *(at_route("/staff/room-seasons/{season_id:int}", "staff", season_id=n) for n in (world["open_round"], world["published"])),
        at_route("/staff/room-seasons/{season_id:int}/report", "staff", season_id=world["published"]),
        *(at_route(route, "staff") for route in ("/staff/audit", "/staff/roles")),
        at_route("/staff/roles/revoke", "staff", f"?person={world['caretaker']}&role=location_staff&location={world['location']}"),
        at_route("/staff/audit", "staff", f"?kind=booking&location={world['location']}"),
        at_route("/privacy", "anyone"),
        at_route("/my/erase", "resident"),
    ]
