"""A year of demo cases for `hemei demo` (issue 3, "Demo").

`demo_cases(seed=…)` writes about 300 cases in 西邵村 and two neighbouring villages of the
demo county, spread over the 12 months before a fixed reference time (`DEMO_NOW`, never the
wall clock), in every state: closed with ratings, closed after a 不满意 reopening, resolved
awaiting rating, in progress, accepted, submitted, rejected, and overdue ones the escalation
sweep moved up to the township or the county.

Each case is simulated step by step as the services and the sweep would have written it:
the same transitions (`services.ALLOWED`), the same deadlines (`hemei.cases.deadlines`, from
the case's own submission time), the same event data, and a sweep every few minutes that
escalates a missed deadline (frozen overdue flag, new deadline from the sweep time). Rows are
then bulk-inserted; case numbers come from the county's `CaseCounter`, so later real cases
continue the sequence. Everything is drawn from `random.Random(seed)` in a fixed order.
"""

from __future__ import annotations

import datetime as dt
import importlib
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from django.apps import apps

from hemei.cases.deadlines import accept_deadline, resolve_deadline
from hemei.cases.models import Case, CaseCounter, CaseEvent, Category
from hemei.cases.services import ALLOWED
from hemei.cases.sweep import NEXT_TIER
from hemei.regions.models import Household, Level, Post, Region, Resident, Role

SH = ZoneInfo("Asia/Shanghai")
# The demo's "now": cases lie in the 12 months before it and none of their steps after it.
DEMO_NOW = dt.datetime(2026, 11, 1, 9, 0, tzinfo=SH)
XISHAO_CODE = "140110101201"
XISHAO_AT = (Decimal("37.7180"), Decimal("112.4520"))  # 西邵村 on the demo map (the assets demo's first centre)
TOTAL = 300
S = Case.Status
K = CaseEvent.Kind
AT = object()  # a field set to the time of the step


class Output(Protocol):
    def write(self, text: str, /) -> object: ...


