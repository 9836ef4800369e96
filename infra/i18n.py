"""Languages: the one gettext catalogue of pages and mail, compiled from its .po files, and dates and numbers by Babel."""

from __future__ import annotations

import gettext
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cache
from io import BytesIO
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from infra.settings import TIMEZONE

# Messages are written in English: in the page and mail templates as _("…"), in web/refusals.py, and marked N_("…")
# (or NC_(context, "…")) where Python names them ahead of saying them (notifications/rules.py, people/service.py).
# After changing them, from the repository root:
#   pybabel extract -F infra/locale/babel.cfg -k N_ -k NC_:1c,2 -k _ --no-location --sort-output -w 120 -o /tmp/messages.pot .
#   pybabel update -i /tmp/messages.pot -d infra/locale --no-fuzzy-matching -w 120   (then translate the new entries)
# Every message is translated in nb, pl and ar (tests/unit/test_translations.py fails otherwise); an en entry left
# empty says its English msgid. The .po files are the only catalogues kept: they are compiled in memory on first use.
LANGUAGES = ("nb", "en", "pl", "ar")
DEFAULT_LANGUAGE = "nb"
# en_GB: 24-hour clock and day-month order, as read in Norway; Arabic without a country, whose digits are the Latin ones
# the clock, prices and phone numbers around it are written in here.
LOCALES = {"nb": "nb_NO", "en": "en_GB", "pl": "pl_PL", "ar": "ar"}
# Each language in its own name, as a reader looks for it in the list of languages.
NAMES = {"nb": "Norsk (bokmål)", "en": "English", "pl": "Polski", "ar": "العربية"}
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
EOT = "\x04"


def N_(message: str) -> str:
    """Marks an English message for extraction where it is named (gettext's name for it); it is translated where it is said."""
    return message


def NC_(context: str, message: str) -> str:
    """N_ for a message whose translation depends on where it is said (a feed's "Closed" is a place's, not a season's).
    It is kept as gettext keys it in a compiled catalogue, the context and EOT before the message, and Speaker reads it so."""
    return f"{context}{EOT}{message}"


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The language's catalogue, compiled from its .po in memory so a fresh install needs no build step."""
    po = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as source:
        catalog = read_po(source, locale=language)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def chosen(*candidates: str | None) -> str:
    """The first candidate that is a language we speak, else bokmål."""
    return next((c for c in candidates if c in LANGUAGES), DEFAULT_LANGUAGE)


class Phrasebook(Mapping[str, Mapping[str, str]]):
    """English messages by name, read in a language as `book[language][name]`, for words looked up by name."""

    def __init__(self, messages: Mapping[str, str]) -> None:
        self.messages = messages
        self._read: dict[str, dict[str, str]] = {}  # the catalogues do not change while a process runs

    def __getitem__(self, language: str) -> dict[str, str]:
        if language not in LANGUAGES:
            raise KeyError(language)
        if language not in self._read:
            say = Speaker(language)
            self._read[language] = {name: say(message) for name, message in self.messages.items()}
        return dict(self._read[language])

    def __iter__(self) -> Iterator[str]:
        return iter(LANGUAGES)

    def __len__(self) -> int:
        return len(LANGUAGES)


@dataclass(frozen=True)
class Style:
    """How dates are written: a full and a short day's pattern per language, and what joins a day to its time."""

    day: Mapping[str, str]
    short_day: Mapping[str, str]
    joiner: str


# The locales' own full date and MMMEd (CLDR's), as mail has always written dates.
STANDARD = Style(
    day={"nb": "EEEE d. MMMM y", "en": "EEEE, d MMMM y", "pl": "EEEE, d MMMM y", "ar": "EEEE، d MMMM y"},
    short_day={"nb": "E d. MMM", "en": "E d MMM", "pl": "E, d MMM", "ar": "E، d MMM"},
    joiner=" ",
)
COMMAS = {"ar": "،"}  # Arabic's own comma where a date and its time are listed


def local(value: date | datetime) -> date | datetime:
    """A moment in Oslo time, for its date to be the one read there; a date stays as it is."""
    return value.astimezone(TIMEZONE) if isinstance(value, datetime) else value


class Speaker:
    """Words, dates and numbers in one language, for one page or one mail."""

    def __init__(self, language: str, style: Style = STANDARD) -> None:
        self.language = chosen(language)
        self.locale = Locale.parse(LOCALES[self.language])
        self.style = style
        self.translations = translations(self.language)
        self.direction = "rtl" if self.locale.character_order == "right-to-left" else "ltr"
        self.comma = COMMAS.get(self.language, ",")

    def __call__(self, message: str, **values: object) -> str:
        context, _, message = message.rpartition(EOT)
        text = self.translations.pgettext(context, message) if context else self.translations.gettext(message)
        return text.format(**values) if values else text

    def day(self, value: date | datetime) -> str:
        return format_date(local(value), self.style.day[self.language], locale=self.locale)

    def short_day(self, value: date | datetime) -> str:
        return format_date(local(value), self.style.short_day[self.language], locale=self.locale)

    def clock(self, value: datetime | time) -> str:
        if isinstance(value, datetime):
            return format_time(value, "HH:mm", tzinfo=TIMEZONE, locale=self.locale)
        return format_time(value, "HH:mm", locale=self.locale)

    def when(self, moment: datetime) -> str:
        return f"{self.day(moment)}{self.joiner}{self.clock(moment)}"

    def stamp(self, moment: datetime) -> str:
        """A moment in a log: the locale's medium date with its year, and the time (a table column a phone can hold)."""
        return f"{format_date(local(moment), 'medium', locale=self.locale)}{self.joiner}{self.clock(moment)}"

    def short_when(self, moment: datetime) -> str:
        return f"{self.short_day(moment)}{self.joiner}{self.clock(moment)}"

    @property
    def joiner(self) -> str:
        return self.style.joiner.replace(",", self.comma)

    def span(self, start: datetime, end: datetime) -> str:
        """An interval as a person reads it: one date when it stays within a day."""
        if start.astimezone(TIMEZONE).date() == end.astimezone(TIMEZONE).date():
            return f"{self.day(start)}{self.comma} {self.clock(start)}–{self.clock(end)}"
        return f"{self.when(start)} – {self.when(end)}"

    def number(self, value: float, digits: int = 1) -> str:
        return format_decimal(round(value, digits), locale=self.locale)

    @property
    def languages(self) -> list[tuple[str, str]]:
        """Every language we speak as (code, its own name), for a list to choose from."""
        return [(code, NAMES[code]) for code in LANGUAGES]
