"""Personal data in a disclosure body: ID numbers, mobile numbers, bank card numbers.

Public pages must never show them (PIPL; DOMAIN.md "Personal information"). Two uses:
1. `find_personal_data(text)` warns the author before review (`version_submit`): the author may
   still submit after confirming — a 低保 list may lawfully name households — but never by
   accident.
2. `redact(text)` masks whatever is found when a body is shown on the public board, so even a
   confirmed number appears only as 110105********002X / 138****1234 / 6222********1234.
Detection: an 18-character ID number counts only if it is valid (hemei.core.idnumbers); an
11-digit number starting 13–19 is a mobile number; 16–19 digits (spaces or dashes between
groups of four allowed) passing the Luhn check is a bank card.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _
from stdnum import luhn

from hemei.core.idnumbers import IdNumberError, parse_id_number
from hemei.core.masking import mask_id_number, mask_phone

ID_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
PHONE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
CARD_RE = re.compile(r"(?<![\d-])(?:\d{4}[ -]?){3}\d{4,7}(?![\d-])")


@dataclass(frozen=True)
class Finding:
    kind: str  # "id_number", "phone", "bank_card"
    masked: str

    def label(self) -> str:
        names = {"id_number": _("ID number"), "phone": _("mobile number"), "bank_card": _("bank card number")}
        return f"{names[self.kind]} {self.masked}"

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "masked": self.masked}


def _valid_id(value: str) -> bool:
    try:
        parse_id_number(value)
    except IdNumberError:
        return False
    return True


def mask_card(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    return digits[:4] + "*" * (len(digits) - 8) + digits[-4:]


def _spans(text: str) -> list[tuple[int, int, Finding]]:
    found: list[tuple[int, int, Finding]] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in taken)

    for m in ID_RE.finditer(text):
        if _valid_id(m.group()):
            found.append((m.start(), m.end(), Finding("id_number", mask_id_number(m.group().upper()))))
            taken.append(m.span())
    for m in CARD_RE.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if 16 <= len(digits) <= 19 and free(*m.span()) and luhn.is_valid(digits):
            found.append((m.start(), m.end(), Finding("bank_card", mask_card(digits))))
            taken.append(m.span())
    for m in PHONE_RE.finditer(text):
        if free(*m.span()):
            found.append((m.start(), m.end(), Finding("phone", mask_phone(m.group()))))
            taken.append(m.span())
    return sorted(found, key=lambda f: f[0])


def find_personal_data(text: str) -> list[Finding]:
    return [finding for _start, _end, finding in _spans(text or "")]


def redact(text: str) -> str:
    """The text with every finding replaced by its masked form."""
    text = text or ""
    out: list[str] = []
    last = 0
    for start, end, finding in _spans(text):
        out.append(text[last:start])
        out.append(finding.masked)
        last = end
    out.append(text[last:])
    return "".join(out)
