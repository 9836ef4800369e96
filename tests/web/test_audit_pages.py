"""Staff read the audit trail and see who holds which role on their own pages: filters, Oslo times, pages of 50 and a CSV
of the same; operators grant and (after being asked) take back roles there; residents are refused both pages."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from infra import audit
from infra.audit import Action
from people.store import StaffGrant
from tests import builders
from tests.api.test_audit_api import place, staff_member
from tests.web.test_pages import post_form


@pytest.fixture
async def alice(db):
    return await builders.person(db, "alice@example.no", name="Alice")


@pytest.fixture
async def stine(db):
    return await builders.person(db, "stine@knutepunkt.no", staff=True, name="Stine")


@pytest.fixture
async def world(db, clock, alice, stine):
    huset, torget = await place(db, "huset", "Huset"), await place(db, "torget", "Torget")
    lena = await staff_member(db, "lena@knutepunkt.no", "location_staff", huset, name="Lena")
    rita = await staff_member(db, "rita@knutepunkt.no", "reporting", name="Rita")
    async with db.write() as s:
        audit.record(
            s, Action.BOOKING_DECLINED, actor_id=stine[0], at=clock.now - timedelta(days=2), object_id=11, location_id=torget,
            subject_id=alice[0], reason="Fullt <den dagen>", before={"status": "requested"}, after={"status": "declined"},
        )  # fmt: skip
        audit.record(
            s, Action.LOAN_HANDED_OUT, actor_id=lena[0], at=clock.now - timedelta(days=1), object_id=12, location_id=huset,
            subject_id=alice[0], after={"status": "checked_out"},
        )  # fmt: skip
        audit.record(s, Action.ROLE_GRANTED, actor_id=None, at=clock.now - timedelta(hours=1), object_id=rita[0], subject_id=rita[0])
    return {"huset": huset, "torget": torget, "lena": lena, "rita": rita}


def rows_of(page: str) -> list[str]:
    """Each entry's row as words (as a browser shows them), newest first."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", row)).split()) for row in body.split("</tr>")[:-1]]


async def test_an_operator_reads_the_trail_newest_first_in_oslo_time_with_words(client, stine, world):
    page = await client.get("/staff/audit?lang=en", headers=stine[1])
    assert page.status_code == 200 and "<h1>Audit trail</h1>" in page.text
    rows = rows_of(page.text)
    assert [r.split(" ", 1)[0] for r in rows] == ["23", "22", "21"]
    assert rows[0].startswith("23 Nov 2026, 09:00 System Staff role granted Staff role") and "Everywhere" in rows[0]
    assert "22 Nov 2026, 10:00 Lena Handed out Loan #12 Concerns: Alice Huset" in rows[1]
    assert (
        "Stine Request declined Booking #11 Concerns: Alice Torget Fullt <den dagen>" in rows[2] and "Fullt &lt;den dagen&gt;" in page.text
    )
    assert 'status : "requested" → "declined"' in rows[2]
    assert 'value="2026-10-24"' in page.text and 'value="2026-11-23"' in page.text  # the last 30 days by default
    csv_link = re.search(r'href="(/api/v1/audit\.csv\?[^"]+)"', page.text).group(1)
    export = await client.get(csv_link.replace("&amp;", "&"), headers=stine[1])
    assert export.status_code == 200 and export.text.count("\r\n") == 4  # the header and the three entries


async def test_the_filters_narrow_the_trail_and_the_csv_keeps_them(client, stine, alice, world):
    def kinds(page):
        return [r.split("Concerns")[0] for r in rows_of(page)]

    by_kind = await client.get("/staff/audit?lang=en&kind=loan", headers=stine[1])
    assert len(rows_of(by_kind.text)) == 1 and "Handed out" in rows_of(by_kind.text)[0]
    assert "kind=loan" in re.search(r'href="(/api/v1/audit\.csv\?[^"]+)"', by_kind.text).group(1)
    by_person = await client.get("/staff/audit?lang=en&person=lena@knutepunkt.no", headers=stine[1])
    assert [("Lena" in r) for r in rows_of(by_person.text)] == [True]
    by_place = await client.get(f"/staff/audit?lang=en&location={world['torget']}", headers=stine[1])
    assert len(rows_of(by_place.text)) == 1 and "Torget" in rows_of(by_place.text)[0]
    by_object = await client.get("/staff/audit?lang=en&kind=booking&object_id=11", headers=stine[1])
    assert len(kinds(by_object.text)) == 1
    by_days = await client.get("/staff/audit?lang=en&from=2026-11-22&to=2026-11-22", headers=stine[1])
    assert len(rows_of(by_days.text)) == 1 and "Lena" in rows_of(by_days.text)[0]


async def test_refused_filters_are_said_beside_their_field(client, stine, world):
    wide = await client.get("/staff/audit?lang=en&from=2024-01-01&to=2026-11-23", headers=stine[1])
    assert wide.status_code == 422 and "Ask for at most 366 days at a time." in wide.text and "<tbody>" not in wide.text
    nobody = await client.get("/staff/audit?lang=en&person=nobody@example.no", headers=stine[1])
    assert nobody.status_code == 422 and "We could not find this person." in nobody.text
    no_date = await client.get("/staff/audit?lang=en&from=yesterday", headers=stine[1])
    assert no_date.status_code == 422 and 'value="yesterday"' in no_date.text


