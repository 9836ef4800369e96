"""Allocation benchmark: a garden season and a room season, each against a plain baseline on the same inputs.

    .venv/bin/python bench/allocation.py [--applications 10000] [--beds 1000] [--associations 300] [--seed 2027]

Garden: 10,000 applications over 1,000 beds. Prints the time of `booking.seasons.rules.allocate` (tiers, seeded
lottery, wishes, raised beds, one bed per household), the time of the baseline (shuffle the applications and hand out
beds in order) measured in the same run, and their ratio. Target: the allocation under 5 s.

Rooms: 300 associations with 5 ranked wishes each over 30 rooms (6 locations of 5), a cap of 6 hours a week. Prints
the time of `booking.seasons.room_draw.allocate` (renewals, tiers, rounds drawn from the seed) beside a
first-come-first-served baseline (wishes in submission order, each given what `search` finds, no renewals, tiers or rounds),
and for both the share of first wishes granted, of associations given at least one slot, and of all wishes granted.
Target: the allocation under 2 s. Exits 1 if either target is missed.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from booking.seasons.room_draw import Board, Decision, search
from booking.seasons.room_draw import allocate as allocate_rooms
from booking.seasons.room_rules import STEP_MINUTES, Outcome, Slot, Tier, Window, Wish, span_mask
from booking.seasons.rules import Applicant, Bed, allocate

TARGET_SECONDS = 5.0
ROOM_TARGET_SECONDS = 2.0


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


# ---- room season ----------------------------------------------------------------------------------------------------

LOCATIONS, ROOMS_PER_LOCATION = 6, 5
WISHES_PER_ASSOCIATION = 5
CAP_MINUTES = 6 * 60


def _hours(start: int, end: int) -> int:
    return span_mask(start * 60, (end - start) * 60)


def room_board(rooms: list[int], rng: random.Random) -> tuple[dict[tuple[int, int], int], dict[tuple[int, int, int], int]]:
    """Weekdays 16–22, weekends 09–22; now and then a booking made outside the round on one week parity."""
    open_ = {(room, day): _hours(16, 22) if day < 5 else _hours(9, 22) for room in rooms for day in range(7)}
    busy: dict[tuple[int, int, int], int] = {}
    for key in open_:
        if rng.random() < 0.05:
            start = rng.choice(range(16, 21)) if key[1] < 5 else rng.choice(range(9, 21))
            busy[(*key, rng.randrange(2))] = _hours(start, start + 2)
    return open_, busy


def _window(rng: random.Random, day: int, minutes: int, *, first_choice: bool) -> Window:
    """A time that suits: 2–4 hours inside the rooms' hours of that day, on the quarter hour."""
    opens, closes = (16 * 60, 22 * 60) if day < 5 else (9 * 60, 22 * 60)
    length = max(rng.choice((120, 150, 180, 210, 240)), minutes)
    start = opens + rng.randrange(0, (closes - length - opens) // STEP_MINUTES + 1) * STEP_MINUTES
    return Window(day, start, start + length, first_choice)


def room_inputs(associations: int, seed: int) -> tuple[list[Wish], dict, dict]:
    """Associations apply in random order, all their wishes at once (ids are the submission order): each has a home
    location, 1–3 activities, 5 ranked wishes of 60–120 minutes with a first choice and an "also fine" alternative."""
    rng = random.Random(seed)
    rooms = [location * 10 + n for location in range(1, LOCATIONS + 1) for n in range(1, ROOMS_PER_LOCATION + 1)]
    open_, busy = room_board(rooms, rng)
    tiers = rng.choices((Tier.YOUNG, Tier.DISTRICT, Tier.OTHERS), weights=(4, 3, 3), k=associations)
    wishes: list[Wish] = []
    for association in rng.sample(range(1, associations + 1), associations):
        home = rng.randrange(1, LOCATIONS + 1)
        activities = [association * 10 + k for k in range(rng.randint(1, 3))]
        for rank in range(1, WISHES_PER_ASSOCIATION + 1):
            minutes = rng.choice(range(60, 121, STEP_MINUTES))
            times = 2 if rng.random() < 0.15 else 1
            every_weeks = 2 if rng.random() < 0.25 else 1
            days = rng.sample(range(7), times + 1)
            windows = tuple(_window(rng, d, minutes, first_choice=True) for d in days[:times]) + (
                _window(rng, days[times], minutes, first_choice=False),
            )
            fitting = [home * 10 + n for n in range(1, ROOMS_PER_LOCATION + 1) if rng.random() < 0.7] or [home * 10 + 1]
            if rng.random() < 0.2:  # would also go to a second location
                other = rng.randrange(1, LOCATIONS + 1)
                fitting += [other * 10 + n for n in range(1, ROOMS_PER_LOCATION + 1) if other != home and rng.random() < 0.5]
            renews = None
            if rank == 1 and times == 1 and rng.random() < 0.1:  # last term's holder, at a time inside its first choice
                w = windows[0]
                renews = Slot(fitting[0], w.weekday, w.start, minutes, every_weeks, rng.randrange(every_weeks))
            wishes.append(
                Wish(
                    len(wishes) + 1,
                    association,
                    rng.choice(activities),
                    int(tiers[association - 1]),
                    rank,
                    minutes,
                    windows,
                    tuple(fitting),
                    times,
                    every_weeks,
                    renews,
                )
            )
    return wishes, open_, busy


def first_come_first_served(wishes: list[Wish], board: Board) -> list[Decision]:
    """Wishes in submission order, each given what the same search finds on the board so far: no tiers, no rounds."""
    decisions = []
    for n, wish in enumerate(sorted(wishes, key=lambda w: w.id), start=1):
        slots, outcome, taken_by = search(wish, board)
        for slot in slots:
            board.take(slot, wish)
        decisions.append(Decision(wish.id, outcome, slots, n, 1, outcome.value, taken_by))
    return decisions


def shares(wishes: list[Wish], decisions: list[Decision]) -> dict[str, float]:
    by_id = {d.wish_id: d for d in decisions}
    given = {w.id for w in wishes if by_id[w.id].outcome in Outcome.GRANTS}
    firsts = [w for w in wishes if w.rank == 1]
    young = [w for w in wishes if w.tier == Tier.YOUNG]
    associations = {w.association for w in wishes}
    served = {w.association for w in wishes if w.id in given}
    return {
        "first wishes": sum(w.id in given for w in firsts) / len(firsts),
        "associations": len(served) / len(associations),
        "all wishes": len(given) / len(wishes),
        "children/youth": sum(w.id in given for w in young) / max(len(young), 1),
    }


def rooms_part(associations: int, seed: int) -> bool:
    wishes, open_, busy = room_inputs(associations, seed)

    def fresh() -> Board:  # a board per run: allocate marks the board it is given
        return Board(dict(open_), dict(busy), CAP_MINUTES)

    alloc_s, decided = timed(allocate_rooms, wishes, fresh(), seed=seed)
    base_s, served = timed(first_come_first_served, wishes, fresh())
    again = allocate_rooms(list(reversed(wishes)), fresh(), seed=seed)
    reproducible = sorted(again, key=lambda d: d.wish_id) == sorted(decided, key=lambda d: d.wish_id)
    ok = alloc_s < ROOM_TARGET_SECONDS and reproducible
    rooms = LOCATIONS * ROOMS_PER_LOCATION
    print()
    print(
        f"room season: {associations:,} associations x {WISHES_PER_ASSOCIATION} wishes over {rooms} rooms, cap {CAP_MINUTES // 60} h/week (seed {seed})"
    )
    print(f"  {'':24}{'time':>10}  {'first wishes':>12}  {'associations':>12}  {'all wishes':>10}  {'children/youth':>14}")
    for name, seconds, result in (("allocate (tiers, rounds)", alloc_s, decided), ("first come, first served", base_s, served)):
        got = shares(wishes, result)
        print(
            f"  {name:24}{seconds * 1000:7.1f} ms  {got['first wishes']:12.1%}  {got['associations']:12.1%}  {got['all wishes']:10.1%}"
            f"  {got['children/youth']:14.1%}"
        )
    print(f"  reproducible:          {'yes' if reproducible else 'NO'} (same seed, wishes in reverse order)")
    print(f"  target < {ROOM_TARGET_SECONDS:.0f} s:          {'PASS' if ok else 'FAIL'} ({alloc_s:.2f} s)")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=10_000)
    parser.add_argument("--beds", type=int, default=1_000)
    parser.add_argument("--associations", type=int, default=300)
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
    rooms_ok = rooms_part(args.associations, args.seed)
    return 0 if ok and rooms_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
