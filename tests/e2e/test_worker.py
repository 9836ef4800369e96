"""`allmenning worker` as a real process beside real servers: the web process leaves it the mail and takes it back
when it stops; and N web processes with M workers on one PostgreSQL database mail everything exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from datetime import time as wall
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from booking.store import Booking
from config.servers import ALLMENNING, free_port, running_servers
from infra.database import Db
from infra.outbox import Notification
from infra.time import local_datetime
from notifications import service
from tests import builders
from tests.conftest import _truncate_all
from tests.e2e.test_mail import a_weekday_soon, smtp_server, wait_for


@contextmanager
def running_workers(database_url: str, count: int, tmp_path: Path, **env: str) -> Iterator[list[subprocess.Popen]]:
    """`count` worker processes on one database, started together; each has said it runs before this yields."""
    processes, logs = [], []
    try:
        for i in range(count):
            logs.append(tmp_path / f"worker{i}.log")
            environment = {
                **os.environ,
                "ALLMENNING_DATABASE_URL": database_url,
                "ALLMENNING_MAIL_DIR": str(tmp_path / f"worker{i}"),
                **env,
            }
            with logs[-1].open("w") as out:
                processes.append(subprocess.Popen([str(ALLMENNING), "worker"], env=environment, stdout=out, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + 60
        for process, log in zip(processes, logs, strict=True):
            while "Worker " not in log.read_text():
                assert process.poll() is None and time.monotonic() < deadline, f"the worker did not start: {log.read_text()}"
                time.sleep(0.05)
        yield processes
    finally:
        stop(processes)


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def booking_at(room: int, start: datetime) -> dict:
    return {"resource_id": room, "start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}


async def mail_in(folder: Path, count: int, *, within: float) -> float:
    started = time.monotonic()
    while len(list(folder.glob("notification-*.eml"))) < count and time.monotonic() - started < within:
        await asyncio.sleep(0.05)
    return time.monotonic() - started


@pytest.mark.e2e
async def test_a_web_process_leaves_mail_to_the_worker_while_it_runs_and_sends_it_again_once_it_stops(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'allmenning.db'}"
    with running_servers(url, 1, tmp_path, ALLMENNING_SCHEDULER="on") as (base,):
        db = Db(url)
        try:
            room = await builders.room(db, key="rom-worker")
            _, alice = await builders.person(db, "alice@example.no", name="Alice")
        finally:
            await db.dispose()
        day = a_weekday_soon()
        web_mail, worker_mail = tmp_path / "mail0", tmp_path / "worker0"
        async with httpx.AsyncClient(timeout=30) as http:
            with running_workers(url, 1, tmp_path) as (worker,):
                await asyncio.sleep(2.5)  # the web process trusts what it read of the heartbeats for 2 s
                for hour in (17, 18):
                    response = await http.post(
                        f"{base}/api/v1/bookings", json=booking_at(room, local_datetime(day, wall(hour))), headers=alice
                    )
                    assert response.status_code == 201, response.text
                assert await mail_in(worker_mail, 2, within=10) < 5
                stop([worker])
                assert worker.returncode == 0
            assert not list(web_mail.glob("notification-*.eml"))  # while the worker ran, the web process sent nothing
            db = Db(url)
            try:
                assert not await service.worker_runs(db, now=datetime.now(UTC))  # it took its heartbeat back on SIGTERM
            finally:
                await db.dispose()
            response = await http.post(f"{base}/api/v1/bookings", json=booking_at(room, local_datetime(day, wall(19))), headers=alice)
            assert response.status_code == 201, response.text
            waited = await mail_in(web_mail, 1, within=15)
    assert len(list(web_mail.glob("notification-*.eml"))) == 1 and len(list(worker_mail.glob("notification-*.eml"))) == 2
    assert waited < 5, f"the web process took {waited:.1f} s to send once the worker had stopped"


async def due_for_reminders(db: Db, rooms: list[int], person_ids: list[int], count: int) -> None:
    """`count` confirmed room bookings starting within the day, made days ago: each is due its reminder now."""
    now = datetime.now(UTC).replace(microsecond=0)
    async with db.write() as s:
        for i in range(count):
            start = now + timedelta(hours=2 + i)
            s.add(
                Booking(
                    resource_id=rooms[i % len(rooms)],
                    person_id=person_ids[i % len(person_ids)],
                    start=start,
                    end=start + timedelta(minutes=30),
                    block_start=start,
                    block_end=start + timedelta(minutes=30),
                    status="confirmed",
                    created_at=now - timedelta(days=3),
                    updated_at=now - timedelta(days=3),
                )
            )


@pytest.mark.e2e
@pytest.mark.postgresql
async def test_two_web_processes_and_two_workers_on_postgresql_mail_every_booking_and_every_reminder_exactly_once(postgres_url, tmp_path):
    await _truncate_all(postgres_url)
    db = Db(postgres_url)
    try:
        rooms = [await builders.room(db, key=f"rom{i}") for i in range(8)]
        people = [await builders.person(db, f"e2e{i}@example.no") for i in range(4)]
        await due_for_reminders(db, rooms, [p for p, _ in people], 6)
    finally:
        await db.dispose()
    day, port = a_weekday_soon(), free_port()
    smtp = {"ALLMENNING_SMTP_URL": f"smtp://127.0.0.1:{port}"}
    with (
        smtp_server(port) as inbox,
        running_servers(postgres_url, 2, tmp_path, ALLMENNING_SCHEDULER="on", **smtp) as urls,
        running_workers(postgres_url, 2, tmp_path, **smtp) as workers,
    ):
        await asyncio.sleep(2.5)  # the web processes have read the workers' heartbeats (trusted for 2 s)
        async with httpx.AsyncClient(timeout=30) as http:  # a burst: 40 bookings, 8 at a time, through both web processes

            async def book(i: int) -> None:
                start = local_datetime(day, wall(17 + i // 8))  # eight rooms, an hour each from 17:00
                response = await http.post(f"{urls[i % 2]}/api/v1/bookings", json=booking_at(rooms[i % 8], start), headers=people[i % 4][1])
                assert response.status_code == 201, response.text

            for first in range(0, 40, 8):
                await asyncio.gather(*(book(i) for i in range(first, first + 8)))
        waited = await wait_for(inbox, 46, within=20)
        await asyncio.sleep(2)  # time for a second copy to show up, if one were coming
    ids = inbox.message_ids()
    assert len(ids) == 46 and len(set(ids)) == 46, f"{len(ids)} mails, {len(set(ids))} distinct"
    assert waited < 10, f"mail took {waited:.1f} s"
    db = Db(postgres_url)
    try:
        async with db.read() as s:
            rows = (await s.execute(select(Notification.kind, Notification.status, Notification.lease_owner))).all()
    finally:
        await db.dispose()
    assert sorted({kind for kind, _, _ in rows}) == ["booking_confirmed", "booking_reminder"]
    assert [kind for kind, _, _ in rows].count("booking_reminder") == 6  # each reminder recorded once, by one worker's sweep
    assert {status for _, status, _ in rows} == {"sent"}
    pids = {str(w.pid) for w in workers}
    assert {owner.split(":")[1] for _, _, owner in rows} <= pids, "a web process sent mail while workers ran"
