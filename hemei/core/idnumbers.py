"""Citizen ID numbers (公民身份号码, GB 11643-1999).

Layout: 6-digit area code, YYYYMMDD birth date, 3-digit sequence (odd = male) and an
ISO 7064 MOD 11-2 check character (X for 10). python-stdnum computes the checksum; this
wrapper is lenient where the standard lets reality differ: an area code that the bundled
table does not know for the birth year is only a warning (codes are reassigned and merged),
while a wrong check character or an impossible date is an error.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import InvalidComponent


class IdNumberError(ValueError):
    """The number cannot be a valid ID number; the message is user-facing."""


@dataclass(frozen=True)
class IdNumber:
    number: str  # normalised 18 characters, upper-case X
    birth_date: dt.date
    sex: str  # "M" or "F"
    warnings: list[str] = field(default_factory=list)

    @property
    def tail4(self) -> str:
        return self.number[-4:]


def check_character(first17: str) -> str:
    # stdnum's calc_check_digit expects the full number and ignores its last character.
    return str(ric.calc_check_digit(first17 + "0"))


def _birth_date(digits: str) -> dt.date:
    try:
        return dt.date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise IdNumberError(_("Impossible birth date %(date)s in ID number.") % {"date": digits}) from None


def parse_id_number(raw: str, *, today: dt.date | None = None) -> IdNumber:
    """Validate and normalise an ID number.

    1. Strip spaces, accept a lower-case x.
    2. Upgrade a 15-digit first-generation number (YYMMDD, no check character) to 18.
    3. Check the birth date is a real date, not in the future and not before 1900.
    4. Check the MOD 11-2 check character.
    5. Look up the area code; unknown for the birth year → warning only.
    """
    number = "".join(str(raw or "").split()).upper()
    if not number:
        raise IdNumberError(_("ID number is empty."))
    if len(number) == 15:
        if not number.isdigit():
            raise IdNumberError(_("A 15-digit ID number must contain only digits."))
        # First-generation numbers were issued to people born in the 1900s.
        first17 = number[:6] + "19" + number[6:]
        number = first17 + check_character(first17)
    if len(number) != 18:
        raise IdNumberError(_("ID number must have 18 characters (or 15 for old numbers)."))
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise IdNumberError(_("ID number may contain only digits and a final X."))
    birth = _birth_date(number[6:14])
    today = today or dt.date.today()
    if birth > today or birth.year < 1900:
        raise IdNumberError(_("Impossible birth date %(date)s in ID number.") % {"date": number[6:14]})
    expected = check_character(number[:17])
    if number[17] != expected:
        raise IdNumberError(
            _("Wrong check character: %(got)s, expected %(expected)s.")
            % {"got": number[17], "expected": expected}
        )
    warnings: list[str] = []
    if not area_known(number[:6], birth.year):
        warnings.append(
            _("Area code %(code)s is not known for birth year %(year)s.")
            % {"code": number[:6], "year": birth.year}
        )
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return IdNumber(number=number, birth_date=birth, sex=sex, warnings=warnings)


@functools.lru_cache(maxsize=4096)
def area_known(area: str, birth_year: int) -> bool:
    """Whether the area code could have been assigned to someone born in `birth_year`.

    A number takes the code of the place where it was issued, which is at or after birth:
    晋源区 (140110, since 1997) is right for a resident born in 1960 who got the number in
    2000, while 南郊区 (140112, 1983-1997) cannot belong to someone born in 2005. So a code is
    known if it existed at some time from the birth year on. Cached: a roster repeats a
    handful of codes and years thousands of times.
    """
    results = numdb.get("cn/loc").info(area)
    info = {k: v for _part, props in results for k, v in props.items()}
    county = info.get("county")
    if not county:
        return False
    for name in county.split(","):
        if not name.startswith("["):
            return True
        span = name[1:].split("]")[0]
        _start, _sep, end = span.partition("-")
        if not end or birth_year <= int(end):
            return True
    return False


def make_id_number(area: str, birth: dt.date, sequence: int) -> str:
    """Build a checksum-valid number (demo data and tests)."""
    first17 = f"{area}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


__all__ = ["IdNumber", "IdNumberError", "InvalidComponent", "make_id_number", "parse_id_number"]
