"""Rows read and written alike on both backends: locked on PostgreSQL, a 404 when missing, inserts that skip conflicts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Select, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from infra.errors import NotFound

Row = TypeVar("Row")


def is_postgresql(s: AsyncSession | AsyncConnection) -> bool:
    dialect = s.dialect if isinstance(s, AsyncConnection) else s.bind.dialect
    return dialect.name == "postgresql"


def locked(s: AsyncSession, query: Select, *, lock: bool = True, skip_locked: bool = False) -> Select:
    """On PostgreSQL the rows read stay locked until COMMIT; SQLite's BEGIN IMMEDIATE already serialises writers."""
    return query.with_for_update(skip_locked=skip_locked) if lock and is_postgresql(s) else query


async def get_or_404(s: AsyncSession, model: type[Row], row_id: int, *, what: str, key: str, lock: bool = False) -> Row:
    """The row by id (locked when asked), or NotFound saying what was looked for, with the id under `key`."""
    row = (await s.execute(locked(s, select(model).where(model.id == row_id), lock=lock))).scalar_one_or_none()
    if row is None:
        raise NotFound(f"No {what} {row_id}", **{key: row_id})
    return row


async def serialise(s: AsyncSession | AsyncConnection, name: str) -> None:
    """Transactions taking the same name run one after another: an advisory lock held to COMMIT on PostgreSQL
    (on SQLite the write transaction's BEGIN IMMEDIATE already lets one writer in at a time)."""
    if is_postgresql(s):
        await s.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})


def insert_for(s: AsyncSession) -> Callable[..., Any]:
    """The dialect's INSERT, which knows ON CONFLICT DO NOTHING on both backends."""
    return postgresql.insert if is_postgresql(s) else sqlite.insert
