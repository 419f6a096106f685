"""Policy matching for `hemei demo`: four policies of 晋源区 as 南庄镇 runs them (seed 002) —
小额信贷 for monitored households, 跨省务工交通补贴 and 稳岗补贴 for members of 脱贫户 working
away, 高龄补贴 for everyone over 80 — each with a 2025 and a 2026 version; the work-away register
of 西邵村's members of 脱贫户 and 监测户 households (bulk-inserted, as the register would hold it);
and a few applications of 西邵村, recorded, granted and refused through the services.

The demo county has no 南庄镇 (its townships are 姚村镇, 晋源街道, 金胜镇, 晋祠镇), so the
policies are issued for the whole county, whose households they then reach.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.db import transaction
from django.utils import timezone

from hemei.core.scope import system
from hemei.policies import selectors, services
from hemei.policies.models import Policy, WorkAway, WorkPlace
from hemei.regions.models import Household, Region, Resident

DEMO = system("demo")
COUNTY_CODE = "140110"
XISHAO_CODE = "140110101201"
V2025, V2026 = dt.date(2025, 1, 1), dt.date(2026, 1, 1)

POLICIES: list[dict[str, Any]] = [
    {
        "code": "xiaoe-xindai", "name": "脱贫人口小额信贷", "issuer": "晋源区乡村振兴局、区农商银行",
        "summary": "为监测对象和脱贫户发展生产提供免抵押、免担保的小额贷款，财政贴息。",
        "benefit": "5万元以下、3年以内贷款，免担保免抵押，基准利率放贷，财政全额贴息。",
        "how_to_apply": "户主向村委会提出申请，村级评议后报镇审核，由区农商银行放贷。",
        "versions": [
            ("2025年版", V2025, [{"field": "household.tags", "op": "has", "value": "监测户"}], "最高5万元，贴息"),
            ("2026年版", V2026, [{"field": "household.tags", "op": "has", "value": "监测户"},
                                {"field": "household.lives_in_village", "op": "==", "value": True}],
             "最高5万元，期限3年，全额贴息"),
        ],
    },
    {
        "code": "kuasheng-jiaotong", "name": "跨省务工一次性交通补贴", "issuer": "晋源区人力资源和社会保障局",
        "summary": "脱贫劳动力到省外稳定就业的，给予一次性往返交通补贴。",
        "benefit": "每人每年一次，按实际车票报销，最高800元。",
        "how_to_apply": "本人或家属持务工证明、车票到村便民服务站登记，网格员代办。",
        "versions": [
            ("2025年版", V2025, [{"field": "household.tags", "op": "has", "value": "脱贫户"},
                                {"field": "member.work_place", "op": "==", "value": "out_of_province"}],
             "最高600元"),
            ("2026年版", V2026, [{"field": "household.tags", "op": "has", "value": "脱贫户"},
                                {"field": "member.work_place", "op": "==", "value": "out_of_province"},
                                {"field": "member.age", "op": ">=", "value": 16}], "最高800元"),
        ],
    },
    {
        "code": "wengang-butie", "name": "脱贫劳动力稳岗补贴", "issuer": "晋源区人力资源和社会保障局",
        "summary": "脱贫劳动力在县外连续务工满6个月的，给予稳岗补贴。",
        "benefit": "每人每月200元，一年最多6个月。",
        "how_to_apply": "凭劳动合同或务工单位证明，经村委会核实后报镇人社所。",
        "versions": [
            ("2025年版", V2025, [{"field": "household.tags", "op": "has", "value": "脱贫户"},
                                {"field": "member.work_place", "op": "in", "value": ["in_province", "out_of_province"]},
                                {"field": "member.months_away", "op": ">=", "value": 6}], "每人每月200元"),
            ("2026年版", V2026, [{"field": "household.tags", "op": "has", "value": "脱贫户"},
                                {"field": "member.work_place", "op": "in", "value": ["in_province", "out_of_province"]},
                                {"field": "member.months_away", "op": ">=", "value": 6},
                                {"field": "member.age", "op": "<=", "value": 60}], "每人每月200元"),
        ],
    },
    {
        "code": "gaoling-butie", "name": "高龄津贴", "issuer": "晋源区民政局",
        "summary": "本区户籍年满80周岁的老年人按月领取高龄津贴。",
        "benefit": "80至89周岁每人每月100元，90周岁以上每人每月200元。",
        "how_to_apply": "本人或家属持身份证、户口簿到村委会登记，按月发放到社保卡。",
        "versions": [
            ("2025年版", V2025, [{"field": "member.age", "op": ">=", "value": 80}], "每人每月50元起"),
            ("2026年版", V2026, [{"field": "member.age", "op": ">=", "value": 80}], "每人每月100元起"),
        ],
    },
]


def _work_away(village: Region, rng: random.Random, today: dt.date) -> int:
    """Members aged 18–55 of 西邵村's 脱贫户 and 监测户 households: about half work away."""
    members = list(Resident.objects.filter(
        household__village=village, status=Resident.Status.LIVING,
        household__tags__name__in=["脱贫户", "监测户"]).distinct().values_list("pk", "county_id", "region_id",
                                                                          "birth_date"))
    rows = []
    for pk, county, grid, birth in members:
        age = today.year - birth.year
        if not 18 <= age <= 55 or rng.random() < 0.5:
            continue
        place = rng.choice([WorkPlace.OUT_OF_PROVINCE, WorkPlace.OUT_OF_PROVINCE, WorkPlace.IN_PROVINCE,
                            WorkPlace.IN_COUNTY])
        province = rng.choice(["江苏省", "浙江省", "广东省", "北京市"]) if place == WorkPlace.OUT_OF_PROVINCE else ""
        rows.append(WorkAway(resident_id=pk, county_id=county, region_id=grid, place=place, province=province,
                             since=today - dt.timedelta(days=rng.randint(40, 900))))
    WorkAway.objects.bulk_create(rows)
    return len(rows)


