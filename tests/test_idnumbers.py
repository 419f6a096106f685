import datetime as dt

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from hemei.core.idnumbers import IdNumberError, make_id_number, parse_id_number
from hemei.core.masking import mask_id_number, mask_name, mask_phone


@pytest.fixture(autouse=True)
def _english():
    """Messages are matched in English; the default language is Chinese."""
    with translation.override("en"):
        yield


VALID = make_id_number("140110", dt.date(1998, 1, 1), 1)  # 晋源区 exists since 1997


def test_it_parses_sex_and_birth_date():
    parsed = parse_id_number(VALID)
    assert parsed.birth_date == dt.date(1998, 1, 1)
    assert parsed.sex == "M"
    assert parsed.warnings == []


def test_it_accepts_lower_case_x():
    number = next(
        make_id_number("140110", dt.date(1990, 2, 3), n)
        for n in range(1, 999)
        if make_id_number("140110", dt.date(1990, 2, 3), n).endswith("X")
    )
    assert parse_id_number(number.lower()).number == number


def test_it_upgrades_fifteen_digit_numbers():
    old = "140110800101002"  # 1980-01-01, sequence 002 (female)
    parsed = parse_id_number(old)
    assert parsed.number[:17] == "14011019800101002"
    assert len(parsed.number) == 18
    assert parsed.sex == "F"
    assert parse_id_number(parsed.number).number == parsed.number


def test_it_rejects_a_wrong_check_character():
    wrong = VALID[:17] + ("0" if VALID[17] != "0" else "1")
    with pytest.raises(IdNumberError, match="check"):
        parse_id_number(wrong)


@pytest.mark.parametrize("date", ["19800230", "19801301", "21000101", "18991231"])
def test_it_rejects_impossible_birth_dates(date):
    first17 = f"140110{date}001"
    from hemei.core.idnumbers import check_character

    with pytest.raises(IdNumberError, match="birth date"):
        parse_id_number(first17 + check_character(first17))


def test_area_codes_are_checked_against_the_years_after_birth():
    # 晋源区 exists since 1997: a resident born in 1960 got the number later, no warning.
    assert parse_id_number(make_id_number("140110", dt.date(1960, 1, 1), 1)).warnings == []
    # 南郊区 (1983-1997) cannot have issued a number to someone born in 2005: a warning only.
    late = parse_id_number(make_id_number("140112", dt.date(2005, 1, 1), 1))
    assert len(late.warnings) == 1 and "140112" in late.warnings[0]
    assert parse_id_number(make_id_number("140112", dt.date(1990, 1, 1), 1)).warnings == []


def test_an_unknown_area_code_is_only_a_warning():
    number = make_id_number("149999", dt.date(1980, 1, 1), 1)
    parsed = parse_id_number(number)
    assert parsed.number == number
    assert len(parsed.warnings) == 1


@pytest.mark.parametrize("raw", ["", "abc", "1401101980010100", "14011019800101001Y"])
def test_it_rejects_malformed_input(raw):
    with pytest.raises(IdNumberError):
        parse_id_number(raw)


@given(
    birth=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2025, 12, 31)),
    seq=st.integers(min_value=0, max_value=999),
    pos=st.integers(min_value=0, max_value=16),
    delta=st.integers(min_value=1, max_value=9),
)
def test_any_single_digit_change_is_caught(birth, seq, pos, delta):
    number = make_id_number("140110", birth, seq)
    assert parse_id_number(number).birth_date == birth
    changed = number[:pos] + str((int(number[pos]) + delta) % 10) + number[pos + 1 :]
    # MOD 11-2 detects every single-digit substitution; a date digit may also make the date impossible.
    with pytest.raises(IdNumberError):
        parse_id_number(changed)


def test_masks():
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_phone("13812341234") == "138****1234"
    assert mask_name("欧阳修") == "欧**"
    assert mask_id_number("") == "" and mask_phone(None) == ""
