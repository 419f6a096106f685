"""The 2026 美丽庭院评比 of 西邵村 for `hemei demo` (deterministic, reference date 2026-11-01).

Runs after the points demo, whose adopted rules have no courtyard item (J1 "庭院整洁" is a
monthly basic item with a cap of 5). So:
1. 2026-10-26: a 村民代表会议 adopts an amendment of the points rules (a copy of the current
   version plus T1 美丽庭院示范户 +20 and T2 美丽庭院达标户 +10, entered by the committee for
   the review panel) — after the points demo's last monthly batch (2026-10-25), so every
   earlier entry stays under the version that was current when it was made.
2. The review: 5 evaluators (村委会主任, three 网格长 of the 两委, a 乡镇干部), 5 weighted
   criteria, 30 households (every 15th household living in the village), trimmed mean.
   Set up 10-26, scored 10-28, closed 10-29 (plaques: 示范户 top 5 with ≥ 85, 达标户 ≥ 75).
3. 10-30 the award proposes the plaques' points through the ledger; 10-31 the committee
   approves them, so on the reference date they are in publicity (until 11-07), like the
   points demo's October batch.
Writes go through the services with actor=SYSTEM (recorded as the system).
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hemei.core.scope import SYSTEM
from hemei.courtyard import services
from hemei.courtyard.access import panel_candidates
from hemei.courtyard.models import ReviewEvent
from hemei.points import ledger, rules
from hemei.points.models import RuleItem, RuleSet
from hemei.points.testing import adopt_version
from hemei.regions.models import Household, Region

SH = ZoneInfo("Asia/Shanghai")
SEED = 2026
PANEL = ("director", "leader1", "leader2", "leader3", "township")
CRITERIA = (("院落整洁", 25), ("绿化美化", 20), ("物品摆放有序", 20), ("厕所卫生", 20), ("文明家风", 15))
ITEMS = (("T1", "美丽庭院示范户（评比授牌）", 20), ("T2", "美丽庭院达标户（评比授牌）", 10))


def _at(m: int, d: int, h: int = 10) -> dt.datetime:
    return dt.datetime(2026, m, d, h, tzinfo=SH)


def _courtyard_items(rule_set: RuleSet) -> dict[str, RuleItem]:
    """The T1/T2 items of the adopted rules, adopting an amendment that adds them if needed."""
    current = rule_set.current_version()
    assert current is not None
    items = {i.code: i for i in current.items.all()}
    if all(code in items for code, _d, _p in ITEMS):
        return items
    amendment = rules.rule_version_create(
        actor=SYSTEM, rule_set=rule_set, title="增设美丽庭院评比奖励", copy_from=current, at=_at(10, 26, 9)
    )
    for code, description, points in ITEMS:
        rules.rule_item_add(
            actor=SYSTEM,
            version=amendment,
            code=code,
            kind=RuleItem.Kind.CONTRIBUTION,
            description=description,
            points=points,
            evidence="美丽庭院评比结果",
            proposer=RuleItem.Proposer.PANEL,
        )
    adopt_version(
        actor=SYSTEM,
        version=amendment,
        held_at=_at(10, 26, 9),
        attendees=38,
        eligible=45,
        votes_for=35,
        votes_against=0,
        votes_abstain=3,
    )
    return {i.code: i for i in amendment.items.all()}


def demo_courtyard(*, stdout: Any = None) -> int:
    """Returns the number of points entries proposed (0 if 西邵村 or its rules are missing, or
    the review exists already)."""
    from hemei.regions.demo import XISHAO_CODE

    village = Region.objects.filter(code=XISHAO_CODE).first()
    if village is None or ReviewEvent.objects.filter(village=village).exists():
        return 0
    rule_set = RuleSet.objects.filter(village=village).first()
    if rule_set is None or rule_set.current_version() is None:
        return 0
    households = list(Household.objects.filter(village=village, lives_in_village=True).order_by("number")[::15][:30])
    candidates = panel_candidates(village)
    panel = list(candidates.filter(username__in=PANEL)) or list(candidates[:5])
    if len(households) < 3 or len(panel) < 3:
        return 0
    items = _courtyard_items(rule_set)
    event = services.event_create(
        actor=SYSTEM,
        village=village,
        title="2026年度美丽庭院评比",
        date=dt.date(2026, 10, 28),
        method=ReviewEvent.Method.TRIMMED,
        criteria=[services.CriterionSpec(name, weight, Decimal(10)) for name, weight in CRITERIA],
        panel=panel,
        households=households,
        tiers=[
            services.TierSpec("美丽庭院示范户", items["T1"], top_n=5, min_total=Decimal(85)),
            services.TierSpec("美丽庭院达标户", items["T2"], min_total=Decimal(75)),
        ],
        idempotency_key="demo-courtyard-2026",
        at=_at(10, 26, 15),
    )
    event = services.event_open(actor=SYSTEM, event=event, at=_at(10, 27))
    criteria = list(event.criteria.all())
    rng = random.Random(SEED)
    # In half points out of 20 (0, 0.5, …, 10 on a 10-point criterion): integers, no floats.
    quality = {h.pk: rng.randint(9, 18) for h in households}
    leniency = {u.pk: rng.randint(-1, 1) for u in panel}
    for u in panel:
        for i, h in enumerate(households):
            scores = {
                c.pk: Decimal(min(max(quality[h.pk] + leniency[u.pk] + rng.randint(-2, 2), 0), 20)) / 2
                for c in criteria
            }
            services.score_submit(
                actor=SYSTEM, evaluator=u, event=event, household=h, scores=scores, at=_at(10, 28, 9 + i // 5)
            )
    results = services.event_close(actor=SYSTEM, event=event, at=_at(10, 29))
    entries = services.event_award(actor=SYSTEM, event=event, at=_at(10, 30))
    for e in entries:
        ledger.entry_review(
            actor=SYSTEM, entry=e, approve=True, idempotency_key=f"demo-courtyard-r{e.pk}", at=_at(10, 31)
        )
    if stdout is not None:
        plaques = sum(1 for r in results if r.tier_id)
        stdout.write(f"courtyard: {len(results)} households reviewed, {plaques} plaques, {len(entries)} entries\n")
    return len(entries)
