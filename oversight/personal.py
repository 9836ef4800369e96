"""Every column that names a person, and what export shows and erasure does there: one declared map, read by both."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ColumnElement, String, Table, and_, cast, delete, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from infra.settings import TIMEZONE


class Erase(StrEnum):
    """What erasing a person does to a column that names them."""

    DELETE = "delete"  # an id column: the rows it finds are deleted
    PSEUDONYM = "pseudonym"  # an id column: the rows stay, the id names no one once the person row is blank
    BLANK = "blank"  # a text column: emptied in the rows the person owns (`owner`)
    BLANK_MATCH = "blank_match"  # a text column: emptied wherever `match_on` holds the person's own address or name
    DELETE_MATCH = "delete_match"  # rows whose `match_on` holds the person's address are deleted
    SCRUB = "scrub"  # JSON of anyone's rows: each value holding the person's name or address is emptied
    KEEP = "keep"  # the audit trail: ids only, append-only, never changed
    NOT_A_PERSON = "not_a_person"  # named like a person's field, but a place's or an association's own


@dataclass(frozen=True)
class Rule:
    erase: Erase
    why: str
    exported: bool = False  # an id column: the rows it finds are in the person's export
    owner: str = ""  # BLANK: the id column of the row's owner
    own_only: bool = False  # BLANK: only rows not held for an association (an association's event names are its own)
    blank: str = ""  # BLANK: the value left ("{person}" and "{row}" are the ids, for columns that must stay unique)
    match: str = "{email}"  # *_MATCH: what the person's own value looks like here
    match_on: str = ""  # *_MATCH: the column compared (default: the column itself)


D, P, B = Erase.DELETE, Erase.PSEUDONYM, Erase.BLANK
STAFF_WORK = "their work as staff on another person's row: the row is that person's, the id a pseudonym"

PERSONAL: dict[tuple[str, str], Rule] = {
    ("person", "id"): Rule(P, "the pseudonym itself: kept so history and the audit trail stay whole", exported=True),
    ("person", "email"): Rule(B, "replaced by a unique non-address", owner="id", blank="erased-{person}@invalid"),
    ("person", "name"): Rule(B, "blanked", owner="id"),
    ("person", "street"): Rule(B, "blanked", owner="id"),
    ("person", "postal_code"): Rule(B, "blanked", owner="id"),
    ("person", "city"): Rule(B, "blanked", owner="id"),
    ("booking", "person_id"): Rule(P, "future bookings cancelled first; past ones kept for statistics", exported=True),
    ("booking", "title"): Rule(B, "free text that may name them", owner="person_id", own_only=True),
    ("booking", "decision_reason"): Rule(B, "free text about them", owner="person_id", own_only=True),
    ("booking", "cancel_reason"): Rule(B, "free text about them", owner="person_id", own_only=True),
    ("booking", "check_out_note"): Rule(B, "free text about them", owner="person_id", own_only=True),
    ("booking", "return_note"): Rule(B, "free text about them", owner="person_id", own_only=True),
    ("booking", "decided_by"): Rule(P, STAFF_WORK),
    ("booking", "cancelled_by"): Rule(P, STAFF_WORK),
    ("booking", "checked_out_by"): Rule(P, STAFF_WORK),
    ("booking", "returned_by"): Rule(P, STAFF_WORK),
    ("booking_series", "person_id"): Rule(P, "its bookings are settled one by one", exported=True),
    ("booking_series", "title"): Rule(B, "free text that may name them", owner="person_id", own_only=True),
    ("idempotency_record", "person_id"): Rule(D, "replays of their requests: of no use once they are gone"),
    ("waitlist_entry", "person_id"): Rule(P, "waiting places withdrawn first; kept as the line's history", exported=True),
    ("waitlist_entry", "household_key"): Rule(B, "made of their street and postal code", owner="person_id"),
    ("waitlist_entry", "move_reason"): Rule(B, "staff's words about them", owner="person_id"),
    ("waitlist_entry", "moved_by"): Rule(P, STAFF_WORK),
    ("season_application", "person_id"): Rule(
        P, "pending ones withdrawn (deleted) first; drawn ones kept for the draw's record", exported=True
    ),
    ("season_application", "street"): Rule(B, "their address", owner="person_id"),
    ("season_application", "household_key"): Rule(B, "made of their address; unique per season", owner="person_id", blank="erased-{row}"),
    ("season_application", "message_to_resident"): Rule(B, "staff's words to them", owner="person_id"),
    ("season_application", "postal_code"): Rule(Erase.NOT_A_PERSON, "four digits shared by a district: the tier's statistics"),
    ("season_application", "adjusted_by"): Rule(P, STAFF_WORK),
    ("room_application", "person_id"): Rule(P, "the association's application: the admin who applied stays a pseudonym", exported=True),
    ("room_application", "postal_code"): Rule(Erase.NOT_A_PERSON, "where the association is based"),
    ("room_activity", "responsible_name"): Rule(Erase.BLANK_MATCH, "the adult responsible, when it is them", match="{name}"),
    ("room_activity", "responsible_phone"): Rule(
        Erase.BLANK_MATCH, "their phone, when they are the one responsible", match="{name}", match_on="responsible_name"
    ),
    ("room_wish", "adjusted_by"): Rule(P, STAFF_WORK),
    ("membership", "person_id"): Rule(D, "memberships removed", exported=True),
    ("invitation", "person_id"): Rule(D, "invitations to them removed", exported=True),
    ("invitation", "email"): Rule(Erase.DELETE_MATCH, "an invitation to their address"),
    ("association", "contact_email"): Rule(Erase.BLANK_MATCH, "blanked when it is their address"),
    ("association", "contact_phone"): Rule(Erase.BLANK_MATCH, "blanked along with their address", match_on="contact_email"),
    ("staff_grant", "person_id"): Rule(D, "staff roles removed (never the last operator's)", exported=True),
    ("staff_grant", "granted_by"): Rule(P, STAFF_WORK),
    ("credential", "person_id"): Rule(D, "sessions, tokens and links revoked and deleted", exported=True),
    ("calendar_feed", "person_id"): Rule(D, "feeds stopped and deleted", exported=True),
    ("signin_link", "email"): Rule(Erase.DELETE_MATCH, "sign-in links sent to their address"),
    ("rate_count", "key"): Rule(Erase.DELETE_MATCH, "the count of sign-in mails to their address", match="signin:email:{email}"),
    ("notification", "person_id"): Rule(P, "mails to them: kept as a record of what was sent, without words", exported=True),
    ("notification", "payload"): Rule(B, "what the mail said", owner="person_id", blank="{}"),
    ("notification", "last_error"): Rule(B, "a mail server's answer, which may quote their address", owner="person_id"),
    ("notification", "dedupe_key"): Rule(Erase.NOT_A_PERSON, "event kinds and ids only"),
    ("audit_entry", "actor_id"): Rule(Erase.KEEP, "ids only: an erased person stays a pseudonym", exported=True),
    ("audit_entry", "subject_id"): Rule(Erase.KEEP, "ids only: an erased person stays a pseudonym", exported=True),
    ("season", "household_limit"): Rule(Erase.NOT_A_PERSON, "a number of beds per household"),
    ("room_wish", "confirm_by"): Rule(Erase.NOT_A_PERSON, "a deadline, not a person"),
    ("location", "address"): Rule(Erase.NOT_A_PERSON, "a place's address"),
    ("location", "postal_code"): Rule(Erase.NOT_A_PERSON, "a place's address"),
    ("location", "city"): Rule(Erase.NOT_A_PERSON, "a place's address"),
}

# Other people's mail that may quote the person: a staff digest names who asked (SCRUB: by value, in anyone's rows).
SCRUBBED = {("notification", "payload")}
# Never shown, not even to the person: secrets (only their hashes are stored) and the machinery's bookkeeping.
SECRET = frozenset({"token_hash", "token", "fingerprint", "lease_owner", "lease_until"})


@dataclass(frozen=True)
class Whom:
    """The person as erasure matches their values."""

    person_id: int
    email: str
    name: str

    def value(self, template: str) -> str:
        return template.format(email=self.email, name=self.name)


def table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


def _exported_by(name: str) -> list[str]:
    return [column for (t, column), rule in PERSONAL.items() if t == name and rule.exported]


async def export_rows(s: AsyncSession, whom: Whom) -> dict[str, list[dict[str, Any]]]:
    """Every row held about the person, by table: those their id finds, and sign-in links sent to their address."""
    found: dict[str, list[dict[str, Any]]] = {}
    for name in sorted({t for t, _ in PERSONAL}):
        columns = _exported_by(name)
        if name == "person":
            where: ColumnElement[bool] = table(name).c.id == whom.person_id
        elif columns:
            where = or_(*(table(name).c[column] == whom.person_id for column in columns))
        elif name == "signin_link":
            where = table(name).c.email == whom.email
        else:
            continue
        t = table(name)
        rows = (await s.execute(select(t).where(where).order_by(t.c[_order_key(t)]))).mappings()
        found[name] = [{k: _plain(v) for k, v in row.items() if k not in SECRET} for row in rows]
    return found


def _order_key(t: Table) -> str:
    return "id" if "id" in t.c else next(iter(t.c.keys()))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(TIMEZONE).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


# ---------------------------------------------------------------- erasure's last pass


async def erase_columns(s: AsyncSession, whom: Whom) -> dict[str, int]:
    """Apply the map once the use case settled bookings, offers, lines and roles: how many rows each step touched."""
    touched: dict[str, int] = {}
    ordered = sorted(PERSONAL.items(), key=lambda item: item[1].erase is not Erase.BLANK_MATCH or not item[1].match_on)
    for (name, column), rule in ordered:  # a match on another column is blanked before that column is
        statement = _statement(name, column, rule, whom)
        if statement is not None:
            count = (await s.execute(statement)).rowcount or 0
            touched[f"{name}.{column}"] = count
    for name, column in SCRUBBED:
        touched[f"{name}.{column} (others)"] = await scrub(s, name, column, whom)
    return {k: v for k, v in touched.items() if v}


def deleting(whom: Whom) -> list[Any]:
    """The map's deletions alone: for an account removed outright (nothing of it to keep as a pseudonym)."""
    wanted = (Erase.DELETE, Erase.DELETE_MATCH)
    return [_statement(t, column, rule, whom) for (t, column), rule in PERSONAL.items() if rule.erase in wanted]


