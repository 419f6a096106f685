"""Collective assets of 姚村镇 for `hemei demo` (闲置资产动态数据库, "1+3+N").

Deterministic, with the demo's reference time (`DEMO_NOW`, 2026-11-01 09:00; never the wall
clock), through the same services a clerk uses:
1. Ten assets in each village of 姚村镇: offices, an old school building (旧校舍), the old
   village committee compound (旧村委会大院), a closed brick factory, land, greenhouses, a cold
   store, machinery; most idle buildings with coordinates around 晋源区 (~37.7N 112.45E), the
   rest only by address (the map's "plan" list).
2. 西邵村's 旧校舍 becomes a study-tour base (研学基地) with a university and an education
   company (校企联姻), decided by the 村民代表会议 of 2026-04-10 (a real meeting and agenda
   item), started in May, with 2026 income recorded. A township project (腾笼换鸟: 大寺村's
   closed factory → cold-chain storage) and a planned 跨界融合 project in 东邵村.
3. XS-IDLE-02 旧村委会大院 of 西邵村 stays idle for the contracts demo, which leases it; the
   closed factory XS-IDLE-03 stays idle, so the township database still has an idle building
   of 西邵村 after the lease.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from hemei.assets.models import Asset, RevitalisationProject
from hemei.assets.services import AssetData, asset_create, project_create, project_income_record, project_start
from hemei.cases.demo import DEMO_NOW, SH, XISHAO_CODE
from hemei.core.scope import system
from hemei.regions.models import Level, Region

DEMO_ACTOR = system("demo")
TOWNSHIP_CODE = XISHAO_CODE[:9]
C, S, U = Asset.Category, Asset.Status, Asset.Unit
PREFIX = {"西邵村": "XS", "东邵村": "DS", "姚村": "YC", "北邵村": "BS", "南邵村": "NS", "大寺村": "DSS"}
# Village centres (WGS84) spread over 晋源区's south-west, a few hundred metres to km apart.
CENTRES = [(Decimal("37.7180"), Decimal("112.4520")), (Decimal("37.7215"), Decimal("112.4655")),
           (Decimal("37.7060"), Decimal("112.4430")), (Decimal("37.7310"), Decimal("112.4490")),
           (Decimal("37.7005"), Decimal("112.4610")), (Decimal("37.7120"), Decimal("112.4780"))]

# (code suffix, name, category, kind, area, unit, original, net, status, offset in 1/10000 degree or None)
ASSETS: list[tuple[str, str, str, str, str, str, str, str, str, tuple[int, int] | None]] = [
    ("OFF-01", "村委会办公楼", C.NON_OPERATING, "办公用房", "620.00", U.SQM, "1250000.00", "980000.00", S.IN_USE,
     (0, 0)),
    ("IDLE-01", "旧校舍", C.OPERATING, "校舍", "1860.00", U.SQM, "960000.00", "310000.00", S.IDLE, (12, -18)),
    ("IDLE-02", "旧村委会大院", C.OPERATING, "房屋院落", "860.00", U.SQM, "420000.00", "180000.00", S.IDLE, (-9, 14)),
    ("IDLE-03", "原砖厂厂房（已关停）", C.OPERATING, "厂房", "3200.00", U.SQM, "1500000.00", "450000.00", S.IDLE,
     (25, 31)),
    ("LAND-01", "集体机动地", C.RESOURCE, "耕地", "58.00", U.MU, "0.00", "0.00", S.IN_USE, None),
    ("LAND-02", "村北荒坡", C.RESOURCE, "荒山荒坡", "126.50", U.MU, "0.00", "0.00", S.IDLE, None),
    ("GH-01", "蔬菜大棚", C.OPERATING, "温室大棚", "11.00", U.ROOM, "880000.00", "640000.00", S.SHARES, (-22, -6)),
    ("CS-01", "果蔬冷库", C.OPERATING, "冷库", "480.00", U.SQM, "720000.00", "560000.00", S.IN_USE, None),
    ("MACH-01", "拖拉机及配套农具", C.OPERATING, "农机具", "3.00", U.PIECE, "186000.00", "74000.00", S.IN_USE, None),
    ("SQ-01", "村文化广场", C.NON_OPERATING, "公共设施", "2400.00", U.SQM, "380000.00", "300000.00", S.IN_USE, None),
]


def _t(month: int, day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=SH)


def _village_assets(village: Region, index: int) -> dict[str, Asset]:
    prefix = PREFIX.get(village.name, f"V{index}")
    lat0, lng0 = CENTRES[index % len(CENTRES)]
    made: dict[str, Asset] = {}
    for n, (suffix, name, category, kind, area, unit, original, net, status, offset) in enumerate(ASSETS):
        lat = lng = None
        if offset is not None:
            lat = lat0 + Decimal(offset[0]) / 10000
            lng = lng0 + Decimal(offset[1]) / 10000
        data = AssetData(
            code=f"{prefix}-{suffix}", name=name, category=category, kind=kind, area=Decimal(area), unit=unit,
            location=f"{village.name}{'东西南北中'[n % 5]}街", latitude=lat, longitude=lng,
            original_value=Decimal(original), net_value=Decimal(net), ownership=f"{village.name}股份经济合作社",
            acquired=dt.date(1985 + 3 * n, 1 + n, 1),
            notes="2026年清产核资登记" if status == S.IDLE else "",
        )
        made[suffix] = asset_create(actor=DEMO_ACTOR, village=village, data=data, status=status,
                                    reason="清产核资登记", at=_t(1, 8 + index))
    return made


def _decision(village: Region) -> Any:
    """The 村民代表会议 of 2026-04-10 that approves the study-tour base."""
    from hemei.meetings.models import Meeting
    from hemei.meetings.services import agenda_item_add, agenda_item_decide, meeting_record

    held = _t(4, 10, 9)
    meeting = meeting_record(actor=DEMO_ACTOR, region=village, kind=Meeting.Kind.REPRESENTATIVES, held_at=held,
                             place="村委会二楼会议室", convened_by="村党支部", attendees=41, eligible=45,
                             minutes="两委提议盘活旧校舍，与高校、研学企业合作建设研学基地。",
                             at=held + dt.timedelta(hours=3))
    item = agenda_item_add(actor=DEMO_ACTOR, meeting=meeting, title="旧校舍改建研学基地（校企联姻）",
                           description="旧校舍1860平方米，与山西农业大学及太原晋源研学教育公司合作，"
                                       "村集体以资产入股，保底收益。",
                           at=held + dt.timedelta(hours=3))
    return agenda_item_decide(actor=DEMO_ACTOR, item=item, votes_for=38, votes_against=2, votes_abstain=1,
                              decision="同意旧校舍改建研学基地，合作期十年，年保底收益18万元，方案报镇农经站审核。",
                              at=held + dt.timedelta(hours=3, minutes=10))


def demo_assets(*, stdout: Any = None) -> int:
    """Register the assets and projects; returns how many assets. Call once."""
    township = Region.objects.filter(code=TOWNSHIP_CODE, level=Level.TOWNSHIP).first()
    if township is None or Asset.objects.filter(village__path__startswith=township.path).exists():
        return 0
    villages = list(Region.objects.filter(level=Level.VILLAGE, path__startswith=township.path).order_by("code"))
    by_village = {v.name: _village_assets(v, i) for i, v in enumerate(villages)}
    count = sum(len(m) for m in by_village.values())
    xishao = next((v for v in villages if v.code == XISHAO_CODE), None)
    projects = 0
    if xishao is not None:
        item = _decision(xishao)
        school = by_village[xishao.name]["IDLE-01"]
        project = project_create(
            actor=DEMO_ACTOR, region=xishao, name="西邵村研学基地", path=RevitalisationProject.Path.SCHOOL_ENTERPRISE,
            assets=[school], partner="山西农业大学 · 太原晋源研学教育有限公司",
            description="旧校舍改建为农耕研学基地：教室改研学课堂，操场改农事体验区。",
            decision_item=item, expected_annual_income=Decimal("180000.00"), at=_t(4, 12),
        )
        project_start(actor=DEMO_ACTOR, project=project, on=dt.date(2026, 5, 1))
        project_income_record(actor=DEMO_ACTOR, project=project, year=2026, amount=Decimal("96500.00"),
                              note="5—10月研学接待分成及保底收益", at=DEMO_NOW - dt.timedelta(days=1))
        projects += 1
    dasi = by_village.get("大寺村")
    if dasi is not None:
        project = project_create(
            actor=DEMO_ACTOR, region=township, name="姚村镇冷链仓储中心", path=RevitalisationProject.Path.TENGLONG,
            assets=[dasi["IDLE-03"]], partner="山西康满仓食品有限公司",
            description="关停砖厂厂房改建冷链仓储：一期改建厂房3200平方米，冷库6座，储存能力600吨。",
            decision_date=dt.date(2026, 3, 18), decision_summary="镇党委会议研究同意，由大寺村村民代表会议表决通过。",
            expected_annual_income=Decimal("260000.00"), at=_t(3, 20),
        )
        project_start(actor=DEMO_ACTOR, project=project, on=dt.date(2026, 4, 1))
        project_income_record(actor=DEMO_ACTOR, project=project, year=2026, amount=Decimal("152000.00"),
                              note="租金及仓储分成", at=DEMO_NOW - dt.timedelta(days=1))
        projects += 1
    dongshao = by_village.get("东邵村")
    if dongshao is not None:
        project_create(
            actor=DEMO_ACTOR, region=dongshao[next(iter(dongshao))].village, name="东邵村农文旅融合项目",
            path=RevitalisationProject.Path.CROSSOVER, assets=[dongshao["LAND-02"], dongshao["IDLE-01"]],
            partner="晋源区文旅投资公司", description="荒坡种植观赏果林，旧校舍改民宿接待，与晋祠游线联动。",
            expected_annual_income=Decimal("120000.00"), at=_t(10, 20),
        )
        projects += 1
    if stdout is not None:
        stdout.write(f"assets: {count} in {len(villages)} villages, {projects} revitalisation projects\n")
    return count
