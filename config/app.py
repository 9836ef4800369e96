"""The composition root: builds the Litestar app from settings and wires every package's routes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from litestar import Litestar, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from sqlalchemy import text

from booking import api as booking_api
from config.database import Db
from config.problems import EXCEPTION_HANDLERS
from config.settings import Settings
from people import api as people_api
from resources import api as resources_api

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@get("/healthz", summary="Liveness and database check", include_in_schema=True)
async def healthz(db: Db) -> dict:
    async with db.read() as s:
        await s.execute(text("SELECT 1"))
    return {"status": "ok"}


def create_app(settings: Settings | None = None, *, clock: Clock = system_clock, db: Db | None = None) -> Litestar:
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        owned = db is None
        app.state.db = db or Db(settings.database_url)
        try:
            yield
        finally:
            if owned:
                await app.state.db.dispose()

    def provide_db(state: State) -> Db:
        return state.db

    def provide_now() -> datetime:
        return clock()

    return Litestar(
        route_handlers=[healthz, *people_api.ROUTES, *resources_api.ROUTES, *booking_api.ROUTES],
        dependencies={
            "db": Provide(provide_db, sync_to_thread=False),
            "now": Provide(provide_now, sync_to_thread=False),
            "settings": Provide(lambda: settings, sync_to_thread=False),
            "actor": Provide(people_api.provide_actor),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[lifespan],
        openapi_config=OpenAPIConfig(title="Allmenning", version="1.0.0", path="/schema"),
        state=State({"settings": settings}),
    )