@transaction.atomic
def demo_policies(*, stdout: Any = None, seed: int = 23) -> int:
    """Build the policies, 西邵村's work-away register and a few applications; the number of
    applications. Nothing when the county is missing or already has policies."""
    county = Region.objects.filter(code=COUNTY_CODE).first()
    village = Region.objects.filter(code=XISHAO_CODE).first()
    if county is None or village is None or Policy.objects.filter(county=county).exists():
        return 0
    rng = random.Random(seed)
    today = timezone.localdate()
    for spec in POLICIES:
        policy = services.policy_create(actor=DEMO, region=county, code=spec["code"], name=spec["name"],
                                        issuer=spec["issuer"], summary=spec["summary"], benefit=spec["benefit"],
                                        how_to_apply=spec["how_to_apply"])
        for label, start, conditions, benefit in spec["versions"]:
            services.version_create(actor=DEMO, policy=policy, label=label, effective_from=start,
                                    conditions=conditions, benefit=benefit, basis=f"晋源区{start.year}年政策文件")
    workers = _work_away(village, rng, today)
    # A few applications: about a third of what 西邵村 qualifies for, some of them decided.
    households = list(Household.objects.filter(village=village).select_related("region").order_by("number"))
    matches = selectors.matches_for(households, today)
    made = 0
    for h in households:
        for m in matches[h.pk]:
            if not m.qualifies or rng.random() < 0.65:
                continue
            for member in (m.outcome.qualifying_members[:1] if m.outcome.per_member else [None]):
                resident = Resident.objects.get(pk=member.id) if member is not None else None
                app = services.application_record(actor=DEMO, household=h, policy=m.policy, member=resident,
                                                  idempotency_key=f"demo-{h.pk}-{m.policy.pk}")
                made += 1
                roll = rng.random()
                if roll < 0.5:
                    services.application_grant(actor=DEMO, application=app, reason="材料齐全，已发放")
                elif roll < 0.6:
                    services.application_refuse(actor=DEMO, application=app, reason="务工证明不全，请补充后重新申请")
    if stdout is not None:
        stdout.write(f"policies: {len(POLICIES)} policies, {workers} members working away, {made} applications\n")
    return made
