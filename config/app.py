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
from config.openapi import document_problems
from config.problems import EXCEPTION_HANDLERS
from config.scheduler import Scheduler
from infra.database import Db
from infra.http_policy import RequestGuard, add_security_headers
from infra.settings import Settings
from notifications import api as notifications_api
from oversight import api as oversight_api
from oversight import audit_api
from people import api as people_api
from resources import api as resources_api
from web import site as web_site
from web.error_pages import for_browsers

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@get("/healthz", summary="Liveness and database check", include_in_schema=True)
async def healthz(db: Db) -> dict:
    async with db.read() as s:
        await s.execute(text("SELECT 1"))
    return {"status": "ok"}


def create_app(settings: Settings | None = None, *, clock: Clock = system_clock) -> Litestar:
    """The app; its lifespan opens the database named by `app.state.settings` (tests swap it between runs)."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.db = Db(app.state.settings.database_url, memo_seconds=app.state.settings.memo_seconds)
        await app.state.db.follow_other_processes()
        scheduler = Scheduler(app.state.db, app.state.settings, app.state.clock) if app.state.settings.scheduler else None
        if scheduler:
            await scheduler.start()
        try:
            yield
        finally:
            if scheduler:
                await scheduler.stop()
            await app.state.db.dispose()

    def provide_db(state: State) -> Db:
        return state.db

    def provide_now(state: State) -> datetime:
        return state.clock()

    def provide_settings(state: State) -> Settings:
        return state.settings

    api = [
        healthz,
        *people_api.ROUTES,
        *resources_api.ROUTES,
        *booking_api.ROUTES,
        *notifications_api.ROUTES,
        *oversight_api.ROUTES,
        *audit_api.ROUTES,
    ]
    document_problems(api)
    return Litestar(
        route_handlers=[*api, web_site.ROUTER, web_site.STATIC],
        template_config=web_site.TEMPLATES,
        dependencies={
            "db": Provide(provide_db, sync_to_thread=False),
            "now": Provide(provide_now, sync_to_thread=False),
            "settings": Provide(provide_settings, sync_to_thread=False),
            "actor": Provide(people_api.provide_actor),
            "my_calendar_feed": Provide(notifications_api.provide_my_calendar_feed),
        },
        exception_handlers=for_browsers(EXCEPTION_HANDLERS),  # a browser reading a page gets a page, the API JSON
        middleware=[RequestGuard],
        before_send=[add_security_headers],
        lifespan=[lifespan],
        openapi_config=OpenAPIConfig(title="Allmenning", version="1.0.0", path="/schema"),
        state=State({"settings": settings or Settings.from_env(), "clock": clock}),
    )
