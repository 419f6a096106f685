"""The one detector of personal data in free text: ID numbers, phones, bank cards (and health words).

Public pages, Open311, exports and notices must never show these (PIPL; DOMAIN.md "Personal
information"). Every app uses this module for the same three things:
1. `find_personal_data(text)` tells an author what was found before the text goes anywhere
   public (disclosures, case descriptions, the 防返贫 notice), each finding already masked.
2. `redact(text)` masks whatever is found when a text is shown to anyone but its author and
   handlers, so even a confirmed number appears only as 110105********002X / 138****1234 /
   0351-***4567 / 6222********1234.
3. `find_health_details(text)` names disease and disability words, for texts where health
   details are forbidden outright (the monitoring notice).

Detection, chosen so that dates, amounts, case numbers (140727-2026-000123) and 12-digit region
codes are never flagged:
- an 18-character ID number (spaces between its 6-8-4 parts allowed) counts only if it is valid
  (`hemei.core.idnumbers`: real birth date, right MOD 11-2 check character, X included);
- 16–19 digits (spaces or dashes between groups of four allowed) passing the Luhn check is a
  bank card;
- 11 digits starting 13–19 (optionally +86, spaces or dashes in 3-4-4) is a mobile number;
- a landline is a real area code (010, 02x, 0[3-9]xx) then a local number of 7–8 digits that
  does not start with 0, with an optional dash, space or parentheses.
No number standing next to other digits, letters, a dash or a decimal point is a match, so a
number is never found inside a longer one.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from django.utils.translation import gettext as _
from stdnum import luhn

from hemei.core.idnumbers import IdNumberError, parse_id_number
from hemei.core.masking import mask_id_number, mask_phone

ID_NUMBER = "id_number"
PHONE = "phone"
LANDLINE = "landline"
BANK_CARD = "bank_card"
ALL_KINDS: frozenset[str] = frozenset({ID_NUMBER, PHONE, LANDLINE, BANK_CARD})

# Boundaries: not glued to digits, letters, dashes or a decimal point ("1949000.00").
_START = r"(?<![0-9A-Za-z\-.])"
_END = r"(?![0-9A-Za-z\-]|\.\d)"
ID_RE = re.compile(_START + r"\d{6} ?\d{8} ?\d{3}[0-9Xx]" + _END)
CARD_RE = re.compile(_START + r"\d{4}(?:[ -]?\d{4}){3}(?:[ -]?\d{1,3})?" + _END)
PHONE_RE = re.compile(r"(?:(?<![0-9A-Za-z\-.+])\+?86[ -]?|" + _START + r")1[3-9]\d(?:[ -]?\d{4}){2}" + _END)
LANDLINE_RE = re.compile(
    r"(?:\(0(?:10|2\d|[3-9]\d{2})\)|（0(?:10|2\d|[3-9]\d{2})）|"
    + _START
    + r"0(?:10|2\d|[3-9]\d{2})[ -]?)[1-9]\d{6,7}"
    + _END
)

# Words that disclose a disease or disability. The risk-type names (因病, 因残) and crop
# disease (病虫害) are allowed: they say why a household is at risk, not what someone has.
HEALTH_WORDS: tuple[str, ...] = (
    "癌", "肿瘤", "白血病", "尿毒症", "透析", "化疗", "放疗", "残疾", "残障", "瘫痪", "截肢", "失明",
    "精神病", "精神分裂", "抑郁", "艾滋", "HIV", "乙肝", "肝炎", "肝硬化", "结核", "糖尿病", "高血压",
    "心脏病", "脑梗", "脑出血", "中风", "偏瘫", "手术", "住院", "病",
)  # fmt: skip
HEALTH_ALLOWED: tuple[str, ...] = ("因病", "因残", "病虫害")


@dataclass(frozen=True)
class Finding:
    kind: str  # one of ALL_KINDS
    masked: str

    def label(self) -> str:
        names = {
            ID_NUMBER: _("ID number"),
            PHONE: _("mobile number"),
            LANDLINE: _("landline number"),
            BANK_CARD: _("bank card number"),
        }
        return f"{names[self.kind]} {self.masked}"

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "masked": self.masked}


def _valid_id(value: str) -> bool:
    try:
        parse_id_number(value)
    except IdNumberError:
        return False
    return True


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def mask_card(value: str) -> str:
    digits = _digits(value)
    return digits[:4] + "*" * (len(digits) - 8) + digits[-4:]


def mask_landline(value: str) -> str:
    """Area code kept, the local number masked but for its last four: 0351-***4567."""
    digits = _digits(value)
    area = 3 if digits[:2] in {"01", "02"} else 4
    local = digits[area:]
    return f"{digits[:area]}-{'*' * (len(local) - 4)}{local[-4:]}"


def _spans(text: str, kinds: Collection[str]) -> list[tuple[int, int, Finding]]:
    """Non-overlapping findings in text order. The most specific pattern claims its span
    first (a valid ID number, then a Luhn-valid card, then phones)."""
    found: list[tuple[int, int, Finding]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e, _f in found)

    if ID_NUMBER in kinds:
        for m in ID_RE.finditer(text):
            number = _digits(m.group()[:-1]) + m.group()[-1].upper()
            if _valid_id(number):
                found.append((m.start(), m.end(), Finding(ID_NUMBER, mask_id_number(number))))
    if BANK_CARD in kinds:
        for m in CARD_RE.finditer(text):
            digits = _digits(m.group())
            if 16 <= len(digits) <= 19 and free(*m.span()) and luhn.is_valid(digits):
                found.append((m.start(), m.end(), Finding(BANK_CARD, mask_card(digits))))
    if PHONE in kinds:
        for m in PHONE_RE.finditer(text):
            if free(*m.span()):
                found.append((m.start(), m.end(), Finding(PHONE, mask_phone(_digits(m.group())[-11:]))))
    if LANDLINE in kinds:
        for m in LANDLINE_RE.finditer(text):
            if free(*m.span()):
                found.append((m.start(), m.end(), Finding(LANDLINE, mask_landline(m.group()))))
    return sorted(found, key=lambda f: f[0])


def find_personal_data(text: str | None, *, kinds: Collection[str] = ALL_KINDS) -> list[Finding]:
    """Every ID number, phone and bank card number in `text`, masked, in text order."""
    return [finding for _start, _end, finding in _spans(text or "", kinds)]


def redact(text: str | None, *, kinds: Collection[str] = ALL_KINDS) -> str:
    """The text with every finding replaced by its masked form."""
    text = text or ""
    out: list[str] = []
    last = 0
    for start, end, finding in _spans(text, kinds):
        out.append(text[last:start])
        out.append(finding.masked)
        last = end
    out.append(text[last:])
    return "".join(out)


def find_health_details(text: str | None) -> list[str]:
    """The health words in `text` (each once, in list order), the allowed phrases left aside."""
    text = text or ""
    for allowed in HEALTH_ALLOWED:
        text = text.replace(allowed, " ")
    lowered = text.lower()
    found = [word for word in HEALTH_WORDS if word.lower() in lowered]
    # "糖尿病" is enough; do not also report its "病".
    return [word for word in found if not any(word != other and word in other for other in found)]


_HEALTH_RE = re.compile(
    "|".join(re.escape(w) for w in sorted((*HEALTH_ALLOWED, *HEALTH_WORDS), key=len, reverse=True)), re.IGNORECASE
)


def mask_health_details(text: str | None) -> str:
    """The text with each health word starred out (因病 and the other allowed phrases kept)."""
    return _HEALTH_RE.sub(lambda m: m.group() if m.group() in HEALTH_ALLOWED else "*" * len(m.group()), text or "")


def describe(findings: list[Finding]) -> str:
    """One line for an author: "mobile number 138****1234; ID number 1401…"."""
    return "; ".join(f.label() for f in findings)
