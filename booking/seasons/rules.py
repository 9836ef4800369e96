"""Pure season rules: phases, priority tiers, and the seeded, auditable allocation of beds to applications."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar

from booking.rules import BookingStatus
from infra.errors import Conflict, DomainError, ErrorCode
from infra.i18n import N_

# Strømsø's postal codes (Drammen sentrum sør): residents there are the first tier.
DISTRICT_POSTAL_CODES = ("3040", "3041", "3042", "3043", "3044", "3045", "3046")
DISTRICT_TIER, OTHERS_TIER = 1, 2


class Phase(StrEnum):
    DRAFT = "draft"
    RENEWAL = "renewal"
    APPLICATIONS = "applications"
    ALLOCATION = "allocation"
    OFFERS = "offers"
    RUNNING = "running"
    CLOSED = "closed"


ORDER = list(Phase)


class ApplicationKind(StrEnum):
    APPLICATION = "application"  # a household asks for a bed
    RENEWAL = "renewal"  # last season's grower is invited to keep theirs


class ApplicationStatus(StrEnum):
    INVITED = "invited"  # a renewal not yet confirmed
    RENEWED = "renewed"
    LAPSED = "lapsed"  # a renewal not confirmed in its window
    APPLIED = "applied"
    ALLOCATED = "allocated"
    WAITLISTED = "waitlisted"
    ACCEPTED = "accepted"  # the answers to a bed offer
    DECLINED = "declined"
    EXPIRED = "expired"


# What the draw takes of each kind, and what it has decided (published as offers or waiting places).
IN_DRAW = {
    ApplicationKind.APPLICATION: frozenset({ApplicationStatus.APPLIED, ApplicationStatus.ALLOCATED, ApplicationStatus.WAITLISTED}),
    ApplicationKind.RENEWAL: frozenset({ApplicationStatus.RENEWED, ApplicationStatus.ALLOCATED}),
}
DRAWN = frozenset({ApplicationStatus.ALLOCATED, ApplicationStatus.WAITLISTED})
KEEPS_A_BED = frozenset({ApplicationStatus.RENEWED, ApplicationStatus.ALLOCATED})


def drawn(bed_id: int | None) -> ApplicationStatus:
    """An application the draw gave a bed is allocated; one it did not waits."""
    return ApplicationStatus.ALLOCATED if bed_id is not None else ApplicationStatus.WAITLISTED


class Outcome(StrEnum):
    """Why an application got the bed it got, or none: a code with parameters (tier, rank, bed_id) that residents are
    told in their language. Staff read the audit text (`reason`, with their notes) beside it."""

    RENEWED = "renewed"  # kept last season's bed
    WON_WISHED_BED = "won_wished_bed"
    WON_BED = "won_bed"  # named no bed and was drawn for a suitable one
    WON_OTHER_BED = "won_other_bed"  # the named beds were taken: drawn for another
    WISHES_TAKEN = "wishes_taken"  # would take only the named beds, and they were taken
    NO_BED_LEFT = "no_bed_left"
    HOUSEHOLD_HAS_BED = "household_has_bed"
    MOVED_BY_STAFF = "moved_by_staff"  # staff gave this bed
    NO_BED_BY_STAFF = "no_bed_by_staff"  # staff took the drawn bed away

    WITH_BED: ClassVar[frozenset[Outcome]]


Outcome.WITH_BED = frozenset({Outcome.RENEWED, Outcome.WON_WISHED_BED, Outcome.WON_BED, Outcome.WON_OTHER_BED, Outcome.MOVED_BY_STAFF})

# What a resident reads of an outcome, with the bed by its name; {rank} is the place in the whole draw, tiers first.
OUTCOME_WORDS: dict[Outcome, str] = {
    Outcome.RENEWED: N_("You keep {bed}, your bed from last season."),
    Outcome.WON_WISHED_BED: N_("You were number {rank} in the draw and got {bed}, a bed you wished for."),
    Outcome.WON_BED: N_("You were number {rank} in the draw and got {bed}."),
    Outcome.WON_OTHER_BED: N_("You were number {rank} in the draw. The beds you wished for were taken, so you got {bed}."),
    Outcome.WISHES_TAKEN: N_("You were number {rank} in the draw, and the beds you wished for were already taken."),
    Outcome.NO_BED_LEFT: N_("You were number {rank} in the draw, and no suitable bed was left."),
    Outcome.HOUSEHOLD_HAS_BED: N_("Your household already has a bed this season."),
    Outcome.MOVED_BY_STAFF: N_("After a review, we have given you {bed}."),
    Outcome.NO_BED_BY_STAFF: N_("After a review, we could not give you a bed this time."),
}


def adjusted(bed_id: int | None) -> Outcome:
    """Staff's adjustment gives the application this bed, or takes its bed away."""
    return Outcome.MOVED_BY_STAFF if bed_id is not None else Outcome.NO_BED_BY_STAFF


