"""What every request reads and staff rarely change (who a token is, a resource's policy), remembered briefly."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry

# The tables remembered values are read from: people and their roles, and the catalogue.
WATCHED_TABLES = frozenset(
    {"person", "credential", "membership", "association", "resource", "closure", "location", "kit", "kit_item", "staff_grant"}
)
WRITE = re.compile(r'^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)
TOUCHED = "allmenning_memo_touched"
CHANNEL = "allmenning_memo"  # PostgreSQL: a commit that wrote a watched table tells every process to forget
T = TypeVar("T")
log = logging.getLogger("allmenning.memo")


@dataclass
class Memo:
    """Remembered per database and process for `seconds` at most. A write to a table it was read from, by any `Db`
    of this process, forgets everything twice: when the statement runs and when its connection goes back to the pool
    after COMMIT or ROLLBACK. A value is kept only if nothing was forgotten while it was read, so no reader keeps
    what a transaction committed around it. On PostgreSQL another process's commit is heard at once (`MemoFollower`);
    should that connection be lost, another process's writes are still seen once the value expires."""

    seconds: float
    limit: int = 10_000  # a flood of made-up tokens must not grow the process without end
    generation: int = 0
    _values: dict[Any, tuple[int, float, Any]] = field(default_factory=dict)

    def forget(self) -> None:
        self.generation += 1
        self._values.clear()

    async def get_or_read(self, key: Any, read: Callable[[], Awaitable[T]]) -> T:
        """The remembered value of `key`, or `read()` (remembered if nothing was forgotten meanwhile)."""
        kept = self._values.get(key)
        if kept is not None and kept[0] == self.generation and kept[1] > time.monotonic():
            return kept[2]
        generation = self.generation
        value = await read()
        if self.seconds > 0 and generation == self.generation:
            if len(self._values) >= self.limit:
                self._values.clear()
            self._values[key] = (generation, time.monotonic() + self.seconds, value)
        return value


_memos: dict[str, Memo] = {}


def memo_for(url: str, seconds: float) -> Memo:
    """One memo per database in this process, shared by every `Db` of it."""
    memo = _memos.setdefault(url, Memo(seconds))
    memo.seconds = seconds
    return memo


def forget_on_writes(engine: AsyncEngine, memo: Memo) -> None:
    """Forget the memo when this engine writes a watched table, and again once that connection is returned."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def on_statement(conn: Connection, _cursor: object, statement: str, _parameters: object, _context: object, _many: bool) -> None:
        match = WRITE.match(statement)
        if match and match.group(1).lower() in WATCHED_TABLES:
            conn.info[TOUCHED] = True
            memo.forget()

    @event.listens_for(engine.sync_engine.pool, "checkin")
    def on_checkin(_dbapi_connection: object, record: ConnectionPoolEntry | None) -> None:
        if record is not None and record.info.pop(TOUCHED, False):
            memo.forget()


def touched_watched_table(info: dict) -> bool:
    """Whether the connection whose `info` this is has written a watched table since it was checked out."""
    return bool(info.get(TOUCHED))


class MemoFollower:
    """LISTENs on PostgreSQL for other processes' commits to the watched tables and forgets the memo when one comes,
    so a revoked token or a removed member is refused by the very next request to any process."""

    def __init__(self, memo: Memo, dsn: str) -> None:
        self.memo, self.dsn = memo, dsn
        self._connection: asyncpg.Connection | None = None

    async def start(self) -> None:
        try:
            self._connection = await asyncpg.connect(self.dsn, timeout=10)
            await self._connection.add_listener(CHANNEL, self._heard)
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("not listening for other processes' changes (%s); they are seen within the memo's window", exc)
            self._connection = None
            return
        self._connection.add_termination_listener(self._lost)
        self.memo.forget()  # anything read before listening began may be stale already

    def _heard(self, *_: object) -> None:
        self.memo.forget()

    def _lost(self, *_: object) -> None:
        log.warning("lost the connection that hears other processes' changes; they are seen within the memo's window")
        self.memo.forget()

    async def stop(self) -> None:
        if self._connection is not None and not self._connection.is_closed():
            self._connection.remove_termination_listener(self._lost)
            await self._connection.close()
        self._connection = None
