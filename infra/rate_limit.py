"""Fixed-window request counters kept in the database, so every server process counts the same requests.

One row per key and window, raised by one atomic `INSERT … ON CONFLICT DO UPDATE … RETURNING` (SQLite 3.35+ and
PostgreSQL alike): two processes hitting the same key at once both see the sum. Windows long past are deleted as
new ones are counted."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from infra.database import UtcDateTime
from infra.errors import DomainError, ErrorCode
from infra.rows import insert_for

KEPT_FOR = timedelta(days=1)  # a window's row is deleted this long after it began


class RateCount(SQLModel, table=True):
    __tablename__ = "rate_count"
    key: str = Field(primary_key=True, max_length=300)
    window_start: datetime = Field(primary_key=True, sa_type=UtcDateTime, index=True)
    hits: int = 0


@dataclass(frozen=True)
class Limit:
    """At most `count` requests per key in each fixed `window`."""

    count: int
    window: timedelta


class TooManyRequests(DomainError):
    code = ErrorCode.TOO_MANY_REQUESTS
    status = 429
    title = "Too many requests; try again later"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Try again in {retry_after} seconds", retry_after=retry_after)
        self.retry_after = retry_after


def window_of(now: datetime, window: timedelta) -> datetime:
    seconds = window.total_seconds()
    return datetime.fromtimestamp(math.floor(now.timestamp() / seconds) * seconds, UTC)


async def hit(s: AsyncSession, key: str, limit: Limit, *, now: datetime) -> None:
    """Count one request for this key in the caller's transaction; over the limit, refuse with how long to wait.

    A refusal raised inside the transaction rolls the count back with the rest: only requests let through count."""
    start = window_of(now, limit.window)
    table = RateCount.__table__
    statement = (
        insert_for(s)(RateCount)
        .values(key=key[:300], window_start=start, hits=1)
        .on_conflict_do_update(index_elements=["key", "window_start"], set_={"hits": table.c.hits + 1})
        .returning(table.c.hits)
    )
    hits = (await s.execute(statement)).scalar_one()
    if hits > limit.count:
        raise TooManyRequests(max(1, math.ceil((start + limit.window - now).total_seconds())))
    if hits == 1:  # the first hit of a window sweeps the windows long gone
        await s.execute(delete(RateCount).where(RateCount.window_start < now - KEPT_FOR))
