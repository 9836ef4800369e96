"""Room seasons for an association: the round's rules in words, the application form (edit, withdraw), renewal of last
term's times, and the answers to a published allocation (confirm, give back)."""

from __future__ import annotations

import re
from datetime import datetime

from litestar import Request, get, post
from litestar.response import Redirect, Template

from booking import service as bookings
from booking.seasons import room_answers
from booking.seasons import room_service as rounds
from booking.seasons.room_rules import MAX_WISHES
from infra.database import Db
from infra.errors import DomainError, ErrorCode, NotFound
from infra.settings import Settings
from people import associations as memberships
from people.actor import Actor, Duty
from web.frame import language_of, posted, render, see_other, signed_in
from web.i18n import Speaker
from web.refusals import message_of
from web.room_season_forms import (
    ACTIVITY_BLOCKS,
    LENGTHS,
    MAX_ACTIVITIES,
    WINDOW_ROWS,
    WISH_BLOCKS,
    blocks_for,
    filled,
    placed,
    prefill,
    read_application,
)
from web.room_season_words import AGE_BANDS, Words, round_of, window_state

DONE = ("applied", "withdrawn", "renewed", "confirmed", "given_back")


async def season_page(
    request: Request,
    db: Db,
    settings: Settings,
    actor: Actor,
    association_id: int,
    season_id: int,
    now: datetime,
    *,
    status: int = 200,
    errors: dict | None = None,
    problem: str = "",
    values: dict | None = None,
    editing: bool = False,
    not_used: dict | None = None,
) -> Template:
    association = await memberships.get_association(db, actor, association_id)  # members (and staff) only
    round_ = await round_of(db, season_id)
    views = await rounds.applications(db, actor, season_id, association_id=association_id)
    view = views[0] if views else None
    standing = view is not None and view.application.withdrawn_at is None
    holdings = []
    if round_.season.phase == "renewal":
        holdings = [(w, a) for w, a in await rounds.previous_holdings(db, actor, season_id) if a.association_id == association_id]
    state = window_state(round_.season, now)
    done = request.query_params.get("done", "")
    may_act = actor.is_admin_of(association_id) or actor.may(Duty.PEOPLE)  # those whom get_association let in to act
    editing = editing or bool(errors) or not standing
    values = values if values is not None else (prefill(view) if view else {})  # a withdrawn one to send again
    held_series = {i for w in (view.wishes if view else []) for i in w.series_ids}
    booked: dict[int, list] = {}
    if held_series:
        for b in await bookings.list_bookings(db, actor, association_id=association_id):
            if b.series_id in held_series and b.status in ("offered", "confirmed"):
                booked.setdefault(b.series_id, []).append(b)
    return render(
        request,
        settings,
        actor,
        "room_season.html",
        status=status,
        errors=errors or {},
        problem=problem,
        values=values,
        association=association,
        round=round_,
        season=round_.season,
        view=view,
        standing=standing,
        activities={x.id: x for x in view.activities} if view else {},
        holdings=holdings,
        asked={w.renews_wish_id for w in view.wishes} if view else set(),
        renewing=[w for w in view.wishes if w.renews_wish_id is not None] if standing else [],
        not_used=not_used or {},
        state=state,
        may_act=may_act,
        show_form=state == "open" and may_act and editing,
        words=Words(Speaker(language_of(request, actor)), round_),
        age_bands=AGE_BANDS,
        lengths=LENGTHS,
        activity_blocks=blocks_for(values, "a", ACTIVITY_BLOCKS, MAX_ACTIVITIES),
        wish_blocks=blocks_for(values, "w", WISH_BLOCKS, MAX_WISHES),
        window_rows=max([WINDOW_ROWS, *(int(m.group(1)) for k in values if (m := re.fullmatch(r"w\d+_d(\d+)_day", k)))]),
        filled=filled(values, errors or {}),
        booked=booked,
        now=now,
        done=done if done in DONE and (state == "open" or done not in ("applied", "withdrawn")) else "",  # not a stale notice
    )


def page_of(association_id: int, season_id: int) -> str:
    return f"/associations/{association_id}/room-seasons/{season_id}"


@get("/associations/{association_id:int}/room-seasons", name="association_room_seasons")
async def association_rounds(request: Request, association_id: int, db: Db, settings: Settings, viewer: Actor | None) -> Template:
    actor = signed_in(viewer)
    association = await memberships.get_association(db, actor, association_id)
    every = [r for r in await rounds.list_rounds(db) if r.phase != "draft"]
    return render(request, settings, actor, "room_seasons.html", association=association, rounds=every)


@get("/associations/{association_id:int}/room-seasons/{season_id:int}", name="room_season")
async def room_season(
    request: Request, association_id: int, season_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime
) -> Template:
    editing = request.query_params.get("edit") == "1"
    return await season_page(request, db, settings, signed_in(viewer), association_id, season_id, now, editing=editing)