# Per category: titles, descriptions, measures (any title may go with any description).
PHRASES: dict[str, tuple[list[str], list[str], list[str]]] = {
    "环境卫生": (
        ["垃圾清运不及时", "村口垃圾堆积", "排水沟堵塞发臭", "公厕无人打扫", "河道漂浮垃圾"],
        ["垃圾已经堆了好几天没人清运，气味很大，夏天招蚊蝇。", "路边垃圾桶满了溢出来，狗扒得到处都是。",
         "排水沟被淤泥和杂物堵住，下雨就往路上漫水。"],
        ["已联系保洁员当日清运，并增加清运频次。", "组织人员清理淤泥杂物，疏通排水沟。", "安排专人每日巡查保洁。"],
    ),
    "道路交通": (
        ["村道坑洼", "路灯不亮", "巷道被杂物占用", "桥边护栏损坏", "道路积水"],
        ["村里主路有几处大坑，晚上骑电动车容易摔倒。", "这一段路灯坏了半个月，晚上出门很不方便。",
         "有人在巷子里堆放建材，车辆和行人都过不去。"],
        ["已用沥青修补路面坑洼。", "已联系电工更换灯具，恢复照明。", "已劝导清理占道杂物，道路恢复通行。"],
    ),
    "供水供暖": (
        ["自来水停水", "水压太低", "暖气不热", "供水管道漏水"],
        ["从早上开始家里就停水了，也没有通知，做饭都成问题。", "天冷了家里暖气一直不热，老人受不了。",
         "路边水管破了一直往外冒水，浪费也结冰。"],
        ["已联系供水站抢修管道，当日恢复供水。", "已协调供热单位排气检修，室温恢复正常。", "已关阀维修漏点。"],
    ),
    "矛盾纠纷": (
        ["邻里宅基地纠纷", "排水引起邻里矛盾", "家庭赡养纠纷", "土地承包边界争议"],
        ["和邻居因为宅基地边界的事争执多次，希望村里出面调解。", "邻居家的雨水排到我家院子里，说了几次不改。",
         "兄弟几个对老人赡养分摊有分歧，闹得很僵。"],
        ["村调解委员会组织双方现场调解，达成书面协议。", "网格员上门沟通，双方各让一步，矛盾化解。",
         "依据承包合同和测绘资料明确边界。"],
    ),
    "治安隐患": (
        ["夜间有陌生人徘徊", "监控探头损坏", "空房门窗破损"],
        ["最近晚上常有陌生人在村里转，大家有点担心。", "村口的监控坏了很久，出了事没法查。"],
        ["已通报派出所并加强夜间巡逻。", "已报修监控设备，恢复正常。", "已联系房主加固门窗。"],
    ),
    "消防隐患": (
        ["柴草堆放靠近民房", "私拉乱接电线", "消防通道被占"],
        ["有人把玉米秆堆在房子边上，一旦着火很危险。", "有户人家从屋里拉电线给电动车充电，很不安全。"],
        ["已督促清理柴草，移至安全地点。", "已拆除私拉电线，宣传安全用电。", "已清理通道杂物。"],
    ),
    "食品安全": (
        ["小卖部售卖过期食品", "流动摊贩卫生差"],
        ["在村里小卖部买到的饮料已经过期了，担心还有别的。", "村口流动摊贩的熟食没有遮盖，卫生条件差。"],
        ["已联系市场监管所检查，下架过期商品。", "已劝离无证摊贩并告知办证流程。"],
    ),
    "养老服务": (
        ["独居老人需要助餐", "老人申请上门探访", "高龄补贴未到账"],
        ["隔壁独居老人腿脚不方便，吃饭成问题。", "家里老人长期卧床，希望有人定期上门看看。",
         "老人的高龄补贴这个季度还没到账。"],
        ["已纳入村老年食堂送餐名单。", "已安排养老服务人员每周上门探访。", "已核实并补发高龄补贴。"],
    ),
    "政策咨询": (
        ["咨询医保缴费", "咨询低保申请条件", "咨询危房改造政策"],
        ["想问一下今年城乡居民医保怎么交，交多少。", "家里困难，想了解一下低保需要什么条件。"],
        ["已电话答复缴费标准和渠道。", "已上门讲解申请条件和所需材料。"],
    ),
    "其他": (
        ["建议增设健身器材", "建议开通村内公交", "广场舞噪音扰民"],
        ["村里广场的健身器材太少了，建议再加几样。", "晚上广场舞音响开得太大，影响休息。"],
        ["已列入村级项目计划。", "已与相关人员沟通，控制音量和时间。"],
    ),
}
CATEGORY_WEIGHTS = {"环境卫生": 24, "道路交通": 18, "供水供暖": 10, "矛盾纠纷": 12, "治安隐患": 5,
                    "消防隐患": 4, "食品安全": 3, "养老服务": 9, "政策咨询": 10, "其他": 5}
REJECT_REASONS = ["重复反映，已并入在办诉求。", "不属于村级受理范围，已告知反映人向相关部门咨询。", "反映内容不实。"]
SOURCES = [Case.Source.VILLAGER, Case.Source.VISIT, Case.Source.PHONE, Case.Source.PATROL]

# Outcome → share of the cases. "open_late": an open case the sweep escalated.
PLAN_MIX = [("closed", 64), ("closed_late", 5), ("reopened", 5), ("rejected", 3), ("merged", 2), ("resolved", 4),
            ("in_progress", 4), ("accepted", 3), ("submitted", 3), ("open_late", 6)]
TRANSFER_UNITS = ["镇综合行政执法队", "镇环卫站", "镇农业综合服务中心", "供水公司晋源分公司"]