async def test_pages_of_fifty_go_on_to_older_entries(client, db, clock, stine, world):
    async with db.write() as s:
        for n in range(55):
            audit.record(s, Action.CLOSURE_ADDED, actor_id=stine[0], at=clock.now - timedelta(days=3, minutes=n), object_id=n)
    first = await client.get("/staff/audit?lang=en", headers=stine[1])
    assert len(rows_of(first.text)) == 50
    older = re.search(r'href="(/staff/audit\?[^"]*after=\d+[^"]*)"', first.text).group(1).replace("&amp;", "&")
    second = await client.get(older, headers=stine[1])
    assert len(rows_of(second.text)) == 8 and "Newest entries" in second.text and "Older entries" not in second.text


async def test_location_staff_read_only_their_places_entries_and_see_the_roles_without_forms(client, world):
    lena = world["lena"][1]
    page = await client.get("/staff/audit?lang=en", headers=lena)
    assert page.status_code == 200 and len(rows_of(page.text)) == 1 and "Huset" in rows_of(page.text)[0]
    assert "Torget" not in page.text  # neither its entries nor in the place filter
    other = await client.get(f"/staff/audit?lang=en&location={world['torget']}", headers=lena)
    assert other.status_code == 403
    roles = await client.get("/staff/roles?lang=en", headers=lena)
    assert roles.status_code == 200 and "Location staff – Huset" in roles.text and "Reporting – Everywhere" in roles.text
    assert "/staff/roles/grant" not in roles.text and "/staff/roles/revoke" not in roles.text


async def test_reporting_reads_the_whole_trail_and_the_roles(client, world):
    rita = world["rita"][1]
    assert len(rows_of((await client.get("/staff/audit", headers=rita)).text)) == 3
    roles = await client.get("/staff/roles?lang=en", headers=rita)
    assert roles.status_code == 200 and "Grant a role" not in roles.text


async def test_residents_are_refused_both_pages_and_do_not_see_them_in_a_menu(client, alice, stine, world):
    for path in ("/staff/audit", "/staff/roles", f"/staff/roles/revoke?person={stine[0]}&role=operator&location="):
        assert (await client.get(path, headers=alice[1])).status_code == 403
    signed_out = await client.get("/staff/audit", follow_redirects=False)
    assert signed_out.status_code in (302, 303, 401) and "<tbody>" not in signed_out.text
    mine = await client.get("/my/bookings", headers=alice[1])
    assert "/staff/audit" not in mine.text
    staff_menu = await client.get("/my/bookings?lang=en", headers=stine[1])
    assert 'href="/staff/audit"' in staff_menu.text and 'href="/staff/roles"' in staff_menu.text


async def grants(db, person_id) -> set:
    async with db.read() as s:
        return {(g.role, g.location_id) for g in (await s.execute(select(StaffGrant).where(StaffGrant.person_id == person_id))).scalars()}


async def test_an_operator_grants_a_role_and_takes_it_back_after_being_asked(client, db, alice, stine, world):
    done = await post_form(
        client, "/staff/roles/grant", {"email": "alice@example.no", "role": "location_staff", "location": str(world["huset"])}, stine[1],
        from_page="/staff/roles",
    )  # fmt: skip
    assert (done.status_code, done.headers["location"]) == (303, "/staff/roles?done=granted")
    assert await grants(db, alice[0]) == {("location_staff", world["huset"])}
    page = await client.get("/staff/roles?lang=en&done=granted", headers=stine[1])
    assert "The role is granted." in page.text
    ask = f"/staff/roles/revoke?person={alice[0]}&role=location_staff&location={world['huset']}"
    assert f'href="{ask.replace("&", "&amp;")}"' in page.text
    asked = await client.get(ask + "&lang=en", headers=stine[1])
    assert asked.status_code == 200 and "<h1>Take back the role Location staff (Huset) from Alice?</h1>" in asked.text
    assert await grants(db, alice[0]) == {("location_staff", world["huset"])}  # asking changed nothing
    form = {"person": str(alice[0]), "role": "location_staff", "location": str(world["huset"])}
    revoked = await post_form(client, "/staff/roles/revoke", form, stine[1], from_page=ask)
    assert (revoked.status_code, revoked.headers["location"]) == (303, "/staff/roles?done=revoked")
    assert await grants(db, alice[0]) == set()


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"email": "nobody@example.no", "role": "reporting", "location": ""}, "We could not find this person."),
        ({"email": "alice@example.no", "role": "location_staff", "location": ""}, "Location staff work at one place: choose it."),
        ({"email": "alice@example.no", "role": "janitor", "location": ""}, "Choose one of the roles in the list."),
        ({"email": "alice@example.no", "role": "reporting", "location": "999"}, "There is no such place."),
    ],
)
async def test_a_refused_grant_says_why_and_grants_nothing(client, db, alice, stine, world, form, message):
    refused = await post_form(client, "/staff/roles/grant?lang=en", form, stine[1], from_page="/staff/roles?lang=en")
    assert refused.status_code in (404, 422) and message in refused.text
    assert await grants(db, alice[0]) == set()


async def test_the_last_operator_is_kept_and_only_operators_manage_roles(client, db, stine, world):
    form = {"person": str(stine[0]), "role": "operator", "location": ""}
    refused = await post_form(client, "/staff/roles/revoke?lang=en", form, stine[1], from_page="/staff/roles")
    assert refused.status_code == 409 and "Somebody must stay operator." in refused.text
    assert await grants(db, stine[0]) == {("operator", None)}
    by_reporter = await post_form(client, "/staff/roles/revoke", form, world["rita"][1], from_page="/staff/roles")
    assert by_reporter.status_code == 403 and await grants(db, stine[0]) == {("operator", None)}
