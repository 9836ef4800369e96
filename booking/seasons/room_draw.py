"""The pure allocation of a room season: renewals, then tiers in rounds drawn from the seed, every wish explained."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from enum import IntEnum

from booking.seasons.room_rules import DAY_MINUTES, STEP_MINUTES, Outcome, SeasonSlotTaken, Slot, Tier, Window, Wish, span_mask

_ON_THE_STEP = sum(1 << m for m in range(0, DAY_MINUTES, STEP_MINUTES))


@dataclass(frozen=True)
class Decision:
    wish_id: int
    outcome: Outcome
    slots: tuple[Slot, ...]
    priority: int  # the order wishes were decided in: refused wishes wait for given-back slots in this order
    round: int  # 0 for renewals
    reason: str  # the audit text staff read
    taken_by: tuple[int, ...] = ()  # the granted wishes that held the times this one wanted


def runs_of(free: int, minutes: int) -> int:
    """The start minutes from which `minutes` free minutes follow, as bits (by doubling: few big-integer steps)."""
    runs, length = free, 1
    while length < minutes:
        shift = min(length, minutes - length)
        runs &= runs >> shift
        length += shift
    return runs


def _starts_in(window: Window, minutes: int) -> int:
    last = window.end - minutes
    return span_mask(window.start, last - window.start + 1) & _ON_THE_STEP if last >= window.start else 0


def _lowest(bits: int) -> int:
    return (bits & -bits).bit_length() - 1


@dataclass
class Board:
    """What is open, booked outside the round, and granted, per room, weekday and week parity, as minute bits."""

    open: dict[tuple[int, int], int]  # (room, weekday) → minutes open on every term date of that weekday
    busy: dict[tuple[int, int, int], int]  # (room, weekday, parity) → minutes booked outside the round
    cap_minutes: float | None = None  # per association and week
    granted: dict[tuple[int, int, int], list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))  # → (mask, wish)
    grouped: dict[tuple[int, int, int], int] = field(default_factory=lambda: defaultdict(int))  # (activity, weekday, parity)
    grouped_by: dict[tuple[int, int, int], list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))  # → (mask, wish)
    weekly: dict[int, float] = field(default_factory=lambda: defaultdict(float))  # association → minutes granted a week

    def _granted_mask(self, room: int, weekday: int, parity: int) -> int:
        mask = 0
        for bits, _ in self.granted.get((room, weekday, parity), ()):
            mask |= bits
        return mask

    def free_bits(self, room: int, weekday: int, parities: tuple[int, ...], *, activity: int | None, grants: bool = True) -> int:
        """Minutes open and free on every date of the pattern (grants and the activity's other times counted if asked)."""
        free = self.open.get((room, weekday), 0)
        for parity in parities:
            free &= ~self.busy.get((room, weekday, parity), 0)
            if grants:
                free &= ~self._granted_mask(room, weekday, parity)
            if activity is not None:
                free &= ~self.grouped.get((activity, weekday, parity), 0)
        return free

    def fits(self, slot: Slot, *, activity: int | None) -> bool:
        mask = span_mask(slot.start, slot.minutes)
        return self.free_bits(slot.room, slot.weekday, slot.parities, activity=activity) & mask == mask

    def take(self, slot: Slot, wish: Wish) -> None:
        mask = span_mask(slot.start, slot.minutes)
        for parity in slot.parities:
            self.granted[(slot.room, slot.weekday, parity)].append((mask, wish.id))
            self.grouped[(wish.activity, slot.weekday, parity)] |= mask
            self.grouped_by[(wish.activity, slot.weekday, parity)].append((mask, wish.id))
        self.weekly[wish.association] += slot.weekly_minutes

    def holders(self, slot: Slot, activity: int | None = None) -> tuple[int, ...]:
        """The grants holding any of the slot's minutes: in its room, and (if named) the activity's own elsewhere."""
        mask = span_mask(slot.start, slot.minutes)
        keys = [((slot.room, slot.weekday, p), self.granted) for p in slot.parities]
        keys += [((activity, slot.weekday, p), self.grouped_by) for p in slot.parities] if activity is not None else []
        return tuple(sorted({w for key, table in keys for bits, w in table.get(key, ()) if bits & mask}))

    def check_may_take(self, slot: Slot, activity: int) -> None:
        """Staff's adjustment: the time must be open and free on every date (taken by nobody, the activity not elsewhere)."""
        if not self.fits(slot, activity=activity):
            raise SeasonSlotTaken(room_id=slot.room, weekday=slot.weekday, start=slot.clock(), held_by=list(self.holders(slot, activity)))


def _parity_choices(every_weeks: int) -> tuple[tuple[int, ...], ...]:
    return ((0, 1),) if every_weeks == 1 else ((0,), (1,))


class Level(IntEnum):
    """What counts as taken when looking for a time: only the rooms' hours, also bookings, or also the grants."""

    OPEN = 0
    BOOKED = 1
    GRANTED = 2


def _free(wish: Wish, board: Board, room: int, weekday: int, parities: tuple[int, ...], level: Level) -> int:
    if level is Level.OPEN:
        return board.open.get((room, weekday), 0)
    granted = level is Level.GRANTED
    return board.free_bits(room, weekday, parities, activity=wish.activity if granted else None, grants=granted)


def _best_slot(wish: Wish, board: Board, windows: list[Window], skip_days: set[int], level: Level = Level.GRANTED) -> Slot | None:
    """The earliest start (then the wish's window order, then its room order) free in a room that fits."""
    best: tuple[int, int, int, int] | None = None
    for wi, window in enumerate(windows):
        allowed = _starts_in(window, wish.minutes)
        if window.weekday in skip_days or not allowed:
            continue
        for ri, room in enumerate(wish.rooms):
            for parities in _parity_choices(wish.every_weeks):
                starts = runs_of(_free(wish, board, room, window.weekday, parities, level), wish.minutes) & allowed
                if starts and (best is None or (_lowest(starts), wi, ri, parities[0]) < best):
                    best = (_lowest(starts), wi, ri, parities[0])
    if best is None:
        return None
    start, wi, ri, parity = best
    return Slot(wish.rooms[ri], windows[wi].weekday, start, wish.minutes, wish.every_weeks, parity)


def _parts(wish: Wish, board: Board, level: Level, *, first_choices_first: bool = False) -> tuple[list[Slot], bool] | None:
    """The wish's `times` slots on distinct weekdays, each in a first-choice window where one holds (if asked), and
    whether all of them are; or None."""
    first, every = [w for w in wish.windows if w.first_choice], list(wish.windows)
    chosen, all_first = [], True
    while len(chosen) < wish.times:
        skip = {s.weekday for s in chosen}
        slot = _best_slot(wish, board, first, skip, level) if first_choices_first and first else None
        if slot is None:
            slot, all_first = _best_slot(wish, board, every, skip, level), False
        if slot is None:
            return None
        chosen.append(slot)
    return chosen, all_first


def search(wish: Wish, board: Board) -> tuple[tuple[Slot, ...], Outcome, tuple[int, ...]]:
    """The wish's times, each in a first-choice window where one is free, else in any it gave; or why not."""
    if not wish.rooms:
        return (), Outcome.NO_ROOM_FITS, ()
    if board.cap_minutes is not None and board.weekly[wish.association] + wish.minutes * wish.times / wish.every_weeks > board.cap_minutes:
        return (), Outcome.OVER_CAP, ()
    found = _parts(wish, board, Level.GRANTED, first_choices_first=True)
    if found is not None:
        return tuple(found[0]), Outcome.GRANTED_FIRST_CHOICE if found[1] else Outcome.GRANTED, ()
    return (), *_why_not(wish, board)


def _why_not(wish: Wish, board: Board) -> tuple[Outcome, tuple[int, ...]]:
    """The first thing that stands in the way: the rooms' hours, bookings made outside the round, or grants (the
    activity's own earlier ones among them)."""
    if _parts(wish, board, Level.OPEN) is None:
        return Outcome.OUTSIDE_ROOM_WINDOWS, ()
    blocked = _parts(wish, board, Level.BOOKED)
    if blocked is None:
        return Outcome.ALREADY_BOOKED, ()
    return Outcome.TAKEN_BY_HIGHER_PRIORITY, tuple(sorted({w for slot in blocked[0] for w in board.holders(slot, wish.activity)}))


def _reason(wish: Wish, outcome: Outcome, slots: tuple[Slot, ...], round_: int, taken_by: tuple[int, ...]) -> str:
    where = ", ".join(f"room {s.room} day {s.weekday} {s.clock()}" + (f" weeks {s.parity}" if s.every_weeks == 2 else "") for s in slots)
    held = f" (held by wishes {', '.join(map(str, taken_by))})" if taken_by else ""
    return f"tier {wish.tier}, round {round_}, rank {wish.rank}: {outcome.value}{': ' + where if where else ''}{held}"


def _rounds(wishes: list[Wish], rng: random.Random) -> list[tuple[int, Wish]]:
    """Every association's best remaining wish before anyone's next; each round's order drawn afresh."""
    queues: dict[int, list[Wish]] = defaultdict(list)
    for wish in sorted(wishes, key=lambda w: (w.association, w.rank, w.id)):
        queues[wish.association].append(wish)
    order, round_ = [], 0
    while any(queues.values()):
        round_ += 1
        present = sorted(a for a, q in queues.items() if q)
        order.extend((round_, queues[a].pop(0)) for a in rng.sample(present, len(present)))
    return order


def allocate(wishes: list[Wish], board: Board, *, seed: int) -> list[Decision]:
    """Renewals keep their time if it still holds; then tier by tier, in rounds, each wish takes the first time that
    is free on every date of the term. The same seed, wishes and board give the same decisions."""
    rng, decisions, priority = random.Random(seed), {}, 0
    for wish in sorted((w for w in wishes if w.renews is not None), key=lambda w: w.id):
        within_cap = board.cap_minutes is None or board.weekly[wish.association] + wish.renews.weekly_minutes <= board.cap_minutes
        if wish.renews.room in wish.rooms and within_cap and board.fits(wish.renews, activity=wish.activity):
            board.take(wish.renews, wish)
            priority += 1
            decisions[wish.id] = Decision(
                wish.id, Outcome.RENEWED, (wish.renews,), priority, 0, _reason(wish, Outcome.RENEWED, (wish.renews,), 0, ())
            )
    for tier in sorted({w.tier for w in wishes} - {Tier.RENEWAL}):
        for round_, wish in _rounds([w for w in wishes if w.tier == tier and w.id not in decisions], rng):
            slots, outcome, taken_by = search(wish, board)
            for slot in slots:
                board.take(slot, wish)
            priority += 1
            decisions[wish.id] = Decision(
                wish.id, outcome, slots, priority, round_, _reason(wish, outcome, slots, round_, taken_by), taken_by
            )
    return [decisions[w.id] for w in wishes]
