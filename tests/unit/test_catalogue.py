"""The catalogue file: the default Strømsø catalogue, the TOML format, and errors that point at the line."""

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from resources.catalogue import CatalogueError, parse_catalogue
from resources.rules import BookerKind, ResourceKind, validate_policy

DEFAULT = Path(__file__).parents[2] / "config" / "catalogue.toml"

HUB = """\
[[locations]]
key = "hub"
name = "Hub"
address = "Torggata 1"
postal_code = "3044"
opening_hours = [{ days = "mon-fri", from = "10:00", to = "19:00" }]
"""  # six lines: snippets below start on line 7

ROOM = (
    HUB
    + """\
[[resources]]
key = "room"
location = "hub"
kind = "room"
name = "Room"
capacity = 10
"""
)  # resources[0] runs from line 7 to 12


def refusal(text: str) -> CatalogueError:
    with pytest.raises(CatalogueError) as refused:
        parse_catalogue(text)
    return refused.value


def points_at(text: str, line: int, field: str | None) -> CatalogueError:
    error = refusal(text)
    assert (error.extra["line"], error.extra["field"]) == (line, field), error.detail
    assert error.code == "invalid_catalogue" and error.status == 422
    return error


@pytest.fixture(scope="module")
def default():
    return parse_catalogue(DEFAULT.read_text(encoding="utf-8"))


def of_kind(catalogue, kind):
    return [r for r in catalogue.resources if r.kind == kind]


# ---------------------------------------------------------------- the default catalogue


def test_the_default_catalogue_has_rooms_in_at_least_four_buildings(default):
    rooms = of_kind(default, ResourceKind.ROOM)
    assert len(rooms) >= 5
    assert len({r.location for r in rooms}) >= 4
    assert all(r.capacity and r.capacity > 0 for r in rooms)


def test_the_default_catalogue_has_seventy_numbered_garden_beds(default):
    beds = of_kind(default, ResourceKind.GARDEN_BED)
    assert [b.key for b in beds] == [f"pallekarm-{n:02}" for n in range(1, 71)]
    assert [b.number for b in beds] == list(range(1, 71))
    assert {b.location for b in beds} == {"stromsohagen"}


def test_some_garden_beds_are_raised_and_reachable_from_a_wheelchair(default):
    raised = [b for b in of_kind(default, ResourceKind.GARDEN_BED) if "wheelchair_reachable" in b.features]
    assert 1 <= len(raised) < 70
    assert all("raised" in b.features for b in raised)


def test_garden_beds_are_for_residents(default):
    for bed in of_kind(default, ResourceKind.GARDEN_BED):
        assert bed.policy.bookable_by == {BookerKind.RESIDENT}


def test_the_default_equipment_has_stock_and_is_lent_in_the_hubs_opening_hours(default):
    equipment = of_kind(default, ResourceKind.EQUIPMENT)
    hub = next(loc for loc in default.locations if loc.key == "knutepunkt-stromso")
    assert {"lydanlegg", "partytelt-3x6", "klappbord", "stol", "prosjektor"} <= {e.key for e in equipment}
    assert all(e.stock and e.stock > 0 for e in equipment)
    assert all(e.policy.windows == hub.opening_hours for e in equipment)
    assert hub.opening_hours


def test_residents_may_book_at_least_one_room_without_approval(default):
    assert any(BookerKind.RESIDENT in r.policy.bookable_by and not r.policy.needs_approval for r in of_kind(default, ResourceKind.ROOM))


def test_at_least_one_room_needs_approval_and_one_has_an_association_quota(default):
    rooms = of_kind(default, ResourceKind.ROOM)
    assert any(r.policy.needs_approval for r in rooms)
    assert any(r.policy.association_hours_per_week for r in rooms)
    assert any(r.policy.buffer_after > timedelta(0) for r in rooms)


def test_rooms_open_after_hours_on_weekdays_and_at_weekends(default):
    room = next(r for r in default.resources if r.key == "knutepunkt-moterom")
    weekdays = next(w for w in room.policy.windows if 0 in w.weekdays)
    assert weekdays.weekdays == {0, 1, 2, 3, 4}
    assert (weekdays.start, weekdays.end) == (time(17), time(22))


def test_the_event_kit_holds_a_tent_four_tables_and_twenty_chairs(default):
    kit = next(k for k in default.kits if k.key == "arrangementspakke")
    assert dict(kit.items) == {"partytelt-3x6": 1, "klappbord": 4, "stol": 20}


