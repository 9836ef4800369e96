"""The `allmenning` command for operators: serve, run a worker, migrate, import a catalogue, add people and tokens."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import config.tables  # noqa: F401  (every table, so keys between packages resolve whatever a command touches)
from config import migrate
from infra.database import Db
from infra.errors import DomainError
from infra.settings import Settings

DEFAULT_CATALOGUE = Path(__file__).parent / "catalogue.toml"
OPERATOR_EMAIL = "knutepunkt@allmenning.local"


def now() -> datetime:
    return datetime.now(UTC)


async def import_catalogue(settings: Settings, path: Path, *, apply: bool) -> str:
    from resources.catalogue import parse_catalogue
    from resources.catalogue_import import import_catalogue as run_import

    catalogue = parse_catalogue(path.read_text(encoding="utf-8"))
    db = Db(settings.database_url)
    try:
        report = await run_import(db, catalogue, now=now(), apply=apply)
    finally:
        await db.dispose()
    return str(report)


async def prepare(settings: Settings) -> str:
    """Migrate, seed the default catalogue into an empty database and, on that first start only, give the operator a
    one-time sign-in link (`users link` mints another)."""
    from people import service as people
    from resources.catalogue import parse_catalogue
    from resources.catalogue_import import seed_catalogue

    await migrate.upgrade(settings.database_url)
    db = Db(settings.database_url)
    try:
        # Only the first start seeds: afterwards staff edits are the truth, and `catalogue import` is explicit.
        catalogue = parse_catalogue(DEFAULT_CATALOGUE.read_text(encoding="utf-8"))
        seeded = await seed_catalogue(db, catalogue, now=now())
        report = "kept as it is" if seeded is None else f"seeded the default, {seeded}".split("\n", 1)[0]
        if seeded is None:  # not the first start: a link printed at every start would sit in every log
            return f"Catalogue: {report}\nStaff sign-in link: `allmenning users link {OPERATOR_EMAIL}` mints one"
        await people.add_person(db, OPERATOR_EMAIL, name="Knutepunkt Strømsø", staff=True, now=now())
        link = await people.create_signin_link(db, settings, OPERATOR_EMAIL, now=now())
    finally:
        await db.dispose()
    return f"Catalogue: {report}\nStaff sign-in link (one-time, 24 h): {link}"


def serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from config.app import create_app

    print(asyncio.run(prepare(settings)), flush=True)
    print(f"Serving Allmenning at http://{host}:{port}", flush=True)
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level="warning",
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )


def work(settings: Settings) -> None:
    """`allmenning worker`: the outbox and the periodic sweeps in a process of their own, until SIGTERM or Ctrl-C."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(run_worker(settings))


async def run_worker(settings: Settings, *, clock: Callable[[], datetime] = now, stop: asyncio.Event | None = None) -> None:
    """Migrate (taking turns with other instances), then send mail and sweep until `stop` is set or a signal comes.

    While it runs its heartbeat (a claimed tick every 5 s) tells web processes to leave the mail and the sweeps to
    it; when it stops it takes the heartbeat back and they send again."""
    from config.scheduler import Scheduler

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await migrate.upgrade(settings.database_url)
    db = Db(settings.database_url, memo_seconds=settings.memo_seconds)
    try:
        await db.follow_other_processes()
        worker = Scheduler(db, settings, clock, worker=True)
        await worker.start()
        print(f"Worker {worker.owner} sending mail and running the sweeps for {db.dialect}", flush=True)
        try:
            await stop.wait()
        finally:
            await worker.stop()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await db.dispose()
    print("Worker stopped", flush=True)


async def add_user(settings: Settings, email: str, name: str, staff: bool) -> str:
    from people import service as people

    db = Db(settings.database_url)
    try:
        person = await people.add_person(db, email, name=name, staff=staff, now=now())
    finally:
        await db.dispose()
    return f"person {person.id} {person.email}{' (operator)' if staff else ''}"


async def staff_role(settings: Settings, action: str, email: str, role: str, location: str | None) -> str:
    """`staff grant` / `staff revoke` from the console, which acts as an operator (the audit trail says "console")."""
    from oversight import staff

    db = Db(settings.database_url)
    where = f" at {location}" if location else ""
    try:
        if action == "grant":
            granted = await staff.grant(db, None, email, role, location, now=now())
            return f"{email} is {role}{where}" + ("" if granted else " (already)")
        await staff.revoke(db, None, email, role, location, now=now())
        return f"{email} is no longer {role}{where}"
    finally:
        await db.dispose()