@dataclass
class _Sim:
    """One case being played forward in time; `events` are its timeline in order."""

    case: Case
    category: Category
    county_code: str
    rng: random.Random
    clock: dt.datetime
    events: list[CaseEvent] = field(default_factory=list)
    # Rows that need the case's id (written after the bulk insert).
    merge_at: dt.datetime | None = None
    extensions: list[dict[str, Any]] = field(default_factory=list)

    def _add(self, kind: str, at: dt.datetime, actor: Any, from_status: str, to_status: str, note: str = "",
             data: dict[str, Any] | None = None) -> None:
        self.events.append(CaseEvent(at=at, actor=actor, kind=kind, from_state=from_status, to_state=to_status,
                                     note=note, data=data or {}))
        self.clock = at
        self.case.updated_at = at

    def sweep_until(self, t: dt.datetime) -> None:
        """What the sweep (every few minutes) did before `t`: each missed deadline climbs a tier."""
        c = self.case
        while c.status in (S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS) and c.tier in NEXT_TIER:
            deadline = "accept" if c.status == S.SUBMITTED else "resolve"
            fld = f"{deadline}_by"
            missed = getattr(c, fld)
            when = missed + dt.timedelta(minutes=self.rng.randint(1, 9), seconds=self.rng.randint(0, 59))
            if when >= t:
                return
            compute = accept_deadline if deadline == "accept" else resolve_deadline
            new = compute(self.category, when, self.county_code)
            old_tier, new_tier = c.tier, NEXT_TIER[Case.Tier(c.tier)]
            c.tier, c.escalated_at = new_tier, when
            c.late_since = c.late_since or missed
            setattr(c, fld, new)
            setattr(c, f"overdue_{deadline}", True)
            self._add(K.ESCALATED, when, None, c.status, c.status,
                      data={"deadline": deadline, "from_tier": old_tier, "to_tier": new_tier,
                            "missed": missed.isoformat(), fld: new.isoformat()})

    def step(self, at: dt.datetime, kind: str, to: str, actor: Any = None, note: str = "",
             data: dict[str, Any] | None = None, **fields: Any) -> bool:
        """One transition at `at`, after the sweeps due before it; False (nothing done) if it
        would lie after the demo's now."""
        at = max(at, self.clock + dt.timedelta(minutes=3))
        if at >= DEMO_NOW:
            return False
        self.sweep_until(at)
        at = max(at, self.clock + dt.timedelta(minutes=3))
        c = self.case
        assert to in ALLOWED[c.status], (c.status, to)
        old = c.status
        c.status = to
        for name, value in fields.items():
            setattr(c, name, at if value is AT else value)
        self._add(kind, at, actor, old, to, note=note, data=data)
        return True

    def note(self, at: dt.datetime, kind: str, actor: Any, note: str = "", data: dict[str, Any] | None = None) -> bool:
        """An event that leaves the status as it is (transfer, extension), after the sweeps due."""
        at = max(at, self.clock + dt.timedelta(minutes=3))
        if at >= DEMO_NOW:
            return False
        self.sweep_until(at)
        at = max(at, self.clock + dt.timedelta(minutes=3))
        self._add(kind, at, actor, self.case.status, self.case.status, note=note, data=data)
        return True

    def before(self, deadline: dt.datetime, lo: float = 0.1, hi: float = 0.7) -> dt.datetime:
        """A time between the clock and `deadline` (on time), before the demo's now."""
        deadline = min(deadline, DEMO_NOW - dt.timedelta(minutes=30))
        span = max((deadline - self.clock).total_seconds(), 600.0)
        return self.clock + dt.timedelta(seconds=int(span * self.rng.uniform(lo, hi)))

    def after(self, deadline: dt.datetime, hours: tuple[int, int]) -> dt.datetime:
        return deadline + dt.timedelta(hours=self.rng.randint(*hours), minutes=self.rng.randint(0, 59))


def _ensure_categories() -> list[Category]:
    rows = list(Category.objects.filter(county__isnull=True, active=True).order_by("sort", "name"))
    if not rows:  # a database emptied after migrating (some test setups): seed the catalogue
        importlib.import_module("hemei.cases.migrations.0002_default_categories").forwards(apps, None)
        rows = list(Category.objects.filter(county__isnull=True, active=True).order_by("sort", "name"))
    return rows


