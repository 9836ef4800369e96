"""Garden seasons on the web, step by step: staff set one up; residents read what happens next, are warned of the lower
priority from outside the district, change or withdraw while the window is open, wait and leave, and give a bed back;
and the steps that cannot be undone ask first."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from booking.seasons import service as seasons
from people.actor import OPERATOR, Actor
from tests import builders
from tests.web.test_pages import post_form, text_of

NEW_SEASON = {
    "name": "Hagesesongen 2027",
    "first_day": "2027-04-15",
    "last_day": "2027-10-31",
    "close_day": "2027-03-01",
    "draw_day": "2027-03-05",
    "district": "3040, 3041, 3042, 3043, 3044, 3045, 3046",
    "household_limit": "1",
    "offer_days": "7",
}
IN_TOWN = {"street": "Torggata 5", "postal_code": "3044"}


@pytest.fixture
async def staff(db):
    return await builders.person(db, "staff@example.no", staff=True, name="Stine")


@pytest.fixture
async def grete(db):
    return await builders.person(db, "grete@example.no", name="Grete")


@pytest.fixture
async def nils(db):
    return await builders.person(db, "nils@example.no", name="Nils")


def stine(staff) -> Actor:
    return Actor(staff[0], "staff@example.no", "Stine", grants=OPERATOR)


async def set_up(client, staff, **changes) -> int:
    """A season set up on the staff page, as staff would."""
    made = await post_form(client, "/staff/seasons", {**NEW_SEASON, **changes}, staff[1])
    assert made.status_code == 303, made.text
    return int(re.fullmatch(r"/staff/seasons/(\d+)\?done=created", made.headers["location"]).group(1))


@pytest.fixture
async def season(db, client, staff):
    """One bed; a season set up on the web and open for applications."""
    await builders.room(db, key="pallekarm-1", kind="garden_bed", capacity=None)
    sid = await set_up(client, staff)
    page = f"/staff/seasons/{sid}"
    assert (await post_form(client, f"{page}/phase", {"phase": "applications"}, staff[1], from_page=page)).status_code == 303
    return sid


async def apply(client, who, season, form=IN_TOWN, **extra):
    return await post_form(client, f"/garden/{season}/apply", {**form, **extra}, who[1], from_page="/garden")


async def drawn_and_published(client, staff, season) -> None:
    page = f"/staff/seasons/{season}"
    await post_form(client, f"{page}/phase", {"phase": "allocation"}, staff[1], from_page=page)
    await post_form(client, f"{page}/preview", {"seed": "7"}, staff[1], from_page=page)
    published = await post_form(client, f"{page}/publish", {"sure": "1"}, staff[1], from_page=page)
    assert published.status_code == 303, published.text


# ---------------------------------------------------------------- setting a season up


async def test_staff_set_up_a_garden_season_on_the_web_with_its_deadline_draw_and_district(client, db, staff):
    sid = await set_up(client, staff)
    created = await seasons.get_season(db, sid)
    assert (created.name, created.phase, created.district_postal_codes) == (
        "Hagesesongen 2027",
        "draft",
        NEW_SEASON["district"].split(", "),
    )
    assert created.draw_at > created.applications_close > created.start - timedelta(days=60)
    shown = (await client.get(f"/staff/seasons/{sid}?done=created", headers=staff[1])).text
    assert "Sesongen er satt opp som utkast." in shown
    assert "torsdag 15. april 2027 – søndag 31. oktober 2027" in shown and "fredag 5. mars 2027" in shown
    assert "Hagesesongen 2027" in (await client.get("/staff/seasons", headers=staff[1])).text


async def test_the_new_season_form_shows_each_mistake_next_to_its_field_and_creates_nothing(client, db, staff):
    wrong = {"name": "", "last_day": "2027-04-01", "draw_day": "2027-02-01", "district": "3040, 30", "offer_days": "90"}
    response = await post_form(client, "/staff/seasons", {**NEW_SEASON, **wrong}, staff[1])
    assert response.status_code == 422
    assert text_of(response.text, "name-error") == "Feil: Gi sesongen et navn."
    assert text_of(response.text, "last_day-error").startswith("Feil: Siste dag må komme etter første dag")
    assert text_of(response.text, "draw_day-error") == "Feil: Trekningen må være på eller etter siste søknadsdag."
    assert text_of(response.text, "district-error").startswith("Feil: Skriv hvert postnummer med fire sifre")
    assert text_of(response.text, "offer_days-error") == "Feil: Skriv et antall dager fra 1 til 60."
    assert 'value="3040, 30"' in response.text  # what was written stays to be put right
    assert await seasons.list_seasons(db) == []


async def test_a_previous_season_that_is_not_there_is_refused_next_to_its_field(client, db, staff):
    response = await post_form(client, "/staff/seasons", {**NEW_SEASON, "previous": "99"}, staff[1])
    assert response.status_code == 422 and "previous-error" in response.text
    assert await seasons.list_seasons(db) == []


async def test_residents_cannot_set_up_a_season(client, grete):
    response = await client.get("/staff/seasons", headers=grete[1])
    assert response.status_code == 403


# ---------------------------------------------------------------- what the garden page says


async def test_the_garden_page_says_the_deadline_the_draw_and_who_comes_first(client, season):
    page = (await client.get("/garden")).text
    assert "Siste søknadsdag er mandag 1. mars 2027." in page
    assert "Pallekarmene trekkes fredag 5. mars 2027." in page
    assert "husstander med postnummer i bydelen (3040, 3041, 3042, 3043, 3044, 3045, 3046) først" in page
    english = (await client.get("/garden?lang=en")).text
    assert re.search(r"The last day to apply is Monday,? 1 March 2027\.", english)
    assert "Within each group the order is drawn by lot." in english


async def test_an_application_from_outside_the_district_is_warned_of_first_and_made_once_understood(client, db, staff, grete, season):
    outside = {"street": "Konnerudgata 20", "postal_code": "3032"}
    warned = await apply(client, grete, season, outside)
    assert warned.status_code == 422
    assert "Postnummeret ditt, 3032, er utenfor bydelen." in warned.text and 'name="outside_ok"' in warned.text
    assert 'value="Konnerudgata 20"' in warned.text
    assert await seasons.applications(db, stine(staff), season) == []  # nothing is written before the answer
    applied = await apply(client, grete, season, outside, outside_ok="1")
    assert (applied.status_code, applied.headers["location"]) == (303, "/garden?done=apply")
    [row] = await seasons.applications(db, stine(staff), season)
    assert row.tier == 2
    page = (await client.get("/garden", headers=grete[1])).text
    assert "Postnummeret ditt er utenfor bydelen, så du trekkes etter husstandene i bydelen." in page


async def test_an_application_from_the_district_is_not_warned(client, grete, season):
    applied = await apply(client, grete, season)
    assert applied.status_code == 303
    assert "Postnummeret ditt er i bydelen, så du trekkes først." in (await client.get("/garden", headers=grete[1])).text


# ---------------------------------------------------------------- change and withdraw while the window is open


async def test_an_applicant_changes_their_address_and_wishes_while_the_window_is_open(client, db, staff, grete, season):
    await apply(client, grete, season)
    form = {"street": "Konnerudgata 20", "postal_code": "3032", "raised": "1"}
    warned = await post_form(client, f"/garden/{season}/change", form, grete[1], from_page="/garden")
    assert warned.status_code == 422 and "er utenfor bydelen" in warned.text and "<details open>" in warned.text
    changed = await post_form(client, f"/garden/{season}/change", {**form, "outside_ok": "1"}, grete[1], from_page="/garden")
    assert changed.headers["location"] == "/garden?done=change"
    [row] = await seasons.applications(db, stine(staff), season)
    assert (row.street, row.postal_code, row.tier, row.preferences["raised"]) == ("Konnerudgata 20", "3032", 2, True)
    assert "Søknaden din er endret." in (await client.get("/garden?done=change", headers=grete[1])).text


async def test_an_applicant_cannot_change_to_a_household_that_has_already_applied(client, db, staff, grete, nils, season):
    await apply(client, grete, season)
    await apply(client, nils, season, {"street": "Bragernes torg 1", "postal_code": "3041"})
    refused = await post_form(
        client, f"/garden/{season}/change", {"street": "Bragernes torg 1", "postal_code": "3041"}, grete[1], from_page="/garden"
    )
    assert refused.status_code == 422
    assert text_of(refused.text, "street-error") == "Feil: Husstanden din har allerede søkt denne sesongen."
    assert sorted(r.street for r in await seasons.applications(db, stine(staff), season)) == ["Bragernes torg 1", "Torggata 5"]


async def test_an_applicant_withdraws_and_may_apply_again_while_the_window_is_open(client, db, staff, grete, season):
    await apply(client, grete, season)
    withdrawn = await post_form(client, f"/garden/{season}/withdraw", {}, grete[1], from_page="/garden")
    assert withdrawn.headers["location"] == "/garden?done=withdraw"
    assert await seasons.applications(db, stine(staff), season) == []
    assert (await apply(client, grete, season)).status_code == 303


async def test_after_the_deadline_nothing_is_applied_for_changed_or_withdrawn(client, db, clock, staff, grete, nils, season):
    await apply(client, grete, season)
    clock.now = (await seasons.get_season(db, season)).applications_close
    page = (await client.get("/garden", headers=grete[1])).text
    assert "Søknadsperioden er over." in page and "Endre søknaden" not in page and "Trekk søknaden" not in page
    for who, step in ((nils, "apply"), (grete, "change"), (grete, "withdraw")):
        refused = await post_form(client, f"/garden/{season}/{step}", IN_TOWN, who[1], from_page="/garden")
        assert refused.status_code == 422 and "Sesongen tar ikke imot søknader nå." in refused.text, step
    [row] = await seasons.applications(db, stine(staff), season)
    assert row.person_id == grete[0] and row.street == "Torggata 5"


# ---------------------------------------------------------------- steps that cannot be undone ask first


async def test_publishing_the_allocation_asks_first(client, db, staff, grete, season):
    await apply(client, grete, season)
    page = f"/staff/seasons/{season}"
    await post_form(client, f"{page}/phase", {"phase": "allocation"}, staff[1], from_page=page)
    await post_form(client, f"{page}/preview", {"seed": "7"}, staff[1], from_page=page)
    unsure = await post_form(client, f"{page}/publish", {}, staff[1], from_page=page)
    assert unsure.status_code == 422
    assert text_of(unsure.text, "sure-publish-error") == "Feil: Kryss av i boksen for å si at du har sjekket tildelingen."
    assert (await seasons.get_season(db, season)).published_at is None
    assert (await post_form(client, f"{page}/publish", {"sure": "1"}, staff[1], from_page=page)).status_code == 303
    assert (await seasons.get_season(db, season)).phase == "offers"


async def test_running_on_while_offers_are_unanswered_says_how_many_and_asks_first(client, db, staff, grete, season):
    await apply(client, grete, season)
    await drawn_and_published(client, staff, season)
    page = f"/staff/seasons/{season}"
    assert "Tilbud som ikke er besvart ennå: 1." in (await client.get(page, headers=staff[1])).text
    unsure = await post_form(client, f"{page}/phase", {"phase": "running"}, staff[1], from_page=page)
    assert unsure.status_code == 422 and text_of(unsure.text, "sure-phase-error").startswith("Feil: Kryss av i boksen")
    assert (await seasons.get_season(db, season)).phase == "offers"
    sure = await post_form(client, f"{page}/phase", {"phase": "running", "sure": "1"}, staff[1], from_page=page)
    assert sure.status_code == 303 and (await seasons.get_season(db, season)).phase == "running"


async def test_running_on_when_every_offer_is_answered_needs_no_box(client, db, staff, grete, season):
    await apply(client, grete, season)
    await drawn_and_published(client, staff, season)
    offer = re.search(r"/offers/(\d+)/accept", (await client.get("/garden", headers=grete[1])).text).group(1)
    await post_form(client, f"/offers/{offer}/accept", {}, grete[1], from_page="/garden")
    page = f"/staff/seasons/{season}"
    assert 'id="sure-phase"' not in (await client.get(page, headers=staff[1])).text
    assert (await post_form(client, f"{page}/phase", {"phase": "running"}, staff[1], from_page=page)).status_code == 303


async def test_closing_a_season_asks_first(client, db, staff, season):
    page = f"/staff/seasons/{season}"
    await post_form(client, f"{page}/phase", {"phase": "allocation"}, staff[1], from_page=page)
    await post_form(client, f"{page}/preview", {"seed": "7"}, staff[1], from_page=page)
    await post_form(client, f"{page}/publish", {"sure": "1"}, staff[1], from_page=page)
    await post_form(client, f"{page}/phase", {"phase": "running"}, staff[1], from_page=page)
    shown = (await client.get(page, headers=staff[1])).text
    assert "Avslutt sesongen for godt" in shown
    unsure = await post_form(client, f"{page}/phase", {"phase": "closed"}, staff[1], from_page=page)
    assert unsure.status_code == 422 and (await seasons.get_season(db, season)).phase == "running"
    sure = await post_form(client, f"{page}/phase", {"phase": "closed", "sure": "1"}, staff[1], from_page=page)
    assert sure.status_code == 303 and (await seasons.get_season(db, season)).phase == "closed"


async def test_a_grower_gives_their_bed_back_only_after_saying_yes_and_the_next_in_line_is_offered_it(
    client, db, staff, grete, nils, season
):
    await apply(client, grete, season)
    await apply(client, nils, season, {"street": "Bragernes torg 1", "postal_code": "3041"})
    await drawn_and_published(client, staff, season)
    winner, waiter = (grete, nils) if "/accept" in (await client.get("/garden", headers=grete[1])).text else (nils, grete)
    offer = re.search(r"/offers/(\d+)/accept", (await client.get("/garden", headers=winner[1])).text).group(1)
    await post_form(client, f"/offers/{offer}/accept", {}, winner[1], from_page="/garden")
    garden = (await client.get("/garden", headers=winner[1])).text
    asking = f"/garden/{season}/beds/{offer}/give-back"
    assert "<strong>Pallekarmen din:</strong> Pallekarm-1" in garden and f'href="{asking}"' in garden
    page = await client.get(asking, headers=winner[1])
    assert page.status_code == 200 and "Gi fra deg pallekarmen?" in page.text and "Du kan ikke få den tilbake etterpå" in page.text
    assert (await client.get(asking, headers=waiter[1])).status_code == 404  # not theirs to give
    unsure = await post_form(client, asking, {}, winner[1])
    assert unsure.status_code == 422 and "Pallekarmen din" in (await client.get("/garden", headers=winner[1])).text
    given = await post_form(client, asking, {"sure": "1", "reason": "Flytter"}, winner[1])
    assert given.headers["location"] == "/garden?done=given_back"
    assert "Pallekarmen din" not in (await client.get("/garden?done=given_back", headers=winner[1])).text
    assert "Du får tilbud om en pallekarm" in (await client.get("/garden", headers=waiter[1])).text


async def test_a_waiting_grower_sees_their_place_in_line_and_leaves_it(client, db, staff, grete, nils, season):
    await apply(client, grete, season)
    await apply(client, nils, season, {"street": "Bragernes torg 1", "postal_code": "3041"})
    await drawn_and_published(client, staff, season)
    waiter = nils if "/accept" in (await client.get("/garden", headers=grete[1])).text else grete
    garden = (await client.get("/garden", headers=waiter[1])).text
    assert "Du er nummer 1 på ventelisten." in garden
    entry = re.search(r'action="/garden/places/(\d+)/leave"', garden).group(1)
    left = await post_form(client, f"/garden/places/{entry}/leave", {}, waiter[1], from_page="/garden")
    assert left.headers["location"] == "/garden?done=left"
    after = (await client.get("/garden?done=left", headers=waiter[1])).text
    assert "Du har gått ut av ventelisten." in after and "på ventelisten.</p>" not in after
