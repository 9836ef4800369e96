"""Booking benchmark: the real server against a minimal-insert baseline, measured in the same run.

    .venv/bin/python bench/booking.py [--database-url URL] [--bookings 600] [--concurrency 16] [--rounds 5]
                                      [--mail-bookings 200] [--mail-rounds 5] [--mail-only | --skip-mail]

Prints, for room bookings and for equipment loans, (a) requests per second by concurrent clients on distinct
slots against inserts per second of `bench/baseline.py` (rounds taken in turns, each round's pair shown as
bookings/baseline; the ratio is the median of the rounds' own ratios, the rates beside it the medians), and
(b) availability and booking latency with 1,000 and with 100,000 existing bookings of the resource; and the
server's resident memory after that load (target < 150 MB). On PostgreSQL, the throughput again with two server
processes on the one database, the requests shared between them.
Targets: throughput ≥ 0.8× baseline; latency at 100,000 within 1.2× of latency at 1,000.

Then (c) what sending the mail costs a booking, each against "mail off" (a server that records the mail and sends
none) in the same run: three servers on three fresh databases, one with mail off, one that sends its own mail (the
one-command `make run`), and one beside an `allmenning worker` that sends it, all to one SMTP sink (aiosmtpd in a
process of its own); taken in turns `--mail-rounds` times. A phase with mail ends when its last mail is sent (how
long after the last answer is printed); the next begins then.
Targets: one client's bookings per second with mail ≥ 0.8× with mail off; the p99 of booking latency under
`--concurrency` clients with a worker sending ≤ 1.5× with mail off.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.seed import bench_database, seed_history, seed_people, seed_resources
from bench.smtp_sink import smtp_sink
from config.servers import ALLMENNING, free_port, running_servers
from infra.database import Db
from infra.outbox import Notification

MAIL_RATE_TARGET, MAIL_P99_TARGET = 0.80, 1.50
RSS_TARGET_MB = 150


async def timed_posts(requests: list[tuple[str, dict, dict]], concurrency: int) -> tuple[float, list[int]]:
    """Send the requests with `concurrency` clients at a time; answer requests per second and the statuses."""
    queue, statuses = list(reversed(requests)), []
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=concurrency)) as http:

        async def worker() -> None:
            while queue:
                url, body, headers = queue.pop()
                statuses.append((await http.post(url, json=body, headers=headers)).status_code)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return len(requests) / (time.perf_counter() - started), statuses


def slot(day_offset: int, hour: int, *, now: datetime) -> dict[str, str]:
    start = (now + timedelta(days=day_offset)).replace(hour=hour, minute=0, second=0, microsecond=0)
    return {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}


async def median_latencies(calls, count: int) -> list[float]:
    """Median milliseconds of each call, the calls taken in turn `count` times: drift hits them all alike."""
    async with httpx.AsyncClient(timeout=60) as http:
        samples: list[list[float]] = [[] for _ in calls]
        for i in range(count):
            for call, times in zip(calls, samples, strict=True):
                started = time.perf_counter()
                response = await call(http, i)
                times.append(time.perf_counter() - started)
                assert response.status_code in (200, 201), response.text
        return [statistics.median(times) * 1000 for times in samples]


def ratio_line(name: str, value: float, baseline: float, unit: str, target: str, *, ratio: float | None = None) -> str:
    """The figure beside its baseline; the ratio is theirs unless given (the median of paired rounds' ratios)."""
    ratio = value / baseline if ratio is None else ratio
    return f"{name:<44} {value:10.1f} {unit:<6} baseline {baseline:10.1f} {unit:<6} ratio {ratio:5.2f}  (target {target})"


def paired(values: list[float], baselines: list[float]) -> float:
    """The median of each round's ratio to the baseline taken beside it: the two of a round share the machine's
    moment (another VM's load, the disk's), which the ratio of two medians taken from different rounds does not."""
    return statistics.median(v / b for v, b in zip(values, baselines, strict=True))


async def throughput(
    urls: list[str],
    baseline_url: str,
    rooms: list[int],
    tokens: list[dict],
    n: int,
    concurrency: int,
    now: datetime,
    what: str,
    rounds: int,
) -> tuple[str, float]:
    """Baseline and bookings in turns, `rounds` times, so drift in the machine's speed (disk, other load) hits both alike;
    the requests shared between the servers at `urls` in turn. Returns the line and the median rate."""

    def booking(i: int) -> tuple[str, dict, dict]:
        return (
            f"{urls[i % len(urls)]}/api/v1/bookings",
            {"resource_id": rooms[i % len(rooms)], **slot(2 + i // len(rooms) // 10, 8 + i // len(rooms) % 10, now=now)},
            tokens[i % len(tokens)],
        )

    inserts = [(f"{baseline_url}/insert", {"title": f"row {i}"}, {}) for i in range(n)]
    await timed_posts(inserts[:50], concurrency)  # warm both up
    base_rates, rates = [], []
    for r in range(rounds):
        base_rates.append((await timed_posts(inserts, concurrency))[0])
        rate, statuses = await timed_posts([booking(i) for i in range(r * n, (r + 1) * n)], concurrency)
        assert statuses.count(201) == n, f"only {statuses.count(201)} of {n} bookings succeeded"
        rates.append(rate)
    spread = f"   rounds: {' '.join(f'{a:.0f}/{b:.0f}' for a, b in zip(rates, base_rates, strict=True))}"
    servers = f", {len(urls)} server processes" if len(urls) > 1 else ""
    line = ratio_line(
        f"{what}/s, distinct slots{servers}", statistics.median(rates), statistics.median(base_rates), "req/s", "≥ 0.80",
        ratio=paired(rates, base_rates),
    )  # fmt: skip
    return line + spread, statistics.median(rates)


async def latencies(url: str, baseline_url: str, room: int, token: dict, now: datetime, offset: int, count: int = 300) -> list[float]:
    """Availability, booking and the baseline's insert, each a median of `count`, taken in turns."""
    span = {"from": (now + timedelta(days=1)).isoformat(), "to": (now + timedelta(days=8)).isoformat()}

    async def availability(http, _):
        return await http.get(f"{url}/api/v1/resources/{room}/availability", params=span)

    async def booking(http, i):
        return await http.post(
            f"{url}/api/v1/bookings", json={"resource_id": room, **slot(300 + offset + i // 10, 8 + i % 10, now=now)}, headers=token
        )

    async def insert(http, i):
        return await http.post(f"{baseline_url}/insert", json={"title": f"latency {i}"})

    return await median_latencies([availability, booking, insert], count)


async def main(args: argparse.Namespace) -> None:
    if args.database_url and not await reachable(args.database_url):
        print(f"PostgreSQL at {args.database_url} does not answer: the PostgreSQL bench is skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        if not args.mail_only:
            async with bench_database(args.database_url, Path(tmp)) as url:
                await run(args, url, Path(tmp))
        if not args.skip_mail:
            await mail_costs(args, Path(tmp))


async def reachable(postgres_url: str) -> bool:
    try:
        connection = await asyncpg.connect(postgres_url.replace("postgresql+asyncpg://", "postgresql://"), timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


async def run(args: argparse.Namespace, url: str, tmp: Path) -> None:
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    tokens = await seed_people(url, count=args.concurrency)
    port = free_port()
    baseline = subprocess.Popen([sys.executable, str(Path(__file__).parent / "baseline.py"), url, str(port)])
    try:
        wait_until_healthy_baseline(f"http://127.0.0.1:{port}")
        baseline_url = f"http://127.0.0.1:{port}"
        with running_servers(url, 1, tmp) as servers:
            server, one = servers[0], {}
            print(f"database: {url.split('://')[0]}; {args.bookings} requests by {args.concurrency} clients")
            for kind, what in (("room", "room bookings"), ("equipment", "equipment loans")):
                resources, history = await seed_resources(url, 20, kind)
                line, one[kind] = await throughput(
                    servers, baseline_url, resources, tokens, args.bookings, args.concurrency, now, what, args.rounds
                )
                print(line)
                await seed_history(url, history, 1_000, before=now, exclusive=kind == "room")
                small = await latencies(server, baseline_url, history, tokens[0], now, 0)
                await seed_history(url, history, 99_000, before=now - timedelta(hours=2_000), exclusive=kind == "room")
                large = await latencies(server, baseline_url, history, tokens[0], now, 100)
                print(ratio_line(f"{kind} availability p50, 100k vs 1k history", large[0], small[0], "ms", "≤ 1.20"))
                print(ratio_line(f"{kind} booking p50, 100k vs 1k history", large[1], small[1], "ms", "≤ 1.20"))
                print(
                    f"{'':<4}(minimal insert p50 taken in turns with them: {small[2]:.1f} ms at 1k, {large[2]:.1f} ms at 100k; "
                    f"availability {small[0] / small[2]:.2f}× → {large[0] / large[2]:.2f}×, booking {small[1] / small[2]:.2f}× → {large[1] / large[2]:.2f}× of it)"
                )
            rss = resident_mb(servers.processes[0].pid)
            print(
                f"server memory after this load (VmRSS): {rss:.0f} MB   (target < {RSS_TARGET_MB} MB: {'met' if rss < RSS_TARGET_MB else 'MISSED'})"
            )
        if url.startswith("postgresql"):
            await two_servers(args, url, tmp, baseline_url, tokens, now, one)
    finally:
        baseline.terminate()
        baseline.wait(10)


def resident_mb(pid: int) -> float:
    """The process's resident memory as the kernel counts it (VmRSS in /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


async def two_servers(
    args: argparse.Namespace, url: str, tmp: Path, baseline_url: str, tokens: list[dict], now: datetime, one: dict
) -> None:
    """The same throughput with two server processes on the one PostgreSQL database, requests shared between them."""
    with running_servers(url, 2, tmp / "two") as servers:
        for kind, what in (("room", "room bookings"), ("equipment", "equipment loans")):
            resources, _ = await seed_resources(url, 20, kind, key="bench-two")
            line, rate = await throughput(servers, baseline_url, resources, tokens, args.bookings, args.concurrency, now, what, args.rounds)
            print(line + f"   (two processes / one: {rate / one[kind]:.2f})")


# ---------------------------------------------------------------- (c) what mail costs a booking


@dataclass
class Setup:
    """One server on its own database, and how its mail goes: not at all, by the server itself, or by a worker."""

    name: str
    url: str = ""
    server: str = ""
    rooms: list[int] = field(default_factory=list)
    tokens: list[dict] = field(default_factory=list)
    db: Db | None = None
    booked: int = 0  # bookings made so far: each next one takes a slot of its own
    rates: list[float] = field(default_factory=list)
    tails: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    crowd_rates: list[float] = field(default_factory=list)

    def requests(self, count: int, now: datetime) -> list[tuple[str, dict, dict]]:
        made = []
        for i in range(self.booked, self.booked + count):
            room = self.rooms[i % len(self.rooms)]
            made.append(
                (
                    f"{self.server}/api/v1/bookings",
                    {"resource_id": room, **mail_slot(i // len(self.rooms), now)},
                    self.tokens[i % len(self.tokens)],
                )
            )
        self.booked += count
        return made

    async def unsent(self) -> int:
        async with self.db.read() as s:
            return (await s.execute(select(func.count()).select_from(Notification).where(Notification.status == "pending"))).scalar_one()


def mail_slot(n: int, now: datetime) -> dict[str, str]:
    """The n-th hour of a room's own: ten a day from 08:00, from the day after tomorrow."""
    return slot(2 + n // 10, 8 + n % 10, now=now)


@contextmanager
def running_worker(database_url: str, log: Path, **env: str) -> Iterator[subprocess.Popen]:
    """`allmenning worker` on the database until the block ends (then SIGTERM): the mail leaves through it."""
    environment = {**os.environ, "ALLMENNING_DATABASE_URL": database_url, **env}
    with log.open("w") as out:
        process = subprocess.Popen([str(ALLMENNING), "worker"], env=environment, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "Worker " not in log.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start: {log.read_text()}")
            time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


async def timed_bookings(requests: list[tuple[str, dict, dict]], concurrency: int) -> tuple[float, list[float]]:
    """The requests by `concurrency` clients at a time: requests per second, and each one's milliseconds."""
    queue, times = list(reversed(requests)), []
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=concurrency)) as http:

        async def client() -> None:
            while queue:
                url, body, headers = queue.pop()
                started = time.perf_counter()
                response = await http.post(url, json=body, headers=headers)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 201, response.text

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        return len(requests) / (time.perf_counter() - started), times


async def all_mail_sent(setup: Setup, within: float = 120) -> float:
    """Seconds until the setup's outbox has nothing left to send."""
    started = time.perf_counter()
    while await setup.unsent():
        if time.perf_counter() - started > within:
            raise TimeoutError(f"{setup.name}: mail still unsent after {within:.0f} s")
        await asyncio.sleep(0.02)
    return time.perf_counter() - started


async def phase(setup: Setup, count: int, concurrency: int, now: datetime) -> None:
    """Bookings by `concurrency` clients; with mail, the phase lasts until the last of its mail is sent."""
    rate, times = await timed_bookings(setup.requests(count, now), concurrency)
    tail = await all_mail_sent(setup) if setup.name != "off" else 0.0  # the next phase finds this one's mail gone
    if concurrency == 1:
        setup.rates.append(rate)
        setup.tails.append(tail * 1000)
    else:
        setup.latencies += times
        setup.crowd_rates.append(rate)


def p99(times: list[float]) -> float:
    return statistics.quantiles(times, n=100, method="inclusive")[98]


async def mail_costs(args: argparse.Namespace, tmp: Path) -> None:
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    setups = [Setup("off"), Setup("server"), Setup("worker")]
    async with AsyncExitStack() as stack:
        sink = stack.enter_context(smtp_sink("minimal"))  # the mail server stands in for another machine: little CPU here
        smtp = {"ALLMENNING_SMTP_URL": sink.url}
        for setup in setups:
            folder = tmp / f"mail-{setup.name}"
            folder.mkdir()
            setup.url = await stack.enter_async_context(bench_database(args.database_url, folder))
            setup.tokens = await seed_people(setup.url, count=args.concurrency)
            setup.rooms, _ = await seed_resources(setup.url, 20, "room")
            env = {} if setup.name == "off" else {"ALLMENNING_SCHEDULER": "on", **smtp}
            setup.server = stack.enter_context(running_servers(setup.url, 1, folder, **env))[0]
            if setup.name == "worker":
                stack.enter_context(running_worker(setup.url, folder / "worker.log", **smtp))
            setup.db = Db(setup.url)
            stack.push_async_callback(setup.db.dispose)
        await asyncio.sleep(3)  # the server beside the worker has read its heartbeat (it trusts a reading 2 s)
        for setup in setups:  # warm up: connections, caches, the SMTP conversation
            await phase(setup, 20, 1, now)
            setup.rates.clear(), setup.tails.clear()
        for _ in range(args.mail_rounds):
            for setup in setups:
                await phase(setup, args.mail_bookings, 1, now)
            for setup in setups:
                await phase(setup, args.bookings, args.concurrency, now)
    off, server, worker = setups
    n = args.mail_rounds
    print(
        f"database: {setups[0].url.split('://')[0]}; mail: {args.mail_bookings} bookings by one client and {args.bookings} by"
        f" {args.concurrency} clients per setup and round, {n} rounds in turns, to one SMTP sink in a process of its own"
    )
    for setup, target in ((server, f"≥ {MAIL_RATE_TARGET:.2f}"), (worker, "-")):
        print(
            ratio_line(
                f"1 client bookings/s, mail sent by the {setup.name}",
                statistics.median(setup.rates),
                statistics.median(off.rates),
                "req/s",
                target,
                ratio=paired(setup.rates, off.rates),
            )
            + f"   rounds: {' '.join(f'{a:.0f}/{b:.0f}' for a, b in zip(setup.rates, off.rates, strict=True))}"
            + f"   (last mail sent {statistics.median(setup.tails):.0f} ms after the last answer)"
        )
    for setup, target in ((worker, f"≤ {MAIL_P99_TARGET:.2f}"), (server, "-")):
        print(
            ratio_line(
                f"booking p99, {args.concurrency} clients, mail sent by the {setup.name}",
                p99(setup.latencies),
                p99(off.latencies),
                "ms",
                target,
            )
        )
    print(
        f"{'':<4}({args.concurrency} clients, bookings/s: mail off {statistics.median(off.crowd_rates):.0f},"
        f" sent by the server {statistics.median(server.crowd_rates):.0f}, by a worker {statistics.median(worker.crowd_rates):.0f};"
        f" p50 ms: {statistics.median(off.latencies):.1f}, {statistics.median(server.latencies):.1f}, {statistics.median(worker.latencies):.1f})"
    )


def wait_until_healthy_baseline(base_url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.post(f"{base_url}/insert", json={"title": "ping"}, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise TimeoutError("baseline did not start")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL URL to bench on (a fresh database is created); default: a fresh SQLite file"
    )
    parser.add_argument("--bookings", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--rounds", type=int, default=5, help="baseline and bookings measured in turns this many times; the rounds' ratios' median compared"
    )
    parser.add_argument("--mail-bookings", type=int, default=200, help="bookings by one client per setup and round in (c)")
    parser.add_argument("--mail-rounds", type=int, default=5, help="the three setups of (c) measured in turns this many times")
    parser.add_argument("--mail-only", action="store_true", help="only (c): what sending the mail costs a booking")
    parser.add_argument("--skip-mail", action="store_true", help="all but (c)")
    asyncio.run(main(parser.parse_args()))