def _villages(county: Region) -> list[Region]:
    """西邵村 and the next two villages of its township with households (any village if not)."""
    xishao = Region.objects.get(code=XISHAO_CODE)
    township = Region.objects.get_parent(xishao)
    inhabited = Household.objects.filter(county=county).values("village_id")
    villages = Region.objects.filter(level=Level.VILLAGE, pk__in=inhabited).exclude(pk=xishao.pk)
    others = list(villages.filter(path__startswith=township.path).order_by("code")[:2])
    if len(others) < 2:
        others += list(villages.exclude(pk__in=[v.pk for v in others]).order_by("code")[: 2 - len(others)])
    return [xishao, *others]


def demo_cases(*, seed: int, stdout: Output | None = None) -> int:
    """Create the demo cases; returns how many. Call once, when the demo county is new."""
    rng = random.Random(seed * 7919 + 3)
    # Where 西邵村's problems are, for the case page's small map: a stream of its own, so the
    # cases themselves stay as they were for a seed.
    spots = random.Random(seed * 104723 + 5)
    county = Region.objects.get(code=XISHAO_CODE[:6])
    categories = {c.name: c for c in _ensure_categories()}
    names = [n for n in CATEGORY_WEIGHTS if n in categories] or sorted(categories)
    weights = [CATEGORY_WEIGHTS.get(n, 1) for n in names]
    villages = _villages(county)
    posts = list(Post.objects.current().filter(region__path__startswith=villages[0].path)
                 .select_related("user", "region", "resident").order_by("region__code", "role", "user__username"))
    staff_by_region: dict[int, list[Any]] = {}
    secretary = None
    villager_post = None
    township_user = (Post.objects.current().filter(role=Role.TOWNSHIP_STAFF, region=Region.objects.get_parent(
        villages[0])).select_related("user").order_by("user__username").first())
    for post in posts:
        if post.role in (Role.GRID_WORKER, Role.GRID_LEADER):
            staff_by_region.setdefault(post.region_id, []).append(post.user)
        elif post.role == Role.SECRETARY:
            secretary = post.user
        elif post.role == Role.VILLAGER and villager_post is None:
            villager_post = post
    adult = DEMO_NOW.date().replace(year=DEMO_NOW.year - 18)
    reporters: dict[int, list[Resident]] = {
        v.pk: list(Resident.objects.filter(household__village=v, status=Resident.Status.LIVING,
                                           birth_date__lte=adult).order_by("id"))
        for v in villages
    }
    shares = [0.6, 0.2, 0.2] if len(villages) == 3 else [1.0 / len(villages)] * len(villages)
    plans = [p for p, n in PLAN_MIX for _ in range(n)]

    sims: list[_Sim] = []
    for i in range(TOTAL):
        vi = rng.choices(range(len(villages)), weights=shares)[0]
        village = villages[vi]
        if not reporters[village.pk]:
            continue
        if vi == 0 and i < 6 and villager_post is not None and villager_post.resident is not None:
            reporter = villager_post.resident  # the villager persona sees a few of their own
        else:
            reporter = rng.choice(reporters[village.pk])
        plan = rng.choice(plans)
        category = categories[rng.choices(names, weights=weights)[0]]
        titles, descriptions, measures = PHRASES.get(category.name, PHRASES["其他"])
        # How long ago it was submitted: open cases are recent, settled ones anywhere in the year.
        ago_hours = {
            "submitted": (1, 36), "accepted": (2, 60), "in_progress": (6, 120), "resolved": (10, 120),
            "open_late": (72, 24 * 30),
        }.get(plan)
        if ago_hours is None:  # settled: any day of the year, in the daytime
            day = DEMO_NOW.date() - dt.timedelta(days=rng.randint(20, 364))
            created = dt.datetime.combine(day, dt.time(rng.randint(7, 20), rng.randint(0, 59)), tzinfo=SH)
        else:
            created = DEMO_NOW - dt.timedelta(hours=rng.randint(*ago_hours), minutes=rng.randint(0, 59))
        staff = staff_by_region.get(reporter.region_id, [])
        if category.name in ("矛盾纠纷", "养老服务") and secretary is not None:
            staff = [secretary]
        responsible = rng.choice(staff) if staff else None
        unit = "" if responsible is not None else f"{village.name}村民委员会"
        source = rng.choice(SOURCES)
        villager_user = villager_post.user if villager_post is not None and reporter == villager_post.resident else None
        entered_by = villager_user if source == Case.Source.VILLAGER else responsible
        case = Case(
            county=county, region_id=reporter.region_id, household_id=reporter.household_id, reporter=reporter,
            reporter_name=reporter.name, source=source, category=category, title=rng.choice(titles),
            description=rng.choice(descriptions), status=S.SUBMITTED,
            accept_by=accept_deadline(category, created, county.code),
            resolve_by=resolve_deadline(category, created, county.code),
            created_by=entered_by, created_at=created, updated_at=created,
        )
        if village.code == XISHAO_CODE:  # within about 400 m of the village centre
            case.lat = XISHAO_AT[0] + Decimal(spots.randint(-3600, 3600)) / 1_000_000
            case.long = XISHAO_AT[1] + Decimal(spots.randint(-4500, 4500)) / 1_000_000
        sim = _Sim(case=case, category=category, county_code=county.code, rng=rng, clock=created)
        sim._add(K.SUBMITTED, created, entered_by, "", S.SUBMITTED,
                 data={"accept_by": case.accept_by.isoformat(), "resolve_by": case.resolve_by.isoformat()})
        _play(sim, plan, responsible=responsible, unit=unit, measures=measures, rater=villager_user,
              asker=responsible or secretary, decider=township_user.user if township_user else None)
        sim.sweep_until(DEMO_NOW)
        sims.append(sim)

    sims.sort(key=lambda s: (s.case.created_at, s.case.title))
    _number(county, [s.case for s in sims])
    pairs = _plan_merges(sims)
    cases = Case.objects.bulk_create([s.case for s in sims], batch_size=500)
    events = []
    for case, sim in zip(cases, sims, strict=True):
        for event in sim.events:
            event.case = case
            events.append(event)
    CaseEvent.objects.bulk_create(events, batch_size=1000)
    _link(pairs, cases, sims)
    if stdout is not None:
        stdout.write(f"cases: {len(cases)}\n")
    return len(cases)


