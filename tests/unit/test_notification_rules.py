"""Pure notification rules: backoff, what each kind means, reminders, ticks, ETags, busy time; and every kind reads in nb and en."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from infra import mail_transport as transport
from notifications import mail, rules
from notifications.calendar import Party
from notifications.mail import Letter, Site
from notifications.rules import BookingFacts, Place

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
EVENING = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # Monday 18:00 in Oslo


def test_backoff_doubles_from_thirty_seconds_and_never_exceeds_two_hours():
    waits = [rules.backoff(n) for n in range(1, 12)]
    assert waits[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert max(waits) == timedelta(hours=2) == waits[-1]
    assert waits == sorted(waits)


def test_a_notification_is_given_up_after_the_last_attempt_or_at_once_when_refused_for_good():
    assert rules.next_attempt_at(1, permanent=False, now=T0) == T0 + timedelta(seconds=30)
    assert rules.next_attempt_at(rules.MAX_ATTEMPTS - 1, permanent=False, now=T0) is not None
    assert rules.next_attempt_at(rules.MAX_ATTEMPTS, permanent=False, now=T0) is None
    assert rules.next_attempt_at(1, permanent=True, now=T0) is None


def test_all_retries_together_span_about_a_day_so_a_long_outage_loses_no_mail():
    total = sum((rules.backoff(n) for n in range(1, rules.MAX_ATTEMPTS)), timedelta())
    assert timedelta(hours=20) < total < timedelta(hours=48)


def test_only_five_hundred_answers_are_permanent():
    assert transport.is_permanent_smtp_code(550) and transport.is_permanent_smtp_code(554)
    assert not transport.is_permanent_smtp_code(421) and not transport.is_permanent_smtp_code(451)


@pytest.mark.parametrize(
    ("kind", "method"),
    [
        ("booking_confirmed", "REQUEST"),
        ("booking_requested", "REQUEST"),
        ("booking_approved", "REQUEST"),
        ("booking_changed", "REQUEST"),
        ("booking_cancelled", "CANCEL"),
        ("booking_declined", "CANCEL"),
        ("booking_reminder", None),
        ("loan_overdue", None),
        ("series_booked", "PUBLISH"),
    ],
)
def test_booking_news_invites_to_the_calendar_and_cancelling_news_cancels(kind, method):
    assert rules.meaning_of(kind).method == method


def test_a_kind_no_mail_is_written_for_is_refused():
    with pytest.raises(rules.UnknownKind):
        rules.meaning_of("waitlist_offer_in_klingon")


def test_a_request_is_tentative_in_the_calendar_and_a_decline_removes_it():
    assert [rules.calendar_status(s) for s in ("requested", "confirmed", "declined", "cancelled")] == [
        "TENTATIVE",
        "CONFIRMED",
        "CANCELLED",
        "CANCELLED",
    ]


def test_an_offer_awaiting_an_answer_is_tentative_and_an_expired_one_is_gone():
    assert [rules.calendar_status(s) for s in ("offered", "expired")] == ["TENTATIVE", "CANCELLED"]


def test_a_room_is_reminded_of_before_it_starts_and_a_loan_before_pickup_and_return():
    start, end = EVENING, EVENING + timedelta(days=2)
    assert rules.reminder_for("room", True, "confirmed", start, end) == rules.Reminder("booking_reminder", start)
    assert rules.reminder_for("equipment", False, "confirmed", start, end) == rules.Reminder("pickup_reminder", start)
    assert rules.reminder_for("equipment", False, "checked_out", start, end) == rules.Reminder("return_reminder", end)
    assert rules.reminder_for("room", True, "requested", start, end) is None
    assert rules.reminder_for("garden_bed", True, "confirmed", start, end) is None


def test_a_reminder_is_due_within_a_day_before_unless_the_person_heard_of_it_in_that_day():
    day_before = EVENING - timedelta(hours=24)
    assert not rules.is_reminder_due(EVENING, T0, now=day_before - timedelta(seconds=1))
    assert rules.is_reminder_due(EVENING, T0, now=day_before)
    assert not rules.is_reminder_due(EVENING, T0, now=EVENING)
    assert not rules.is_reminder_due(EVENING, day_before + timedelta(hours=1), now=day_before + timedelta(hours=2))


def test_a_reminder_key_is_the_same_for_a_repeated_sweep_and_new_for_a_moved_booking():
    reminder = rules.Reminder("booking_reminder", EVENING)
    assert rules.reminder_key(reminder, 7) == rules.reminder_key(rules.Reminder("booking_reminder", EVENING), 7)
    assert rules.reminder_key(reminder, 7) != rules.reminder_key(rules.Reminder("booking_reminder", EVENING + timedelta(days=1)), 7)


def test_processes_firing_within_one_period_share_a_tick_and_the_next_period_starts_a_new_one():
    assert rules.tick_of(T0) == rules.tick_of(T0 + timedelta(minutes=4, seconds=59)) == T0
    assert rules.tick_of(T0 + timedelta(minutes=5)) == T0 + timedelta(minutes=5)


def test_a_notification_and_a_booking_carry_stable_identifiers_on_the_sites_host():
    host = rules.host_of("https://booking.drammen.kommune.no/")
    assert rules.message_id(12, host) == "<notification-12@booking.drammen.kommune.no>"
    assert rules.booking_uid(5, host) == "booking-5@booking.drammen.kommune.no"


def test_if_none_match_matches_any_listed_tag_weak_or_strong_or_a_star():
    etag = rules.etag_of(b"BEGIN:VCALENDAR")
    assert etag == rules.etag_of(b"BEGIN:VCALENDAR") != rules.etag_of(b"BEGIN:VCALENDAR ")
    assert rules.etag_matches(f'"other", W/{etag}', etag)
    assert rules.etag_matches("*", etag)
    assert not rules.etag_matches('"other"', etag) and not rules.etag_matches(None, etag)


def test_pooled_equipment_is_busy_only_while_every_unit_is_out():
    h = lambda n: T0 + timedelta(hours=n)  # noqa: E731
    loans = [(h(0), h(4), 2), (h(1), h(2), 1), (h(3), h(6), 1), (h(5), h(6), 2)]
    assert rules.fully_booked(loans, 3) == [rules.Busy(h(1), h(2)), rules.Busy(h(3), h(4)), rules.Busy(h(5), h(6))]
    assert rules.fully_booked(loans, 4) == []


def facts(**changes) -> BookingFacts:
    place = Place("Møterom 1", "Knutepunkt Strømsø", "Tordenskiolds gate 6", "3044", "Drammen", "Ring på ved hovedinngangen.")
    base = dict(id=5, title="Lesesirkel", start=EVENING, end=EVENING + timedelta(hours=2), status="confirmed", sequence=0, place=place)
    return BookingFacts(**{**base, **changes})


def test_an_event_is_told_as_it_was_when_it_happened():
    now_moved = facts(start=EVENING + timedelta(days=1), sequence=3, status="cancelled")
    then = rules.as_of(
        now_moved, {"start": EVENING.isoformat(), "end": (EVENING + timedelta(hours=2)).isoformat(), "sequence": 1, "status": "confirmed"}
    )
    assert (then.start, then.sequence, then.status, then.title) == (EVENING, 1, "confirmed", "Lesesirkel")


SEASON = {"season": "Strømsøhagen 2027", "deadline": "2027-03-01T12:00:00+00:00"}
# A day, and a moment, as each language's mail writes them.
MONDAY_30_NOVEMBER = {
    "nb": "mandag 30. november 2026",
    "en": "Monday, 30 November 2026",
    "pl": "poniedziałek, 30 listopada 2026",
    "ar": "الاثنين، 30 نوفمبر 2026",
}
MONDAY_1_MARCH_13 = {
    "nb": "mandag 1. mars 2027 13:00",
    "en": "Monday, 1 March 2027 13:00",
    "pl": "poniedziałek, 1 marca 2027 13:00",
    "ar": "الاثنين، 1 مارس 2027 13:00",
}


@pytest.mark.parametrize("language", rules.LANGUAGES)
@pytest.mark.parametrize(
    "kind", sorted(k for k, m in rules.KINDS.items() if m.template not in ("season", "room_season", "invitation", "digest"))
)
def test_every_kind_of_booking_mail_reads_in_every_language_with_place_time_and_link(kind, language):
    letter = Letter(
        9, kind, T0, Party("Ola", "ola@example.no"), language, facts(), {"reason": "Vannlekkasje", "refused": 1}, (facts(), facts(id=6))
    )
    message = mail.render(letter, Site("https://allmenning.example", "Knutepunkt <post@allmenning.example>"))
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Møterom 1" in message["Subject"] and "18:00" in text
    assert "Tordenskiolds gate 6, 3044 Drammen" in text and "Ring på ved hovedinngangen." in text
    assert MONDAY_30_NOVEMBER[language] in text
    assert "https://allmenning.example/bookings/5" in text and 'href="https://allmenning.example/bookings/5"' in html
    assert f'lang="{language}"' in html and message["Content-Language"] == language


@pytest.mark.parametrize("language", rules.LANGUAGES)
@pytest.mark.parametrize(
    ("kind", "outcome"),
    [
        ("season_result", "offered"),
        ("season_result", "waitlisted"),
        ("season_result", "renewed"),
        ("season_result", "something_new"),
        ("renewal_invited", None),
    ],
)
def test_every_season_mail_reads_in_every_language_with_or_without_a_bed(kind, outcome, language):
    details = {**SEASON, "outcome": outcome} if outcome else SEASON
    for booking in (facts(), None):
        message = mail.render(
            Letter(9, kind, T0, Party("Ola", "ola@example.no"), language, booking, details),
            Site("https://allmenning.example", "post@allmenning.example"),
        )
        text = message.get_body(("plain",)).get_content()
        assert "Strømsøhagen 2027" in message["Subject"] and ("Møterom 1" in text) == (booking is not None)
        assert MONDAY_1_MARCH_13[language] in text


ROOM_RESULT = {
    "season": "Høst 2027",
    "deadline": "2027-06-15T10:00:00+00:00",
    "path": "/associations/3/room-seasons/7",
    "cap": 6.5,
    "wishes": [
        {"rank": 1, "activity": "Barnekor", "outcome": "granted_first_choice", "message": "",
         "slots": [{"room": 2, "weekday": 1, "start": 1020, "minutes": 120, "every_weeks": 2, "parity": 0, "room_name": "Lillesalen"}]},
        {"rank": 2, "activity": "Barnekor", "outcome": "over_cap", "message": "Spør oss gjerne", "slots": []},
    ],
}  # fmt: skip


@pytest.mark.parametrize(
    ("language", "granted", "over_cap", "deadline"),
    [
        ("nb", "1. Barnekor: Innvilget på en tid dere satte som førstevalg: tirsdag 17:00–19:00 i Lillesalen, annenhver uke.",
         "2. Barnekor: Ikke innvilget: det ville gitt foreningen mer enn 6,5 timer i uka.", "tirsdag 15. juni 2027 12:00"),
        ("en", "1. Barnekor: Granted at a time you marked as first choice: Tuesday 17:00–19:00 in Lillesalen, every other week.",
         "2. Barnekor: Not granted: it would take your association over 6.5 hours a week.", "Tuesday, 15 June 2027 12:00"),
    ],
)  # fmt: skip
def test_a_room_season_result_tells_each_wish_in_the_readers_language_with_its_times_by_room_name(language, granted, over_cap, deadline):
    letter = Letter(9, "room_season_result", T0, Party("Ola", "ola@example.no"), language, None, ROOM_RESULT)
    message = mail.render(letter, Site("https://allmenning.example", "post@allmenning.example"))
    text = message.get_body(("plain",)).get_content()
    assert "Høst 2027" in message["Subject"] and granted in text and over_cap in text and deadline in text
    assert "Spør oss gjerne" in text and "https://allmenning.example/associations/3/room-seasons/7" in text
    assert not [p for p in message.walk() if p.get_content_type() == "text/calendar"]  # the times come as their own invitations


def test_a_season_result_is_worded_by_its_outcome():
    words = [
        mail.render(
            Letter(9, "season_result", T0, Party("Ola", "o@example.no"), "en", None, {**SEASON, "outcome": o}),
            Site("https://a.example", "p@a.example"),
        )["Subject"]
        for o in ("offered", "waitlisted")
    ]
    assert words == ["Place allocated: Strømsøhagen 2027", "Waiting list: Strømsøhagen 2027"]


def test_an_offer_tells_the_deadline_to_answer_by_in_local_time():
    letter = Letter(9, "offer_made", T0, Party("Ola", "o@example.no"), "nb", facts(), {"deadline": "2026-11-25T11:00:00+00:00"})
    text = mail.render(letter, Site("https://a.example", "p@a.example")).get_body(("plain",)).get_content()
    assert "Svar innen: onsdag 25. november 2026 12:00" in text


def test_html_mail_escapes_what_people_typed():
    letter = Letter(9, "booking_confirmed", T0, Party("<b>Ola</b>", "ola@example.no"), "nb", facts(title="<script>x</script>"))
    html = mail.render(letter, Site("https://allmenning.example", "post@allmenning.example")).get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html and "<b>Ola</b>" not in html


# ---------------------------------------------------------------- a garden bed's season, kits, greetings


def test_a_season_from_midnight_to_midnight_is_its_days_with_the_end_the_day_after_the_last():
    start, end = datetime(2027, 4, 14, 22, tzinfo=UTC), datetime(2027, 10, 31, 23, tzinfo=UTC)  # 15 April and 1 November, 00:00 in Oslo
    assert rules.local_days(start, end) == (date(2027, 4, 15), date(2027, 11, 1))
    assert rules.local_days(start, end + timedelta(hours=18)) == (date(2027, 4, 15), date(2027, 11, 2))  # an end at 18:00 keeps its day
    assert rules.is_all_day(facts(resource_kind="garden_bed")) and not rules.is_all_day(facts(resource_kind="room"))


def test_a_kits_loans_are_reminded_of_under_one_key():
    reminder = rules.Reminder("pickup_reminder", EVENING)
    assert rules.reminder_key(reminder, 7, "kit-a") == rules.reminder_key(reminder, 8, "kit-a") != rules.reminder_key(reminder, 7)


def test_a_kits_notice_lists_the_items_that_stand_as_its_own_loan_stood():
    tent, tables = facts(id=1, kit_loan_id="a", status="checked_out"), facts(id=2, kit_loan_id="a", status="confirmed")
    assert rules.kit_items(tables, [tent, tables]) == (tables,)  # the tent is picked up already
    assert rules.kit_items(tent, [replace(tent, status="overdue"), replace(tables, status="overdue")]) == (
        replace(tent, status="overdue"),
        replace(tables, status="overdue"),
    )  # a return reminder sent late, after its items fell overdue, still lists them all
    assert rules.kit_items(tent, [replace(tent, status="returned")]) == (tent,)


def a_kit() -> tuple[BookingFacts, ...]:
    """A tent and twenty chairs borrowed together: a kit loan is titled by its kit."""
    return (
        facts(id=5, kit_loan_id="a", quantity=1, place=Place("Partytelt", "Huset"), title="Arrangementspakke"),
        facts(id=6, kit_loan_id="a", quantity=20, place=Place("Stol", "Huset"), title="Arrangementspakke"),
    )


@pytest.mark.parametrize(
    ("language", "listed"), [("nb", "I pakken:\n- 1 × Partytelt\n- 20 × Stol\n"), ("en", "In the kit:\n- 1 × Partytelt\n")]
)
def test_a_kit_pickup_reminder_is_about_the_kit_and_lists_its_items(language, listed):
    kit = a_kit()
    letter = Letter(9, "pickup_reminder", T0, Party("Ola", "ola@example.no"), language, kit[0], items=kit)
    message = mail.render(letter, Site("https://allmenning.example", "post@allmenning.example"))
    text, html = message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()
    assert "Arrangementspakke" in message["Subject"] and listed in text and "Title" not in text and "Tittel" not in text
    assert "<li>20 × Stol</li>" in html


@pytest.mark.parametrize(("language", "greeting"), [("nb", "Hei,"), ("en", "Hello,")])
@pytest.mark.parametrize("kind", ["booking_confirmed", "series_booked", "season_result"])
def test_a_person_whose_name_is_not_known_is_greeted_without_one_not_by_their_address(kind, language, greeting):
    letter = Letter(9, kind, T0, Party("", "ola@example.no"), language, facts(), SEASON, (facts(),))
    message = mail.render(letter, Site("https://allmenning.example", "post@allmenning.example"))
    text, html = message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()
    assert text.startswith(f"{greeting}\n") and f"<p>{greeting}</p>" in html and "ola@example.no" not in text + html
    named = mail.render(replace(letter, recipient=Party("Ola", "ola@example.no")), Site("https://a.example", "p@a.example"))
    assert named.get_body(("plain",)).get_content().startswith(f"{greeting[:-1]} Ola,\n")


def test_a_garden_beds_mail_tells_its_season_by_days_not_by_midnights():
    bed = facts(resource_kind="garden_bed", start=datetime(2027, 4, 14, 22, tzinfo=UTC), end=datetime(2027, 10, 31, 23, tzinfo=UTC))
    message = mail.render(
        Letter(9, "offer_accepted", T0, Party("Ola", "o@example.no"), "nb", bed), Site("https://a.example", "p@a.example")
    )
    text = message.get_body(("plain",)).get_content()
    assert "Når: torsdag 15. april 2027 – søndag 31. oktober 2027\n" in text and "00:00" not in text + message["Subject"]
