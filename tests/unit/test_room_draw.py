"""Room season allocation: properties over small random worlds, and one small world for each rule and each refusal."""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking.seasons.room_draw import Board, Decision, allocate, search
from booking.seasons.room_rules import STEP_MINUTES, Outcome, Slot, Tier, Window, Wish, span_mask

WEEKDAYS = range(4)  # few days, so that wishes meet
EXAMPLES = int(os.environ.get("ROOM_DRAW_EXAMPLES", "30"))  # worlds per property; raise it for a longer hunt
QUICK = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def hours(start: float, end: float) -> int:
    """The minutes from `start` to `end` o'clock, as bits."""
    return span_mask(int(start * 60), int((end - start) * 60))


@dataclass(frozen=True)
class World:
    open: dict[tuple[int, int], int]
    busy: dict[tuple[int, int, int], int]
    cap: float | None
    wishes: tuple[Wish, ...]
    seed: int

    def board(self) -> Board:
        """A fresh board every time: allocate marks its grants on the board it is given."""
        return Board(dict(self.open), dict(self.busy), self.cap)

    def run(self) -> list[Decision]:
        return allocate(list(self.wishes), self.board(), seed=self.seed)


def quarters(low_hour: int, high_hour: int) -> st.SearchStrategy[int]:
    return st.integers(low_hour * 4, high_hour * 4).map(lambda q: q * STEP_MINUTES)


# Built once: strategies made inside the draw would be validated again for every example.
OPENS, CLOSES, BOOKED_FROM, WINDOW_FROM, RENEWED_FROM = (
    quarters(14, 18),
    quarters(19, 23),
    quarters(15, 21),
    quarters(15, 20),
    quarters(16, 20),
)
DAY = st.sampled_from(tuple(WEEKDAYS))
PARITY = st.integers(0, 1)
ONE_IN_FIVE, ONE_IN_TEN = st.integers(0, 4), st.integers(0, 9)
BOOKED_MINUTES = st.sampled_from((30, 60, 90, 120))
WISH_MINUTES = st.sampled_from((30, 45, 60, 90, 120))
TIERS = st.sampled_from((Tier.YOUNG, Tier.DISTRICT, Tier.OTHERS))
CAPS = st.one_of(st.none(), st.sampled_from((60.0, 90.0, 120.0, 180.0, 240.0)))
ROOM_SETS = {n: st.lists(st.integers(1, n), min_size=1, unique=True).map(tuple) for n in (1, 2, 3)}


@st.composite
def worlds(draw: st.DrawFn) -> World:
    """1–3 rooms open some evenings, a few bookings, 1–8 associations with 1–5 ranked wishes over 1–3 activities."""
    count = draw(st.integers(1, 3))
    rooms = st.integers(1, count)
    open_: dict[tuple[int, int], int] = {}
    for room in range(1, count + 1):
        for day in WEEKDAYS:
            if draw(ONE_IN_FIVE):
                start, end = draw(OPENS), draw(CLOSES)
                open_[(room, day)] = span_mask(start, end - start)
    busy: dict[tuple[int, int, int], int] = defaultdict(int)
    for _ in range(draw(st.integers(0, 4))):
        busy[(draw(rooms), draw(DAY), draw(PARITY))] |= span_mask(draw(BOOKED_FROM), draw(BOOKED_MINUTES))
    wishes: list[Wish] = []
    for association in range(1, draw(st.integers(1, 8)) + 1):
        home_tier = draw(TIERS)
        activities = draw(st.integers(1, 3))
        for rank in range(1, draw(st.integers(1, 5)) + 1):
            minutes = draw(WISH_MINUTES)
            windows = []
            for _ in range(draw(st.integers(1, 3))):
                start = draw(WINDOW_FROM)
                end = min(start + minutes + draw(st.integers(0, 8)) * STEP_MINUTES, 24 * 60)
                windows.append(Window(draw(DAY), start, end, draw(st.booleans())))
            times = draw(st.integers(1, 2)) if len({w.weekday for w in windows}) > 1 else 1
            every_weeks = draw(st.integers(1, 2))
            wanted = () if draw(ONE_IN_TEN) == 0 else draw(ROOM_SETS[count])
            renews = None
            if draw(ONE_IN_FIVE) == 0:
                parity = draw(PARITY) if every_weeks == 2 else 0
                renews = Slot(draw(rooms), draw(DAY), draw(RENEWED_FROM), minutes, every_weeks, parity)
            tier = home_tier if draw(ONE_IN_FIVE) else draw(TIERS)  # now and then a wish of another tier
            activity = association * 10 + draw(st.integers(0, activities - 1))
            wishes.append(
                Wish(len(wishes) + 1, association, activity, int(tier), rank, minutes, tuple(windows), wanted, times, every_weeks, renews)
            )
    return World(open_, dict(busy), draw(CAPS), tuple(wishes), draw(st.integers(0, 2**32 - 1)))