def _play(sim: _Sim, plan: str, *, responsible: Any, unit: str, measures: list[str], rater: Any, asker: Any,
          decider: Any) -> None:
    """Walk one case through the transitions its plan asks for (stopping at the demo's now)."""
    c, rng = sim.case, sim.rng
    actor = responsible

    def transfer() -> None:
        to_unit = rng.choice(TRANSFER_UNITS)
        at = sim.before(c.resolve_by, 0.05, 0.2)
        if sim.note(at, K.TRANSFERRED, actor, note="需要上级部门的专业力量处理。",
                    data={"from_unit": c.responsible_unit, "to_unit": to_unit,
                          "from_person": getattr(c.responsible, "pk", None), "to_person": None}):
            c.responsible_unit, c.responsible = to_unit, None

    def extend() -> None:
        """Asked by the village, granted by the township the next working morning: +5 days."""
        if asker is None or decider is None:
            return
        asked = sim.before(c.resolve_by, 0.3, 0.5)
        until = resolve_deadline(sim.category, c.resolve_by, sim.county_code) if sim.category.resolve_hours is None \
            else c.resolve_by + dt.timedelta(hours=24)
        until = min(until, c.resolve_by + dt.timedelta(days=7))
        old = c.resolve_by
        if not sim.note(asked, K.EXTENSION_ASKED, asker, note="需要等待材料和施工队，申请延期。",
                        data={"until": until.isoformat()}):
            return
        decided = sim.clock + dt.timedelta(hours=rng.randint(2, 20))
        if decided >= old or not sim.note(decided, K.EXTENSION_GRANTED, decider, note="同意延期，请按期办结。",
                                          data={"until": until.isoformat()}):
            sim.extensions.append({"asked_by": asker, "asked_at": asked, "old": old, "until": until,
                                   "status": "pending", "decided_by": None, "decided_at": None})
            return
        c.resolve_by = until
        sim.extensions.append({"asked_by": asker, "asked_at": asked, "old": old, "until": until,
                               "status": "granted", "decided_by": decider, "decided_at": sim.clock})

    def accept(at: dt.datetime) -> bool:
        return sim.step(at, K.ACCEPTED, S.ACCEPTED, actor, data={"responsible": getattr(responsible, "pk", None),
                                                                 "unit": unit},
                        responsible=responsible, responsible_unit=unit, accepted_at=AT)

    def resolve(at: dt.datetime) -> bool:
        text = rng.choice(measures)
        return sim.step(at, K.RESOLVED, S.RESOLVED, actor, note=text, measures=text, resolved_at=AT)

    def rate(rating: str) -> bool:
        at = sim.clock + dt.timedelta(hours=rng.randint(3, 72))
        if rating == Case.Rating.UNSATISFIED:
            at = max(at, sim.clock + dt.timedelta(minutes=3))
            new = resolve_deadline(sim.category, at, sim.county_code)
            return sim.step(at, K.REOPENED, S.IN_PROGRESS, rater, note="问题没有彻底解决，还是老样子。",
                            data={"rating": rating, "resolve_by": new.isoformat()},
                            rating=rating, resolve_by=new, resolved_at=None, rated_unsatisfied=True,
                            late_since=None)
        return sim.step(at, K.RATED, S.CLOSED, rater, data={"rating": rating}, rating=rating, closed_at=AT)

    def good() -> str:
        return Case.Rating.SATISFIED if rng.random() < 0.82 else Case.Rating.BASICALLY

    if plan == "submitted":
        return
    if plan == "merged":
        at = sim.before(c.accept_by)
        if sim.step(at, K.MERGED, S.MERGED, actor, note="同一问题已有人反映，合并办理。", closed_at=AT):
            sim.merge_at = sim.clock
        return
    if plan == "rejected" and rng.random() < 0.7:
        at = sim.before(c.accept_by)
        sim.step(at, K.REJECTED, S.REJECTED, actor, note=rng.choice(REJECT_REASONS),
                 closed_at=AT)
        return
    late_accept = plan == "open_late" and rng.random() < 0.4
    if late_accept and rng.random() < 0.3:
        return  # still waiting to be accepted, escalated to the township and the county
    if not accept(sim.after(c.accept_by, (1, 30)) if late_accept else sim.before(c.accept_by)):
        return
    if plan == "rejected":
        at = sim.before(c.resolve_by, 0.05, 0.2)
        sim.step(at, K.REJECTED, S.REJECTED, actor, note=rng.choice(REJECT_REASONS),
                 closed_at=AT)
        return
    if plan == "accepted":
        return
    start = plan in ("in_progress", "open_late", "reopened") or rng.random() < 0.7
    if start and not sim.step(sim.before(c.resolve_by, 0.02, 0.15), K.STARTED, S.IN_PROGRESS, actor,
                              note="已到现场查看，正在处理。"):
        return
    if c.responsible_unit == "" and rng.random() < 0.12:
        transfer()
    if plan in ("closed", "in_progress") and rng.random() < 0.08:
        extend()
    if plan in ("in_progress", "open_late"):
        return
    late = plan == "closed_late"
    if not resolve(sim.after(c.resolve_by, (2, 96)) if late else sim.before(c.resolve_by, 0.2, 0.9)):
        return
    if plan == "resolved":
        return
    if plan == "reopened" and (
        not rate(Case.Rating.UNSATISFIED) or not resolve(sim.before(c.resolve_by, 0.2, 0.8))
    ):
        return
    rate(good())


