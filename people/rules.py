"""Pure people rules: names, organisation numbers, email addresses, households, languages, roles and invitations."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from enum import StrEnum

from infra.errors import Conflict, ErrorCode, InvalidInput, NotFound


class Language(StrEnum):
    """The languages a person's pages and mail can be in (infra.i18n.LANGUAGES)."""

    NB = "nb"
    EN = "en"
    PL = "pl"
    AR = "ar"


class MemberRole(StrEnum):
    ADMIN = "admin"
    MEMBER = "member"


class InvalidOrgNumber(InvalidInput):
    code = ErrorCode.INVALID_ORGNR
    title = "The organisation number is not valid"


class InvalidEmail(InvalidInput):
    code = ErrorCode.INVALID_EMAIL
    title = "The email address is not valid"


class InvalidPostalCode(InvalidInput):
    code = ErrorCode.INVALID_POSTAL_CODE
    title = "A Norwegian postal code has four digits"


class InvalidAddress(InvalidInput):
    code = ErrorCode.INVALID_ADDRESS
    title = "The street address is missing"


class InvalidName(InvalidInput):
    code = ErrorCode.INVALID_NAME
    title = "Give a name without line breaks or other control characters"


# ---------------------------------------------------------------- names


# Bidirectional overrides and isolates make a name read otherwise than it is written; joiners (ZWJ, ZWNJ) stay,
# as Persian and Indic names and emoji need them.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def check_name(name: str, *, field: str = "name") -> str:
    """The name as given, or InvalidName when it holds a control character.

    Names go into mail headers and calendar lines, where a CR or LF (or NEL, or a line separator) would split the
    line: none is ever stored, so a stored name can always be mailed.
    """
    for char in name:
        if unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in _BIDI_CONTROLS:
            raise InvalidName(f"{name!r} holds the control character U+{ord(char):04X}", field=field)
    return name


# ---------------------------------------------------------------- organisation numbers

_ORGNR_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)


def _orgnr_digits(number: str) -> str:
    # People copy numbers from Brønnøysund with spaces ("974 760 673"); nothing else is tolerated.
    return re.sub(r"\s+", "", str(number))


def valid_orgnr(number: str) -> bool:
    """An organisation number has nine digits, the last a mod-11 check digit over the first eight."""
    digits = _orgnr_digits(number)
    if not re.fullmatch(r"[0-9]{9}", digits):
        return False
    remainder = sum(int(d) * w for d, w in zip(digits, _ORGNR_WEIGHTS, strict=False)) % 11
    check = 0 if remainder == 0 else 11 - remainder
    # A computed check of 10 has no digit: Brønnøysund never issues such numbers.
    return check != 10 and check == int(digits[8])


def check_orgnr(number: str) -> str:
    """The organisation number as nine plain digits, or InvalidOrgNumber."""
    if not valid_orgnr(number):
        raise InvalidOrgNumber(f"{str(number).strip()!r} is not a valid Norwegian organisation number", field="orgnr")
    return _orgnr_digits(number)


# ---------------------------------------------------------------- email

# Deliberately loose: the sign-in link proves the address; this only catches obvious typos.
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def normalise_email(s: str) -> str:
    """An email address trimmed and lower-cased, or InvalidEmail when it is obviously malformed."""
    email = (s or "").strip().lower()
    if len(email) > 254 or not _EMAIL.fullmatch(email) or ".." in email:
        raise InvalidEmail(f"{email!r} does not look like an email address", field="email")
    return email


# ---------------------------------------------------------------- households

# Canonical street suffix -> (spelled-out forms, abbreviations that need a dot when glued on).
_SUFFIXES = {
    "gate": (("gata", "gate"), ("gt", "g")),
    "vei": (("veien", "vegen", "veg", "vei"), ("vn", "v")),
}
_BOLIGNUMMER = re.compile(r"^[hulk]\d{4}$")  # H0101: floor type, floor number, flat on the floor
_UNIT_WORDS = {"leil", "leilighet", "leilnr", "nr", "bolignr", "bolig"}
# Words for "number" written before the house number: "Tordenskiolds gate nr 12" is number 12 of that street.
_NUMBER_WORDS = {"nr", "no", "nummer"}
# A floor in words ("1. etg", "2. etasje", "underetasje") says which floor, not which flat: only the bolignummer
# (H0101, on every flat's letterbox) tells flats apart, so adding a floor cannot make a second household.
_FLOOR_WORDS = {"etg", "etasje", "et", "underetasje", "kjeller", "loft", "loftet", "sokkel", "st", "stue", "stuen"}