def granted(world: World, decisions: list[Decision]) -> list[tuple[Wish, Decision]]:
    return [(w, d) for w, d in zip(world.wishes, decisions, strict=True) if d.outcome in Outcome.GRANTS]


def dates_of(slot: Slot) -> list[tuple[tuple[int, int, int], int]]:
    """A weekly slot as the minutes it holds on each (room, weekday, week parity)."""
    return [((slot.room, slot.weekday, parity), span_mask(slot.start, slot.minutes)) for parity in slot.parities]


def dates_of_all(slots: tuple[Slot, ...]) -> list[tuple[tuple[int, int, int], int]]:
    return [part for slot in slots for part in dates_of(slot)]


def inside(slot: Slot, window: Window) -> bool:
    return window.weekday == slot.weekday and window.start <= slot.start and slot.start + slot.minutes <= window.end


def board_with(world: World, grants: list[tuple[Wish, Decision]]) -> Board:
    board = world.board()
    for wish, decision in grants:
        for slot in decision.slots:
            board.take(slot, wish)
    return board


# ---- properties over random worlds -------------------------------------------------------------------------------


@QUICK
@given(worlds())
def test_two_grants_never_share_a_room_on_any_date(world):
    held: dict[tuple[int, int, int], int] = defaultdict(int)
    for _, decision in granted(world, world.run()):
        for key, mask in dates_of_all(decision.slots):
            assert held[key] & mask == 0, (key, decision)
            held[key] |= mask


@QUICK
@given(worlds())
def test_every_grant_is_open_and_free_in_one_of_its_rooms_inside_its_windows_with_its_length_and_times(world):
    for wish, decision in granted(world, world.run()):
        for slot in decision.slots:
            mask = span_mask(slot.start, slot.minutes)
            assert world.open.get((slot.room, slot.weekday), 0) & mask == mask
            for parity in slot.parities:
                assert world.busy.get((slot.room, slot.weekday, parity), 0) & mask == 0
        if decision.outcome is Outcome.RENEWED:
            assert decision.slots == (wish.renews,) and wish.renews.room in wish.rooms
            continue
        assert len(decision.slots) == wish.times
        assert len({s.weekday for s in decision.slots}) == wish.times
        windows = [w for w in wish.windows if w.first_choice] if decision.outcome is Outcome.GRANTED_FIRST_CHOICE else wish.windows
        for slot in decision.slots:
            assert slot.room in wish.rooms
            assert (slot.minutes, slot.every_weeks) == (wish.minutes, wish.every_weeks)
            assert slot.start % STEP_MINUTES == 0
            assert any(inside(slot, w) for w in windows), (slot, windows)


@QUICK
@given(worlds())
def test_an_activity_is_never_in_two_places_at_once(world):
    busy: dict[tuple[int, int, int], int] = defaultdict(int)
    for wish, decision in granted(world, world.run()):
        for slot in decision.slots:
            for parity in slot.parities:
                key, mask = (wish.activity, slot.weekday, parity), span_mask(slot.start, slot.minutes)
                assert busy[key] & mask == 0, (wish, decision)
                busy[key] |= mask


@QUICK
@given(worlds())
def test_no_association_is_granted_more_than_the_weekly_cap(world):
    weekly: dict[int, float] = defaultdict(float)
    for wish, decision in granted(world, world.run()):
        weekly[wish.association] += sum(s.minutes / s.every_weeks for s in decision.slots)
    if world.cap is not None:
        assert all(minutes <= world.cap for minutes in weekly.values()), weekly


@QUICK
@given(worlds())
def test_a_refused_wish_finds_nothing_among_the_grants_of_its_tier_and_higher_so_no_lower_tier_took_its_time(world):
    decisions = world.run()
    grants = granted(world, decisions)
    for wish, decision in zip(world.wishes, decisions, strict=True):
        if decision.outcome in Outcome.GRANTS:
            continue
        ahead = [(w, d) for w, d in grants if d.outcome is Outcome.RENEWED or w.tier <= wish.tier]
        slots, outcome, _ = search(wish, board_with(world, ahead))
        assert slots == (), (wish, decision, outcome, slots)