def _number(county: Region, cases: list[Case]) -> None:
    """Numbers in submission order from the county's counter, as `services._next_number` does."""
    by_year: dict[int, CaseCounter] = {}
    for case in cases:
        year = case.created_at.astimezone(SH).year
        counter = by_year.get(year)
        if counter is None:
            counter, _created = CaseCounter.objects.select_for_update().get_or_create(county=county, year=year)
            by_year[year] = counter
        counter.last += 1
        case.number = f"{county.code}-{year}-{counter.last:06d}"
    for counter in by_year.values():
        counter.save(update_fields=["last"])


def _plan_merges(sims: list[_Sim]) -> list[tuple[_Sim, _Sim]]:
    """Each merged duplicate points at the latest earlier case of its village still open at
    the merge (with an event on that case too); without one it stays a plain rejection.
    Runs after numbering and before the insert, on the in-memory rows."""
    pairs = []
    for i, sim in enumerate(sims):
        if sim.merge_at is None:
            continue
        event = next(e for e in sim.events if e.kind == K.MERGED)
        target = next((t for t in reversed(sims[:i]) if t.case.region_id == sim.case.region_id
                       and (t.case.closed_at is None or t.case.closed_at > sim.merge_at)
                       and t.case.status not in (S.MERGED, S.REJECTED)), None)
        if target is None:
            sim.case.status = event.to_state = S.REJECTED
            event.kind = K.REJECTED
            continue
        event.data = {"into": target.case.number}
        target.events.append(CaseEvent(at=sim.merge_at, actor=None, kind=K.MERGED, note=event.note,
                                       data={"duplicate": sim.case.number}))
        pairs.append((sim, target))
    return pairs


