"""Schema migrations through Alembic, on the same async engine the app uses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from infra.database import Db
from infra.rows import serialise

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


async def _run(url: str, action: Callable[..., None], revision: str) -> None:
    """One transaction that instances starting at once take in turns: the first migrates, the next finds it done."""
    db = Db(url)
    try:
        async with db.engine.connect() as conn:
            conn = await conn.execution_options(allmenning_write=True)  # BEGIN IMMEDIATE on SQLite
            async with conn.begin():
                await serialise(conn, "migrate")
                await conn.run_sync(lambda sync: action(alembic_config(sync), revision))
    finally:
        await db.dispose()


async def upgrade(url: str, revision: str = "head") -> None:
    await _run(url, command.upgrade, revision)


async def downgrade(url: str, revision: str = "base") -> None:
    await _run(url, command.downgrade, revision)


async def revision(url: str, message: str) -> None:
    """Autogenerate a new revision against a database at head (for developers)."""
    db = Db(url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(lambda sync: command.revision(alembic_config(sync), message=message, autogenerate=True))
    finally:
        await db.dispose()