def test_every_default_policy_is_valid_and_every_key_unique(default):
    for resource in default.resources:
        validate_policy(resource.policy)
    keys = [r.key for r in default.resources]
    assert len(keys) == len(set(keys))


def test_every_location_is_in_drammen_with_a_postal_code(default):
    assert len(default.locations) >= 5
    for location in default.locations:
        assert location.city == "Drammen"
        assert 3000 <= int(location.postal_code) <= 3050


def test_parsing_the_same_text_twice_gives_the_same_catalogue(default):
    assert parse_catalogue(DEFAULT.read_text(encoding="utf-8")) == default


# ---------------------------------------------------------------- the format


def test_durations_combine_days_hours_and_minutes():
    room = parse_catalogue(ROOM + 'policy = { max_duration = "1h30m", horizon = "2d" }\n').resources[0]
    assert room.policy.max_duration == timedelta(hours=1, minutes=30)
    assert room.policy.horizon == timedelta(days=2)


def test_a_day_range_may_wrap_round_the_weekend_and_end_at_midnight():
    text = ROOM + 'policy = { windows = [{ days = "fri-mon", from = "18:00", to = "24:00" }] }\n'
    (window,) = parse_catalogue(text).resources[0].policy.windows
    assert window.weekdays == {4, 5, 6, 0}
    assert window.end == time(0)


def test_norwegian_day_names_are_understood():
    text = ROOM + 'policy = { windows = [{ days = "lør,søn", from = "10:00", to = "20:00" }] }\n'
    assert parse_catalogue(text).resources[0].policy.windows[0].weekdays == {5, 6}


def test_a_closure_without_an_offset_is_read_in_oslo():
    text = ROOM + 'policy = { closures = [{ from = "2026-12-24T00:00", to = 2026-12-27, reason = "Jul" }] }\n'
    (closure,) = parse_catalogue(text).resources[0].policy.closures
    assert closure.start.astimezone(UTC) == datetime(2026, 12, 23, 23, 0, tzinfo=UTC)
    assert closure.end.astimezone(UTC) == datetime(2026, 12, 26, 23, 0, tzinfo=UTC)


def test_a_bed_range_names_and_keys_each_bed_by_its_number():
    text = HUB + '[[bed_ranges]]\nlocation = "hub"\nfrom = 8\nto = 10\nname = "Pallekarm {n}"\nraised = [9]\n'
    beds = parse_catalogue(text).resources
    assert [(b.key, b.name) for b in beds] == [
        ("pallekarm-08", "Pallekarm 8"),
        ("pallekarm-09", "Pallekarm 9"),
        ("pallekarm-10", "Pallekarm 10"),
    ]
    assert [bool(b.features) for b in beds] == [False, True, False]


def test_equipment_loans_follow_the_longest_loan_when_no_duration_is_given():
    text = HUB + '[[resources]]\nkey = "grill"\nlocation = "hub"\nkind = "equipment"\nname = "Grill"\nstock = 1\n'
    grill = parse_catalogue(text + 'policy = { max_loan = "3d" }\n').resources[0]
    assert grill.policy.max_loan == grill.policy.max_duration == timedelta(days=3)
    assert set(grill.policy.bookable_by) == set(BookerKind)


# ---------------------------------------------------------------- errors point at the line and the field


def test_a_toml_syntax_error_points_at_its_line():
    error = points_at(HUB + "\n[[resources]\n", 8, None)
    assert "not valid TOML" in error.detail


def test_an_unknown_kind_points_at_the_kind_line():
    points_at(ROOM.replace('kind = "room"', 'kind = "boat"'), 10, "resources[0].kind")


def test_an_unknown_location_points_at_the_location_line():
    points_at(ROOM.replace('location = "hub"', 'location = "nowhere"'), 9, "resources[0].location")


def test_a_bad_duration_in_a_policy_table_points_at_its_line():
    text = ROOM + '\n[resources.policy]\nmin_duration = "30 minutes"\n'
    error = points_at(text, 15, "resources[0].policy.min_duration")
    assert '"30m"' in error.detail


def test_a_bad_duration_in_an_inline_policy_points_at_the_policy_line():
    points_at(ROOM + 'policy = { buffer_after = "soon" }\n', 13, "resources[0].policy.buffer_after")


