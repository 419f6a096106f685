"""Points work of 西邵村 for `hemei demo` (deterministic, reference date 2026-11-01).

1. Rule set adopted by a 村民代表会议 on 2026-03-05, amended on 2026-08-06 (a new item G3).
2. Monthly scoring April–October for every 7th household (J1, J2, G1, sometimes K1), proposed
   by the system on the grid workers' behalf, approved, publicity of 7 days, swept.
3. October's scoring: one objection upheld (entry voided), one dismissed; the last batch is
   still in publicity on the reference date.
4. A shop with four rewards; counter redemptions and two phone reservations (one cancelled).
Writes go through the services with actor=SYSTEM (recorded as the system).
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError

from hemei.core.scope import SYSTEM
from hemei.points import ledger, rules, shop
from hemei.points.models import Entry, RuleItem, RuleSet
from hemei.points.rules_edit import rule_set_settings_update
from hemei.points.testing import Adopted, adopt_version, adopted_rules
from hemei.regions.models import Household, Region, Resident

SH = ZoneInfo("Asia/Shanghai")


class Output(Protocol):
    def write(self, text: str, /) -> object: ...


def _at(m: int, d: int, h: int = 10) -> dt.datetime:
    return dt.datetime(2026, m, d, h, tzinfo=SH)


def _amend(pts: Adopted) -> None:
    """The August amendment: a new contribution item, adopted by a 村民代表会议."""
    amendment = rules.rule_version_create(
        actor=SYSTEM, rule_set=pts.rule_set, title="修订", copy_from=pts.version, at=_at(8, 1)
    )
    rules.rule_item_add(
        actor=SYSTEM,
        version=amendment,
        code="G3",
        kind="contribution",
        description="捐资助学、参与乡村建设",
        points=15,
        cap_per_period=30,
        proposer="committee",
    )
    adopt_version(
        actor=SYSTEM,
        version=amendment,
        held_at=_at(8, 6),
        attendees=36,
        eligible=45,
        votes_for=31,
        votes_against=2,
        votes_abstain=3,
    )


def demo_points(*, stdout: Output | None = None, every: int = 7) -> int:
    """Returns the number of effective entries written (0 if 西邵村 is missing)."""
    from hemei.regions.demo import XISHAO_CODE

    village = Region.objects.filter(code=XISHAO_CODE).first()
    if village is None or hasattr(village, "point_rule_set"):
        return 0
    households = list(Household.objects.filter(village=village, lives_in_village=True).order_by("pk")[::every])
    if not households:
        return 0
    pts = adopted_rules(actor=SYSTEM, village=village, held_at=_at(3, 5))
    n = 0
    for month in range(4, 11):
        if month == 8:
            _amend(pts)
        version = pts.rule_set.current_version()
        assert version is not None
        items = {i.code: i for i in version.items.all()}
        proposals = []
        for i, house in enumerate(households):
            day = dt.date(2026, month, 20)
            proposals.append(ledger.Proposal(house, items["J1"], day, "入户查看"))
            if (i + month) % 3 == 0:
                proposals.append(ledger.Proposal(house, items["G1"], day, "志愿服务签到表"))
            if (i + month) % 4 == 0:
                proposals.append(ledger.Proposal(house, items["J2"], day))
        entries, _r = ledger.entry_propose_batch(
            actor=SYSTEM, rule_set=pts.rule_set, proposals=proposals, idempotency_key=f"demo-{month}", at=_at(month, 25)
        )
        for e in entries:
            ledger.entry_review(actor=SYSTEM, entry=e, approve=True, idempotency_key=f"demo-r{e.pk}", at=_at(month, 26))
        if month == 10:
            # One objection upheld, one dismissed (raised by the first households' heads).
            heads = list(
                Resident.objects.filter(
                    household__village=village, relation="head", status=Resident.Status.LIVING
                ).order_by("pk")[:2]
            )
            if len(heads) == 2:
                for j, (entry, uphold) in enumerate(((entries[0], True), (entries[1], False))):
                    o = ledger.objection_raise(
                        actor=SYSTEM,
                        resident=heads[j],
                        entry=entry,
                        reason="当天未见其参加",
                        idempotency_key=f"demo-o{j}",
                        at=_at(10, 28),
                    )
                    ledger.objection_decide(
                        actor=SYSTEM,
                        objection=o,
                        uphold=uphold,
                        decision="核实属实" if uphold else "经核实无误",
                        idempotency_key=f"demo-d{j}",
                        at=_at(10, 30),
                    )
        else:
            n += ledger.publicity_sweep(_at(month + 1, 5))
    rewards = [
        shop.reward_create(actor=SYSTEM, village=village, name=name, price=price, limit_per_period=limit, at=_at(6, 1))
        for name, price, limit in (("洗衣粉", 10, 4), ("食用油 5L", 40, 1), ("毛巾", 6, None), ("本村小米 2斤", 15, 2))
    ]
    for r in rewards:
        shop.reward_restock(actor=SYSTEM, reward=r, quantity=40, idempotency_key=f"demo-s{r.pk}", at=_at(6, 1))
    for i, house in enumerate(households[:30]):
        reward = rewards[i % 4]
        try:
            shop.redemption_create(
                actor=SYSTEM,
                household=house,
                reward=reward,
                idempotency_key=f"demo-x{i}",
                channel="phone" if i % 10 == 0 else "counter",
                at=_at(10, 15),
            )
        except ValidationError:  # a household that cannot afford it simply does not redeem
            continue
    # 西邵村 publishes its top ten (the board and /v/<code>/points/ranking/ show it).
    rs = pts.rule_set
    rule_set_settings_update(
        actor=SYSTEM, rule_set=rs, publicity_days=rs.publicity_days, redemption_period=rs.redemption_period,
        after_redemption=rs.after_redemption, min_balance_to_redeem=rs.min_balance_to_redeem,
        exclude_absent=rs.exclude_absent, ranking=RuleSet.Ranking.TOP, ranking_top_n=10,
    )
    n += _second_village(SECOND_VILLAGE_CODE)
    reserved = Entry.objects.filter(village=village, kind="redemption").count()
    if stdout is not None:
        stdout.write(f"points: {n} entries effective, {reserved} redemptions\n")
    return n


SECOND_VILLAGE_CODE = "140110101202"  # 东邵村, the neighbour in the same township


def _second_village(code: str, every: int = 9) -> int:
    """A second village's year (the issue asks for 西邵村 "and at least one more village"):
    rules adopted in May, monthly scoring June–October through review and publicity (October
    still in publicity), a small shop. Keys carry the village code: the system's idempotency keys are one namespace."""
    village = Region.objects.filter(code=code).first()
    if village is None or hasattr(village, "point_rule_set"):
        return 0
    households = list(Household.objects.filter(village=village, lives_in_village=True).order_by("pk")[::every])
    if not households:
        return 0
    pts = adopted_rules(actor=SYSTEM, village=village, held_at=_at(5, 12))
    version = pts.rule_set.current_version()
    assert version is not None
    items = {i.code: i for i in version.items.all()}
    n = 0
    for month in range(6, 11):
        proposals = [ledger.Proposal(house, items["J1"], dt.date(2026, month, 18), "入户查看") for house in households]
        proposals += [
            ledger.Proposal(house, items["G1"], dt.date(2026, month, 18), "志愿服务签到表")
            for i, house in enumerate(households)
            if (i + month) % 3 == 0
        ]
        entries, _r = ledger.entry_propose_batch(
            actor=SYSTEM, rule_set=pts.rule_set, proposals=proposals, idempotency_key=f"demo-{code}-{month}",
            at=_at(month, 22),
        )
        for e in entries:
            ledger.entry_review(actor=SYSTEM, entry=e, approve=True, idempotency_key=f"demo-r{e.pk}", at=_at(month, 23))
        if month < 10:  # October stays in publicity, as in 西邵村 (a sweep on 11-03 would post theirs too)
            n += ledger.publicity_sweep(_at(month + 1, 3))
    reward = shop.reward_create(actor=SYSTEM, village=village, name="肥皂", price=5, limit_per_period=3, at=_at(7, 1))
    shop.reward_restock(actor=SYSTEM, reward=reward, quantity=60, idempotency_key=f"demo-{code}-s", at=_at(7, 1))
    for i, house in enumerate(households[:20]):
        try:
            shop.redemption_create(actor=SYSTEM, household=house, reward=reward, idempotency_key=f"demo-{code}-x{i}",
                                   channel="counter", at=_at(10, 20))
        except ValidationError:
            continue
    return n


