"""Personal data in a disclosure body: the core detector (`hemei.core.pii`), as disclosures use it.

1. `find_personal_data(text)` warns the author before review (`version_submit`): the author may
   still submit after confirming — a 低保 list may lawfully name households — but never by
   accident.
2. `redact(text)` masks whatever is found when a body is shown on the public board.
Disclosures look for ID numbers, mobile numbers and bank cards but not landlines: a disclosure
ends with the office's supervision telephone (监督电话), which must stay readable.
"""

from __future__ import annotations

from hemei.core.pii import BANK_CARD, ID_NUMBER, PHONE, Finding, mask_card
from hemei.core.pii import find_personal_data as _find
from hemei.core.pii import redact as _redact

DISCLOSURE_KINDS = frozenset({ID_NUMBER, PHONE, BANK_CARD})


def find_personal_data(text: str | None) -> list[Finding]:
    return _find(text, kinds=DISCLOSURE_KINDS)


def redact(text: str | None) -> str:
    return _redact(text, kinds=DISCLOSURE_KINDS)


__all__ = ["DISCLOSURE_KINDS", "Finding", "find_personal_data", "mask_card", "redact"]