def test_a_bad_time_in_a_multi_line_window_list_points_at_that_window():
    text = (
        ROOM + '[resources.policy]\nwindows = [\n  { days = "mon", from = "17:00", to = "22:00" },\n'
        '  { days = "tue", from = "25:00", to = "22:00" },\n]\n'
    )
    points_at(text, 16, "resources[0].policy.windows[1].from")


def test_a_window_that_ends_before_it_starts_is_refused():
    text = ROOM + 'policy = { windows = [{ days = "mon", from = "22:00", to = "17:00" }] }\n'
    points_at(text, 13, "resources[0].policy.windows[0].to")


def test_an_unknown_weekday_is_refused():
    text = ROOM + 'policy = { windows = [{ days = "mon-fry", from = "17:00", to = "22:00" }] }\n'
    points_at(text, 13, "resources[0].policy.windows[0].days")


def test_a_duplicate_key_points_at_the_second_use():
    error = points_at(ROOM + ROOM.removeprefix(HUB), 14, "resources[1].key")
    assert "resources[0].key" in error.detail


def test_negative_stock_is_refused():
    text = HUB + '[[resources]]\nkey = "tent"\nlocation = "hub"\nkind = "equipment"\nname = "Tent"\nstock = -2\n'
    points_at(text, 12, "resources[0].stock")


def test_a_room_without_capacity_points_at_its_header():
    points_at(ROOM.replace("capacity = 10\n", ""), 7, "resources[0].capacity")


def test_equipment_without_stock_points_at_its_header():
    text = HUB + '[[resources]]\nkey = "tent"\nlocation = "hub"\nkind = "equipment"\nname = "Tent"\n'
    points_at(text, 7, "resources[0].stock")


def test_a_room_has_no_stock():
    points_at(ROOM + "stock = 3\n", 13, "resources[0].stock")


def test_a_policy_that_contradicts_itself_points_at_the_field_validate_policy_names():
    text = ROOM + '\n[resources.policy]\nmin_duration = "6h"\nmax_duration = "2h"\n'
    error = points_at(text, 15, "resources[0].policy.min_duration")
    assert "longer than the maximum" in error.detail


def test_a_kit_of_an_unknown_item_points_at_the_items_line():
    text = (
        HUB + '[[resources]]\nkey = "bord"\nlocation = "hub"\nkind = "equipment"\nname = "Bord"\nstock = 4\n'
        '\n[[kits]]\nkey = "kit"\nname = "Kit"\nlocation = "hub"\nitems = { bord = 2, telt = 1 }\n'
    )
    points_at(text, 18, "kits[0].items.telt")


def test_a_kit_may_not_need_more_than_the_stock():
    text = (
        HUB + '[[resources]]\nkey = "bord"\nlocation = "hub"\nkind = "equipment"\nname = "Bord"\nstock = 4\n'
        '[[kits]]\nkey = "kit"\nname = "Kit"\nlocation = "hub"\n\n[kits.items]\nbord = 5\n'
    )
    points_at(text, 19, "kits[0].items.bord")


def test_an_unknown_field_is_refused_so_typos_do_not_pass_silently():
    points_at(ROOM + "capactiy = 12\n", 13, "resources[0].capactiy")


def test_an_unknown_feature_points_at_the_features_line():
    points_at(ROOM + 'features = ["projector", "jacuzzi"]\n', 13, "resources[0].features[1]")


def test_a_raised_bed_outside_the_range_is_refused():
    text = HUB + '[[bed_ranges]]\nlocation = "hub"\nfrom = 1\nto = 5\nname = "Bed {n}"\nraised = [6]\n'
    points_at(text, 12, "bed_ranges[0].raised")


def test_a_bad_location_field_points_into_the_right_location():
    text = HUB + HUB.replace('key = "hub"', 'key = "other"').replace('"3044"', '"30440"')
    points_at(text, 11, "locations[1].postal_code")


def test_the_first_problem_by_line_is_reported_and_all_are_listed():
    text = ROOM.replace('location = "hub"', 'location = "nowhere"') + "capacity_typo = 1\n"
    error = points_at(text.replace("capacity = 10", "capacity = 0"), 9, "resources[0].location")
    assert [e["line"] for e in error.extra["errors"]] == [9, 12, 13]


def test_comments_and_strings_with_brackets_do_not_confuse_the_line_count():
    text = (
        HUB + '# [[resources]] is commented out\n[[resources]]\nkey = "room"  # [not a table]\n'
        'location = "hub"\nkind = "room"\nname = "Room [big]"\ncapacity = 0\n'
    )
    points_at(text, 13, "resources[0].capacity")