@QUICK
@given(worlds())
def test_each_decision_is_what_the_search_finds_on_the_board_as_it_stood_then(world):
    board = world.board()
    by_id = {w.id: w for w in world.wishes}
    for decision in sorted(world.run(), key=lambda d: d.priority):
        wish = by_id[decision.wish_id]
        if decision.outcome is Outcome.RENEWED:
            assert board.fits(wish.renews, activity=wish.activity)
        else:
            assert search(wish, board) == (decision.slots, decision.outcome, decision.taken_by)
        for slot in decision.slots:
            board.take(slot, wish)


@QUICK
@given(worlds())
def test_renewals_come_first_then_tiers_in_order_and_in_a_tier_each_association_is_served_once_a_round_best_wish_first(world):
    decisions = world.run()
    by_id = {w.id: w for w in world.wishes}
    ordered = sorted(decisions, key=lambda d: d.priority)
    renewed = [d for d in ordered if d.outcome is Outcome.RENEWED]
    assert ordered[: len(renewed)] == renewed and all(d.round == 0 for d in renewed)
    rest = ordered[len(renewed) :]
    assert [by_id[d.wish_id].tier for d in rest] == sorted(by_id[d.wish_id].tier for d in rest)
    for tier in {by_id[d.wish_id].tier for d in rest}:
        in_tier = [d for d in rest if by_id[d.wish_id].tier == tier]
        assert [d.round for d in in_tier] == sorted(d.round for d in in_tier)
        seen: dict[int, list[Decision]] = defaultdict(list)
        for d in in_tier:
            seen[by_id[d.wish_id].association].append(d)
        for mine in seen.values():
            assert [d.round for d in mine] == list(range(1, len(mine) + 1))
            assert [by_id[d.wish_id].rank for d in mine] == sorted(by_id[d.wish_id].rank for d in mine)


@QUICK
@given(worlds())
def test_the_same_seed_and_applications_give_the_same_decisions_whatever_their_order(world):
    first = world.run()
    assert world.run() == first
    again = allocate(list(reversed(world.wishes)), world.board(), seed=world.seed)
    assert sorted(again, key=lambda d: d.wish_id) == sorted(first, key=lambda d: d.wish_id)


@QUICK
@given(worlds())
def test_every_wish_gets_one_decision_with_a_reason_and_the_priorities_count_one_to_n(world):
    decisions = world.run()
    assert [d.wish_id for d in decisions] == [w.id for w in world.wishes]
    assert sorted(d.priority for d in decisions) == list(range(1, len(decisions) + 1))
    for decision in decisions:
        assert decision.reason.strip()
        assert bool(decision.slots) == (decision.outcome in Outcome.GRANTS), decision
        if decision.outcome is not Outcome.TAKEN_BY_HIGHER_PRIORITY:
            assert decision.taken_by == ()


@QUICK
@given(worlds())
def test_a_wish_refused_as_taken_names_earlier_grants_that_hold_its_times(world):
    decisions = world.run()
    by_id = {d.wish_id: d for d in decisions}
    for decision in decisions:
        if decision.outcome is Outcome.TAKEN_BY_HIGHER_PRIORITY:
            assert decision.taken_by, decision
            for holder in decision.taken_by:
                assert by_id[holder].outcome in Outcome.GRANTS and by_id[holder].priority < decision.priority


# ---- small worlds, one rule each ---------------------------------------------------------------------------------

MON, TUE, WED = 0, 1, 2
ROOM, OTHER_ROOM = 1, 2


def evenings(*rooms: int, days: tuple[int, ...] = (MON, TUE, WED)) -> dict[tuple[int, int], int]:
    return {(room, day): hours(16, 22) for room in rooms for day in days}


def wish(id_: int, association: int, *windows: Window, tier: Tier = Tier.DISTRICT, rank: int = 1, **more) -> Wish:
    fields = {"activity": association * 10, "minutes": 60, "rooms": (ROOM,)} | more
    return Wish(id_, association, fields.pop("activity"), int(tier), rank, fields.pop("minutes"), windows, fields.pop("rooms"), **fields)


def at(day: int, start: float, end: float, first_choice: bool = True) -> Window:
    return Window(day, int(start * 60), int(end * 60), first_choice)


def one(wishes: list[Wish], board: Board, *, seed: int = 7) -> dict[int, Decision]:
    return {d.wish_id: d for d in allocate(wishes, board, seed=seed)}


def test_a_first_choice_beats_an_earlier_time_marked_also_fine():
    decided = one([wish(1, 1, at(MON, 16, 17, first_choice=False), at(TUE, 19, 20))], Board(evenings(ROOM), {}))
    assert decided[1].outcome is Outcome.GRANTED_FIRST_CHOICE
    assert decided[1].slots == (Slot(ROOM, TUE, 19 * 60, 60),)


