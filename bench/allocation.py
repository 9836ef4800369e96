"""Allocation benchmark: 10,000 applications over 1,000 beds, against a plain shuffle of the same inputs.

    .venv/bin/python bench/allocation.py [--applications 10000] [--beds 1000] [--seed 2027]

Prints the time of `booking.season_rules.allocate` (tiers, seeded lottery, wishes, raised beds, one bed per
household), the time of the baseline (shuffle the applications and hand out beds in order) measured in the
same run, and their ratio. Target: the allocation under 5 s.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from booking.seasons.rules import Applicant, Bed, allocate

TARGET_SECONDS = 5.0


def inputs(applications: int, beds: int, seed: int) -> tuple[list[Applicant], list[Bed]]:
    """Applications as Strømsøhagen might see them: most from the district, some naming beds, a few needing raised ones."""
    rng = random.Random(seed)
    bed_rows = [Bed(100_000 + n, raised=rng.random() < 0.05) for n in range(beds)]
    people = []
    for i in range(1, applications + 1):
        household = f"household {rng.randrange(int(applications * 0.95))}"  # some share a flat
        wished = tuple(rng.choice(bed_rows).id for _ in range(rng.choice((0, 0, 1, 2, 3))))
        people.append(
            Applicant(
                i, household, tier=1 if rng.random() < 0.6 else 2, beds=wished, raised=rng.random() < 0.05, any_bed=rng.random() > 0.1
            )
        )
    return people, bed_rows


def baseline(people: list[Applicant], beds: list[Bed], seed: int) -> dict[int, int | None]:
    order = list(people)
    random.Random(seed).shuffle(order)
    return {a.id: (beds[n].id if n < len(beds) else None) for n, a in enumerate(order)}


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=10_000)
    parser.add_argument("--beds", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=2027)
    args = parser.parse_args()
    people, beds = inputs(args.applications, args.beds, args.seed)
    base_s, _ = timed(baseline, people, beds, args.seed)
    alloc_s, placements = timed(allocate, people, beds, seed=args.seed)
    again = allocate(list(reversed(people)), beds, seed=args.seed)
    reproducible = sorted(placements, key=lambda p: p.application_id) == sorted(again, key=lambda p: p.application_id)
    given = sum(p.bed_id is not None for p in placements)
    print(f"allocation of {len(people):,} applications over {len(beds):,} beds (seed {args.seed})")
    print(f"  allocate:          {alloc_s * 1000:8.1f} ms   ({given:,} beds given, {len(people) - given:,} to the waitlist)")
    print(f"  baseline shuffle:  {base_s * 1000:8.1f} ms")
    print(f"  ratio:             {alloc_s / base_s:8.1f}x the baseline")
    print(f"  reproducible:      {'yes' if reproducible else 'NO'} (same seed, inputs in reverse order)")
    ok = alloc_s < TARGET_SECONDS and reproducible
    print(f"  target < {TARGET_SECONDS:.0f} s:      {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