def demo_today_points(*, stdout: Output | None = None) -> int:
    """Points work waiting on the day the demo is built (issue 15): grid1's proposals for this
    month in the committee's review queue, and the villager's reservation waiting at the shop
    counter (their household first earns the points for it, through the ordinary publicity).
    Returns how many proposals wait. Written through the services, relative to now."""
    from django.utils import timezone

    from hemei.regions.demo import XISHAO_CODE
    from hemei.regions.models import Post

    village = Region.objects.filter(code=XISHAO_CODE).first()
    grid_post = Post.objects.current().filter(user__username="grid1", role="grid_worker").select_related(
        "region", "user").first()
    if village is None or grid_post is None or not hasattr(village, "point_rule_set"):
        return 0
    rule_set = village.point_rule_set
    version = rule_set.current_version()
    if version is None:
        return 0
    items = {i.code: i for i in version.items.all()}
    now = timezone.now()
    today = timezone.localdate(now)
    houses = list(Household.objects.filter(region=grid_post.region, lives_in_village=True).order_by("pk")[:6])
    proposals = [ledger.Proposal(h, items["J1"], today, "入户查看") for h in houses if "J1" in items]
    waiting = 0
    if proposals:
        try:
            entries, _r = ledger.entry_propose_batch(actor=grid_post.user, rule_set=rule_set, proposals=proposals,
                                                     idempotency_key=f"demo-today-{today:%Y%m%d}")
            waiting = len(entries)
        except ValidationError:
            waiting = 0
    _villager_reservation(rule_set, items, now)
    if stdout is not None:
        stdout.write(f"points waiting for review: {waiting}\n")
    return waiting