def test_a_time_marked_also_fine_is_granted_when_the_first_choice_is_taken():
    busy = {(ROOM, TUE, 0): hours(19, 20), (ROOM, TUE, 1): hours(19, 20)}
    decided = one([wish(1, 1, at(MON, 16, 17, first_choice=False), at(TUE, 19, 20))], Board(evenings(ROOM), busy))
    assert decided[1].outcome is Outcome.GRANTED
    assert decided[1].slots == (Slot(ROOM, MON, 16 * 60, 60),)


def test_the_earliest_free_start_in_the_windows_wins():
    busy = {(ROOM, MON, 0): hours(17, 17.5), (ROOM, MON, 1): hours(17, 17.5)}
    decided = one([wish(1, 1, at(MON, 17, 21))], Board(evenings(ROOM), busy))
    assert decided[1].slots == (Slot(ROOM, MON, 17 * 60 + 30, 60),)


@pytest.mark.parametrize("seed", range(12))
def test_an_associations_second_wish_waits_until_every_other_associations_first_is_decided(seed):
    a_first = wish(1, 1, at(WED, 18, 19))
    a_second = wish(2, 1, at(MON, 18, 19), rank=2, activity=11)
    b_first = wish(3, 2, at(MON, 18, 19))
    decided = one([a_first, a_second, b_first], Board(evenings(ROOM), {}), seed=seed)
    assert decided[3].outcome is Outcome.GRANTED_FIRST_CHOICE and decided[3].round == 1
    assert decided[2].outcome is Outcome.TAKEN_BY_HIGHER_PRIORITY and decided[2].round == 2
    assert decided[2].taken_by == (3,)


def test_the_order_inside_a_round_is_drawn_from_the_seed():
    wishes = [wish(n, n, at(MON, 18, 19)) for n in range(1, 6)]
    winners = {next(d.wish_id for d in allocate(wishes, Board(evenings(ROOM), {}), seed=s) if d.slots) for s in range(40)}
    assert len(winners) > 1
    assert one(wishes, Board(evenings(ROOM), {}), seed=3) == one(wishes, Board(evenings(ROOM), {}), seed=3)


def test_a_renewal_keeps_its_slot_ahead_of_a_higher_tier():
    kept = Slot(ROOM, MON, 18 * 60, 60)
    holder = wish(1, 1, at(TUE, 16, 22), tier=Tier.OTHERS, renews=kept)
    young = wish(2, 2, at(MON, 18, 19), tier=Tier.YOUNG)
    decided = one([holder, young], Board(evenings(ROOM), {}))
    assert decided[1].outcome is Outcome.RENEWED and decided[1].slots == (kept,) and decided[1].round == 0
    assert decided[2].outcome is Outcome.TAKEN_BY_HIGHER_PRIORITY and decided[2].taken_by == (1,)


def test_a_renewal_whose_slot_is_now_booked_is_decided_with_its_tier():
    busy = {(ROOM, MON, 0): hours(18, 19)}
    holder = wish(1, 1, at(TUE, 17, 18), renews=Slot(ROOM, MON, 18 * 60, 60))
    decided = one([holder], Board(evenings(ROOM), busy))
    assert decided[1].outcome is Outcome.GRANTED_FIRST_CHOICE and decided[1].slots == (Slot(ROOM, TUE, 17 * 60, 60),)


def test_a_wish_that_would_take_the_association_over_its_cap_is_refused_over_cap():
    wishes = [wish(1, 1, at(MON, 18, 19), minutes=60), wish(2, 1, at(TUE, 18, 19), rank=2, minutes=60)]
    decided = one(wishes, Board(evenings(ROOM), {}, cap_minutes=90))
    assert decided[1].outcome is Outcome.GRANTED_FIRST_CHOICE
    assert decided[2].outcome is Outcome.OVER_CAP and decided[2].slots == ()


def test_every_other_week_counts_half_against_the_cap():
    wishes = [wish(n, 1, at(day, 18, 19), rank=n, every_weeks=2) for n, day in ((1, MON), (2, TUE), (3, WED))]
    decided = one(wishes, Board(evenings(ROOM), {}, cap_minutes=60))
    assert [decided[n].outcome for n in (1, 2, 3)] == [Outcome.GRANTED_FIRST_CHOICE, Outcome.GRANTED_FIRST_CHOICE, Outcome.OVER_CAP]


def test_a_wish_no_room_fits_is_refused_no_room_fits():
    decided = one([wish(1, 1, at(MON, 18, 19), rooms=())], Board(evenings(ROOM), {}))
    assert decided[1].outcome is Outcome.NO_ROOM_FITS


