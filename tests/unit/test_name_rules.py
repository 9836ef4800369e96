"""The name rule: control characters, which would split a mail header or a calendar line, are refused."""

from __future__ import annotations

import pytest

from people.rules import InvalidName, check_name


@pytest.mark.parametrize(
    "name", ["Ola\r\nBcc: x@evil.example", "Ola\n", "\rOla", "Ola\tNordmann", "Ola\x00", "Ola\x85", "Ola\u2028", "\u202eanisO"]
)
def test_a_name_with_a_control_character_is_refused(name):
    with pytest.raises(InvalidName) as refused:
        check_name(name)
    assert (refused.value.code, refused.value.status) == ("invalid_name", 422)


@pytest.mark.parametrize(
    "name", ["", "Ola Nordmann", 'Ola, "sjef" <admin@evil.example>', "Ærlige Åse Øvre", "محمد\u200cرضا", "Åse 👨\u200d👩\u200d👧"]
)
def test_a_name_of_printable_characters_is_kept_as_it_is(name):
    assert check_name(name) == name
