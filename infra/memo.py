"""What every request reads and staff rarely change (who a token is, a resource's policy), remembered briefly."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry

# The tables remembered values are read from: people and their roles, and the catalogue.
WATCHED_TABLES = frozenset({"person", "credential", "membership", "association", "resource", "closure", "location", "kit", "kit_item"})
WRITE = re.compile(r'^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)
TOUCHED = "allmenning_memo_touched"
T = TypeVar("T")


@dataclass
class Memo:
    """Remembered per database and process for `seconds` at most. A write to a table it was read from, by any `Db`
    of this process, forgets everything twice: when the statement runs and when its connection goes back to the pool
    after COMMIT or ROLLBACK. A value is kept only if nothing was forgotten while it was read, so no reader keeps
    what a transaction committed around it. Another process's writes are seen once the value expires."""

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
