"""What each staff role may do, and where: the rules every staff check in the services asks."""

from __future__ import annotations

import pytest

from infra.errors import ErrorCode
from people.actor import OPERATOR, Actor, NotAtThisLocation, StaffOnly, check_may
from people.roles import Duty, Grant, RoleIsEverywhere, RoleNeedsPlace, StaffRole, UnknownRole, check_grant_shape

SCHOOL, LIBRARY = 1, 2


def actor(*grants: Grant) -> Actor:
    return Actor(7, "s@example.no", "S", grants=frozenset(grants))


def test_an_operator_may_every_duty_everywhere_and_at_no_place_in_particular():
    operator = Actor(1, "o@example.no", "O", grants=OPERATOR)
    assert all(operator.may(duty, place) for duty in Duty for place in (None, SCHOOL, LIBRARY))
    assert operator.places(Duty.DECIDE) is None


def test_location_staff_decide_hand_over_and_close_at_their_school_only():
    caretaker = actor(Grant(StaffRole.LOCATION_STAFF, SCHOOL))
    assert caretaker.may(Duty.DECIDE, SCHOOL) and caretaker.may(Duty.HAND_OVER, SCHOOL) and caretaker.may(Duty.CLOSE, SCHOOL)
    assert not caretaker.may(Duty.DECIDE, LIBRARY)
    assert not caretaker.may(Duty.DECIDE, None)  # something of no one place needs a grant everywhere
    assert not caretaker.may(Duty.SEASON, SCHOOL) and not caretaker.may(Duty.ROLES)
    assert caretaker.places(Duty.DECIDE) == frozenset({SCHOOL})


def test_a_season_manager_runs_seasons_and_reads_but_decides_nothing():
    manager = actor(Grant(StaffRole.SEASON_MANAGER))
    assert manager.may(Duty.SEASON, SCHOOL) and manager.may(Duty.READ, LIBRARY)
    assert not manager.may(Duty.DECIDE, SCHOOL) and not manager.may(Duty.CATALOGUE, SCHOOL)


def test_reporting_reads_everywhere_and_changes_nothing():
    reporting = actor(Grant(StaffRole.REPORTING))
    assert reporting.may(Duty.READ, SCHOOL) and reporting.places(Duty.READ) is None
    assert not any(reporting.may(duty, SCHOOL) for duty in Duty if duty is not Duty.READ)


def test_grants_add_up_across_places():
    both = actor(Grant(StaffRole.LOCATION_STAFF, SCHOOL), Grant(StaffRole.LOCATION_STAFF, LIBRARY))
    assert both.places(Duty.HAND_OVER) == frozenset({SCHOOL, LIBRARY})
    assert both.places(Duty.SEASON) == frozenset()


def test_a_resident_is_refused_as_not_staff_and_staff_elsewhere_as_not_at_this_location():
    with pytest.raises(StaffOnly):
        check_may(Actor(2, "r@example.no", "R"), Duty.READ, SCHOOL)
    with pytest.raises(NotAtThisLocation) as refused:
        check_may(actor(Grant(StaffRole.LOCATION_STAFF, LIBRARY)), Duty.DECIDE, SCHOOL)
    assert refused.value.code is ErrorCode.NOT_AT_THIS_LOCATION and refused.value.status == 403


def test_a_role_is_named_and_placed_as_it_must_be():
    assert check_grant_shape("location_staff", SCHOOL) == Grant(StaffRole.LOCATION_STAFF, SCHOOL)
    assert check_grant_shape("reporting", None) == Grant(StaffRole.REPORTING)
    with pytest.raises(UnknownRole):
        check_grant_shape("caretaker", SCHOOL)
    with pytest.raises(RoleNeedsPlace):
        check_grant_shape("location_staff", None)
    with pytest.raises(RoleIsEverywhere):
        check_grant_shape("operator", SCHOOL)
