"""Periods as DHIS2 spells them: month `202611`, quarter `2026Q4`, year `2026`.

A period is a value, not a row: its code says its kind, first and last day, and which
quarter and year a month belongs to. Every table that stores a period stores its code.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


_MONTH = re.compile(r"^(\d{4})(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


class PeriodError(ValueError):
    pass


@dataclass(frozen=True, order=True)
class Period:
    year: int
    month: int = 0  # 1–12 for a month
    quarter: int = 0  # 1–4 for a quarter

    @property
    def kind(self) -> Kind:
        if self.month:
            return Kind.MONTH
        if self.quarter:
            return Kind.QUARTER
        return Kind.YEAR

    @property
    def code(self) -> str:
        if self.month:
            return f"{self.year}{self.month:02d}"
        if self.quarter:
            return f"{self.year}Q{self.quarter}"
        return f"{self.year}"

    def __str__(self) -> str:
        return self.code

    @property
    def label(self) -> str:
        if self.month:
            return f"{self.year}-{self.month:02d}"
        if self.quarter:
            return f"{self.year} Q{self.quarter}"
        return str(self.year)

    @property
    def start(self) -> dt.date:
        if self.month:
            return dt.date(self.year, self.month, 1)
        if self.quarter:
            return dt.date(self.year, 3 * self.quarter - 2, 1)
        return dt.date(self.year, 1, 1)

    @property
    def end(self) -> dt.date:
        """The last day, inclusive."""
        return self.next().start - dt.timedelta(days=1)

    def next(self) -> Period:
        if self.month:
            return Period(self.year + self.month // 12, self.month % 12 + 1)
        if self.quarter:
            return Period(self.year + self.quarter // 4, quarter=self.quarter % 4 + 1)
        return Period(self.year + 1)

    def previous(self) -> Period:
        if self.month:
            return Period(self.year - (self.month == 1), 12 if self.month == 1 else self.month - 1)
        if self.quarter:
            return Period(self.year - (self.quarter == 1), quarter=4 if self.quarter == 1 else self.quarter - 1)
        return Period(self.year - 1)

    def same_last_year(self) -> Period:
        return Period(self.year - 1, self.month, self.quarter)

    def months(self) -> list[Period]:
        """The months inside this period (itself for a month)."""
        if self.month:
            return [self]
        first = self.start.month
        last = self.end.month
        return [Period(self.year, m) for m in range(first, last + 1)]

    def containing(self) -> list[Period]:
        """The longer periods a month lies in: its quarter and its year."""
        if not self.month:
            return []
        return [Period(self.year, quarter=(self.month - 1) // 3 + 1), Period(self.year)]


def parse(code: str) -> Period:
    """A period from its code; PeriodError for anything else."""
    text = (code or "").strip()
    if m := _MONTH.match(text):
        return Period(int(m[1]), int(m[2]))
    if m := _QUARTER.match(text):
        return Period(int(m[1]), quarter=int(m[2]))
    if m := _YEAR.match(text):
        return Period(int(m[1]))
    raise PeriodError(f"not a period: {code!r} (use 202611, 2026Q4 or 2026)")


def month_of(day: dt.date) -> Period:
    return Period(day.year, day.month)


def of_kind(kind: Kind | str, day: dt.date) -> Period:
    """The period of `kind` that contains `day`."""
    if kind == Kind.MONTH:
        return month_of(day)
    if kind == Kind.QUARTER:
        return Period(day.year, quarter=(day.month - 1) // 3 + 1)
    return Period(day.year)


def window(first: Period, last: Period) -> list[Period]:
    """Every month, quarter and year from the month `first` to the month `last` (inclusive),
    months first: the periods the rollup keeps."""
    months: list[Period] = []
    p = first
    while p <= last:
        months.append(p)
        p = p.next()
    longer = sorted({q for m in months for q in m.containing()}, key=lambda q: (q.kind != Kind.QUARTER, q))
    return months + longer


def series(last: Period, n: int) -> list[Period]:
    """`n` periods of the same kind ending with `last`, oldest first."""
    out = [last]
    while len(out) < n:
        out.append(out[-1].previous())
    return out[::-1]
