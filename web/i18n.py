"""Languages of the pages: the one catalogue and formatters of infra.i18n, with dates written as the pages write them."""

from __future__ import annotations

from booking.rules import STATUS_WORDS
from infra import i18n
from infra.i18n import LANGUAGES, NAMES, chosen

__all__ = ["LANGUAGES", "NAMES", "PAGE", "Speaker", "chosen"]

# Pages write a compact date: no comma after the English weekday (as in the bokmål), and a numeric short day that fits
# the narrow columns of a week's table; a moment is its day, a comma and its time.
PAGE = i18n.Style(
    day={"nb": "EEEE d. MMMM y", "en": "EEEE d MMMM y", "pl": "EEEE d MMMM y", "ar": "EEEE d MMMM y"},
    short_day={"nb": "EEE d.M.", "en": "EEE d/M", "pl": "EEE d.MM", "ar": "EEE d/M"},
    joiner=", ",
)


class Speaker(i18n.Speaker):
    """Words, dates and numbers in one language, for one page."""

    def __init__(self, language: str) -> None:
        super().__init__(language, PAGE)

    def status(self, value: str) -> str:
        """A booking's status in words; one without words (none today) is left unsaid rather than shown as its code."""
        words = STATUS_WORDS.get(value)
        return self(words) if words else ""
