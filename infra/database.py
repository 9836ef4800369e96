"""The database: async engine, UTC timestamps, and the transaction boundaries services use."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, DateTime, Table, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection, Dialect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from infra.errors import DomainError
from infra.memo import CHANNEL, Memo, MemoFollower, forget_on_writes, memo_for, touched_watched_table
from infra.sqlite_driver import one_hop_dbapi

# Set in a session's `info` by whatever adds to the outbox; after that transaction commits, the sender is woken.
WAKE_AFTER_COMMIT = "wake_after_commit"


class UtcDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on every backend (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # type: ignore[override]
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; times are stored in UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # type: ignore[override]
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _prepare_sqlite(engine: AsyncEngine) -> None:
    """WAL with synchronous=FULL keeps every commit durable; BEGIN IMMEDIATE takes the write lock up front."""

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=30000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("allmenning_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _replace_closed_connections(engine: AsyncEngine) -> None:
    """PostgreSQL: a pooled connection the server has closed (a restart, a terminated backend) is replaced when
    taken from the pool. SQLAlchemy's pre-ping would ask the server instead, at three round trips per checkout on
    asyncpg (BEGIN, a ping, ROLLBACK) for every request; the driver already knows its socket was closed."""

    @event.listens_for(engine.sync_engine, "checkout")
    def on_checkout(dbapi_connection: Any, _record: ConnectionPoolEntry, _proxy: Any) -> None:
        if dbapi_connection.driver_connection.is_closed():
            raise DisconnectionError("the database server closed this pooled connection")  # the pool opens a new one


GROUP_COMMIT_LIMIT = 64
T = TypeVar("T")
INSERT_AT_COMMIT = "insert_at_commit"


def insert_at_commit(session: AsyncSession, table: Table, row: dict[str, Any]) -> None:
    """Insert `row` just before this transaction commits, in one statement with the other rows queued for its
    table: what nothing reads before COMMIT (the outbox) costs a group of writers one round trip, not one each."""
    session.info.setdefault(INSERT_AT_COMMIT, {}).setdefault(table, []).append(row)


def _queued(session: AsyncSession) -> dict[Table, int]:
    return {table: len(rows) for table, rows in session.info.get(INSERT_AT_COMMIT, {}).items()}


def _drop_queued_since(session: AsyncSession, before: dict[Table, int]) -> None:
    for table, rows in session.info.get(INSERT_AT_COMMIT, {}).items():
        del rows[before.get(table, 0) :]


async def _insert_queued(session: AsyncSession) -> None:
    for table, rows in session.info.pop(INSERT_AT_COMMIT, {}).items():
        if rows:
            await (await session.connection()).execute(table.insert(), rows)


async def _tell_other_processes(session: AsyncSession) -> None:
    """PostgreSQL delivers the notification at COMMIT, and only if it commits: every process's follower forgets."""
    await session.flush()  # the unit of work's own writes, which COMMIT would otherwise flush after this check
    if touched_watched_table((await session.connection()).info):
        await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


async def _in_savepoint(session: AsyncSession, work: Callable[[AsyncSession], Awaitable[Any]]) -> tuple[Any, BaseException | None]:
    queued = _queued(session)
    try:
        async with session.begin_nested():
            return await work(session), None
    except Exception as exc:  # noqa: BLE001  (handed to the writer who asked, after the COMMIT)
        _drop_queued_since(session, queued)
        return None, exc


class _WroteThenFailed(Exception):
    """A work of a batch failed after writing: the batch is run again with a savepoint around each work."""


def _refused_cleanly(session: AsyncSession, exc: Exception, before: tuple, changes: Callable[[], int]) -> bool:
    """A refusal that left nothing behind: no row changed, nothing new pending, the transaction still usable."""
    if not isinstance(exc, DomainError) or session.dirty or session.deleted:
        return False
    transaction = session.get_transaction()
    return transaction is not None and transaction.is_active and _written(session, changes) == before


def _written(session: AsyncSession, changes: Callable[[], int]) -> tuple[int, frozenset[int], dict[Table, int]]:
    """Rows changed on the connection so far, objects waiting to be flushed, and rows queued for COMMIT."""
    return changes(), frozenset(id(o) for o in session.new), _queued(session)


async def _changes_counter(session: AsyncSession) -> Callable[[], int]:
    """How many rows the session's SQLite connection has changed so far (sqlite3's `total_changes`)."""
    raw = (await (await session.connection()).get_raw_connection()).driver_connection
    return lambda: raw.total_changes


async def _unguarded(
    session: AsyncSession, work: Callable[[AsyncSession], Awaitable[Any]], changes: Callable[[], int]
) -> tuple[Any, BaseException | None]:
    before = _written(session, changes)
    try:
        return await work(session), None
    except Exception as exc:
        if _refused_cleanly(session, exc, before, changes):
            return None, exc
        raise _WroteThenFailed from exc


