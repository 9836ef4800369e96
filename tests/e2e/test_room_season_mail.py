"""A room season's mails through a real SMTP server: one result per association in its language, and per granted weekly
time one recurring invitation an independent parser (vobject) reads, holiday week left out, times right across the
October change."""

from __future__ import annotations

from datetime import date, timedelta

from config.servers import free_port
from infra.time import OSLO
from people.store import Person
from tests.api import test_room_seasons as rounds
from tests.api.test_room_seasons import allocate, round_, three_applications
from tests.e2e.test_mail import calendar_of, drain, smtp_server, text_of

world = rounds.world  # the associations, rooms and staff the room-season API tests start from


async def test_each_association_hears_its_result_and_gets_its_weekly_time_as_one_recurring_event(client, db, settings, world, clock):
    async with db.write() as s:  # the bridge club's admin reads Allmenning in English
        (await s.get(Person, world["admins"][2][0])).language = "en"
    sid = (await round_(client, world))["id"]
    await three_applications(client, world, sid)
    await allocate(client, world, sid)
    assert (await client.post(f"/api/v1/room-seasons/{sid}/allocation/publish", headers=world["staff"][1])).status_code == 200
    port = free_port()
    with smtp_server(port) as inbox:
        assert (await drain(db, settings, port, clock())).sent == 6  # three results, three weekly times
    results = {m["To"].addresses[0].username: m for m in inbox.messages if "text/calendar" not in {p.get_content_type() for p in m.walk()}}
    kids = text_of(results["admin0"])
    assert "1. Barnekor: Innvilget på en tid dere satte som førstevalg: tirsdag 17:00–19:00 i Lillesalen." in kids
    bridge = text_of(results["admin2"])
    assert "Not granted: the times that suit you were given to wishes with higher priority." in bridge
    assert "Granted at a time you said would also do: Thursday 17:00–19:00 in Lillesalen." in bridge
    assert "held by" not in bridge and "tier" not in bridge  # the audit text stays with staff
    assert f"/associations/{world['associations'][2]}/room-seasons/{sid}" in bridge
    invitations = [calendar_of(m) for m in inbox.messages if m not in results.values()]
    assert len(invitations) == 3
    method, ics, calendar = next(i for i in invitations if "Barnekor" in i[1])
    [event] = calendar.vevent_list
    assert method == "REQUEST" and event.status.value == "TENTATIVE"  # held until the association confirms
    assert "EXDATE;TZID=Europe/Oslo:20271005T170000" in ics  # høstferie
    shown = [d.astimezone(OSLO) for d in event.getrruleset()]
    tuesdays = [date(2027, 8, 17) + timedelta(weeks=n) for n in range(18)]
    assert [d.date() for d in shown] == [d for d in tuesdays if d != date(2027, 10, 5)]
    assert {(d.hour, d.minute) for d in shown} == {(17, 0)}
    assert {d.utcoffset() for d in shown} == {timedelta(hours=2), timedelta(hours=1)}  # both sides of 31 October


async def test_a_confirmed_time_updates_the_same_event_and_a_time_given_back_leaves_the_calendar(client, db, settings, world, clock):
    sid = (await round_(client, world))["id"]
    await three_applications(client, world, sid)
    await allocate(client, world, sid)
    items = (await client.post(f"/api/v1/room-seasons/{sid}/allocation/publish", headers=world["staff"][1])).json()["items"]
    kids = next(w for w in items if w["association_id"] == world["associations"][0])
    port = free_port()
    with smtp_server(port) as inbox:
        await drain(db, settings, port, clock())
        [offered] = [calendar_of(m) for m in inbox.messages if "Barnekor" in m.as_string() and "text/calendar" in m.as_string()]
        base = f"/api/v1/room-seasons/{sid}/wishes/{kids['id']}"
        assert (await client.post(f"{base}/confirm", headers=world["admins"][0][1])).status_code == 200
        assert (await drain(db, settings, port, clock())).sent == 1
        confirmed = calendar_of(inbox.messages[-1])
        assert (
            await client.post(f"{base}/give-back", json={"reason": "Koret tar pause"}, headers=world["admins"][0][1])
        ).status_code == 200
        assert (await drain(db, settings, port, clock())).sent >= 1
        released = next(m for m in inbox.messages[7:] if m["To"].addresses[0].username == "admin0")
    [was], [now] = offered[2].vevent_list, confirmed[2].vevent_list
    assert now.uid.value == was.uid.value and now.status.value == "CONFIRMED"
    assert int(now.sequence.value) > int(was.sequence.value)
    assert "Koret tar pause" in text_of(released)
    [gone] = calendar_of(released)[2].vevent_list
    assert gone.uid.value == was.uid.value and gone.status.value == "CANCELLED"
