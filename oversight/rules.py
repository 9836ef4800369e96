"""Retention, as pure rules: how long each kind of personal data is kept, and the moments before which it goes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Periods:
    """How long things are kept (from the settings: the retention jobs and the privacy page read the same)."""

    inactive_after: timedelta  # no sign-in for this long: a warning by mail
    erase_after_warning: timedelta  # warned, and no sign-in since: erased
    unused_account: timedelta  # a sign-in link never followed, the account holding nothing: removed
    mail_kept: timedelta  # what a sent or failed mail said
    spent_credentials: timedelta  # used, revoked or expired links, sessions and tokens

    @classmethod
    def of_days(cls, inactive: int, after_warning: int, unused: int, mail: int, spent: int) -> Periods:
        days = [timedelta(days=d) for d in (inactive, after_warning, unused, mail, spent)]
        return cls(*days)


@dataclass(frozen=True)
class Cutoffs:
    """The moments before which each thing goes, for a run at `now`."""

    seen_before: datetime  # last seen before this: inactive
    warned_before: datetime  # warned before this (and not seen since): erased
    created_before: datetime  # never signed in, made before this: removed
    mail_before: datetime
    spent_before: datetime


def cutoffs(periods: Periods, *, now: datetime) -> Cutoffs:
    return Cutoffs(
        seen_before=now - periods.inactive_after,
        warned_before=now - periods.erase_after_warning,
        created_before=now - periods.unused_account,
        mail_before=now - periods.mail_kept,
        spent_before=now - periods.spent_credentials,
    )


def is_inactive(last_seen_at: datetime | None, created_at: datetime, cut: Cutoffs) -> bool:
    """Not seen (or, never seen, not made) since the cutoff."""
    return (last_seen_at or created_at) < cut.seen_before


def is_due_for_erasure(last_seen_at: datetime | None, warned_at: datetime | None, cut: Cutoffs) -> bool:
    """Warned long enough ago, and not signed in since the warning."""
    if warned_at is None or warned_at >= cut.warned_before:
        return False
    return last_seen_at is None or last_seen_at < warned_at


def needs_warning(last_seen_at: datetime | None, created_at: datetime, warned_at: datetime | None, cut: Cutoffs) -> bool:
    """Inactive and not yet warned since they were last seen (a sign-in after a warning starts the count again)."""
    if not is_inactive(last_seen_at, created_at, cut):
        return False
    return warned_at is None or (last_seen_at is not None and warned_at < last_seen_at)