def _link(pairs: list[tuple[_Sim, _Sim]], cases: list[Case], sims: list[_Sim]) -> None:
    """Rows that need ids: merged_into, and extension requests as DeadlineExtension rows."""
    from hemei.cases.models import DeadlineExtension

    for dup, target in pairs:
        Case.objects.filter(pk=dup.case.pk).update(merged_into=target.case.pk)
    DeadlineExtension.objects.bulk_create([
        DeadlineExtension(case=case, asked_by=e["asked_by"], asked_at=e["asked_at"], old_resolve_by=e["old"],
                          until=e["until"], reason="需要等待材料和施工队，申请延期。", status=e["status"],
                          decided_by=e["decided_by"], decided_at=e["decided_at"],
                          decision_note="同意延期，请按期办结。" if e["status"] == "granted" else "")
        for case, sim in zip(cases, sims, strict=True) for e in sim.extensions
    ])


def demo_today_cases(*, stdout: Output | None = None) -> int:
    """Cases that fall due on the day the demo is built (issue 15: "cases due today for
    grid1"): the simulated year ends on DEMO_NOW, so without these the grid worker's to-do list
    would hold only old, overdue work. Two new reports in grid1's grid (an urgent fire hazard,
    accepted within two hours, and a street light, accepted by the end of the working day) and
    one taken by grid1 itself, to resolve within a day. Written through the services."""
    from hemei.cases import services
    from hemei.core.scope import SYSTEM

    post = Post.objects.current().filter(user__username="grid1", role=Role.GRID_WORKER).select_related(
        "region", "user").first()
    if post is None:
        return 0
    residents = list(Resident.objects.filter(region=post.region, status=Resident.Status.LIVING,
                                             relation=Resident.Relation.HEAD).order_by("id")[:3])
    categories = {c.name: c for c in Category.objects.filter(county__isnull=True)}
    plan = [("消防隐患", "柴草堆在电线下面", "院墙外柴草堆得很高，上面就是电线，怕着火。"),
            ("公共设施：路灯", "村口路灯不亮", "村口两盏路灯一周不亮了，晚上老人出门看不清。"),
            ("治安隐患", "废弃机井没有盖", "村西废弃机井口敞着，孩子们常在附近玩。")]
    made = []
    for (name, title, text), reporter in zip(plan, residents, strict=False):
        if name not in categories:
            continue
        made.append(services.case_submit(
            actor=SYSTEM, region=post.region, category=categories[name], title=title, description=text,
            source=Case.Source.PHONE, household=reporter.household, reporter=reporter,
            reporter_name=reporter.name))
    if len(made) == 3:
        services.case_accept(actor=SYSTEM, case=made[2], responsible=post.user, unit="")
    if stdout is not None:
        stdout.write(f"cases due today for grid1: {len(made)}\n")
    return len(made)