def told(outcome: str, params: dict, *, bed: str) -> tuple[str, dict[str, object]] | None:
    """What a resident is told of an outcome: the catalogue's English message and its values, the bed by its name.
    Nothing else of the record (the audit text, a staff note) is ever told."""
    if outcome not in OUTCOME_WORDS:
        return None
    return OUTCOME_WORDS[Outcome(outcome)], {"bed": bed, "rank": params.get("rank") or "", "tier": params.get("tier") or ""}


class PhaseOutOfOrder(Conflict):
    code = ErrorCode.PHASE_OUT_OF_ORDER
    title = "A season moves through its phases in order"


class OutsideWindow(Conflict):
    code = ErrorCode.OUTSIDE_WINDOW
    title = "The season is not in the phase that allows this"


class AlreadyApplied(Conflict):
    code = ErrorCode.ALREADY_APPLIED
    title = "Your household has already applied this season"


class HouseholdHasBed(Conflict):
    code = ErrorCode.HOUSEHOLD_HAS_BED
    title = "Your household already holds as many beds as allowed"


class BedTaken(Conflict):
    code = ErrorCode.BED_TAKEN
    title = "Another application already has that bed"


class NotAGardenSeason(Conflict):
    code = ErrorCode.NOT_A_GARDEN_SEASON
    title = "This is a room season: use /api/v1/room-seasons"


class NotPreviewed(Conflict):
    code = ErrorCode.NOT_PREVIEWED
    title = "Run the allocation (preview) before adjusting or publishing it"


class NotABed(DomainError):
    code = ErrorCode.NOT_A_BED
    status = 422
    title = "That is not a garden bed of this season"


def check_phase_move(current: Phase, wanted: Phase) -> None:
    """Forward one phase at a time; the renewal window may be skipped (a first season has no holders)."""
    step = ORDER.index(wanted) - ORDER.index(current)
    skips_renewal = current is Phase.DRAFT and wanted is Phase.APPLICATIONS
    if step != 1 and not skips_renewal:
        raise PhaseOutOfOrder(current=str(current), wanted=str(wanted))


def check_phase(current: Phase, *allowed: Phase) -> None:
    """The action belongs to one of these phases."""
    if current not in allowed:
        raise OutsideWindow(phase=str(current), allowed=[str(p) for p in allowed])


def tier_of(postal_code: str, district: tuple[str, ...] | list[str]) -> int:
    """Residents of the district's postal codes come first; everyone else after them."""
    return DISTRICT_TIER if postal_code in district else OTHERS_TIER


def check_household_limit(beds_held: int, limit: int) -> None:
    """A household holds at most the configured number of beds."""
    if beds_held >= limit:
        raise HouseholdHasBed(limit=limit, held=beds_held)


# ---------------------------------------------------------------- allocation


@dataclass(frozen=True)
class Applicant:
    id: int
    household: str
    tier: int
    beds: tuple[int, ...] = ()  # named beds, most wanted first
    raised: bool = False  # needs a raised (wheelchair-reachable) bed
    any_bed: bool = True  # takes any suitable bed when the named ones are gone
    renews: int | None = None  # the bed a confirmed renewal keeps


@dataclass(frozen=True)
class Bed:
    id: int
    raised: bool = False


@dataclass(frozen=True)
class Placement:
    application_id: int
    bed_id: int | None
    tier: int
    lottery_rank: int  # 1-based place in the whole draw (tiers first), the waitlist order of those without a bed
    reason: str  # the audit text staff read
    outcome: Outcome
    params: dict = field(default_factory=dict)  # tier, rank and bed_id, for the outcome's words


