"""What the staff's pages share: the staff member acting, and their choice about the bookings a change covers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from booking.closure_rules import Choice, Decision
from infra.errors import DomainError, ErrorCode
from people.actor import Actor, check_staff
from web.frame import signed_in


def staff(viewer: Actor | None) -> Actor:
    actor = signed_in(viewer)
    check_staff(actor)
    return actor


def decision_of(form: dict[str, str]) -> Decision:
    """The choice made, and the bookings shown (none, when the change covered none on the first asking)."""
    choice = form.get("covered", "")
    seen = frozenset(int(part) for part in form.get("seen", "").split(",") if part.isdigit())
    return Decision(Choice(choice) if choice in set(Choice) else None, seen)


# Refusals that mean "look at the covered bookings again and choose": the list is shown again as it is now.
ASK_AGAIN = frozenset({ErrorCode.COVERED_CHOICE_REQUIRED, ErrorCode.COVERED_BOOKINGS_CHANGED, ErrorCode.REASON_REQUIRED})


async def covered_again(refusal: DomainError, preview: Callable[[], Awaitable[list]]) -> list:
    """The covered bookings as they are now, shown again when the choice was refused (missing, stale, or without a
    reason); none for any other refusal, which has nothing to choose about."""
    return await preview() if refusal.code in ASK_AGAIN else []
