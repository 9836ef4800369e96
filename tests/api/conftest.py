"""The people and rooms most API tests start from."""

from __future__ import annotations

import pytest

from tests import builders


@pytest.fixture
async def alice(db) -> tuple[int, dict[str, str]]:
    return await builders.person(db, "alice@example.no")


@pytest.fixture
async def bob(db) -> tuple[int, dict[str, str]]:
    return await builders.person(db, "bob@example.no")


@pytest.fixture
async def staff(db) -> tuple[int, dict[str, str]]:
    return await builders.person(db, "staff@knutepunkt.no", staff=True)


@pytest.fixture
async def room_id(db) -> int:
    return await builders.room(db)
