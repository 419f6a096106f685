"""The one personal-data detector (hemei.core.pii): what it finds, how it masks, what it leaves."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st
from stdnum import luhn

from hemei.core import pii
from hemei.core.idnumbers import make_id_number
from hemei.disclosure import personal

ID = make_id_number("140110", dt.date(1965, 3, 2), 129)  # ends in X
ID2 = make_id_number("140727", dt.date(1990, 7, 1), 12)
CARD = "6222021234567894"  # Luhn-valid


def card(prefix: str) -> str:
    return prefix + luhn.calc_check_digit(prefix)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def kinds(text: str) -> list[str]:
    return [f.kind for f in pii.find_personal_data(text)]


def test_it_finds_valid_id_numbers_with_x_and_masks_them():
    assert ID.endswith("X")
    text = f"身份证{ID.lower()}，另 {ID2}。"
    assert kinds(text) == ["id_number", "id_number"]
    masked = pii.redact(text)
    assert masked == f"身份证140110********129X，另 {ID2[:6]}********{ID2[-4:]}。"


def test_it_finds_an_id_number_written_in_groups():
    assert kinds(f"{ID[:6]} {ID[6:14]} {ID[14:]}") == ["id_number"]


def test_it_ignores_id_numbers_with_a_wrong_check_character_or_date():
    wrong_check = ID[:-1] + "0"
    wrong_date = make_id_number("140110", dt.date(1965, 3, 2), 1)[:10] + "1332" + "0010"
    assert kinds(f"{wrong_check} {wrong_date}") == []


def test_it_finds_mobile_numbers_plain_grouped_and_with_country_code():
    text = "电话13800001111，或 139-1234-5678，或 +86 137 0000 2222"
    assert kinds(text) == ["phone", "phone", "phone"]
    masked = pii.redact(text)
    assert masked == "电话138****1111，或 139****5678，或 137****2222"


def test_it_finds_landlines_with_area_codes():
    text = "家里座机0351-1234567，单位(010)87654321，另 0355 2345678"
    assert kinds(text) == ["landline", "landline", "landline"]
    masked = pii.redact(text)
    assert "1234567" not in masked and "87654321" not in masked and "2345678" not in masked
    assert "0351-***4567" in masked and "010-****4321" in masked


def test_it_finds_bank_cards_by_luhn_only():
    nineteen = card("622202020011223344")
    bad = CARD[:-1] + ("5" if CARD[-1] != "5" else "6")
    text = f"卡号 {CARD}，{nineteen[:4]} {nineteen[4:8]} {nineteen[8:12]} {nineteen[12:16]} {nineteen[16:]}，错 {bad}"
    assert kinds(text) == ["bank_card", "bank_card"]
    masked = pii.redact(text)
    assert "6222********7894" in masked and f"6222***********{nineteen[-4:]}" in masked and bad in masked


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-02 至 2026-03-06",
        "20260302",
        "2026年3月2日 14:30",
        "金额 1949000.00 元，13800001111.50 元",
        "¥1,380,000,111",
        "案件 140727-2026-000123",
        "140727-2026-000123-01",
        "区划代码 140727100200",
        "户号 1407271002000012",
        "面积 0.35 亩，0351 号文件",
        "第 12345678901234567890 号",
        "门牌 13号 138 户",
    ],
)
def test_it_does_not_flag_dates_amounts_case_numbers_or_region_codes(text):
    assert pii.find_personal_data(text) == []
    assert pii.redact(text) == text


def test_findings_have_labels_for_the_author():
    found = pii.find_personal_data(f"{ID} 13800001111 0351-1234567 {CARD}")
    assert pii.describe(found) == (
        "ID number 140110********129X; mobile number 138****1111; "
        "landline number 0351-***4567; bank card number 6222********7894"
    )


def test_the_disclosure_import_still_works_and_leaves_office_landlines():
    text = f"监督电话 0351-1234567，{ID}"
    assert [f.kind for f in personal.find_personal_data(text)] == ["id_number"]
    assert "0351-1234567" in personal.redact(text)
    assert personal.Finding is pii.Finding


def test_it_finds_health_details_but_allows_risk_type_names():
    assert pii.find_health_details("因病、因残致贫风险，病虫害减产") == []
    assert pii.find_health_details("户主患肺癌，女儿残疾") == ["癌", "残疾"]
    assert pii.find_health_details("糖尿病") == ["糖尿病"]
    assert pii.find_health_details("生病住院") == ["住院", "病"]


@given(st.text(alphabet="0123456789 -.年月日元号", max_size=40))
def test_redacted_text_has_nothing_left_to_find(text):
    assert pii.find_personal_data(pii.redact(text)) == []
