"""People rules: organisation numbers, email addresses, households."""

import pytest

from people.rules import (
    InvalidAddress,
    InvalidEmail,
    InvalidOrgNumber,
    InvalidPostalCode,
    Language,
    MemberRole,
    check_orgnr,
    household_key,
    near_duplicates,
    normalise_email,
    valid_orgnr,
)

# Published organisation numbers: Brønnøysundregistrene, Equinor ASA, DNB Bank ASA.
REAL_ORGNRS = ["974760673", "923609016", "984851006"]


# ---------------------------------------------------------------- organisation numbers


@pytest.mark.parametrize("number", REAL_ORGNRS)
def test_a_published_organisation_number_is_valid(number):
    assert valid_orgnr(number)


def test_an_organisation_number_may_be_written_in_groups_of_three():
    assert valid_orgnr("974 760 673")
    assert check_orgnr(" 974 760 673 ") == "974760673"


def test_a_wrong_check_digit_makes_an_organisation_number_invalid():
    assert not valid_orgnr("974760672")


def test_a_number_whose_check_would_be_ten_is_never_valid():
    # 99000000 weighs to remainder 1, so no ninth digit can complete it.
    assert not any(valid_orgnr(f"99000000{digit}") for digit in range(10))


def test_remainder_zero_gives_check_digit_zero():
    # 1*4 + 1*3 + 2*2 = 11 weighs to remainder 0, so the check digit is 0, not 11.
    assert valid_orgnr("000001120")
    assert not valid_orgnr("000001121")


@pytest.mark.parametrize("number", ["97476067", "9747606733", "97476067A", "974-760-673", ""])
def test_an_organisation_number_has_exactly_nine_digits(number):
    assert not valid_orgnr(number)


def test_checking_an_invalid_organisation_number_refuses_it_with_a_stable_code():
    with pytest.raises(InvalidOrgNumber) as refused:
        check_orgnr("123456789")
    assert refused.value.code == "invalid_orgnr"
    assert refused.value.status == 422


# ---------------------------------------------------------------- email


def test_an_email_address_is_trimmed_and_lower_cased():
    assert normalise_email("  Kari.Nordmann@Example.NO ") == "kari.nordmann@example.no"


@pytest.mark.parametrize(
    "address", ["", "kari", "kari@", "@example.no", "kari@example", "kari nordmann@example.no", "kari@@example.no", "kari@example..no"]
)
def test_an_obviously_malformed_email_address_is_refused(address):
    with pytest.raises(InvalidEmail) as refused:
        normalise_email(address)
    assert refused.value.code == "invalid_email"


def test_an_address_with_a_plus_and_subdomain_is_accepted():
    assert normalise_email("kari+hage@post.example.no") == "kari+hage@post.example.no"


# ---------------------------------------------------------------- households


@pytest.mark.parametrize(
    "street",
    ["Tordenskiolds gate 12B", "Tordenskioldsgate 12 b", "tordenskiolds gt. 12b", "TORDENSKIOLDS G. 12-B", "Tordenskiolds gata 12B"],
)
def test_spellings_of_the_same_address_give_the_same_household(street):
    assert household_key(street, "3044") == household_key("Tordenskiolds gate 12B", "3044")


@pytest.mark.parametrize("street", ["Austadveien 3", "Austad vei 3", "Austad vn. 3", "Austadvegen 3", "Austad v. 3"])
def test_vei_and_its_abbreviations_are_the_same_word(street):
    assert household_key(street, "3045") == household_key("Austadveien 3", "3045")


def test_house_letters_are_different_households():
    assert household_key("Tordenskiolds gate 12A", "3044") != household_key("Tordenskiolds gate 12B", "3044")


def test_flats_with_different_bolignummer_are_different_households():
    first = household_key("Tordenskiolds gate 12, H0101", "3044")
    second = household_key("Tordenskiolds gate 12 H0102", "3044")
    assert first != second
    assert household_key("Tordenskiolds gate 12 h0101", "3044") == first


def test_the_same_street_in_another_postal_area_is_another_household():
    assert household_key("Storgata 1", "3044") != household_key("Storgata 1", "3015")


def test_a_household_key_keeps_norwegian_letters():
    assert household_key("Strømsø torg 1", "3044") == "3044 strømsøtorg 1"


@pytest.mark.parametrize("postal_code", ["304", "30444", "30A4", ""])
def test_a_postal_code_has_four_digits(postal_code):
    with pytest.raises(InvalidPostalCode) as refused:
        household_key("Storgata 1", postal_code)
    assert refused.value.code == "invalid_postal_code"


def test_an_address_without_a_street_name_is_refused():
    with pytest.raises(InvalidAddress):
        household_key("12", "3044")


# ---------------------------------------------------------------- enums


def test_languages_and_roles_are_their_stored_strings():
    assert [str(x) for x in Language] == ["nb", "en", "pl", "ar"]
    assert [str(x) for x in MemberRole] == ["admin", "member"]


@pytest.mark.parametrize(
    "street", ["Tordenskiolds gate 012", "Tordenskiolds gate nr 12", "Tordenskiolds gate nr. 12", "Tordenskiolds gate 12, 1. etg"]
)
def test_a_house_number_with_leading_zeros_a_nr_or_a_floor_is_the_same_household(street):
    assert household_key(street, "3044") == household_key("Tordenskiolds gate 12", "3044")


def test_a_floor_cannot_make_a_second_household_but_a_bolignummer_or_flat_number_does():
    assert household_key("Tordenskiolds gate 12, 2. etasje", "3044") == household_key("Tordenskiolds gate 12, 1. etg", "3044")
    assert household_key("Tordenskiolds gate 12, H0201, 2. etg", "3044") == household_key("Tordenskiolds gate 12 H0201", "3044")
    assert household_key("Tordenskiolds gate 12 leil 3", "3044") != household_key("Tordenskiolds gate 12 leil 4", "3044")


def test_households_of_one_building_are_shown_to_staff_as_near_duplicates():
    keys = [household_key(s, "3044") for s in ("Tordenskiolds gate 12", "Tordenskiolds gate 12 H0101", "Tordenskiolds gate 14")]
    assert near_duplicates(keys) == [[household_key("Tordenskiolds gate 12", "3044"), household_key("Tordenskiolds gate 12 H0101", "3044")]]
    assert near_duplicates(keys[1:]) == []