@post("/associations/{association_id:int}/room-seasons/{season_id:int}/apply", name="room_apply")
async def apply(
    request: Request, association_id: int, season_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime
) -> Template | Redirect:
    """Apply, or change the application: the whole form each time, its wishes ranked in the order written."""
    actor = signed_in(viewer)
    form = await posted(request)
    plan, wishes, activities, errors = read_application(form)
    problem = ""
    if not errors:
        try:
            await rounds.submit(db, actor, season_id, association_id, plan, now=now)
            return see_other(page_of(association_id, season_id) + "?done=applied")
        except DomainError as refusal:
            errors, problem = placed(refusal, wishes, activities)
    return await season_page(
        request, db, settings, actor, association_id, season_id, now, status=422, errors=errors, problem=problem, values=form, editing=True
    )


@get("/associations/{association_id:int}/room-seasons/{season_id:int}/withdraw", name="room_withdraw_ask")
async def withdraw_ask(request: Request, association_id: int, season_id: int, db: Db, settings: Settings, viewer: Actor | None) -> Template:
    actor = signed_in(viewer)
    association = await memberships.get_association(db, actor, association_id)
    season = await rounds.get_round(db, season_id)
    return render(request, settings, actor, "room_confirm.html", association=association, season=season, wish=None, words=None)


@post("/associations/{association_id:int}/room-seasons/{season_id:int}/withdraw", name="room_withdraw")
async def withdraw(
    request: Request, association_id: int, season_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime
) -> Template | Redirect:
    actor = signed_in(viewer)
    await posted(request)
    try:
        await rounds.withdraw(db, actor, season_id, association_id, now=now)
    except DomainError as refusal:
        return await season_page(request, db, settings, actor, association_id, season_id, now, status=422, problem=message_of(refusal))
    return see_other(page_of(association_id, season_id) + "?done=withdrawn")


@post("/associations/{association_id:int}/room-seasons/{season_id:int}/renew/{wish_id:int}", name="room_renew")
async def renew(
    request: Request, association_id: int, season_id: int, wish_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime
) -> Template | Redirect:
    """Ask to keep last term's time: granted first at the allocation, if it was used on enough of its dates."""
    actor = signed_in(viewer)
    await posted(request)
    try:
        await rounds.renew(db, actor, season_id, wish_id, now=now)
    except DomainError as refusal:
        detail = {"wish_id": wish_id, **refusal.extra} if refusal.code == ErrorCode.NOT_USED_ENOUGH else None
        return await season_page(
            request, db, settings, actor, association_id, season_id, now, status=422,
            errors={f"renew-{wish_id}": message_of(refusal)}, not_used=detail,
        )  # fmt: skip
    return see_other(page_of(association_id, season_id) + "?done=renewed")


@post("/associations/{association_id:int}/room-seasons/{season_id:int}/wishes/{wish_id:int}/confirm", name="room_confirm")
async def confirm(
    request: Request, association_id: int, season_id: int, wish_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime
) -> Template | Redirect:
    actor = signed_in(viewer)
    await posted(request)
    try:
        await room_answers.confirm(db, actor, season_id, wish_id, now=now)
    except DomainError as refusal:
        return await season_page(
            request, db, settings, actor, association_id, season_id, now, status=422, errors={f"wish-{wish_id}": message_of(refusal)}
        )
    return see_other(page_of(association_id, season_id) + "?done=confirmed")


@get("/associations/{association_id:int}/room-seasons/{season_id:int}/wishes/{wish_id:int}/give-back", name="room_give_back_ask")
async def give_back_ask(
    request: Request, association_id: int, season_id: int, wish_id: int, db: Db, settings: Settings, viewer: Actor | None
) -> Template:
    actor = signed_in(viewer)
    association = await memberships.get_association(db, actor, association_id)
    round_ = await round_of(db, season_id)
    views = await rounds.applications(db, actor, season_id, association_id=association_id)
    wish = next((w for v in views for w in v.wishes if w.id == wish_id), None)
    if wish is None:
        raise NotFound("No such wish of the association", wish_id=wish_id)
    words = Words(Speaker(language_of(request, actor)), round_)
    return render(request, settings, actor, "room_confirm.html", association=association, season=round_.season, wish=wish, words=words)


@post("/associations/{association_id:int}/room-seasons/{season_id:int}/wishes/{wish_id:int}/give-back", name="room_give_back")
async def give_back(
    request: Request, association_id: int, season_id: int, wish_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime
) -> Template | Redirect:
    actor = signed_in(viewer)
    form = await posted(request)
    try:
        await room_answers.give_back(db, actor, season_id, wish_id, reason=form.get("reason", "")[:1000], now=now)
    except DomainError as refusal:
        return await season_page(
            request, db, settings, actor, association_id, season_id, now, status=422, errors={f"wish-{wish_id}": message_of(refusal)}
        )
    return see_other(page_of(association_id, season_id) + "?done=given_back")


ROUTES = [association_rounds, room_season, apply, withdraw_ask, withdraw, renew, confirm, give_back_ask, give_back]
