"""Room seasons end to end through the HTTP app: a round set up, applications, allocation by rule, publication as
held weekly series, confirm and give back, the offer of a slot given back, and renewal of a slot that was used."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from booking.seasons.room_store import RoomApplication, RoomWish
from booking.store import Booking
from infra.outbox import Notification
from infra.time import OSLO
from tests import builders
from tests.api.test_bookings import assert_problem

TERM = {"first_day": "2027-08-16", "last_day": "2027-12-17"}
AUTUMN_BREAK = {"name": "Høstferie", "first": "2027-10-04", "last": "2027-10-08"}


@pytest.fixture
async def world(db):
    """Two rooms at Huset (weekdays 17–22, weekends 10–20), staff, and three associations with an admin each."""
    staff = await builders.person(db, "staff@knutepunkt.no", staff=True)
    small = await builders.room(db, key="lillesalen", capacity=20)
    big = await builders.room(db, key="storsalen", capacity=60, features=("projector",))
    admins = [await builders.person(db, f"admin{n}@lag.no") for n in range(3)]
    member = await builders.person(db, "member@lag.no")
    names = (("Strømsø barnekor", "911111111"), ("Strømsø sjakklubb", "922222222"), ("Drammen bridgeklubb", "933333333"))
    ids = []
    for (name, orgnr), admin in zip(names, admins, strict=True):
        members = {admin[0]: "admin"} | ({member[0]: "member"} if not ids else {})
        ids.append(await builders.association(db, name, orgnr, members))
    return {"staff": staff, "rooms": (small, big), "admins": admins, "member": member, "associations": ids}


async def round_(client, world, *, phase="applications", **fields) -> dict:
    body = {"name": "Høst 2027", **TERM, "room_ids": list(world["rooms"]), "holidays": [AUTUMN_BREAK], "hours_cap": 6,
            "applications_close": "2027-05-01T00:00:00+02:00", **fields}  # fmt: skip
    created = await client.post("/api/v1/room-seasons", json=body, headers=world["staff"][1])
    assert created.status_code == 201, created.text
    sid = created.json()["id"]
    for step in {"draft": [], "renewal": ["renewal"], "applications": ["applications"]}[phase]:
        moved = await client.post(f"/api/v1/seasons/{sid}/phase", json={"phase": step}, headers=world["staff"][1])
        assert moved.status_code == 200, moved.text
    return created.json()


def activity(name="Øving", *, under_20=0, participants=15, age_band="adults") -> dict:
    return {"name": name, "age_band": age_band, "participants": participants, "under_20": under_20,
            "responsible": {"name": "Kari Nordmann", "phone": "+47 912 34 567"}}  # fmt: skip


def wish(room_id, *windows, minutes=120, **extra) -> dict:
    return {"activity": 0, "room_id": room_id, "minutes": minutes, "windows": list(windows), **extra}


def window(weekday, start, end, first_choice=True) -> dict:
    return {"weekday": weekday, "start": start, "end": end, "first_choice": first_choice}


async def apply(client, world, sid, n, wishes, *, postal_code="3044", non_profit=True, act=None, who=None):
    body = {"postal_code": postal_code, "non_profit": non_profit, "activities": [act or activity()], "wishes": wishes}
    auth = (who or world["admins"][n])[1]
    return await client.put(f"/api/v1/room-seasons/{sid}/applications/{world['associations'][n]}", json=body, headers=auth)


async def three_applications(client, world, sid):
    small = world["rooms"][0]
    tuesday = window(1, "17:00", "21:00")
    kids = activity("Barnekor", under_20=24, participants=25, age_band="children")
    assert (await apply(client, world, sid, 0, [wish(small, tuesday)], act=kids)).status_code == 200
    assert (await apply(client, world, sid, 1, [wish(small, tuesday)])).status_code == 200
    bridge = [wish(small, tuesday), wish(small, window(3, "17:00", "21:00", first_choice=False))]
    assert (await apply(client, world, sid, 2, bridge, postal_code="3015")).status_code == 200


def by_association(items: list[dict]) -> dict[int, list[dict]]:
    found: dict[int, list[dict]] = {}
    for item in items:
        found.setdefault(item["association_id"], []).append(item)
    return {k: sorted(v, key=lambda w: w["rank"]) for k, v in found.items()}


async def allocate(client, world, sid, seed=2027) -> dict:
    await client.post(f"/api/v1/seasons/{sid}/phase", json={"phase": "allocation"}, headers=world["staff"][1])
    run = await client.post(f"/api/v1/room-seasons/{sid}/allocation", json={"seed": seed}, headers=world["staff"][1])
    assert run.status_code == 200, run.text
    return run.json()


async def test_tiers_decide_the_round_and_every_wish_is_explained(client, world):
    sid = (await round_(client, world))["id"]
    await three_applications(client, world, sid)
    kids, chess, bridge = world["associations"]
    proposal = by_association((await allocate(client, world, sid))["items"])
    assert [w["tier"] for w in (proposal[kids][0], proposal[chess][0], proposal[bridge][0])] == [1, 2, 3]
    assert proposal[kids][0]["slots"] == [
        {"room_id": world["rooms"][0], "weekday": 1, "start": "17:00", "end": "19:00", "every_weeks": 1, "parity": 0}
    ]
    assert proposal[chess][0]["slots"][0]["start"] == "19:00" and proposal[chess][0]["outcome"] == "granted_first_choice"
    assert proposal[bridge][0]["outcome"] == "taken_by_higher_priority" and proposal[bridge][0]["slots"] == []
    assert proposal[bridge][1]["outcome"] == "granted" and proposal[bridge][1]["slots"][0]["weekday"] == 3
    assert all(w["reason"] for ws in proposal.values() for w in ws)
    again = by_association((await allocate(client, world, sid))["items"])
    assert again == proposal  # the same seed and applications give the same proposal


async def test_a_member_sees_the_outcome_but_not_the_audit_or_the_responsible_adults_phone(client, world):
    sid = (await round_(client, world))["id"]
    await three_applications(client, world, sid)
    await allocate(client, world, sid)
    mine = (await client.get(f"/api/v1/room-seasons/{sid}/applications", headers=world["member"][1])).json()["items"]
    assert [a["association_id"] for a in mine] == [world["associations"][0]]
    assert mine[0]["activities"][0]["responsible"] is None and "reason" not in mine[0]["wishes"][0]
    assert mine[0]["wishes"][0]["outcome"] == "granted_first_choice"
    every = (await client.get(f"/api/v1/room-seasons/{sid}/applications", headers=world["staff"][1])).json()["items"]
    assert len(every) == 3 and every[0]["activities"][0]["responsible"]["phone"] == "+47 912 34 567"


def _local_dates(bookings) -> list[date]:
    return sorted(b.start.astimezone(OSLO).date() for b in bookings)


async def test_publishing_makes_each_grant_a_weekly_series_over_the_term_less_the_holiday_week(client, db, world):
    sid = (await round_(client, world))["id"]
    await three_applications(client, world, sid)
    await allocate(client, world, sid)
    published = await client.post(f"/api/v1/room-seasons/{sid}/allocation/publish", headers=world["staff"][1])
    assert published.status_code == 200, published.text
    kids_wish = by_association(published.json()["items"])[world["associations"][0]][0]
    assert kids_wish["status"] == "offered" and len(kids_wish["series_ids"]) == 1
    async with db.read() as s:
        held = list((await s.execute(select(Booking).where(Booking.series_id == kids_wish["series_ids"][0]))).scalars())
    tuesdays = [date(2027, 8, 17) + timedelta(weeks=n) for n in range(18)]
    assert _local_dates(held) == [d for d in tuesdays if d != date(2027, 10, 5)]  # høstferie not booked
    assert {b.status for b in held} == {"offered"}
    assert {(b.start.astimezone(OSLO).hour, b.end.astimezone(OSLO).hour) for b in held} == {(17, 19)}  # across the October change
    async with db.read() as s:
        kinds = list((await s.execute(select(Notification.kind, Notification.person_id))).all())
    results = [p for k, p in kinds if k == "room_season_result"]
    assert sorted(results) == sorted(a[0] for a in world["admins"])  # one result mail per association
    assert sum(1 for k, _ in kinds if k == "room_slot_offered") == 3  # one invitation per granted slot
    assert_problem(await client.post(f"/api/v1/room-seasons/{sid}/allocation/publish", headers=world["staff"][1]), 409, "already_published")


async def test_a_slot_given_back_is_offered_to_the_refused_wish_that_wanted_it(client, db, world):
    sid = (await round_(client, world))["id"]
    await three_applications(client, world, sid)
    await allocate(client, world, sid)
    items = by_association((await client.post(f"/api/v1/room-seasons/{sid}/allocation/publish", headers=world["staff"][1])).json()["items"])
    kids, chess, bridge = (items[a][0] for a in world["associations"])
    confirmed = await client.post(f"/api/v1/room-seasons/{sid}/wishes/{kids['id']}/confirm", headers=world["admins"][0][1])
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    assert_problem(
        await client.post(f"/api/v1/room-seasons/{sid}/wishes/{chess['id']}/confirm", headers=world["admins"][2][1]), 403, "forbidden"
    )
    back = await client.post(
        f"/api/v1/room-seasons/{sid}/wishes/{chess['id']}/give-back", json={"reason": "Vi flytter"}, headers=world["admins"][1][1]
    )
    assert back.status_code == 200 and back.json()["status"] == "given_back"
    async with db.read() as s:
        statuses = {b.status for b in (await s.execute(select(Booking).where(Booking.series_id == kids["series_ids"][0]))).scalars()}
        bridge_row = await s.get(RoomWish, bridge["id"])
        given = {b.status for b in (await s.execute(select(Booking).where(Booking.series_id == chess["series_ids"][0]))).scalars()}
    assert statuses == {"confirmed"} and given == {"cancelled"}
    assert bridge_row.status == "offered" and bridge_row.outcome == "offered_after_give_back"
    assert bridge_row.granted_slots[0].start == 19 * 60 and bridge_row.granted_slots[0].weekday == 1


async def test_an_unconfirmed_slot_lapses_after_its_deadline_and_passes_on(client, db, world, clock):
    from booking.seasons.room_answers import lapse_unconfirmed

    sid = (await round_(client, world, confirm_days=7))["id"]
    await three_applications(client, world, sid)
    await allocate(client, world, sid)
    await client.post(f"/api/v1/room-seasons/{sid}/allocation/publish", headers=world["staff"][1])
    assert await lapse_unconfirmed(db, now=clock.now + timedelta(days=6)) == 0  # not yet
    later = clock.now + timedelta(days=8)
    assert await lapse_unconfirmed(db, now=later) == 1
    async with db.read() as s:
        rows = list((await s.execute(select(RoomWish))).scalars())
        lapsed_series = [i for w in rows if w.status == "lapsed" for i in w.series_ids]
        lapsed_bookings = {b.status for b in (await s.execute(select(Booking).where(Booking.series_id.in_(lapsed_series)))).scalars()}
    assert sorted(w.status for w in rows) == ["lapsed", "lapsed", "lapsed", "offered"]
    assert lapsed_bookings == {"cancelled"}
    passed_on = next(
        w for w in rows if w.outcome == "offered_after_give_back"
    )  # the bridge club's refused Tuesday, offered when the Tuesday lapsed
    assert passed_on.confirm_by == later + timedelta(days=7) and passed_on.granted_slots[0].weekday == 1


async def test_bad_applications_are_refused_with_their_own_code_and_nothing_is_written(client, db, world, clock):
    sid = (await round_(client, world))["id"]
    small = world["rooms"][0]
    morning = wish(small, window(1, "08:00", "11:00"))
    assert_problem(await apply(client, world, sid, 0, [morning]), 422, "wish_outside_room_windows")
    fixed = window(1, "17:00", "19:00")
    assert_problem(await apply(client, world, sid, 0, [wish(small, fixed), wish(small, fixed)]), 422, "wishes_overlap")
    assert_problem(await apply(client, world, sid, 0, [wish(small, fixed)], who=world["member"]), 403, "not_an_admin")
    clock.now = datetime(2027, 5, 2, tzinfo=UTC)
    assert_problem(await apply(client, world, sid, 0, [wish(small, fixed)]), 409, "application_window_closed")
    async with db.read() as s:
        assert (await s.execute(select(func.count()).select_from(RoomApplication))).scalar_one() == 0
        assert (await s.execute(select(func.count()).select_from(RoomWish))).scalar_one() == 0


async def test_an_adjustment_onto_a_taken_slot_is_refused_and_a_free_one_is_kept_with_its_reason(client, world):
    sid = (await round_(client, world))["id"]
    await three_applications(client, world, sid)
    items = by_association((await allocate(client, world, sid))["items"])
    bridge = items[world["associations"][2]][0]
    onto = {"room_id": world["rooms"][0], "weekday": 1, "start": "18:00"}
    taken = await client.post(
        f"/api/v1/room-seasons/{sid}/allocation/adjust",
        json={"wish_id": bridge["id"], "slots": [onto], "reason": "x"},
        headers=world["staff"][1],
    )
    assert_problem(taken, 409, "season_slot_taken")
    free = {"room_id": world["rooms"][1], "weekday": 1, "start": "17:00"}
    moved = await client.post(
        f"/api/v1/room-seasons/{sid}/allocation/adjust",
        json={"wish_id": bridge["id"], "slots": [free], "reason": "Storsalen er ledig", "message": "Dere får storsalen."},
        headers=world["staff"][1],
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["outcome"] == "moved_by_staff" and "Storsalen er ledig" in moved.json()["reason"]
    unexplained = await client.post(
        f"/api/v1/room-seasons/{sid}/allocation/adjust", json={"wish_id": bridge["id"], "slots": []}, headers=world["staff"][1]
    )
    assert_problem(unexplained, 422, "reason_required")


async def test_a_holder_who_used_the_slot_keeps_it_first_and_one_who_did_not_is_told_so(client, db, world, clock):
    autumn = (await round_(client, world))["id"]
    await three_applications(client, world, autumn)
    await allocate(client, world, autumn)
    items = by_association(
        (await client.post(f"/api/v1/room-seasons/{autumn}/allocation/publish", headers=world["staff"][1])).json()["items"]
    )
    kids, chess = items[world["associations"][0]][0], items[world["associations"][1]][0]
    for n, w in ((0, kids), (1, chess)):
        await client.post(f"/api/v1/room-seasons/{autumn}/wishes/{w['id']}/confirm", headers=world["admins"][n][1])
    async with db.write() as s:  # the chess club cancelled most of its evenings
        for b in (await s.execute(select(Booking).where(Booking.series_id == chess["series_ids"][0]))).scalars():
            if b.start < datetime(2027, 11, 1, tzinfo=UTC):
                b.status = "cancelled"
    clock.now = datetime(2027, 11, 22, 9, tzinfo=UTC)
    spring = (await round_(client, world, phase="renewal", name="Vår 2028", first_day="2028-01-03", last_day="2028-06-16",
                           holidays=[], applications_close="2028-01-01T00:00:00+01:00", previous_season_id=autumn))["id"]  # fmt: skip
    renewed = await client.post(f"/api/v1/room-seasons/{spring}/renewals", json={"wish_id": kids["id"]}, headers=world["admins"][0][1])
    assert renewed.status_code == 201, renewed.text
    refused = await client.post(f"/api/v1/room-seasons/{spring}/renewals", json={"wish_id": chess["id"]}, headers=world["admins"][1][1])
    assert_problem(refused, 409, "not_used_enough")
    await client.post(f"/api/v1/seasons/{spring}/phase", json={"phase": "applications"}, headers=world["staff"][1])
    rival = activity("Ungdomsteater", under_20=20, participants=20, age_band="youth")
    assert (await apply(client, world, spring, 2, [wish(world["rooms"][0], window(1, "17:00", "19:00"))], act=rival)).status_code == 200
    proposal = by_association((await allocate(client, world, spring))["items"])
    assert proposal[world["associations"][0]][0]["outcome"] == "renewed"
    assert proposal[world["associations"][2]][0]["outcome"] == "taken_by_higher_priority"


async def test_the_report_counts_weekly_hours_per_tier_and_the_share_of_first_wishes(client, world):
    sid = (await round_(client, world))["id"]
    await three_applications(client, world, sid)
    await allocate(client, world, sid)
    report = (await client.get(f"/api/v1/room-seasons/{sid}/report", headers=world["staff"][1])).json()
    assert report["hours_by_tier"] == {"1": 2.0, "2": 2.0, "3": 2.0}
    assert report["first_wishes"] == 3 and report["first_wishes_granted"] == 2
    small = next(r for r in report["rooms"] if r["room_id"] == world["rooms"][0])
    assert small["allocated_hours"] == 6.0 and small["open_hours"] == 5 * 5 + 2 * 10
    csv = await client.get(f"/api/v1/room-seasons/{sid}/report.csv", headers=world["staff"][1])
    assert csv.headers["content-type"].startswith("text/csv") and "Strømsø barnekor,2.0" in csv.text
    assert_problem(await client.get(f"/api/v1/room-seasons/{sid}/report", headers=world["admins"][0][1]), 403, "staff_only")


async def test_the_gardens_use_cases_refuse_a_room_season(client, world):
    sid = (await round_(client, world))["id"]
    home = {"street": "Tordenskiolds gate 12B", "postal_code": "3044"}
    applied = await client.post(f"/api/v1/seasons/{sid}/applications", json=home, headers=world["admins"][0][1])
    assert_problem(applied, 409, "not_a_garden_season")


async def test_a_garden_season_asked_for_as_a_room_season_is_not_found(client, world):
    garden = {"name": "Hagesesong 2027", "start": "2027-04-15T00:00:00+02:00", "end": "2027-11-01T00:00:00+01:00"}
    sid = (await client.post("/api/v1/seasons", json=garden, headers=world["staff"][1])).json()["id"]
    for path in ("", "/applications", "/report"):
        assert_problem(await client.get(f"/api/v1/room-seasons/{sid}{path}", headers=world["staff"][1]), 404, "not_a_room_season")
