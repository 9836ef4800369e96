"""The API tests' people and rooms, for the security tests too."""

from tests.api.conftest import alice, bob, room_id, staff  # noqa: F401