class Db:
    """One database; `write()` is the transaction a check-then-write runs in, `read()` a consistent read."""

    def __init__(self, url: str, *, echo: bool = False, memo_seconds: float = 5.0) -> None:
        self.url = url
        self.dialect = make_url(url).get_backend_name()
        if self.is_sqlite:
            database = make_url(url).database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_async_engine(url, echo=echo, **self._engine_options())
        if self.is_sqlite:
            _prepare_sqlite(self.engine)
        else:
            _replace_closed_connections(self.engine)
        self.memo: Memo = memo_for(url, memo_seconds)
        forget_on_writes(self.engine, self.memo)
        self._follower: MemoFollower | None = None
        writer = self.engine.execution_options(allmenning_write=True)
        self._write_sessions = async_sessionmaker(writer, expire_on_commit=False)
        self._read_sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time; queueing writers here is fairer and faster than busy-waiting.
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        self.after_notifying_commit: list[Callable[[], None]] = []
        self._waiting: list[tuple[Callable[[AsyncSession], Awaitable[Any]], asyncio.Future]] = []
        self._committer: asyncio.Task | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def is_postgresql(self) -> bool:
        return self.dialect == "postgresql"

    def _engine_options(self) -> dict:
        if self.is_sqlite:
            # Every session ends in COMMIT or ROLLBACK already: no second rollback on the way back to the pool.
            # One pooled connection per concurrent reader: an overflow connection is a new thread, opened and closed per use.
            return {
                "module": one_hop_dbapi(),
                "connect_args": {"timeout": 30},
                "pool_reset_on_return": None,
                "pool_size": 32,
                "max_overflow": 32,
            }
        # As many pooled connections as a busy process keeps in use: an overflow connection is opened (a new server
        # process, TLS tried first) and closed per use, which costs more than the booking it carries.
        return {"pool_size": 20, "max_overflow": 10}  # 30 at most: N processes stay within max_connections

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A write transaction: BEGIN IMMEDIATE on SQLite; on PostgreSQL services lock the rows they check."""
        if self._write_lock is None:
            async with self._write_sessions() as session, session.begin():
                yield session
                await _insert_queued(session)
                await _tell_other_processes(session)
        else:
            async with self._write_lock:
                async with self._write_sessions() as session, session.begin():
                    yield session
                    await _insert_queued(session)
        # Reached only after a commit: a rolled-back change raised out above, and wakes nobody.
        if session.info.get(WAKE_AFTER_COMMIT):
            self._wake_senders()

    @asynccontextmanager
    async def one_statement(self) -> AsyncIterator[AsyncConnection]:
        """PostgreSQL: a connection on which each statement commits by itself, for a write that is whole in one
        statement (no BEGIN and no COMMIT to wait for: one round trip). The sender wakes after it if it recorded mail."""
        async with self.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn
            woken = conn.info.pop(WAKE_AFTER_COMMIT, False)
        if woken:
            self._wake_senders()

    def _wake_senders(self) -> None:
        for wake in self.after_notifying_commit:
            wake()

    async def write_together(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run `work` as a write, sharing one transaction with the writers waiting now (group commit).

        On SQLite each durable COMMIT costs an fsync, and writers queue anyway: so the writers that queued while
        one transaction ran go into the next together, each in its own savepoint (a refusal undoes only its own
        work), with one COMMIT for all. Nobody hears their answer before that COMMIT. PostgreSQL writers run in
        parallel under row locks, so there each work has its own transaction.
        """
        if not self.is_sqlite:
            async with self.write() as session:
                return await work(session)
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((work, future))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_waiting())
        return await future

    async def _commit_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:GROUP_COMMIT_LIMIT], self._waiting[GROUP_COMMIT_LIMIT:]
            try:
                outcomes = await self._run_batch(batch)
            except _WroteThenFailed:
                outcomes = await self._run_batch(batch, savepoints=True)
            for future, result, error in outcomes:
                if not future.done():
                    future.set_exception(error) if error else future.set_result(result)

    async def _run_batch(self, batch: list, *, savepoints: bool = False) -> list[tuple[asyncio.Future, Any, BaseException | None]]:
        """One transaction for the batch. Without savepoints a refusal must leave nothing behind (most do: rules
        are checked before anything is written); a work that fails otherwise sends the batch round again."""
        outcomes: list[tuple[asyncio.Future, Any, BaseException | None]] = []
        try:
            async with self.write() as session:
                changes = await _changes_counter(session)
                for work, future in batch:
                    outcomes.append((future, *await (_in_savepoint(session, work) if savepoints else _unguarded(session, work, changes))))
        except _WroteThenFailed:
            raise
        except Exception as exc:  # noqa: BLE001  (the COMMIT itself failed: no work of this batch is durable)
            outcomes = [(future, None, exc) for _, future in batch]
        return outcomes

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._read_sessions() as session, session.begin():
            yield session
            await _insert_queued(session)

    async def follow_other_processes(self) -> None:
        """On PostgreSQL, hear other processes' changes to what the memo holds at once (a server calls this on start)."""
        if self.is_postgresql and self._follower is None:
            dsn = make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)
            self._follower = MemoFollower(self.memo, dsn)
            await self._follower.start()

    async def dispose(self) -> None:
        if self._follower is not None:
            await self._follower.stop()
        await self.engine.dispose()
