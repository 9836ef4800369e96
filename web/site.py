"""The web pages as one router, with their templates, static files and how a refused page is shown."""

from __future__ import annotations

from pathlib import Path

from litestar import Request, Response, Router
from litestar.di import Provide
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from infra.errors import DomainError, NotAuthenticated
from web import (
    audit_pages,
    booking_page,
    booking_pages,
    error_pages,
    free_rooms_pages,
    invitation_pages,
    kit_pages,
    member_pages,
    pages,
    privacy_pages,
    profile_pages,
    room_season_pages,
    room_season_staff_pages,
    season_pages,
    staff_pages,
    take_up,
    utilisation,
    waitlist_pages,
)
from web.frame import provide_viewer, sign_in_path

HERE = Path(__file__).parent


def on_not_signed_in(request: Request, _: NotAuthenticated) -> Response:
    return Redirect(sign_in_path(request), status_code=303)


def on_refusal(request: Request, exc: DomainError) -> Response:
    """A page the services refuse (not found, not yours) is an HTML page in the viewer's language, not JSON."""
    return error_pages.refusal_page(request, exc)


ROUTER = Router(
    path="/",
    route_handlers=[
        *pages.ROUTES,
        *booking_pages.ROUTES,
        *booking_page.ROUTES,
        *staff_pages.ROUTES,
        *utilisation.ROUTES,
        *take_up.ROUTES,
        *season_pages.ROUTES,
        *room_season_pages.ROUTES,
        *room_season_staff_pages.ROUTES,
        *waitlist_pages.ROUTES,
        *invitation_pages.ROUTES,
        *profile_pages.ROUTES,
        *free_rooms_pages.ROUTES,
        *kit_pages.ROUTES,
        *member_pages.ROUTES,
        *privacy_pages.ROUTES,
        *audit_pages.ROUTES,
        *error_pages.ROUTES,
    ],
    dependencies={"viewer": Provide(provide_viewer)},
    exception_handlers={NotAuthenticated: on_not_signed_in, DomainError: on_refusal},
    include_in_schema=False,
)

STATIC = create_static_files_router(path="/static", directories=[HERE / "static"], include_in_schema=False)

TEMPLATES = TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine)
