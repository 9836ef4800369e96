"""Who is acting: the signed-in person as the rules see them, with their association roles."""

from __future__ import annotations

from dataclasses import dataclass, field

from infra.errors import ErrorCode, Forbidden


@dataclass(frozen=True)
class Actor:
    person_id: int
    email: str
    name: str
    language: str = "nb"
    is_staff: bool = False
    roles: dict[int, str] = field(default_factory=dict)  # association id -> "admin" | "member"

    def is_member_of(self, association_id: int) -> bool:
        return association_id in self.roles

    def is_admin_of(self, association_id: int) -> bool:
        return self.roles.get(association_id) == "admin"


def may_see(actor: Actor, person_id: int, association_id: int | None) -> bool:
    """Staff see everything; a person sees their own things and those of associations they belong to."""
    if actor.is_staff or person_id == actor.person_id:
        return True
    return association_id is not None and actor.is_member_of(association_id)


def check_staff(actor: Actor) -> None:
    """Only staff at the knutepunkt may do this."""
    if not actor.is_staff:
        raise StaffOnly()


def check_member(actor: Actor, association_id: int) -> None:
    """A person acts for an association only as its member (staff may act for any)."""
    if not (actor.is_staff or actor.is_member_of(association_id)):
        raise NotAMember(f"You are not a member of association {association_id}", association_id=association_id)


def check_admin(actor: Actor, association_id: int) -> None:
    """Only an association's admins (or staff) manage its members."""
    if not (actor.is_staff or actor.is_admin_of(association_id)):
        raise Forbidden("Only the association's admins may do this", association_id=association_id)


class NotAMember(Forbidden):
    code = ErrorCode.NOT_A_MEMBER
    title = "You are not a member of this association"


class StaffOnly(Forbidden):
    code = ErrorCode.STAFF_ONLY
    title = "Only staff may do this"
