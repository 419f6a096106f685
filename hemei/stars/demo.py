"""Star-rated households for `hemei demo` (deterministic, reference date 2026-11-01).

1. 西邵村: the 2026 round through every step — declarations of all 448 households entered
   from the paper forms (2026-03-02), 群众互评 (a few claims lowered), 两委复评 (households
   excluded with reasons), 乡镇认定, 张榜公示 for 7 days, 授牌 on 2026-04-20.
2. One 摘星 with a reason in August and one 挂星 in September (ad-hoc, through the services).
3. 东邵村: its 2026 round under way at 群众互评.
Writes go through the services with actor=SYSTEM (recorded as the system).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any
from zoneinfo import ZoneInfo

from hemei.core.scope import SYSTEM
from hemei.regions.models import Household, Region
from hemei.stars import services
from hemei.stars.models import ExclusionReason, HouseholdStar, StarRating, StarRound

SH = ZoneInfo("Asia/Shanghai")
SEED = 2026
# (household position in 西邵村, reason, note): deterministic exclusions of the 2026 round.
EXCLUSIONS: tuple[tuple[int, str, str], ...] = (
    (17, ExclusionReason.GAMBLING, "2025年12月因聚众赌博被行政处罚"),
    (88, ExclusionReason.DOMESTIC_VIOLENCE, "妇联调解记录在案"),
    (203, ExclusionReason.ABSENT, "全家常年在外务工"),
    (311, ExclusionReason.ABSENT, "全家常年在外务工"),
    (402, ExclusionReason.OTHER, "拒不配合人居环境整治"),
)


def _at(m: int, d: int, h: int = 10) -> dt.datetime:
    return dt.datetime(2026, m, d, h, tzinfo=SH)


def _claims(rng: random.Random, star_ids: list[int]) -> list[int]:
    """1–10 stars; most households claim 5–8."""
    k = min(len(star_ids), max(1, round(rng.triangular(1, 10, 7))))
    return sorted(rng.sample(star_ids, k))


def demo_stars(*, stdout: Any = None) -> int:
    """Returns the number of star changes written (0 if 西邵村 is missing or already done)."""
    from hemei.regions.demo import XISHAO_CODE

    village = Region.objects.filter(code=XISHAO_CODE).first()
    if village is None or StarRound.objects.filter(village=village).exists():
        return 0
    households = list(Household.objects.filter(village=village).order_by("number", "pk"))
    if not households:
        return 0
    rng = random.Random(SEED)
    stars = services.catalogue_ensure(village=village)
    star_ids = [s.pk for s in stars]
    by_name = {s.name: s for s in stars}

    # 1. The 2026 round of 西邵村.
    rnd = services.round_open(actor=SYSTEM, village=village, year=2026, at=_at(3, 1))
    rows = [(h, _claims(rng, star_ids), "", "") for h in households]
    services.ratings_enter(actor=SYSTEM, round=rnd, rows=rows)
    services.round_advance(actor=SYSTEM, round=rnd, to="peer", at=_at(3, 16))
    for h, claimed, _r, _n in rows[5::37]:  # the villagers' review lowers a few claims
        services.rating_record(actor=SYSTEM, round=rnd, household=h, stars=claimed[:-1] or claimed,
                               note="群众互评未通过一项")
    services.round_advance(actor=SYSTEM, round=rnd, to="committee", at=_at(3, 25))
    for position, reason, note in EXCLUSIONS:
        if position < len(households):
            services.rating_exclude(actor=SYSTEM, round=rnd, household=households[position], reason=reason, note=note)
    services.round_advance(actor=SYSTEM, round=rnd, to="township", at=_at(4, 2))
    services.round_township_approve(actor=SYSTEM, round=rnd, note="姚村镇认定", at=_at(4, 9))
    services.round_publicity_start(actor=SYSTEM, round=rnd, at=_at(4, 12))
    rnd, written = services.round_award(actor=SYSTEM, round=rnd, at=_at(4, 20))

    # 2. Ad-hoc changes during the year.
    holders = HouseholdStar.objects.filter(village=village, star=by_name["环保卫生"]).order_by("household__number")
    holder = holders.select_related("household")[min(10, holders.count() - 1)].household
    services.star_withdraw(actor=SYSTEM, household=holder, star=by_name["环保卫生"], date=dt.date(2026, 8, 15),
                           reason="门前屋后乱堆乱放，经网格员三次提醒仍未整改", idempotency_key="demo-stars-withdraw-1")
    written += 1
    excluded = set(StarRating.objects.filter(round=rnd, excluded=True).values_list("household_id", flat=True))
    has = set(HouseholdStar.objects.filter(village=village, star=by_name["助人为乐"]).values_list("household_id",
                                                                                               flat=True))
    lacking = next(h for h in households[60:] if h.pk not in has and h.pk not in excluded)
    services.star_grant(actor=SYSTEM, household=lacking, star=by_name["助人为乐"], date=dt.date(2026, 9, 10),
                        reason="汛期组织邻里转移老人，村两委研究决定挂星", idempotency_key="demo-stars-grant-1")
    written += 1

    # 3. 东邵村: a round under way.
    other = Region.objects.filter(code__startswith=XISHAO_CODE[:9], level="village").exclude(pk=village.pk) \
        .order_by("code").first()
    if other is not None:
        other_households = list(Household.objects.filter(village=other).order_by("number", "pk")[:400])
        if other_households:
            ids = [s.pk for s in services.catalogue_ensure(village=other)]
            rnd2 = services.round_open(actor=SYSTEM, village=other, year=2026, at=_at(10, 8))
            services.ratings_enter(actor=SYSTEM, round=rnd2,
                                   rows=[(h, _claims(rng, ids), "", "") for h in other_households[::2]])
            services.round_advance(actor=SYSTEM, round=rnd2, to="peer", at=_at(10, 26))
    if stdout is not None:
        stdout.write(f"stars: {len(households)} households rated in 西邵村, {written} star changes\n")
    return written
