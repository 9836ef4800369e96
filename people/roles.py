"""Staff roles and what each may do where: an operator everywhere, the others at the places they were given."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from infra.errors import ErrorCode, InvalidInput


class StaffRole(StrEnum):
    OPERATOR = "operator"  # everything, everywhere, including who holds which role
    LOCATION_STAFF = "location_staff"  # the day's work at their locations
    SEASON_MANAGER = "season_manager"  # the garden season and the associations' room seasons
    REPORTING = "reporting"  # reads what staff read, changes nothing


class Duty(StrEnum):
    DECIDE = "decide"  # approve or decline requests; cancel or move someone else's booking; move people in a line
    HAND_OVER = "hand_over"  # hand equipment out and take it back, chase overdue loans
    CLOSE = "close"  # close, retire, cut stock
    CATALOGUE = "catalogue"  # resources, their rules and stock, kits
    SEASON = "season"  # set up, draw, adjust and publish seasons
    READ = "read"  # see every booking, request, report and the audit trail
    PEOPLE = "people"  # persons and associations on request: add, export, erase
    ROLES = "roles"  # grant and revoke staff roles


PLACE_DUTIES = frozenset({Duty.DECIDE, Duty.HAND_OVER, Duty.CLOSE, Duty.CATALOGUE, Duty.READ})
DUTIES: dict[StaffRole, frozenset[Duty]] = {
    StaffRole.OPERATOR: frozenset(Duty),
    StaffRole.LOCATION_STAFF: PLACE_DUTIES,
    StaffRole.SEASON_MANAGER: frozenset({Duty.SEASON, Duty.READ}),
    StaffRole.REPORTING: frozenset({Duty.READ}),
}
NEEDS_A_PLACE = frozenset({StaffRole.LOCATION_STAFF})
EVERYWHERE_ONLY = frozenset({StaffRole.OPERATOR})


@dataclass(frozen=True, order=True)
class Grant:
    """One role held by one person, at one location or (location None) everywhere."""

    role: StaffRole
    location_id: int | None = None

    def covers(self, duty: Duty, location_id: int | None) -> bool:
        """This grant allows the duty at that location (None: a thing of no one place, which needs a grant everywhere)."""
        if duty not in DUTIES[self.role]:
            return False
        return self.location_id is None or self.location_id == location_id


OPERATOR = frozenset({Grant(StaffRole.OPERATOR)})


def places_for(grants: frozenset[Grant], duty: Duty) -> frozenset[int] | None:
    """The locations where these grants allow a duty: None means everywhere (an empty set: nowhere)."""
    relevant = [g for g in grants if duty in DUTIES[g.role]]
    if any(g.location_id is None for g in relevant):
        return None
    return frozenset(g.location_id for g in relevant if g.location_id is not None)


def check_grant_shape(role: str, location_id: int | None) -> Grant:
    """A role by its name, with or without a place as the role demands."""
    try:
        staff_role = StaffRole(role)
    except ValueError:
        raise UnknownRole(f"No staff role {role!r}", role=role, roles=[r.value for r in StaffRole]) from None
    if staff_role in NEEDS_A_PLACE and location_id is None:
        raise RoleNeedsPlace(f"The role {role} is given for a location", role=role)
    if staff_role in EVERYWHERE_ONLY and location_id is not None:
        raise RoleIsEverywhere(f"The role {role} holds everywhere, not at one location", role=role)
    return Grant(staff_role, location_id)


class UnknownRole(InvalidInput):
    code = ErrorCode.UNKNOWN_ROLE
    title = "There is no such staff role"


class RoleNeedsPlace(InvalidInput):
    code = ErrorCode.ROLE_NEEDS_LOCATION
    title = "This role is given for a location"


class RoleIsEverywhere(InvalidInput):
    code = ErrorCode.ROLE_IS_EVERYWHERE
    title = "This role holds everywhere, not at one location"
