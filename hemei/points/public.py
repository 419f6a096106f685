"""What the public sees of the points: entries in publicity, the chain head, and the ranking
if the village publishes one (`RuleSet.ranking`: none / top N / all; default none).

Only household number, the head's name, the item, the points and dates: never an ID number,
phone or anything else about the household. Registered on the village board
(`hemei.disclosure.board`) from `PointsConfig.ready`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hemei.core.freshness import track
from hemei.core.models import ChainHead
from hemei.disclosure.board import BoardQuery, Figure, board_section, chain_head, page_of
from hemei.disclosure.board import ChainHead as BoardChainHead
from hemei.points.models import Entry, RuleSet
from hemei.regions.models import Household, Region

# Scored entries and their corrections count towards a ranking; redemptions and resets do not
# (a household that spent its points did not earn fewer).
RANKED_KINDS = (Entry.Kind.SCORE, Entry.Kind.REVERSAL)

# Entries reach publicity and effect through `update()` (hemei.points.ledger touches the topic)
# and the chain (`save_head` touches it); rows saved one by one bump it here.
track(Entry, "points")
track(RuleSet, "points")


def in_publicity(village: Region, *, now: dt.datetime | None = None, limit: int = 200) -> Any:
    now = now or timezone.now()
    return (
        Entry.objects.filter(village=village, state=Entry.State.PUBLICITY, publicity_until__gt=now)
        .select_related("household__head", "item")
        .order_by("publicity_until", "pk")[:limit]
    )


def head_of(village: Region) -> ChainHead | None:
    return ChainHead.objects.filter(chain="points", village=village).only("length", "head_hash").first()


@dataclass(frozen=True)
class RankRow:
    rank: int
    household_id: int
    number: str
    head: str
    points: int


def ranking(village: Region, *, year: int | None = None, force_all: bool = False) -> tuple[str, list[RankRow]]:
    """(the setting, rows) for the points earned in `year` (default this year). Equal points
    share a rank. Empty when the village publishes no ranking (unless `force_all`, for staff)."""
    rule_set = RuleSet.objects.filter(village=village).first()
    setting = rule_set.ranking if rule_set else RuleSet.Ranking.NONE
    if setting == RuleSet.Ranking.NONE and not force_all:
        return setting, []
    year = year or timezone.localdate().year
    start = timezone.make_aware(dt.datetime(year, 1, 1))
    end = timezone.make_aware(dt.datetime(year + 1, 1, 1))
    sums = (
        Entry.objects.filter(
            village=village,
            state=Entry.State.EFFECTIVE,
            kind__in=RANKED_KINDS,
            effective_at__gte=start,
            effective_at__lt=end,
        )
        .values("household_id")
        .annotate(s=Sum("points"))
        .filter(s__gt=0)
    )
    totals = {r["household_id"]: int(r["s"]) for r in sums}
    households = Household.objects.filter(pk__in=totals).select_related("head").only("pk", "number", "head__name")
    ordered = sorted(households, key=lambda h: (-totals[h.pk], h.number))
    rows: list[RankRow] = []
    for index, h in enumerate(ordered, start=1):
        rank = rows[-1].rank if rows and rows[-1].points == totals[h.pk] else index
        rows.append(RankRow(rank, h.pk, h.number, h.head.name if h.head else "", totals[h.pk]))
    if setting == RuleSet.Ranking.TOP and not force_all and rule_set is not None:
        rows = [r for r in rows if r.rank <= rule_set.ranking_top_n]
    return setting, rows


def public_entries(village: Region, *, now: dt.datetime | None = None) -> Any:
    """The board's rows of the entries in publicity: only the columns it prints."""
    now = now or timezone.now()
    return (
        Entry.objects.filter(village=village, state=Entry.State.PUBLICITY, publicity_until__gt=now)
        .order_by("publicity_until", "pk")
        .values("pk", "kind", "points", "publicity_until", "household__number", "household__head__name",
                "item__description")
    )


def board_summary(village: Region) -> list[Figure] | None:
    if not RuleSet.objects.filter(village=village).exists():
        return None
    return [Figure(public_entries(village).count(), _("entries in publicity"))]


@board_section("points", title=_("Points in publicity"), template="points/_board.html", order=30,
               topics=("points",), summary=board_summary)
def board_points(village: Region, query: BoardQuery) -> dict[str, Any] | None:
    rule_set = RuleSet.objects.filter(village=village).only("ranking").first()
    if rule_set is None:
        return None
    kinds = dict(Entry.Kind.choices)
    rows, page = page_of(public_entries(village), query)
    for row in rows:
        row["kind_label"] = kinds.get(row["kind"], row["kind"])
    return {
        "entries": rows,
        "page": page,
        "head": head_of(village),
        "ranking": rule_set.ranking != RuleSet.Ranking.NONE,
        "code": village.code,
    }


@chain_head("points")
def points_chain_head(village: Region) -> BoardChainHead | None:
    head = head_of(village)
    if head is None:
        return None
    return BoardChainHead(_("Points ledger (积分台账)"), head.length, head.head_hash)