def check_postal_code(postal_code: str) -> str:
    """A Norwegian postal code: exactly four digits."""
    code = re.sub(r"\s+", "", str(postal_code or ""))
    if not re.fullmatch(r"[0-9]{4}", code):
        raise InvalidPostalCode(f"{postal_code!r} is not a four-digit postal code", field="postal_code")
    return code


def _tokens(street: str) -> list[tuple[str, bool]]:
    """Words and numbers, each with whether an abbreviation dot followed it."""
    text = street.casefold().replace("é", "e").replace("è", "e")
    text = re.sub(r"(\d)([^\W\d_])", r"\1 \2", text)  # "12b" -> "12 b"; letters stay separate words
    parts = re.findall(r"([^\W_]+)(\.?)", text)
    return [(word, dot == ".") for word, dot in parts]


def _canonical_suffix(word: str, dotted: bool) -> str:
    for canonical, (forms, abbreviations) in _SUFFIXES.items():
        if word in forms or word in abbreviations:
            return canonical
        for form in forms + (abbreviations if dotted else ()):
            if word.endswith(form):
                return word.removesuffix(form) + canonical
    return word


def _street_name(words: list[tuple[str, bool]]) -> str:
    """The street name without spaces, with "gt."/"gata" spelled "gate" and "vn."/"veien" spelled "vei"."""
    if not words:
        return ""
    *rest, (last, dotted) = words
    # "Tordenskiolds gate" and "Tordenskioldsgate" are the same street.
    return "".join(word for word, _ in rest) + _canonical_suffix(last, dotted)


def _unit(words: list[str]) -> str:
    """The flat within the building: the bolignummer (H0101) or another written unit."""
    for word in words:
        if _BOLIGNUMMER.fullmatch(word):
            return word
    unit = []
    for i, word in enumerate(words):
        floor_number = word.isdigit() and i + 1 < len(words) and words[i + 1] in _FLOOR_WORDS  # the "1" of "1. etg"
        if word not in _UNIT_WORDS and word not in _FLOOR_WORDS and not floor_number:
            unit.append(word)
    return "-".join(unit)


def household_key(street: str, postal_code: str) -> str:
    """One key per dwelling: street, number and letter, and flat, so "12B" and "12A" differ."""
    code = check_postal_code(postal_code)
    words = _tokens(street or "")
    number_at = next((i for i, (w, _) in enumerate(words) if w.isdigit()), len(words))
    named = words[:number_at]
    if len(named) > 1 and named[-1][0] in _NUMBER_WORDS:
        named = named[:-1]
    name = _street_name(named)
    if not name:
        raise InvalidAddress(f"{street!r} has no street name", field="street")
    after = [w for w, _ in words[number_at:]]
    number = after[0].lstrip("0") or "0" if after else ""
    rest = after[1:]
    letter = rest.pop(0) if rest and len(rest[0]) == 1 and rest[0].isalpha() else ""
    unit = _unit(rest)
    return " ".join(part for part in (code, name, number + letter, unit) if part)


def building_of(key: str) -> str:
    """The postal code, street and house number of a household key: flats of one building share it."""
    parts = key.split(" ")
    return " ".join(parts[:3])


def near_duplicates(keys: list[str]) -> list[list[str]]:
    """Households that live in one building under different flat numbers (or none): for staff to look at twice."""
    by_building: dict[str, set[str]] = {}
    for key in keys:
        by_building.setdefault(building_of(key), set()).add(key)
    return [sorted(found) for _, found in sorted(by_building.items()) if len(found) > 1]


class AssociationNotFound(NotFound):
    code = ErrorCode.ASSOCIATION_NOT_FOUND
    title = "No such association"


# ---------------------------------------------------------------- invitations

INVITATION_LIFETIME = timedelta(days=14)


class InvitationState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"  # never stored: a pending invitation past its deadline


class InvitationNotFound(NotFound):
    code = ErrorCode.INVITATION_NOT_FOUND
    title = "No such invitation for you"


class InvitationClosed(Conflict):
    code = ErrorCode.INVITATION_CLOSED
    title = "The invitation was withdrawn, has expired or is already answered"


def invitation_state(stored: str, expires_at: datetime, *, now: datetime) -> InvitationState:
    """What an invitation is now: a pending one lapses at its deadline."""
    if stored == InvitationState.PENDING and expires_at <= now:
        return InvitationState.EXPIRED
    return InvitationState(stored)


def check_may_answer(invitee_id: int, actor_id: int, state: InvitationState) -> None:
    """Only the person invited answers, and only while the invitation is open; to anyone else it does not exist."""
    if invitee_id != actor_id:
        raise InvitationNotFound()
    if state != InvitationState.PENDING:
        raise InvitationClosed(f"The invitation is {state}", state=state.value)
