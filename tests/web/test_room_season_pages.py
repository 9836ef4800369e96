"""Room-season pages through the HTTP app: staff set up a round on the form; admins apply, edit and withdraw; a member
reads but does not apply; staff allocate, see the week grid and the refused wishes, adjust, publish; associations
confirm and give back; the report."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from booking.seasons import room_allocation
from booking.seasons.room_store import RoomApplication, RoomWish
from booking.store import Booking
from tests import builders
from tests.web.test_pages import post_form, text_of


@pytest.fixture
async def world(db):
    """Two rooms at Huset (weekdays 17–22, weekends 10–20), staff, three associations with an admin each, and a member."""
    staff = await builders.person(db, "staff@knutepunkt.no", staff=True, name="Stine")
    small = await builders.room(db, key="lillesalen", capacity=20)
    big = await builders.room(db, key="storsalen", capacity=60)
    admins = [await builders.person(db, f"admin{n}@lag.no") for n in range(3)]
    member = await builders.person(db, "member@lag.no")
    names = (("Strømsø barnekor", "911111111"), ("Strømsø sjakklubb", "922222222"), ("Drammen bridgeklubb", "933333333"))
    ids = []
    for (name, orgnr), admin in zip(names, admins, strict=True):
        members = {admin[0]: "admin"} | ({member[0]: "member"} if not ids else {})
        ids.append(await builders.association(db, name, orgnr, members))
    return {"staff": staff, "rooms": (small, big), "admins": admins, "member": member, "associations": ids}


ROUND = {"name": "Høst 2027", "first_day": "2027-08-16", "last_day": "2027-12-17", "close_day": "2027-04-30",
         "h1_name": "Høstferie", "h1_first": "2027-10-04", "h1_last": "2027-10-08", "hours_cap": "6",
         "renewal_share": "50", "confirm_days": "14"}  # fmt: skip


async def set_up(client, world, *, phase="applications") -> int:
    form = {**ROUND, **{f"room_{r}": "1" for r in world["rooms"]}}
    made = await post_form(client, "/staff/room-seasons", form, world["staff"][1])
    assert made.status_code == 303, made.text
    sid = int(re.search(r"/staff/room-seasons/(\d+)\?done=created", made.headers["location"]).group(1))
    if phase != "draft":
        page = f"/staff/room-seasons/{sid}"
        moved = await post_form(client, f"{page}/phase", {"phase": "applications"}, world["staff"][1], from_page=page)
        assert moved.status_code == 303, moved.text
    return sid


def application(room, *windows, activity="Øving", participants="15", under_20="0", band="adults", **extra) -> dict:
    """The form as an admin fills it in: one activity, and one wish per window given (in the room named)."""
    form = {"postal_code": "3044", "non_profit": "1", "a1_name": activity, "a1_age_band": band, "a1_participants": participants,
            "a1_under_20": under_20, "a1_responsible_name": "Kari Nordmann", "a1_responsible_phone": "+47 912 34 567"}  # fmt: skip
    for n, (day, start, end, *first) in enumerate(windows, start=1):
        form |= {f"w{n}_room": f"room:{room}", f"w{n}_minutes": "120", f"w{n}_d1_day": str(day), f"w{n}_d1_from": start}
        form |= {f"w{n}_d1_to": end, f"w{n}_d1_first": "0" if first else "1"}
    return form | extra


def page_of(world, n, sid) -> str:
    return f"/associations/{world['associations'][n]}/room-seasons/{sid}"


async def apply(client, world, sid, n, form, *, who=None):
    page = page_of(world, n, sid)
    return await post_form(client, f"{page}/apply", form, (who or world["admins"][n])[1], from_page=page)


async def three_applications(client, world, sid) -> None:
    small = world["rooms"][0]
    kids = application(small, (1, "17:00", "21:00"), activity="Barnekor", participants="25", under_20="24", band="children")
    assert (await apply(client, world, sid, 0, kids)).status_code == 303
    assert (await apply(client, world, sid, 1, application(small, (1, "17:00", "21:00"), activity="Sjakk"))).status_code == 303
    bridge = application(small, (1, "17:00", "21:00"), (3, "17:00", "21:00", False), activity="Bridge", postal_code="3015")
    assert (await apply(client, world, sid, 2, bridge)).status_code == 303


async def allocate(client, world, sid, seed="2027"):
    page = f"/staff/room-seasons/{sid}"
    assert (await post_form(client, f"{page}/phase", {"phase": "allocation"}, world["staff"][1], from_page=page)).status_code == 303
    run = await post_form(client, f"{page}/preview", {"seed": seed}, world["staff"][1], from_page=page)
    assert (run.status_code, run.headers["location"]) == (303, f"{page}?done=preview")


def wish_ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'<li id="wish-(\d+)"', html)]


async def test_staff_set_up_a_round_on_the_form_and_a_wrong_one_is_told_by_its_fields(client, world):
    sid = await set_up(client, world, phase="draft")
    page = (await client.get(f"/staff/room-seasons/{sid}", headers=world["staff"][1])).text
    assert "Høst 2027" in page and "Utkast" in page and "Høstferie" in page and "Høyst 6 timer i uka per lag." in page
    assert "Siste søknadsdag er fredag 30. april 2027." in page
    wrong = {**ROUND, "name": "", "last_day": "2027-13-01", "h2_name": "Jul"}
    refused = await post_form(client, "/staff/room-seasons", wrong, world["staff"][1])
    assert refused.status_code == 422
    assert text_of(refused.text, "name-error") == "Feil: Gi sesongen et navn."
    assert text_of(refused.text, "last_day-error") == "Feil: Skriv datoen med dag, måned og år."
    assert "Velg minst ett rom, eller alle rom på et sted." in refused.text
    assert text_of(refused.text, "h2_name-error").startswith("Feil: Gi hver ferie et navn")


async def test_an_admin_applies_on_the_form_and_edits_it_and_a_member_reads_it_without_a_form(client, db, world):
    sid = await set_up(client, world)
    page, small = page_of(world, 0, sid), world["rooms"][0]
    blank = (await client.get(page, headers=world["admins"][0][1])).text
    assert "Send søknaden" in blank and "Prioritet 1: barn og unge" in blank and "mer enn 50 %" not in blank
    sent = await apply(client, world, sid, 0, application(small, (1, "17:00", "21:00"), activity="Barnekor"))
    assert (sent.status_code, sent.headers["location"]) == (303, page + "?done=applied")
    shown = (await client.get(sent.headers["location"], headers=world["admins"][0][1])).text
    assert "Søknaden er lagret." in shown and "Barnekor" in shown and "tirsdag 17:00–21:00 (førstevalg)" in shown
    edit = (await client.get(page + "?edit=1", headers=world["admins"][0][1])).text
    assert 'value="Barnekor"' in edit and 'value="+47 912 34 567"' in edit and "Lagre endringene" in edit
    changed = application(small, (3, "18:00", "20:00"), activity="Barnekor og ungdomskor", participants="30", under_20="28")
    assert (await apply(client, world, sid, 0, changed)).status_code == 303
    shown = (await client.get(page, headers=world["admins"][0][1])).text
    assert "Barnekor og ungdomskor" in shown and "torsdag 18:00–20:00" in shown and "tirsdag 17:00–21:00" not in shown
    read = await client.get(page, headers=world["member"][1])
    assert read.status_code == 200 and "Barnekor og ungdomskor" in read.text
    assert "Send søknaden" not in read.text and "Endre søknaden" not in read.text and "+47 912 34 567" not in read.text
    assert "Bare lagets administratorer kan søke og svare." in read.text
    refused = await apply(client, world, sid, 0, changed, who=world["member"])
    assert refused.status_code == 422 and "Bare lagets administratorer kan søke om rom og svare for laget." in refused.text
    async with db.read() as s:
        assert (await s.execute(select(func.count()).select_from(RoomApplication))).scalar_one() == 1


async def test_a_wish_outside_the_rooms_hours_is_told_next_to_it_and_withdrawing_asks_first(client, world):
    sid = await set_up(client, world)
    page, small = page_of(world, 1, sid), world["rooms"][0]
    morning = application(small, (1, "17:00", "19:00"), (2, "08:00", "11:00"))
    refused = await apply(client, world, sid, 1, morning)
    assert refused.status_code == 422
    assert text_of(refused.text, "w2_d1_day-error").startswith("Feil: Ingen av tidene dere oppga passer innenfor rommets åpningstider.")
    assert 'value="08:00"' in refused.text  # the form keeps what was written
    no_phone = application(small, (1, "17:00", "19:00"), a1_responsible_phone="")
    assert text_of((await apply(client, world, sid, 1, no_phone)).text, "a1_responsible_phone-error").startswith("Feil: Skriv et telefon")
    assert (await apply(client, world, sid, 1, application(small, (1, "17:00", "19:00")))).status_code == 303
    ask = await client.get(page + "/withdraw", headers=world["admins"][1][1])
    assert "Trekke søknaden?" in ask.text and "Ja, trekk søknaden" in ask.text
    gone = await post_form(client, page + "/withdraw", {}, world["admins"][1][1], from_page=page + "/withdraw")
    assert gone.headers["location"] == page + "?done=withdrawn"
    assert "Søknaden ble trukket." in (await client.get(page, headers=world["admins"][1][1])).text


async def test_the_proposal_shows_the_week_grid_and_the_refused_wish_with_its_reason_in_both_languages(client, world):
    sid = await set_up(client, world)
    await three_applications(client, world, sid)
    await allocate(client, world, sid)
    staff_page = f"/staff/room-seasons/{sid}"
    html = (await client.get(staff_page + "?lang=nb", headers=world["staff"][1])).text
    grid = html[html.index('<table class="grid">') : html.index("</table>")]
    assert (
        "<strong>17:00–<wbr>19:00</strong> Strømsø barnekor: Barnekor" in grid
        and "<strong>19:00–<wbr>21:00</strong> Strømsø sjakklubb: Sjakk" in grid
    )
    refused = html[html.index('id="not-given-title"') :]
    assert "Drammen bridgeklubb" in refused
    assert "Ikke innvilget: tidene som passer dere, gikk til ønsker med høyere prioritet." in refused
    assert "taken_by_higher_priority" in refused  # the audit text, for staff
    assert "Kari Nordmann" in html and "+47 912 34 567" in html  # staff read every field
    english = (await client.get(staff_page + "?lang=en", headers=world["staff"][1])).text
    assert "Not granted: the times that suit you were given to wishes with higher priority." in english
    assert "Granted at a time you said would also do: Thursday 17:00–19:00 in Lillesalen." in english
    before = (await client.get(page_of(world, 2, sid) + "?lang=nb", headers=world["admins"][2][1])).text
    assert "Ikke innvilget" not in before and "De ansatte fordeler rommene." in before  # a proposal is staff's


async def test_an_adjustment_onto_a_taken_time_is_refused_and_writes_nothing_and_a_free_one_is_kept(client, world):
    sid = await set_up(client, world)
    await three_applications(client, world, sid)
    await allocate(client, world, sid)
    page = f"/staff/room-seasons/{sid}"
    bridge = wish_ids((await client.get(page, headers=world["staff"][1])).text)[2]
    taken = {f"w{bridge}-room-0": str(world["rooms"][0]), f"w{bridge}-day-0": "1", f"w{bridge}-start-0": "18:00", f"w{bridge}-reason": "x"}
    refused = await post_form(client, f"{page}/wishes/{bridge}/adjust", taken, world["staff"][1], from_page=page)
    assert refused.status_code == 422
    assert text_of(refused.text, f"w{bridge}-room-0-error") == (
        "Feil: Denne tiden er tatt i rommet på noen av semesterets datoer. Velg en annen tid eller et annet rom."
    )
    assert "Holdes av: Strømsø barnekor – Barnekor; Strømsø sjakklubb – Sjakk" in refused.text
    free = {**taken, f"w{bridge}-room-0": str(world["rooms"][1]), f"w{bridge}-start-0": "17:00",
            f"w{bridge}-reason": "Storsalen er ledig", f"w{bridge}-message": "Dere får storsalen."}  # fmt: skip
    moved = await post_form(client, f"{page}/wishes/{bridge}/adjust", free, world["staff"][1], from_page=page)
    assert moved.status_code == 303 and moved.headers["location"].endswith(f"done=adjusted#wish-{bridge}")
    html = (await client.get(page, headers=world["staff"][1])).text
    assert "adjusted by staff: Storsalen er ledig" in html and "Melding til laget: Dere får storsalen." in html
    no_reason = await post_form(
        client, f"{page}/wishes/{bridge}/adjust", {**free, f"w{bridge}-reason": ""}, world["staff"][1], from_page=page
    )
    assert text_of(no_reason.text, f"w{bridge}-reason-error") == "Feil: Skriv en begrunnelse."


async def test_an_adjustment_refused_writes_nothing(client, db, world):
    sid = await set_up(client, world)
    await three_applications(client, world, sid)
    await allocate(client, world, sid)
    page = f"/staff/room-seasons/{sid}"
    bridge = wish_ids((await client.get(page, headers=world["staff"][1])).text)[2]
    before = await room_allocation.wish(db, sid, bridge)
    taken = {f"w{bridge}-room-0": str(world["rooms"][0]), f"w{bridge}-day-0": "1", f"w{bridge}-start-0": "18:00", f"w{bridge}-reason": "x"}
    assert (await post_form(client, f"{page}/wishes/{bridge}/adjust", taken, world["staff"][1], from_page=page)).status_code == 422
    after = await room_allocation.wish(db, sid, bridge)
    assert (after.status, after.outcome, after.slots, after.reason) == (before.status, before.outcome, before.slots, before.reason)


async def test_publishing_asks_first_twice_is_refused_and_associations_confirm_and_give_back(client, world):
    sid = await set_up(client, world)
    await three_applications(client, world, sid)
    await allocate(client, world, sid)
    page = f"/staff/room-seasons/{sid}"
    unsure = await post_form(client, f"{page}/publish", {}, world["staff"][1], from_page=page)
    assert unsure.status_code == 422 and text_of(unsure.text, "sure-error").startswith("Feil: Kryss av i boksen")
    published = await post_form(client, f"{page}/publish", {"sure": "1"}, world["staff"][1], from_page=page)
    assert (published.status_code, published.headers["location"]) == (303, f"{page}?done=publish")
    again = await post_form(client, f"{page}/publish", {"sure": "1"}, world["staff"][1], from_page=page)
    assert again.status_code == 422 and "Tildelingen er allerede publisert." in again.text
    kids = page_of(world, 0, sid)
    html = (await client.get(kids, headers=world["admins"][0][1])).text
    assert "Innvilget på en tid dere satte som førstevalg: tirsdag 17:00–19:00 i Lillesalen." in html
    assert "Bekreft innen" in html and "Semesterets datoer (17)" in html  # 18 Tuesdays less the autumn break
    wish = wish_ids(html)[0]
    confirmed = await post_form(client, f"{kids}/wishes/{wish}/confirm", {}, world["admins"][0][1], from_page=kids)
    assert confirmed.headers["location"] == kids + "?done=confirmed"
    html = (await client.get(confirmed.headers["location"], headers=world["admins"][0][1])).text
    assert "Dere har bekreftet tiden." in html and "Bekreftet: tiden er deres hele semesteret" in html
    bridge = page_of(world, 2, sid)
    html = (await client.get(bridge, headers=world["admins"][2][1])).text
    assert "Ikke innvilget: tidene som passer dere, gikk til ønsker med høyere prioritet." in html
    assert "taken_by_higher_priority" not in html and "round" not in html  # never the audit text
    chess = page_of(world, 1, sid)
    chess_wish = wish_ids((await client.get(chess, headers=world["admins"][1][1])).text)[0]
    ask = await client.get(f"{chess}/wishes/{chess_wish}/give-back", headers=world["admins"][1][1])
    assert "Gi denne tiden tilbake?" in ask.text and "tirsdag 19:00–21:00 i Lillesalen" in ask.text
    back = await post_form(
        client, f"{chess}/wishes/{chess_wish}/give-back", {"reason": "Vi flytter"}, world["admins"][1][1], from_page=chess
    )
    assert back.headers["location"] == chess + "?done=given_back"
    assert "Gitt tilbake" in (await client.get(chess, headers=world["admins"][1][1])).text
    offered = (await client.get(bridge, headers=world["admins"][2][1])).text
    assert "En tid ble gitt tilbake og tilbys dere: tirsdag 19:00–21:00 i Lillesalen." in offered


async def test_the_report_page_counts_hours_and_links_to_the_csv(client, world):
    sid = await set_up(client, world)
    await three_applications(client, world, sid)
    await allocate(client, world, sid)
    html = (await client.get(f"/staff/room-seasons/{sid}/report", headers=world["staff"][1])).text
    assert f'href="/api/v1/room-seasons/{sid}/report.csv"' in html
    assert 'Prioritet 1: barn og unge</td><td class="n">2' in html and "2 av 3 (67 %)" in html
    assert 'Lillesalen</td><td class="n">6</td><td class="n">45</td>' in html
    csv = await client.get(f"/api/v1/room-seasons/{sid}/report.csv", headers=world["staff"][1])
    assert csv.status_code == 200 and "Strømsø barnekor,2.0" in csv.text
    assert (await client.get(f"/staff/room-seasons/{sid}/report", headers=world["admins"][0][1])).status_code == 403


async def test_the_association_page_links_to_its_room_seasons(client, world):
    sid = await set_up(client, world)
    association = world["associations"][0]
    assert (
        f'href="/associations/{association}/room-seasons"'
        in (await client.get(f"/associations/{association}", headers=world["member"][1])).text
    )
    listed = (await client.get(f"/associations/{association}/room-seasons", headers=world["member"][1])).text
    assert f'href="/associations/{association}/room-seasons/{sid}"' in listed and "Søknadsperiode" in listed


async def test_a_clock_past_the_window_shows_no_form(client, world, clock):
    sid = await set_up(client, world)
    clock.now = datetime(2027, 5, 2, tzinfo=UTC)
    html = (await client.get(page_of(world, 0, sid), headers=world["admins"][0][1])).text
    assert "Søknadsfristen har gått ut." in html and "Send søknaden" not in html
    refused = await apply(client, world, sid, 0, application(world["rooms"][0], (1, "17:00", "19:00")))
    assert refused.status_code == 422 and "Sesongen tar ikke imot søknader nå." in refused.text


async def test_last_terms_holder_keeps_a_used_time_and_one_not_used_is_told_why(client, db, world, clock):
    autumn = await set_up(client, world)
    await three_applications(client, world, autumn)
    await allocate(client, world, autumn)
    page = f"/staff/room-seasons/{autumn}"
    await post_form(client, f"{page}/publish", {"sure": "1"}, world["staff"][1], from_page=page)
    held = {}
    for n in (0, 1):
        mine = page_of(world, n, autumn)
        held[n] = wish_ids((await client.get(mine, headers=world["admins"][n][1])).text)[0]
        assert (await post_form(client, f"{mine}/wishes/{held[n]}/confirm", {}, world["admins"][n][1], from_page=mine)).status_code == 303
    async with db.write() as s:  # the chess club cancelled its evenings
        chess = await s.get(RoomWish, held[1])
        for b in (await s.execute(select(Booking).where(Booking.series_id.in_(chess.series_ids)))).scalars():
            b.status = "cancelled"
    clock.now = datetime(2027, 11, 22, 9, tzinfo=UTC)
    spring = {**ROUND, "name": "Vår 2028", "first_day": "2028-01-03", "last_day": "2028-06-16", "close_day": "2027-12-31",
              "h1_name": "", "h1_first": "", "h1_last": "", "previous": str(autumn), **{f"room_{r}": "1" for r in world["rooms"]}}  # fmt: skip
    made = await post_form(client, "/staff/room-seasons", spring, world["staff"][1])
    sid = int(re.search(r"/staff/room-seasons/(\d+)", made.headers["location"]).group(1))
    staff_page = f"/staff/room-seasons/{sid}"
    assert "Åpne for fornyelse" in (await client.get(staff_page, headers=world["staff"][1])).text
    await post_form(client, f"{staff_page}/phase", {"phase": "renewal"}, world["staff"][1], from_page=staff_page)
    kids = page_of(world, 0, sid)
    shown = (await client.get(kids, headers=world["admins"][0][1])).text
    assert "Behold tidene fra forrige semester" in shown and "tirsdag 17:00–19:00 i Lillesalen" in shown
    kept = await post_form(client, f"{kids}/renew/{held[0]}", {}, world["admins"][0][1], from_page=kids)
    assert kept.headers["location"] == kids + "?done=renewed"
    assert "Dere har bedt om å beholde denne tiden." in (await client.get(kids, headers=world["admins"][0][1])).text
    chess_page = page_of(world, 1, sid)
    refused = await post_form(client, f"{chess_page}/renew/{held[1]}", {}, world["admins"][1][1], from_page=chess_page)
    assert refused.status_code == 422
    assert text_of(refused.text, f"renew-{held[1]}-error") == (
        "Feil: Dere kan ikke beholde denne tiden: den ble ikke brukt på nok av datoene forrige semester."
    )
    assert "Den er brukt på 0 av" in refused.text
