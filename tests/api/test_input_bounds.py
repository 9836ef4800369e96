"""Input from outside is bounded before work is done on it: a series to the year 9999 is refused without listing it."""

from __future__ import annotations

from tests.api.test_bookings import MONDAY_EVENING, assert_problem, mine


async def test_a_series_until_the_year_9999_is_refused_as_too_long_and_books_nothing(client, alice, room_id):
    response = await client.post("/api/v1/series", json={"resource_id": room_id, "until": "9999-12-31", **MONDAY_EVENING}, headers=alice[1])
    assert_problem(response, 422, "series_too_long")
    # The count is worked out, not listed: 52 weeks a year for eight thousand years.
    assert response.json()["occurrences"] > 52 * 7_900
    assert await mine(client, alice[1]) == []


async def test_a_series_of_exactly_the_most_dates_is_still_booked_as_far_as_each_date_allows(client, alice, room_id):
    # 2026-11-30 plus 59 weeks: the 60th Monday.
    response = await client.post("/api/v1/series", json={"resource_id": room_id, "until": "2028-01-17", **MONDAY_EVENING}, headers=alice[1])
    assert response.status_code == 201, response.text
    body = response.json()
    assert len(body["bookings"]) + len(body["refused"]) == 60
