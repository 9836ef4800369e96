"""Languages of the pages: gettext catalogues compiled from the .po files, and dates and numbers formatted by Babel."""

from __future__ import annotations

import gettext
from datetime import date, datetime, time
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from config.settings import TIMEZONE

# Messages are written in English in the templates and in web/refusals.py. After changing them:
#   pybabel extract -F web/babel.cfg -k N_ -k _ --no-location --sort-output -o /tmp/messages.pot .
#   pybabel update -i /tmp/messages.pot -d web/locale --no-fuzzy-matching   (then translate the new nb entries)
# The .po files are the only catalogues kept: they are compiled in memory on first use.
LANGUAGES = ("nb", "en")
DEFAULT_LANGUAGE = "nb"
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"


@lru_cache(maxsize=None)
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


class Speaker:
    """Words, dates and numbers in one language, for one page."""

    def __init__(self, language: str) -> None:
        self.language = chosen(language)
        self.locale = Locale.parse(self.language)
        self.gettext = translations(self.language).gettext

    def __call__(self, message: str, **values: object) -> str:
        text = self.gettext(message)
        return text.format(**values) if values else text

    def when(self, moment: datetime) -> str:
        return format_datetime(moment, "EEEE d. MMMM y, HH:mm" if self.language == "nb" else "EEEE d MMMM y, HH:mm",
                               tzinfo=TIMEZONE, locale=self.locale)

    def day(self, value: date | datetime) -> str:
        if isinstance(value, datetime):
            value = value.astimezone(TIMEZONE).date()
        return format_date(value, "EEEE d. MMMM y" if self.language == "nb" else "EEEE d MMMM y", locale=self.locale)

    def short_day(self, value: date) -> str:
        return format_date(value, "EEE d.M." if self.language == "nb" else "EEE d/M", locale=self.locale)

    def clock(self, value: datetime | time) -> str:
        if isinstance(value, datetime):
            return format_time(value, "HH:mm", tzinfo=TIMEZONE, locale=self.locale)
        return format_time(value, "HH:mm", locale=self.locale)

    def span(self, start: datetime, end: datetime) -> str:
        """An interval as a person reads it: one date when it stays within a day."""
        same_day = start.astimezone(TIMEZONE).date() == end.astimezone(TIMEZONE).date()
        if same_day:
            return f"{self.day(start)}, {self.clock(start)}–{self.clock(end)}"
        return f"{self.when(start)} – {self.when(end)}"

    def number(self, value: float, digits: int = 1) -> str:
        return format_decimal(round(value, digits), locale=self.locale)
