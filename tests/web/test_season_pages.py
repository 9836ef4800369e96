"""Garden-bed season pages: a resident applies and accepts an offer; staff open, draw and publish a season."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from booking.seasons import service as seasons
from people.actor import OPERATOR, Actor
from tests import builders
from tests.web.test_pages import post_form, text_of


@pytest.fixture
async def resident(db):
    return await builders.person(db, "grete@example.no", name="Grete")


@pytest.fixture
async def staff(db):
    return await builders.person(db, "staff@example.no", staff=True, name="Stine")


@pytest.fixture
async def season(db, clock, staff):
    await builders.room(db, key="pallekarm-1", kind="garden_bed", capacity=None)
    actor = Actor(staff[0], "staff@example.no", "Stine", grants=OPERATOR)
    row = await seasons.create_season(
        db,
        actor,
        name="Hagesesongen 2027",
        start=datetime(2027, 4, 14, 22, tzinfo=UTC),
        end=datetime(2027, 10, 31, 23, tzinfo=UTC),
        previous_season_id=None,
        district_postal_codes=None,
        household_limit=1,
        offer_days=7,
        now=clock(),
    )
    return row.id


async def test_a_resident_applies_for_a_bed_and_accepts_the_offer_staff_publish(client, resident, staff, season):
    page = f"/staff/seasons/{season}"
    assert (await post_form(client, f"{page}/phase", {"phase": "applications"}, staff[1], from_page=page)).status_code == 303
    applied = await post_form(
        client, f"/garden/{season}/apply", {"street": "Torggata 5", "postal_code": "3044"}, resident[1], from_page="/garden"
    )
    assert (applied.status_code, applied.headers["location"]) == (303, "/garden?done=apply")
    assert "Søkt, venter på trekningen" in (await client.get("/garden", headers=resident[1])).text
    assert (await post_form(client, f"{page}/phase", {"phase": "allocation"}, staff[1], from_page=page)).status_code == 303
    assert (await post_form(client, f"{page}/preview", {"seed": "42"}, staff[1], from_page=page)).status_code == 303
    assert "Pallekarm-1" in (await client.get(page, headers=staff[1])).text
    assert (await post_form(client, f"{page}/publish", {"sure": "1"}, staff[1], from_page=page)).status_code == 303
    garden = await client.get("/garden", headers=resident[1])
    assert "Du får tilbud om en pallekarm" in garden.text
    offer = re.search(r"/offers/(\d+)/accept", garden.text).group(1)
    accepted = await post_form(client, f"/offers/{offer}/accept", {}, resident[1], from_page="/garden")
    assert accepted.headers["location"] == "/garden?done=accepted"
    assert "Pallekarmen er din denne sesongen." in (await client.get(accepted.headers["location"], headers=resident[1])).text


async def test_a_wrong_postal_code_is_shown_next_to_its_field(client, resident, staff, season):
    page = f"/staff/seasons/{season}"
    await post_form(client, f"{page}/phase", {"phase": "applications"}, staff[1], from_page=page)
    response = await post_form(
        client, f"/garden/{season}/apply", {"street": "Torggata 5", "postal_code": "30"}, resident[1], from_page="/garden"
    )
    assert response.status_code == 422
    assert text_of(response.text, "postal_code-error") == "Feil: Skriv et norsk postnummer med fire sifre."


async def test_a_phase_cannot_be_skipped_and_staff_are_told_why(client, staff, season):
    page = f"/staff/seasons/{season}"
    response = await post_form(client, f"{page}/phase", {"phase": "running"}, staff[1], from_page=page)
    assert response.status_code == 422 and "En sesong går gjennom fasene i rekkefølge." in response.text


async def test_the_garden_page_tells_the_published_outcome_by_the_beds_name_and_only_staff_read_their_note(
    client, db, resident, staff, season
):
    page, note = f"/staff/seasons/{season}", "Privat: naboen har klaget"
    await post_form(client, f"{page}/phase", {"phase": "applications"}, staff[1], from_page=page)
    await post_form(client, f"/garden/{season}/apply", {"street": "Torggata 5", "postal_code": "3044"}, resident[1], from_page="/garden")
    await post_form(client, f"{page}/phase", {"phase": "allocation"}, staff[1], from_page=page)
    await post_form(client, f"{page}/preview", {"seed": "42"}, staff[1], from_page=page)
    [row] = await seasons.applications(db, Actor(staff[0], "staff@example.no", "Stine", grants=OPERATOR), season)
    form = {"bed_id": str(row.bed_id), "reason": note, "message_to_resident": "Velkommen til hagen!"}
    adjusted = await post_form(client, f"{page}/applications/{row.id}/adjust", form, staff[1], from_page=page)
    assert adjusted.status_code == 303
    assert "Etter en gjennomgang" not in (await client.get("/garden", headers=resident[1])).text  # a preview is staff's
    await post_form(client, f"{page}/publish", {"sure": "1"}, staff[1], from_page=page)
    garden = (await client.get("/garden", headers=resident[1])).text
    assert "<p>Etter en gjennomgang har vi gitt deg Pallekarm-1.</p>" in garden
    assert "<strong>En melding til deg:</strong> Velkommen til hagen!" in garden
    assert note not in garden and "lottery rank" not in garden and "adjusted by staff" not in garden
    english = (await client.get("/garden?lang=en", headers=resident[1])).text
    assert "After a review, we have given you Pallekarm-1." in english
    staff_page = (await client.get(f"{page}?lang=nb", headers=staff[1])).text
    assert f"adjusted by staff: {note}" in staff_page and "Melding til søkeren: Velkommen til hagen!" in staff_page


async def test_staff_see_applications_from_one_building_under_different_flat_numbers_as_perhaps_one_household(
    client, db, resident, staff, season
):
    neighbour = await builders.person(db, "nils@example.no", name="Nils")
    page = f"/staff/seasons/{season}"
    await post_form(client, f"{page}/phase", {"phase": "applications"}, staff[1], from_page=page)
    for who, street in ((resident, "Torggata 5"), (neighbour, "Torggata 05, H0101")):
        applied = await post_form(client, f"/garden/{season}/apply", {"street": street, "postal_code": "3044"}, who[1], from_page="/garden")
        assert applied.status_code == 303, applied.text
    shown = await client.get(page, headers=staff[1])
    assert "Kanskje samme husstand" in shown.text
    doubles = shown.text[shown.text.index('<ul class="doubles">') :]
    assert "Grete" in doubles and "Nils" in doubles and "Torggata 05, H0101" in doubles
