"""Shop statistics per period (month, quarter or year): households that redeemed, the people
living in them, points redeemed, redemptions, and the rewards most asked for.

Redemptions do not record which member of a household came to the shop, so "villagers" is
the number of residents living in the households that redeemed (郭城店村-style reports
count people; the page says so). Cancelled redemptions are not counted; reservations not yet
collected are (their points are already taken from the balance).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from hemei.points.models import Redemption
from hemei.regions.models import Household, Region, Resident

PERIODS = ("month", "quarter", "year")


def period_label(day: dt.date, by: str) -> str:
    """The period's sortable key ("2026-11", "2026Q4", "2026"), also used in the export."""
    if by == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if by == "year":
        return f"{day.year:04d}"
    return f"{day.year:04d}Q{(day.month - 1) // 3 + 1}"


def period_display(key: str) -> str:
    """A period key in the active language: 2026年11月 / 2026年第4季度 / 2026年 in Chinese."""
    if len(key) == 7 and key[4] == "-":
        return _("%(year)s-%(month)s") % {"year": key[:4], "month": key[5:]}
    if len(key) == 6 and key[4] == "Q":
        return _("%(year)s Q%(quarter)s") % {"year": key[:4], "quarter": key[5]}
    return _("year %(year)s") % {"year": key} if key else ""


@dataclass
class PeriodRow:
    period: str
    households: int = 0
    villagers: int = 0
    points: int = 0
    redemptions: int = 0
    household_ids: set[int] = field(default_factory=set)

    @property
    def label(self) -> str:
        return period_display(self.period)


@dataclass
class RewardRow:
    name: str
    quantity: int
    points: int


@dataclass
class ShopStats:
    rows: list[PeriodRow]
    total: PeriodRow
    top: list[RewardRow]

    def chart(self) -> list[dict[str, object]]:
        return [{"name": r.label, "value": r.points} for r in self.rows]


def shop_stats(village: Region, *, by: str = "quarter", year: int | None = None, top: int = 10) -> ShopStats:
    """Three queries: the redemptions of the year, the residents of their households, and
    nothing per row (grouping is done here, the figures are small)."""
    by = by if by in PERIODS else "quarter"
    qs = Redemption.objects.filter(village=village).exclude(state=Redemption.State.CANCELLED)
    if year:
        start = timezone.make_aware(dt.datetime(year, 1, 1))
        qs = qs.filter(created_at__gte=start, created_at__lt=timezone.make_aware(dt.datetime(year + 1, 1, 1)))
    rows: dict[str, PeriodRow] = {}
    total = PeriodRow(str(year or ""))
    rewards: dict[str, RewardRow] = {}
    for created_at, household_id, points, quantity, name in qs.values_list(
        "created_at", "household_id", "points", "quantity", "reward__name"
    ).iterator(chunk_size=5000):
        label = period_label(timezone.localdate(created_at), by)
        row = rows.setdefault(label, PeriodRow(label))
        for target in (row, total):
            target.points += points
            target.redemptions += 1
            target.household_ids.add(household_id)
        reward = rewards.setdefault(name, RewardRow(name, 0, 0))
        reward.quantity += quantity
        reward.points += points
    people = dict(
        Household.objects.filter(pk__in=total.household_ids)
        .annotate(n=Count("residents", filter=Q(residents__status=Resident.Status.LIVING)))
        .values_list("pk", "n")
    )
    counted: defaultdict[int, int] = defaultdict(int, people)
    for row in [*rows.values(), total]:
        row.households = len(row.household_ids)
        row.villagers = sum(counted[h] for h in row.household_ids)
    ordered = [rows[k] for k in sorted(rows)]
    best = sorted(rewards.values(), key=lambda r: (-r.points, -r.quantity, r.name))[:top]
    return ShopStats(ordered, total, best)