def _villager_reservation(rule_set: RuleSet, items: dict[str, RuleItem], now: dt.datetime) -> None:
    """The villager persona's household earns 13 points (a volunteer day, paid insurance)
    three weeks ago, past publicity now, and reserves washing powder on the phone."""
    from hemei.points.models import Redemption, Reward
    from hemei.regions.models import Post, Role

    post = Post.objects.current().filter(user__username="villager", role=Role.VILLAGER).select_related(
        "resident__household").first()
    reward = Reward.objects.filter(village=rule_set.village, name="洗衣粉").first()
    if post is None or post.resident is None or reward is None or "G1" not in items:
        return
    house = post.resident.household
    if Redemption.objects.filter(household=house, state=Redemption.State.RESERVED).exists():
        return  # the year's simulation already left one waiting at the counter
    earned = now - dt.timedelta(days=21)
    try:
        entries, _r = ledger.entry_propose_batch(
            actor=SYSTEM, rule_set=rule_set, at=earned, idempotency_key="demo-villager-earn",
            proposals=[ledger.Proposal(house, items["G1"], earned.date(), "志愿服务签到表"),
                       ledger.Proposal(house, items["J2"], earned.date(), "")])
        for e in entries:
            ledger.entry_review(actor=SYSTEM, entry=e, approve=True, idempotency_key=f"demo-villager-r{e.pk}",
                                at=earned + dt.timedelta(hours=2))
        ledger.publicity_sweep(now)
        shop.redemption_create(actor=SYSTEM, household=house, reward=reward, channel="phone",
                               idempotency_key="demo-villager-reserve", at=now)
    except ValidationError:
        return  # the rules of the day refuse it (a cap, a minimum balance): the demo goes on without


def demo_recent_points(*, stdout: Output | None = None, now: dt.datetime | None = None, every: int = 7) -> int:
    """The monthly scoring of every month after the simulated year (which ends with October's)
    and before the month of the build (issue 15: the dashboards' default month is last month,
    and 积分参与率 would read 0 % there). Each such month as the year ran it: J1 for every 7th
    household on the 10th, G1 for a third of them, approved on the 12th, effective after
    publicity on the 25th. The current month is `demo_today_points`' (proposals waiting).
    Returns the number of entries made effective."""
    from django.utils import timezone

    from hemei.cases.demo import DEMO_NOW
    from hemei.regions.demo import XISHAO_CODE

    now = now or timezone.now()
    village = Region.objects.filter(code=XISHAO_CODE).first()
    if village is None or not hasattr(village, "point_rule_set"):
        return 0
    rule_set = village.point_rule_set
    version = rule_set.current_version()
    if version is None:
        return 0
    items = {i.code: i for i in version.items.all()}
    households = list(Household.objects.filter(village=village, lives_in_village=True).order_by("pk")[::every])
    this_month = timezone.localtime(now, SH).date().replace(day=1)
    month = DEMO_NOW.date().replace(day=1)
    n = 0
    while month < this_month and "J1" in items:
        day = month.replace(day=10)
        proposals = [ledger.Proposal(h, items["J1"], day, "入户查看") for h in households]
        proposals += [ledger.Proposal(h, items["G1"], day, "志愿服务签到表")
                      for i, h in enumerate(households) if "G1" in items and (i + month.month) % 3 == 0]
        proposed = dt.datetime.combine(month.replace(day=12), dt.time(10), tzinfo=SH)
        try:
            entries, replayed = ledger.entry_propose_batch(actor=SYSTEM, rule_set=rule_set, proposals=proposals,
                                                           idempotency_key=f"demo-{month:%Y%m}", at=proposed)
        except ValidationError:  # a cap refuses some (already scored this month): propose the others
            entries, replayed = _each_allowed(rule_set, proposals, f"demo-{month:%Y%m}", proposed), False
        for e in entries if not replayed else []:
            ledger.entry_review(actor=SYSTEM, entry=e, approve=True, idempotency_key=f"demo-r{e.pk}",
                                at=proposed + dt.timedelta(hours=3))
        n += ledger.publicity_sweep(dt.datetime.combine(month.replace(day=25), dt.time(10), tzinfo=SH))
        month = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    if stdout is not None:
        stdout.write(f"points since the demo year: {n} entries effective\n")
    return n


def _each_allowed(rule_set: RuleSet, proposals: list[ledger.Proposal], key: str, at: dt.datetime) -> list[Entry]:
    """The proposals of a refused batch one by one, leaving out those the rules refuse."""
    entries: list[Entry] = []
    for i, proposal in enumerate(proposals):
        try:
            entries += ledger.entry_propose_batch(actor=SYSTEM, rule_set=rule_set, proposals=[proposal],
                                                  idempotency_key=f"{key}-{i}", at=at)[0]
        except ValidationError:
            continue
    return entries