def _statement(name: str, column: str, rule: Rule, whom: Whom) -> Any:
    t = table(name)
    if rule.erase is Erase.DELETE:
        return delete(t).where(t.c[column] == whom.person_id)
    if rule.erase is Erase.DELETE_MATCH:
        return delete(t).where(t.c[rule.match_on or column] == whom.value(rule.match))
    if rule.erase is Erase.BLANK_MATCH:
        value = whom.value(rule.match)
        return update(t).where(t.c[rule.match_on or column] == value).values({column: ""}) if value else None
    if rule.erase is not Erase.BLANK:
        return None
    where = [t.c[rule.owner] == whom.person_id]
    if rule.own_only:
        where.append(t.c.association_id.is_(None))
    return update(t).where(and_(*where)).values({column: _blank(t, column, rule, whom)})


def _blank(t: Table, column: str, rule: Rule, whom: Whom) -> Any:
    if isinstance(t.c[column].type, JSON):
        return {}
    if "{row}" in rule.blank:
        return literal(rule.blank.split("{row}")[0]) + cast(t.c.id, String)
    return rule.blank.format(person=whom.person_id)


async def scrub(s: AsyncSession, name: str, column: str, whom: Whom) -> int:
    """Others' rows whose JSON quotes the person's name or address get those values emptied (read, then written)."""
    t = table(name)
    needles = [v for v in (whom.email, whom.name) if v]
    if not needles:
        return 0
    text = cast(t.c[column], String)
    # JSON may keep non-ASCII letters as \\u escapes: look for both spellings.
    spelled = {form for v in needles for form in (v, _escaped(v))}
    rows = (await s.execute(select(t.c.id, t.c[column]).where(or_(*(text.contains(v, autoescape=True) for v in spelled))))).all()
    changed = 0
    for row_id, value in rows:
        if (kept := _without(value, whom)) != value:
            await s.execute(update(t).where(t.c.id == row_id).values({column: kept}))
            changed += 1
    return changed


def _escaped(value: str) -> str:
    return json.dumps(value)[1:-1]


def _without(value: Any, whom: Whom) -> Any:
    """A value that is their name, or holds their address, is emptied; other words stay (a name is matched whole, so
    another's text that merely contains a short name is left alone)."""
    if isinstance(value, dict):
        return {k: _without(v, whom) for k, v in value.items()}
    if isinstance(value, list):
        return [_without(v, whom) for v in value]
    if isinstance(value, str) and (whom.email.lower() in value.lower() or (whom.name and value.strip().lower() == whom.name.lower())):
        return ""
    return value