async def sign_in_link(settings: Settings, email: str) -> str:
    from people import service as people

    db = Db(settings.database_url)
    try:
        link = await people.create_signin_link(db, settings, email, now=now())
    finally:
        await db.dispose()
    return f"Sign-in link for {email} (one-time, 24 h; older unused links stop working):\n{link}"


async def create_token(settings: Settings, email: str, label: str) -> str:
    from people import service as people

    db = Db(settings.database_url)
    try:
        token = await people.issue_credential(db, email, "api", now=now(), label=label)
    finally:
        await db.dispose()
    return f"API token for {email} (shown once, store it now):\n{token}"


async def add_association(settings: Settings, name: str, orgnr: str, admin: str) -> str:
    from people import associations

    db = Db(settings.database_url)
    try:
        association = await associations.add_association(db, name, orgnr, admin_email=admin, now=now())
    finally:
        await db.dispose()
    return f"association {association.id} {association.name} ({association.orgnr}), admin {admin}"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="allmenning", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="migrate, seed and serve")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    sub.add_parser(
        "worker",
        help="send mail from the outbox and run the periodic sweeps in a process of their own (web processes then leave both to it)",
    )
    db = sub.add_parser("db", help="database schema").add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help="migrate to the newest schema")
    cat = sub.add_parser("catalogue", help="the catalogue").add_subparsers(dest="action", required=True)
    imp = cat.add_parser("import", help="show what a catalogue TOML file would change; --apply changes it")
    imp.add_argument("file", type=Path)
    imp.add_argument("--apply", action="store_true", help="make the changes (by default nothing is changed)")
    users = sub.add_parser("users", help="people").add_subparsers(dest="action", required=True)
    add = users.add_parser("add", help="add a person (or update their name); --staff makes them an operator")
    add.add_argument("email")
    add.add_argument("--name", default="")
    add.add_argument("--staff", action="store_true")
    link = users.add_parser("link", help="mint a one-time sign-in link (24 h) for a person")
    link.add_argument("email")
    staff = sub.add_parser("staff", help="staff roles per location").add_subparsers(dest="action", required=True)
    for verb, words in (("grant", "give a person a staff role"), ("revoke", "take a staff role back")):
        g = staff.add_parser(verb, help=f"{words}: operator, location_staff (--location needed), season_manager, reporting")
        g.add_argument("email")
        g.add_argument("role")
        g.add_argument("--location", default=None, help="the location's key (location_staff; optional for season_manager, reporting)")
    tokens = sub.add_parser("tokens", help="API tokens").add_subparsers(dest="action", required=True)
    create = tokens.add_parser("create", help="issue a bearer token for a person")
    create.add_argument("email")
    create.add_argument("--label", default="cli")
    assoc = sub.add_parser("associations", help="associations").add_subparsers(dest="action", required=True)
    a = assoc.add_parser("add", help="register an association with its first admin")
    a.add_argument("name")
    a.add_argument("--orgnr", required=True)
    a.add_argument("--admin", required=True)
    return p


def dispatch(args: argparse.Namespace, settings: Settings) -> str | None:
    match (args.command, getattr(args, "action", None)):
        case ("serve", _):
            serve(settings, args.host, args.port)
            return None
        case ("worker", _):
            work(settings)
            return None
        case ("db", "upgrade"):
            asyncio.run(migrate.upgrade(settings.database_url))
            return "database is at the newest schema"
        case ("catalogue", "import"):
            asyncio.run(migrate.upgrade(settings.database_url))
            return asyncio.run(import_catalogue(settings, args.file, apply=args.apply))
        case ("users", "add"):
            return asyncio.run(add_user(settings, args.email, args.name, args.staff))
        case ("staff", "grant" | "revoke"):
            return asyncio.run(staff_role(settings, args.action, args.email, args.role, args.location))
        case ("users", "link"):
            return asyncio.run(sign_in_link(settings, args.email))
        case ("tokens", "create"):
            return asyncio.run(create_token(settings, args.email, args.label))
        case ("associations", "add"):
            return asyncio.run(add_association(settings, args.name, args.orgnr, args.admin))
    raise SystemExit(2)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        output = dispatch(args, Settings.from_env())
    except DomainError as exc:
        print(f"error ({exc.code}): {exc.detail}" + "".join(f"\n  {k}: {v}" for k, v in exc.extra.items()), file=sys.stderr)
        return 1
    if output:
        print(output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
