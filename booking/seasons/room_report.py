"""A room season's report: hours a week allocated per tier, target group and association, first wishes granted, and
each room's allocated hours against its open hours."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from booking.seasons import room_board, room_store
from booking.seasons.places import check_season, check_somewhere
from booking.seasons.room_rules import HOLDS_A_SLOT, WishStatus
from booking.seasons.room_service import room_season
from infra.database import Db
from people.actor import Actor, Duty

COUNTED = HOLDS_A_SLOT | {WishStatus.GRANTED}  # held once published; in the proposal before


@dataclass(frozen=True)
class RoomUse:
    room_id: int
    name: str
    allocated_hours: float
    open_hours: float

    @property
    def share(self) -> float:
        return self.allocated_hours / self.open_hours if self.open_hours else 0.0


@dataclass(frozen=True)
class SeasonReport:
    season_id: int
    by_tier: dict[int, float]
    by_age_band: dict[str, float]
    by_association: dict[int, float]
    first_wishes: int
    first_wishes_granted: int
    rooms: list[RoomUse]

    @property
    def first_wish_share(self) -> float:
        return self.first_wishes_granted / self.first_wishes if self.first_wishes else 0.0


async def report(db: Db, actor: Actor, season_id: int) -> SeasonReport:
    """Hours are weekly: a slot every other week counts half."""
    check_somewhere(actor, Duty.READ)
    async with db.read() as s:
        season = await room_season(s, season_id)
        await check_season(s, actor, Duty.READ, season)
        rows = await room_store.season_wishes(s, season_id)
        activities = {a.id: a for a in await room_store.activities_of(s, sorted({a.id for _, a in rows}))}
        rooms = await room_board.rooms_of(s, season, room_board.term_of(season))
    tiers, bands, associations, per_room = defaultdict(float), defaultdict(float), defaultdict(float), defaultdict(float)
    first = granted_first = 0
    for wish, application in rows:
        counted = WishStatus(wish.status) in COUNTED
        if wish.rank == 1:
            first, granted_first = first + 1, granted_first + counted
        for slot in wish.granted_slots if counted else []:
            hours = slot.weekly_minutes / 60
            tiers[wish.tier] += hours
            bands[activities[wish.activity_id].age_band] += hours
            associations[application.association_id] += hours
            per_room[slot.room] += hours
    uses = [
        RoomUse(rid, r.resource.name, per_room[rid], sum(bin(bits).count("1") for bits in r.open.values()) / 60) for rid, r in rooms.items()
    ]
    return SeasonReport(season_id, dict(tiers), dict(bands), dict(associations), first, granted_first, uses)


def report_csv_rows(report: SeasonReport, association_names: dict[int, str]) -> list[list[str]]:
    """The report as CSV rows: one section per measure, hours with one decimal."""
    rows = [["measure", "key", "hours_per_week", "open_hours_per_week"]]
    rows += [["tier", str(k), f"{v:.1f}", ""] for k, v in sorted(report.by_tier.items())]
    rows += [["target_group", k, f"{v:.1f}", ""] for k, v in sorted(report.by_age_band.items())]
    rows += [["association", association_names.get(k, str(k)), f"{v:.1f}", ""] for k, v in sorted(report.by_association.items())]
    rows += [["room", r.name, f"{r.allocated_hours:.1f}", f"{r.open_hours:.1f}"] for r in report.rooms]
    rows.append(["first_wishes_granted", f"{report.first_wishes_granted}/{report.first_wishes}", f"{report.first_wish_share:.2f}", ""])
    return rows