@dataclass
class _FreeBeds:
    """Free beds in a stable order; plain beds go first to those who need no raised one."""

    plain: dict[int, None] = field(default_factory=dict)
    raised: dict[int, None] = field(default_factory=dict)

    def take(self, bed_id: int) -> bool:
        for pool in (self.plain, self.raised):
            if bed_id in pool:
                del pool[bed_id]
                return True
        return False

    def first(self, *, raised_only: bool) -> int | None:
        pools = (self.raised,) if raised_only else (self.plain, self.raised)
        for pool in pools:
            for bed_id in pool:
                del pool[bed_id]
                return bed_id
        return None


def lottery_order(applicants: list[Applicant], seed: int) -> list[Applicant]:
    """Tiers first, then a draw within each tier that depends only on the seed and the application ids."""
    by_id = sorted(applicants, key=lambda a: a.id)
    draw = random.Random(seed).sample(range(len(by_id)), len(by_id))
    ticket = {a.id: n for a, n in zip(by_id, draw, strict=True)}
    return sorted(by_id, key=lambda a: (a.tier, ticket[a.id]))


def _choose(applicant: Applicant, free: _FreeBeds) -> tuple[int | None, Outcome, str]:
    for bed_id in applicant.beds:
        if free.take(bed_id):
            return bed_id, Outcome.WON_WISHED_BED, f"got wished bed {bed_id}"
    if applicant.beds and not applicant.any_bed:
        return None, Outcome.WISHES_TAKEN, "the wished beds were taken"
    bed_id = free.first(raised_only=applicant.raised)
    if bed_id is None:
        return None, Outcome.NO_BED_LEFT, "no suitable bed was left"
    wished = "the wished beds were taken; " if applicant.beds else ""
    outcome = Outcome.WON_OTHER_BED if applicant.beds else Outcome.WON_BED
    return bed_id, outcome, f"{wished}got {'raised ' if applicant.raised else ''}bed {bed_id}"


def _placed(a: Applicant, bed_id: int | None, rank: int, outcome: Outcome, why: str) -> Placement:
    reason = f"renewed bed {bed_id}" if outcome is Outcome.RENEWED else f"tier {a.tier}, lottery rank {rank}: {why}"
    return Placement(a.id, bed_id, a.tier, rank, reason, outcome, {"tier": a.tier, "rank": rank or None, "bed_id": bed_id})


def allocate(applicants: list[Applicant], beds: list[Bed], *, seed: int, household_limit: int = 1) -> list[Placement]:
    """Renewals keep their beds; then, in lottery order, each application takes its first suitable free bed. The
    household limit holds for both: a renewal beyond it is drawn like an application."""
    free = _FreeBeds({b.id: None for b in beds if not b.raised}, {b.id: None for b in beds if b.raised})
    held: dict[str, int] = {}
    placements: dict[int, Placement] = {}
    for a in applicants:  # renewals first: they kept their bed in the renewal window
        if a.renews is not None and held.get(a.household, 0) < household_limit and free.take(a.renews):
            held[a.household] = held.get(a.household, 0) + 1
            placements[a.id] = _placed(a, a.renews, 0, Outcome.RENEWED, "")
    drawn = [a for a in lottery_order(applicants, seed) if a.id not in placements]
    for rank, a in enumerate(drawn, start=1):
        if held.get(a.household, 0) >= household_limit:
            bed_id, outcome, why = None, Outcome.HOUSEHOLD_HAS_BED, "the household already has a bed"
        else:
            bed_id, outcome, why = _choose(a, free)
        if bed_id is not None:
            held[a.household] = held.get(a.household, 0) + 1
        placements[a.id] = _placed(a, bed_id, rank, outcome, why)
    return [placements[a.id] for a in applicants]


@dataclass(frozen=True)
class TakeUp:
    """A season's beds: how many are held (accepted or renewed) and how many are offered and not yet answered."""

    season: object
    beds: int
    held: int
    offered: int

    @property
    def share(self) -> float:
        return self.held / self.beds if self.beds else 0.0


def take_up_of(season: object, beds: int, holdings: list) -> TakeUp:
    """A bed counts once: held if any booking holds it, offered only if nothing else does."""
    held = {b.resource_id for b in holdings if b.status != BookingStatus.OFFERED.value}
    offered = {b.resource_id for b in holdings if b.status == BookingStatus.OFFERED.value} - held
    return TakeUp(season, beds, len(held), len(offered))
