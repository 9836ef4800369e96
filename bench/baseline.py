"""The baseline the booking benchmark is measured against: a minimal endpoint that inserts one row with the same driver."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import uvicorn
from litestar import Litestar, post
from litestar.datastructures import State
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table

from infra.database import Db

metadata = MetaData()
rows = Table(
    "bench_row", metadata, Column("id", Integer, primary_key=True), Column("title", String(200)), Column("at", DateTime(timezone=True))
)


@post("/insert", status_code=201)
async def insert(state: State, data: dict) -> dict:
    async with state.db.write() as s:
        result = await s.execute(rows.insert().values(title=str(data.get("title", "")), at=datetime.now(UTC)))
        return {"id": result.inserted_primary_key[0]}


def create(url: str) -> Litestar:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.db = Db(url)
        async with app.state.db.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        yield
        await app.state.db.dispose()

    return Litestar([insert], lifespan=[lifespan])


if __name__ == "__main__":
    uvicorn.run(create(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
