"""Garden-bed seasons end to end through the HTTP app: renewals, applications, lottery, offers, beds given back."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from infra.outbox import Notification
from tests import builders
from tests.api.test_bookings import assert_problem, book

SEASON = {"name": "Hagesesong 2027", "start": "2027-04-15T00:00:00+02:00", "end": "2027-11-01T00:00:00+01:00"}
LAST_SEASON = {"name": "Hagesesong 2026", "start": "2026-04-15T00:00:00+02:00", "end": "2026-11-01T00:00:00+01:00"}
HOME = {"street": "Tordenskiolds gate 12B", "postal_code": "3044"}


@pytest.fixture
async def carol(db):
    return await builders.person(db, "carol@example.no")


@pytest.fixture
async def dave(db):
    return await builders.person(db, "dave@example.no")


@pytest.fixture
async def two_beds(db) -> list[int]:
    return [
        await builders.room(db, key=f"pallekarm-{n:02}", kind="garden_bed", capacity=None, features=features)
        for n, features in ((1, ()), (2, ("raised", "wheelchair_reachable")))
    ]


async def season(client, staff, *, phase: str = "applications", **fields) -> dict:
    created = await client.post("/api/v1/seasons", json={**SEASON, **fields}, headers=staff[1])
    assert created.status_code == 201, created.text
    if phase != "draft":
        await to_phase(client, staff, created.json()["id"], phase)
    return created.json()


async def to_phase(client, staff, season_id: int, phase: str) -> dict:
    moved = await client.post(f"/api/v1/seasons/{season_id}/phase", json={"phase": phase}, headers=staff[1])
    assert moved.status_code == 200, moved.text
    return moved.json()


async def apply(client, person, season_id: int, street: str, postal_code: str = "3044", **preferences):
    body = {"street": street, "postal_code": postal_code, "preferences": preferences}
    return await client.post(f"/api/v1/seasons/{season_id}/applications", json=body, headers=person[1])


async def kinds(db, person_id: int) -> list[str]:
    async with db.read() as s:
        return list(
            (await s.execute(select(Notification.kind).where(Notification.person_id == person_id).order_by(Notification.id))).scalars()
        )


def by_person(run: dict) -> dict[int, dict]:
    return {a["person_id"]: a for a in run["items"]}


async def test_a_season_from_applications_through_the_lottery_to_accepted_offers(client, db, staff, alice, bob, carol, dave, two_beds):
    s = await season(client, staff)
    sid = s["id"]
    assert (await apply(client, alice, sid, "Tordenskiolds gate 12B")).status_code == 201
    assert (await apply(client, bob, sid, "Bragernes torg 2", postal_code="3017")).status_code == 201
    assert (await apply(client, carol, sid, "Nedre Storgate 5")).status_code == 201
    assert_problem(await apply(client, dave, sid, "tordenskioldsgt. 12 b"), 409, "already_applied")  # alice's household
    assert_problem(await apply(client, alice, sid, "Elvegata 1"), 409, "already_applied")
    await to_phase(client, staff, sid, "allocation")
    assert_problem(await apply(client, dave, sid, "Elvegata 1"), 409, "outside_window")

    first = (await client.post(f"/api/v1/seasons/{sid}/allocation", json={"seed": 2027}, headers=staff[1])).json()
    again = (await client.post(f"/api/v1/seasons/{sid}/allocation", json={"seed": 2027}, headers=staff[1])).json()
    assert first["items"] == again["items"]
    placed = by_person(first)
    assert placed[bob[0]]["status"] == "waitlisted" and placed[bob[0]]["tier"] == 2  # outside the district: second tier
    assert {placed[alice[0]]["bed_id"], placed[carol[0]]["bed_id"]} == set(two_beds)
    assert all("lottery rank" in a["reason"] for a in first["items"])

    published = await client.post(f"/api/v1/seasons/{sid}/allocation/publish", headers=staff[1])
    assert published.status_code == 200, published.text
    assert published.json()["season"]["phase"] == "offers"
    for person in (alice, bob, carol):
        assert await kinds(db, person[0]) == ["season_result"]
    offers = {
        p: (await client.get("/api/v1/offers", headers=who[1])).json()["items"]
        for p, who in (("alice", alice), ("carol", carol), ("bob", bob))
    }
    assert offers["bob"] == [] and len(offers["alice"]) == 1

    held = offers["carol"][0]["booking_id"]
    direct = await book(client, staff[1], placed[carol[0]]["bed_id"], start=SEASON["start"], end=SEASON["end"])
    assert_problem(direct, 409, "slot_taken")  # a held bed cannot be booked past its offer
    assert (await client.post(offers["alice"][0]["accept"], headers=alice[1])).json()["status"] == "confirmed"
    assert (await client.post(offers["carol"][0]["decline"], headers=carol[1])).json()["status"] == "declined"
    bobs_offer = (await client.get("/api/v1/offers", headers=bob[1])).json()["items"]
    assert len(bobs_offer) == 1 and bobs_offer[0]["booking_id"] != held
    assert (await client.post(bobs_offer[0]["accept"], headers=bob[1])).json()["status"] == "confirmed"
    mine = (await client.get(f"/api/v1/seasons/{sid}/applications", headers=bob[1])).json()["items"]
    assert [a["status"] for a in mine] == ["accepted"]


async def test_staff_adjust_the_allocation_only_with_a_reason_and_never_onto_a_taken_bed(client, staff, alice, bob, carol, two_beds):
    sid = (await season(client, staff))["id"]
    for person, street in ((alice, "Elvegata 1"), (bob, "Elvegata 2"), (carol, "Elvegata 3")):
        assert (await apply(client, person, sid, street)).status_code == 201
    await to_phase(client, staff, sid, "allocation")
    adjust = f"/api/v1/seasons/{sid}/allocation/adjust"
    assert_problem(
        await client.post(adjust, json={"application_id": 1, "bed_id": None, "reason": "x"}, headers=staff[1]), 409, "not_previewed"
    )
    placed = by_person((await client.post(f"/api/v1/seasons/{sid}/allocation", json={"seed": 1}, headers=staff[1])).json())
    loser = next(a for a in placed.values() if a["bed_id"] is None)
    winner = next(a for a in placed.values() if a["bed_id"] is not None)
    assert_problem(
        await client.post(adjust, json={"application_id": loser["id"], "bed_id": winner["bed_id"]}, headers=staff[1]),
        422,
        "reason_required",
    )
    assert_problem(
        await client.post(adjust, json={"application_id": loser["id"], "bed_id": winner["bed_id"], "reason": "Needs it"}, headers=staff[1]),
        409,
        "bed_taken",
    )
    freed = await client.post(adjust, json={"application_id": winner["id"], "bed_id": None, "reason": "Moved away"}, headers=staff[1])
    assert freed.json()["status"] == "waitlisted"
    given = await client.post(
        adjust, json={"application_id": loser["id"], "bed_id": winner["bed_id"], "reason": "Medical need, documented"}, headers=staff[1]
    )
    assert (given.json()["status"], given.json()["adjust_reason"]) == ("allocated", "Medical need, documented")
    assert "adjusted by staff: Medical need, documented" in given.json()["reason"]


async def test_last_seasons_grower_renews_and_keeps_their_bed(client, db, staff, alice, bob, two_beds):
    last = await season(client, staff, phase="draft", **LAST_SEASON)
    async with db.write() as s:
        from datetime import datetime

        from booking.store import Booking

        start, end = datetime.fromisoformat(LAST_SEASON["start"]), datetime.fromisoformat(LAST_SEASON["end"])
        s.add(
            Booking(
                resource_id=two_beds[1],
                person_id=alice[0],
                start=start,
                end=end,
                block_start=start,
                block_end=end,
                status="confirmed",
                created_at=start,
                updated_at=start,
            )
        )
    sid = (await season(client, staff, phase="renewal", previous_season_id=last["id"]))["id"]
    assert await kinds(db, alice[0]) == ["renewal_invited"]
    assert_problem(await client.post(f"/api/v1/seasons/{sid}/renewal", headers=bob[1]), 404, "not_found")
    renewed = await client.post(f"/api/v1/seasons/{sid}/renewal", headers=alice[1])
    assert (renewed.json()["status"], renewed.json()["bed_id"]) == ("renewed", two_beds[1])
    await to_phase(client, staff, sid, "applications")
    assert_problem(await apply(client, alice, sid, "Elvegata 9"), 409, "household_has_bed")
    assert (await apply(client, bob, sid, "Elvegata 2", beds=[two_beds[1]])).status_code == 201
    await to_phase(client, staff, sid, "allocation")
    placed = by_person((await client.post(f"/api/v1/seasons/{sid}/allocation", json={"seed": 5}, headers=staff[1])).json())
    assert (placed[alice[0]]["bed_id"], placed[alice[0]]["reason"]) == (two_beds[1], f"renewed bed {two_beds[1]}")
    assert placed[bob[0]]["bed_id"] == two_beds[0] and "wished beds were taken" in placed[bob[0]]["reason"]
    await client.post(f"/api/v1/seasons/{sid}/allocation/publish", headers=staff[1])
    alices = (await client.get("/api/v1/bookings", headers=alice[1])).json()["items"]
    assert [(b["resource_id"], b["status"]) for b in alices if b["start"].startswith("2027")] == [(two_beds[1], "confirmed")]


async def test_a_bed_given_back_mid_season_goes_to_the_waitlist_and_households_wait_only_once(
    client, db, staff, alice, bob, carol, dave, two_beds
):
    sid = (await season(client, staff))["id"]
    await apply(client, alice, sid, "Elvegata 1")
    await apply(client, bob, sid, "Elvegata 2")
    await to_phase(client, staff, sid, "allocation")
    await client.post(f"/api/v1/seasons/{sid}/allocation", json={"seed": 3}, headers=staff[1])
    await client.post(f"/api/v1/seasons/{sid}/allocation/publish", headers=staff[1])
    for person in (alice, bob):
        offer = (await client.get("/api/v1/offers", headers=person[1])).json()["items"][0]
        assert (await client.post(offer["accept"], headers=person[1])).status_code == 200
    await to_phase(client, staff, sid, "running")
    join = f"/api/v1/seasons/{sid}/waitlist"
    assert_problem(await client.post(join, json={"street": "Elvegata 1", "postal_code": "3044"}, headers=dave[1]), 409, "household_has_bed")
    waiting = await client.post(join, json={"street": "Elvegata 3", "postal_code": "3044"}, headers=carol[1])
    assert (waiting.json()["status"], waiting.json()["position"]) == ("waiting", 1)
    assert_problem(await client.post(join, json={"street": "Elvegata 3", "postal_code": "3044"}, headers=carol[1]), 409, "already_waiting")
    alices = [b for b in (await client.get("/api/v1/bookings", headers=alice[1])).json()["items"] if b["status"] == "confirmed"]
    assert_problem(
        await client.post(f"/api/v1/seasons/{sid}/holdings/{alices[0]['id']}/revoke", json={"reason": "x"}, headers=bob[1]),
        403,
        "staff_only",
    )
    back = await client.post(
        f"/api/v1/seasons/{sid}/holdings/{alices[0]['id']}/give-back", json={"reason": "Moving to Bergen"}, headers=alice[1]
    )
    assert back.json()["status"] == "cancelled"
    carols = (await client.get("/api/v1/offers", headers=carol[1])).json()["items"]
    assert len(carols) == 1 and carols[0]["deadline"].startswith("2026-11-30")  # seven days, a Monday
    assert (await client.post(carols[0]["accept"], headers=carol[1])).json()["resource_id"] == alices[0]["resource_id"]


async def test_phases_move_in_order_and_only_staff_move_them(client, staff, alice):
    s = await season(client, staff, phase="draft")
    assert_problem(
        await client.post(f"/api/v1/seasons/{s['id']}/phase", json={"phase": "allocation"}, headers=staff[1]), 409, "phase_out_of_order"
    )
    assert_problem(await client.post(f"/api/v1/seasons/{s['id']}/phase", json={"phase": "renewal"}, headers=alice[1]), 403, "staff_only")
    assert_problem(await client.post("/api/v1/seasons", json=SEASON, headers=alice[1]), 403, "staff_only")


async def test_an_unanswered_bed_offer_expires_and_passes_down_the_waitlist(client, db, clock, staff, alice, bob, carol, two_beds):
    from datetime import UTC, datetime

    from booking.waitlists import offers

    sid = (await season(client, staff))["id"]
    for person, street in ((alice, "Elvegata 1"), (bob, "Elvegata 2"), (carol, "Elvegata 3")):
        await apply(client, person, sid, street)
    await to_phase(client, staff, sid, "allocation")
    placed = by_person((await client.post(f"/api/v1/seasons/{sid}/allocation", json={"seed": 8}, headers=staff[1])).json())
    await client.post(f"/api/v1/seasons/{sid}/allocation/publish", headers=staff[1])
    silent = next(p for p in (alice, bob, carol) if placed[p[0]]["status"] == "allocated")
    waiting = next(p for p in (alice, bob, carol) if placed[p[0]]["status"] == "waitlisted")
    clock.now = datetime(2026, 12, 1, 9, tzinfo=UTC)  # past the seven days
    await offers.expire_offers(db, now=clock.now)
    statuses = {
        a["person_id"]: a["status"] for a in (await client.get(f"/api/v1/seasons/{sid}/applications", headers=staff[1])).json()["items"]
    }
    assert statuses[silent[0]] == "expired"
    assert len((await client.get("/api/v1/offers", headers=waiting[1])).json()["items"]) == 1
    assert await kinds(db, silent[0]) == ["season_result", "offer_expired"]
    assert await kinds(db, waiting[0]) == ["season_result", "offer_made"]


async def grower_of_last_season(client, staff, person, street: str) -> int:
    """A first season in which `person` applies from `street`, wins a bed and accepts it, then closes: its id."""
    sid = (await season(client, staff, **LAST_SEASON))["id"]
    assert (await apply(client, person, sid, street)).status_code == 201
    await to_phase(client, staff, sid, "allocation")
    await client.post(f"/api/v1/seasons/{sid}/allocation", json={"seed": 1}, headers=staff[1])
    await client.post(f"/api/v1/seasons/{sid}/allocation/publish", headers=staff[1])
    [offer] = (await client.get("/api/v1/offers", headers=person[1])).json()["items"]
    assert (await client.post(offer["accept"], headers=person[1])).json()["status"] == "confirmed"
    for phase in ("running", "closed"):
        await to_phase(client, staff, sid, phase)
    return sid


async def test_a_renewal_keeps_the_household_of_the_application_it_renews_so_no_housemate_gets_a_second_bed(
    client, staff, alice, dave, two_beds
):
    last = await grower_of_last_season(client, staff, alice, "Elvegata 1")  # alice's profile has no address
    [won] = (await client.get(f"/api/v1/seasons/{last}/applications", headers=staff[1])).json()["items"]
    sid = (await season(client, staff, phase="renewal", previous_season_id=last))["id"]
    renewed = (await client.post(f"/api/v1/seasons/{sid}/renewal", headers=alice[1])).json()
    assert (renewed["household"], renewed["street"], renewed["tier"]) == (won["household"], "Elvegata 1", 1)
    await to_phase(client, staff, sid, "applications")
    assert_problem(await apply(client, dave, sid, "elvegata 1"), 409, "household_has_bed")  # alice's housemate
    await to_phase(client, staff, sid, "allocation")
    await client.post(f"/api/v1/seasons/{sid}/allocation", json={"seed": 2}, headers=staff[1])
    await client.post(f"/api/v1/seasons/{sid}/allocation/publish", headers=staff[1])
    await to_phase(client, staff, sid, "running")
    join = f"/api/v1/seasons/{sid}/waitlist"
    assert_problem(await client.post(join, json={"street": "Elvegata 1", "postal_code": "3044"}, headers=dave[1]), 409, "household_has_bed")


async def test_a_resident_reads_the_outcome_and_the_message_staff_wrote_but_never_the_staff_note(client, db, staff, alice, bob, two_beds):
    sid = (await season(client, staff))["id"]
    for person, street in ((alice, "Elvegata 1"), (bob, "Elvegata 2")):
        assert (await apply(client, person, sid, street)).status_code == 201
    await to_phase(client, staff, sid, "allocation")
    placed = by_person((await client.post(f"/api/v1/seasons/{sid}/allocation", json={"seed": 4}, headers=staff[1])).json())
    adjust = f"/api/v1/seasons/{sid}/allocation/adjust"
    note, sorry, welcome = "Private: the neighbours complained about her", "We will call you about the school garden.", "Welcome!"
    taken = {"application_id": placed[alice[0]]["id"], "bed_id": None, "reason": note, "message_to_resident": sorry}
    assert (await client.post(adjust, json=taken, headers=staff[1])).json()["outcome"] == "no_bed_by_staff"
    moved = {"application_id": placed[bob[0]]["id"], "bed_id": placed[alice[0]]["bed_id"], "reason": "swap", "message_to_resident": welcome}
    assert (await client.post(adjust, json=moved, headers=staff[1])).json()["outcome"] == "moved_by_staff"
    await client.post(f"/api/v1/seasons/{sid}/allocation/publish", headers=staff[1])

    [alices] = (await client.get(f"/api/v1/seasons/{sid}/applications", headers=alice[1])).json()["items"]
    assert (alices["outcome"], alices["outcome_params"]["rank"], alices["message_to_resident"]) == (
        "no_bed_by_staff",
        placed[alice[0]]["lottery_rank"],
        sorry,
    )
    assert "reason" not in alices and "adjust_reason" not in alices and note not in str(alices)
    [bobs] = (await client.get(f"/api/v1/seasons/{sid}/applications", headers=bob[1])).json()["items"]
    assert (bobs["outcome"], bobs["outcome_params"]["bed_id"], bobs["message_to_resident"]) == (
        "moved_by_staff",
        placed[alice[0]]["bed_id"],
        welcome,
    )
    audit = by_person({"items": (await client.get(f"/api/v1/seasons/{sid}/applications", headers=staff[1])).json()["items"]})
    assert (audit[alice[0]]["adjust_reason"], audit[alice[0]]["reason"].endswith(f"adjusted by staff: {note}")) == (note, True)
    async with db.read() as s:
        results = {
            n.person_id: n.payload for n in (await s.execute(select(Notification).where(Notification.kind == "season_result"))).scalars()
        }
    assert {p: (r["reason_code"], r["message_to_resident"]) for p, r in results.items()} == {
        alice[0]: ("no_bed_by_staff", sorry),
        bob[0]: ("moved_by_staff", welcome),
    }
    assert all("reason" not in r and note not in str(r) for r in results.values())  # mail is written from these
