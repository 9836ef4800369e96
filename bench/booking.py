"""Booking benchmark: the real server against a minimal-insert baseline, measured in the same run.

    .venv/bin/python bench/booking.py [--database-url URL] [--bookings 600] [--concurrency 16] [--rounds 5]

Prints, for room bookings and for equipment loans, (a) requests per second by concurrent clients on distinct
slots against inserts per second of `bench/baseline.py` (medians of rounds taken in turns; each round's pair is
shown as bookings/baseline), and (b) availability and booking latency with 1,000 and with 100,000 existing
bookings of the resource.
Targets: throughput ≥ 0.8× baseline; latency at 100,000 within 1.2× of latency at 1,000.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.seed import bench_database, seed_history, seed_people, seed_resources
from config.servers import free_port, running_servers


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


def ratio_line(name: str, value: float, baseline: float, unit: str, target: str) -> str:
    return f"{name:<44} {value:10.1f} {unit:<6} baseline {baseline:10.1f} {unit:<6} ratio {value / baseline:5.2f}  (target {target})"


async def throughput(
    url: str, baseline_url: str, rooms: list[int], tokens: list[dict], n: int, concurrency: int, now: datetime, what: str, rounds: int
) -> str:
    """Baseline and bookings in turns, `rounds` times, so drift in the machine's speed (disk, other load) hits both alike."""

    def booking(i: int) -> tuple[str, dict, dict]:
        return (
            f"{url}/api/v1/bookings",
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
    return ratio_line(f"{what}/s, distinct slots", statistics.median(rates), statistics.median(base_rates), "req/s", "≥ 0.80") + spread


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
    with tempfile.TemporaryDirectory() as tmp:
        async with bench_database(args.database_url, Path(tmp)) as url:
            await run(args, url, Path(tmp))


async def run(args: argparse.Namespace, url: str, tmp: Path) -> None:
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    tokens = await seed_people(url, count=args.concurrency)
    port = free_port()
    baseline = subprocess.Popen([sys.executable, str(Path(__file__).parent / "baseline.py"), url, str(port)])
    try:
        wait_until_healthy_baseline(f"http://127.0.0.1:{port}")
        baseline_url = f"http://127.0.0.1:{port}"
        with running_servers(url, 1, tmp) as (server,):
            print(f"database: {url.split('://')[0]}; {args.bookings} requests by {args.concurrency} clients")
            for kind, what in (("room", "room bookings"), ("equipment", "equipment loans")):
                resources, history = await seed_resources(url, 20, kind)
                print(await throughput(server, baseline_url, resources, tokens, args.bookings, args.concurrency, now, what, args.rounds))
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
    finally:
        baseline.terminate()
        baseline.wait(10)


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
    parser.add_argument("--rounds", type=int, default=5, help="baseline and bookings measured in turns this many times; medians compared")
    asyncio.run(main(parser.parse_args()))
