"""The arithmetic of a review, pure functions on Decimal (no floats, no database).

1. An evaluator's weighted total for a household: Σ weight × score / max over the criteria,
   on a 0–100 scale (weights sum to 100), rounded half-up to 0.01.
2. The household's total: the mean of its evaluators' totals, or the trimmed mean (one
   highest and one lowest total dropped; needs at least 3 evaluators), rounded half-up to 0.01.
3. Ranks: descending totals, equal totals share a rank, the next rank skips (1, 1, 3).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

CENT = Decimal("0.01")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def weighted_total(rows: Iterable[tuple[int, Decimal, Decimal]]) -> Decimal:
    """rows: (weight, max_score, score). Summed as exact fractions (score / max is often a
    repeating decimal; rounding each term first could move a total across a half cent)."""
    exact = sum((Fraction(weight) * Fraction(score) / Fraction(max_score) for weight, max_score, score in rows),
                Fraction(0))
    hundredths = (exact * 100 + Fraction(1, 2)).__floor__()  # half-up; totals are never negative
    return Decimal(hundredths).scaleb(-2)


def household_total(totals: Sequence[Decimal], *, trimmed: bool) -> Decimal:
    if not totals:
        raise ValueError("no evaluator totals")
    values = sorted(totals)
    if trimmed:
        if len(values) < 3:
            raise ValueError("a trimmed mean needs at least 3 evaluators")
        values = values[1:-1]
    return cents(sum(values, Decimal(0)) / len(values))


def ranks(totals: Sequence[Decimal]) -> list[int]:
    """Competition ranking of `totals` (same order as given)."""
    return [1 + sum(1 for other in totals if other > t) for t in totals]