def test_a_wish_for_hours_the_rooms_are_closed_is_refused_outside_room_windows():
    decided = one([wish(1, 1, at(MON, 9, 12), at(WED, 21.5, 23))], Board(evenings(ROOM), {}))
    assert decided[1].outcome is Outcome.OUTSIDE_ROOM_WINDOWS


def test_a_time_booked_on_some_of_the_terms_dates_is_refused_already_booked():
    busy = {(ROOM, MON, 1): hours(18, 18.5)}  # one odd week's booking
    decided = one([wish(1, 1, at(MON, 18, 19))], Board(evenings(ROOM), busy))
    assert decided[1].outcome is Outcome.ALREADY_BOOKED and decided[1].taken_by == ()


def test_every_other_week_takes_the_weeks_that_are_free():
    busy = {(ROOM, MON, 0): hours(18, 19)}
    decided = one([wish(1, 1, at(MON, 18, 19), every_weeks=2)], Board(evenings(ROOM), busy))
    assert decided[1].slots == (Slot(ROOM, MON, 18 * 60, 60, every_weeks=2, parity=1),)


def test_a_time_a_higher_tier_was_given_is_refused_taken_by_higher_priority():
    young = wish(1, 1, at(MON, 18, 19), tier=Tier.YOUNG)
    others = wish(2, 2, at(MON, 18, 19), rooms=(ROOM, OTHER_ROOM), tier=Tier.OTHERS)
    closed_other = evenings(ROOM) | {(OTHER_ROOM, MON): hours(20, 22)}
    decided = one([others, young], Board(closed_other, {}))
    assert decided[1].outcome is Outcome.GRANTED_FIRST_CHOICE
    assert decided[2].outcome is Outcome.TAKEN_BY_HIGHER_PRIORITY and decided[2].taken_by == (1,)
    assert "held by wishes 1" in decided[2].reason


def test_an_activity_in_one_room_is_not_given_the_same_time_in_another():
    first = wish(1, 1, at(MON, 18, 19))
    second = wish(2, 1, at(MON, 18, 19), rank=2, rooms=(OTHER_ROOM,))
    decided = one([first, second], Board(evenings(ROOM, OTHER_ROOM), {}))
    assert decided[1].slots and not decided[2].slots
    assert decided[2].outcome is Outcome.TAKEN_BY_HIGHER_PRIORITY  # by its own activity's earlier wish, not "already booked"


def test_a_wish_for_two_days_keeps_its_first_choice_for_one_day_and_takes_an_also_fine_time_for_the_other():
    mixed = wish(1, 1, at(MON, 18, 19), at(TUE, 17, 18, first_choice=False), at(WED, 17, 18, first_choice=False), times=2)
    decided = one([mixed], Board(evenings(ROOM), {}))
    assert decided[1].outcome is Outcome.GRANTED
    assert sorted((s.weekday, s.start) for s in decided[1].slots) == [(MON, 18 * 60), (TUE, 17 * 60)]


def two_days(association: int = 1, **more) -> Wish:
    return wish(association, association, at(MON, 17, 19), at(TUE, 17, 19), times=2, **more)


def test_a_wish_for_two_days_is_granted_both_on_distinct_weekdays():
    decided = one([two_days()], Board(evenings(ROOM), {}))
    assert decided[1].slots == (Slot(ROOM, MON, 17 * 60, 60), Slot(ROOM, TUE, 17 * 60, 60))


def test_a_wish_for_two_days_whose_second_day_the_room_is_closed_is_refused_outside_room_windows():
    decided = one([two_days()], Board(evenings(ROOM, days=(MON,)), {}))
    assert decided[1].outcome is Outcome.OUTSIDE_ROOM_WINDOWS and decided[1].taken_by == ()


def test_a_wish_for_two_days_whose_second_day_is_booked_is_refused_already_booked():
    busy = {(ROOM, TUE, 0): hours(16, 22)}
    decided = one([two_days()], Board(evenings(ROOM), busy))
    assert decided[1].outcome is Outcome.ALREADY_BOOKED and decided[1].taken_by == ()


def test_a_wish_for_two_days_whose_second_day_was_given_away_names_the_holder():
    young = wish(1, 1, at(TUE, 16, 22), tier=Tier.YOUNG, minutes=360)
    decided = one([young, two_days(2, tier=Tier.OTHERS)], Board(evenings(ROOM), {}))
    assert decided[2].outcome is Outcome.TAKEN_BY_HIGHER_PRIORITY and decided[2].taken_by == (1,)
