"""Who is acting: the signed-in person as the rules see them, with their association roles and staff grants."""

from __future__ import annotations

from dataclasses import dataclass, field

from infra.errors import ErrorCode, Forbidden
from people.roles import OPERATOR, Duty, Grant, StaffRole, places_for

__all__ = ["OPERATOR", "Actor", "Duty", "check_admin", "check_may", "check_member", "check_staff", "may_see"]


@dataclass(frozen=True)
class Actor:
    person_id: int
    email: str
    name: str
    language: str = "nb"
    grants: frozenset[Grant] = frozenset()
    roles: dict[int, str] = field(default_factory=dict)  # association id -> "admin" | "member"

    @property
    def is_staff(self) -> bool:
        """Holds some staff role somewhere (what they may do, and where, is `may`)."""
        return bool(self.grants)

    @property
    def is_operator(self) -> bool:
        return any(g.role is StaffRole.OPERATOR for g in self.grants)

    def may(self, duty: Duty, location_id: int | None = None) -> bool:
        """May this actor do this duty here (location None: something of no one place, e.g. a new location)?"""
        return any(g.covers(duty, location_id) for g in self.grants)

    def places(self, duty: Duty) -> frozenset[int] | None:
        """Where this actor may do a duty: None everywhere; an empty set nowhere."""
        return places_for(self.grants, duty)

    def is_member_of(self, association_id: int) -> bool:
        return association_id in self.roles

    def is_admin_of(self, association_id: int) -> bool:
        return self.roles.get(association_id) == "admin"


def may_see(actor: Actor, person_id: int, association_id: int | None, location_id: int | None = None) -> bool:
    """Staff who read at that place see everything there; a person sees their own things and their associations'."""
    if person_id == actor.person_id or actor.may(Duty.READ, location_id):
        return True
    return association_id is not None and actor.is_member_of(association_id)


def check_may(actor: Actor, duty: Duty, location_id: int | None = None) -> None:
    """Refuse unless the actor holds a role that allows this duty at this location."""
    if actor.may(duty, location_id):
        return
    if not actor.is_staff:
        raise StaffOnly()
    raise NotAtThisLocation(f"Your staff role does not allow {duty.value} here", duty=duty.value, location_id=location_id)


def check_staff(actor: Actor) -> None:
    """Only staff (in any role) may see this at all; what they may do is checked with `check_may`."""
    if not actor.is_staff:
        raise StaffOnly()


def check_member(actor: Actor, association_id: int) -> None:
    """A person acts for an association only as its member (staff who manage people may act for any)."""
    if not (actor.may(Duty.PEOPLE) or actor.is_member_of(association_id)):
        raise NotAMember(f"You are not a member of association {association_id}", association_id=association_id)


def check_admin(actor: Actor, association_id: int) -> None:
    """Only an association's admins (or staff who manage people) manage its members."""
    if not (actor.may(Duty.PEOPLE) or actor.is_admin_of(association_id)):
        raise Forbidden("Only the association's admins may do this", association_id=association_id)


class NotAMember(Forbidden):
    code = ErrorCode.NOT_A_MEMBER
    title = "You are not a member of this association"


class StaffOnly(Forbidden):
    code = ErrorCode.STAFF_ONLY
    title = "Only staff may do this"


class NotAtThisLocation(Forbidden):
    code = ErrorCode.NOT_AT_THIS_LOCATION
    title = "Your staff role does not cover this place"
