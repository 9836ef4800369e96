"""Every catalogue says all the code says: each message translated in bokmål, Polish and Arabic with the values it fills
in kept, each booking status in words, and mail and dates in the reader's own language and direction."""

from __future__ import annotations

import re
from configparser import ConfigParser
from datetime import datetime
from functools import cache

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from booking.rules import STATUS_WORDS, BookingStatus
from infra import i18n
from infra.i18n import LANGUAGES, LOCALE_DIR, NAMES
from notifications import mail
from notifications.calendar import Party
from notifications.mail import Letter, Site
from people.rules import Language
from tests.unit.test_notification_rules import T0, facts
from web.i18n import Speaker
from web.refusals import MESSAGES

TRANSLATED = [language for language in LANGUAGES if language != "en"]  # an empty English entry says its msgid
FIELD = re.compile(r"\{(\w*)\}")
CODES = re.compile(rf"\b({'|'.join(BookingStatus)})\b")
EVENING = datetime.fromisoformat("2026-11-23T17:00:00+00:00")
SITE = Site("https://allmenning.example", "Knutepunkt <post@allmenning.example>")


@cache
def said_in_code() -> frozenset[tuple[str | None, str]]:
    """Every (context, message) the Python and the templates say, found as `pybabel extract` finds them."""
    config = ConfigParser()
    config.read(LOCALE_DIR / "babel.cfg")
    methods = [(section.split(":", 1)[1].strip(), section.split(":", 1)[0].strip()) for section in config.sections()]
    keywords = {**DEFAULT_KEYWORDS, "N_": None, "NC_": ((1, "c"), 2)}
    found = extract_from_dir(LOCALE_DIR.parent.parent, methods, keywords)
    return frozenset((context, message if isinstance(message, str) else message[0]) for _, _, message, _, context in found)


@cache
def catalogue(language: str) -> dict[tuple[str | None, str], str]:
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as source:
        return {(m.context, m.id): m.string for m in read_po(source) if m.id and isinstance(m.id, str)}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_the_code_and_templates_say_is_in_every_catalogue(language):
    assert sorted(message for _, message in said_in_code() - set(catalogue(language))) == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated_in_bokmal_polish_and_arabic(language):
    assert sorted(message for (_, message), said in catalogue(language).items() if not said.strip()) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_translation_fills_in_the_same_values_as_its_message(language):
    changed = [m for (_, m), said in catalogue(language).items() if said and set(FIELD.findall(said)) != set(FIELD.findall(m))]
    assert changed == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_refusal_the_pages_give_is_in_every_catalogue(language):
    assert {(None, m) for m in MESSAGES.values()} <= set(catalogue(language))


def test_a_person_may_choose_each_language_and_each_is_listed_in_its_own_name():
    assert [str(x) for x in Language] == list(LANGUAGES) == ["nb", "en", "pl", "ar"]
    assert NAMES == {"nb": "Norsk (bokmål)", "en": "English", "pl": "Polski", "ar": "العربية"}
    assert Speaker("pl").languages == list(NAMES.items())


def test_arabic_reads_right_to_left_and_the_others_left_to_right():
    assert {language: Speaker(language).direction for language in LANGUAGES} == {"nb": "ltr", "en": "ltr", "pl": "ltr", "ar": "rtl"}


def test_polish_and_arabic_dates_are_written_in_oslo_time_as_their_readers_write_them():
    later = datetime.fromisoformat("2026-11-23T19:00:00+00:00")
    assert Speaker("pl").span(EVENING, later) == "poniedziałek 23 listopada 2026, 18:00–20:00"
    assert Speaker("ar").span(EVENING, later) == "الاثنين 23 نوفمبر 2026، 18:00–20:00"  # Arabic's own comma, Latin digits
    assert i18n.Speaker("pl").when(EVENING) == "poniedziałek, 23 listopada 2026 18:00"
    assert i18n.Speaker("ar").short_when(EVENING) == "الاثنين، 23 نوفمبر 18:00"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_booking_status_has_words_of_its_own_in_every_language(language):
    assert set(STATUS_WORDS) == set(BookingStatus)
    said = {status: Speaker(language).status(status) for status in BookingStatus}
    assert all(words and words != status for status, words in said.items())
    assert len(set(said.values())) == len(BookingStatus)  # no two statuses read alike


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("status", list(BookingStatus))
def test_a_mail_tells_a_bookings_status_in_words_never_by_its_code(status, language):
    letter = Letter(9, "booking_changed", T0, Party("Ola", "ola@example.no"), language, facts(status=str(status)))
    message = mail.render(letter, SITE)
    text, html = message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()
    words = i18n.Speaker(language)(STATUS_WORDS[status])
    assert f"{i18n.Speaker(language)('Status')}: {words}\n" in text and f">{words}</td>" in html
    if language != "en":  # English words may spell a code ("cancelled"); no other language's may
        assert CODES.findall(text) == [] and CODES.findall(re.sub(r"<[^>]+>", " ", html)) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_mail_is_marked_with_its_language_and_arabic_mail_reads_right_to_left(language):
    letter = Letter(9, "booking_confirmed", T0, Party("Ola", "ola@example.no"), language, facts())
    message = mail.render(letter, SITE)
    html = message.get_body(("html",)).get_content()
    assert message["Content-Language"] == language
    if language == "ar":
        assert '<html lang="ar" dir="rtl">' in html and "text-align:right" in html and "text-align:left" not in html
        assert message["Subject"].startswith("مؤكَّد: Møterom 1")
    else:
        assert f'<html lang="{language}">' in html and "dir=" not in html
