"""Demo data for hemei.contracts (called by `hemei.regions.demo.build.extra_demos`, after the
assets demo; deterministic, reference date 2026-11-01).

西邵村:
- the idle 旧村委会大院 (asset XS-IDLE-02) leased under a full decision record: 两委 discussion
  → 村民代表会议 with votes (meetings services) → township approval → signed; half-yearly rent,
  the October instalment unpaid (overdue);
- the 2025 清理: 28 old contracts reviewed and concluded (kept / renegotiated / terminated);
- one contract under review now, one ending within 90 days.
东邵村 (or 西邵村 if missing): land trusteeship of about 100 households with the season's
services and the 2026 yield income.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from hemei.assets.models import Asset
from hemei.contracts import services, trust
from hemei.contracts.models import Contract, TrustParcel
from hemei.contracts.sweep import sweep_contracts
from hemei.core.scope import SYSTEM
from hemei.meetings.models import Meeting
from hemei.meetings.services import agenda_item_decide, meeting_record
from hemei.regions.models import Household, Region

SH = ZoneInfo("Asia/Shanghai")
D = dt.date
TRUST_CODE = "140110101202"  # 东邵村
TRUST_HOUSEHOLDS = 100
PROVIDER = "晋源区丰禾农机专业合作社"
OUTCOMES = ["renegotiated"] * 17 + ["terminated"] * 6 + ["kept"] * 5  # 28 cleared in 2025
PARTIES = [("晋源区鑫达商贸有限公司", "company"), ("太原市绿源种养专业合作社", "cooperative"), ("王福贵", "person"),
           ("李满仓", "person"), ("山西晋禾农业科技有限公司", "company"), ("郝保平", "person"), ("闫二虎", "person")]


class Output(Protocol):
    def write(self, text: str, /) -> object: ...


def _at(y: int, m: int, d: int, h: int = 10) -> dt.datetime:
    return dt.datetime(y, m, d, h, tzinfo=SH)


def _decide(village: Region, contracts: list[Contract], *, day: dt.date, votes: tuple[int, int, int] = (31, 2, 3)
            ) -> None:
    """两委 discussion a week before, one 村民代表会议 deciding every contract, township approval
    three days after, signing the day after that."""
    for c in contracts:
        services.contract_discuss(actor=SYSTEM, contract=c, on=day - dt.timedelta(days=7),
                                  summary="两委会议研究，同意提交村民代表会议",
                                  at=_at(day.year, day.month, day.day) - dt.timedelta(days=7))
    held = _at(day.year, day.month, day.day, 9)
    meeting = meeting_record(actor=SYSTEM, region=village, kind=Meeting.Kind.REPRESENTATIVES, held_at=held,
                             place="村委会议室", convened_by="村党支部", attendees=36, eligible=45,
                             minutes="审议集体资产出租、承包合同", at=held + dt.timedelta(hours=3))
    for c in contracts:
        item = services.contract_table(actor=SYSTEM, contract=c, meeting=meeting, at=held - dt.timedelta(days=1))
        agenda_item_decide(actor=SYSTEM, item=item, votes_for=votes[0], votes_against=votes[1], votes_abstain=votes[2],
                           decision="同意按合同草案签订", at=held + dt.timedelta(hours=3))
        c.refresh_from_db()
        approved = held + dt.timedelta(days=3)
        services.contract_township_review(actor=SYSTEM, contract=c, approve=True, note="经镇农经站审核，程序合规",
                                          at=approved)
        services.contract_sign(actor=SYSTEM, contract=c, on=(approved + dt.timedelta(days=1)).date(),
                               at=approved + dt.timedelta(days=1))


def _half_yearly(start: dt.date, years: int, yearly: Decimal) -> list[tuple[dt.date, Decimal]]:
    half = (yearly / 2).quantize(Decimal("0.01"))
    rows = []
    for y in range(years):
        rows.append((start.replace(year=start.year + y), half))
        rows.append((start.replace(year=start.year + y, month=10, day=1), yearly - half))
    return rows


def _idle_asset(village: Region, county: Region) -> Asset | None:
    asset = Asset.objects.filter(village=village, code="XS-IDLE-02").first()
    if asset is None:  # the assets demo did not make it: a plain row, demo only
        asset = Asset.objects.create(
            county=county, village=village, code="XS-IDLE-02", name="旧村委会大院", category=Asset.Category.OPERATING,
            kind="房屋", location="西邵村中街", area=Decimal("860.00"), unit=Asset.Unit.SQM,
            original_value=Decimal("420000.00"), net_value=Decimal("180000.00"), status=Asset.Status.IDLE,
            acquired=D(1998, 6, 1),
        )
    return asset if asset.status == Asset.Status.IDLE else None


def _lease(village: Region, county: Region) -> Contract:
    asset = _idle_asset(village, county)
    contract = services.contract_create(
        actor=SYSTEM, village=village, kind="lease", subject="" if asset else "旧村委会大院",
        asset=asset, party_name="晋源区康颐养老服务有限公司", party_kind="company", party_phone="13835100286",
        start=D(2026, 4, 1), end=D(2031, 3, 31), amount=Decimal("180000.00"),
        schedule=_half_yearly(D(2026, 4, 1), 5, Decimal("36000.00")), number="HT2026-0001", at=_at(2026, 2, 20),
    )
    _decide(village, [contract], day=D(2026, 3, 10))
    first = contract.schedule.order_by("due_on").first()
    assert first is not None
    services.payment_record(actor=SYSTEM, due=first, amount=first.amount, paid_on=D(2026, 4, 1), at=_at(2026, 4, 1))
    return contract  # the 2026-10-01 instalment stays unpaid: overdue


def _cleared_2025(village: Region) -> list[Contract]:
    """28 old contracts (signed 2012–2018) reviewed in the 2025 清理 with their outcomes."""
    old: list[Contract] = []
    for i in range(len(OUTCOMES)):
        party, kind = PARTIES[i % len(PARTIES)]
        start = D(2012 + i % 7, 3, 1)
        land = i % 3 != 0
        old.append(services.contract_create(
            actor=SYSTEM, village=village, kind="contracting" if land else "lease",
            subject=f"{'南坡' if i % 2 else '北沟'}集体耕地第{i + 1}片" if land else f"集体厂房第{i + 1}间",
            area_mu=Decimal(8 + i % 9 * 5) if land else None, party_name=party, party_kind=kind,
            start=start, end=D(2032, 12, 31), amount=Decimal(3000 + i * 250), number=f"HT{start.year}-{i + 1:04d}",
            at=_at(start.year, 1, 15),
        ))
    by_year: dict[int, list[Contract]] = {}
    for c in old:
        by_year.setdefault(c.start.year, []).append(c)
    for year, group in sorted(by_year.items()):
        _decide(village, group, day=D(year, 2, 20), votes=(28, 4, 4))
    for i, (c, outcome) in enumerate(zip(old, OUTCOMES, strict=True)):
        flagged = D(2025, 3, 1) + dt.timedelta(days=i * 3)
        reason = "承包费明显低于市场价，期限过长" if i % 2 else "合同条款显失公平，未约定租金调整"
        review = services.contract_flag(actor=SYSTEM, contract=c, reason=reason, on=flagged,
                                        at=_at(flagged.year, flagged.month, flagged.day))
        done = flagged + dt.timedelta(days=60)
        note = {"renegotiated": "重新协商，租金调整至市场价", "terminated": "依法解除，重新公开发包",
                "kept": "经核查程序合规，维持原合同"}[outcome]
        services.review_conclude(actor=SYSTEM, review=review, outcome=outcome, on=done, note=note,
                                 at=_at(done.year, done.month, done.day))
    return old


def _trusteeship(village: Region) -> int:
    households = list(Household.objects.filter(village=village).order_by("pk")[:TRUST_HOUSEHOLDS])
    rows: list[tuple[TrustParcel, str, dt.date, Any, Any]] = []
    for n, house in enumerate(households):
        parcels = []
        for k in range(1 + n % 3):
            area = Decimal(3 + (n * 7 + k * 5) % 10) + Decimal("0.5") * (k % 2)
            parcels.append(trust.parcel_register(
                actor=SYSTEM, household=house, area_mu=area, provider=PROVIDER, entrusted_from=D(2026, 1, 1),
                entrusted_to=D(2028, 12, 31), location=["东沟", "西坡", "南川", "北梁"][(n + k) % 4],
                crop="玉米" if (n + k) % 4 else "谷子",
            ))
        total = sum((p.area_mu for p in parcels), Decimal(0))
        rows.extend(
            (p, kind, day, p.area_mu, (p.area_mu * Decimal(per_mu)).quantize(Decimal("0.01")))
            for p in parcels
            for kind, day, per_mu in (("fertilising", D(2026, 4, 10), "10"), ("sowing", D(2026, 5, 5), "45"),
                                      ("spraying", D(2026, 7, 15), "15"), ("harvest", D(2026, 10, 8), "60"))
        )
        trust.income_record(actor=SYSTEM, household=house, year=2026,
                            yield_income=(total * Decimal(1150 + n % 5 * 20)).quantize(Decimal("0.01")))
    trust.services_record_many(actor=SYSTEM, rows=rows)
    return len(households)


def demo_contracts(*, stdout: Output | Any = None) -> int:
    """Returns the number of contracts written (0 when 西邵村 is missing or done already)."""
    from hemei.regions.demo import XISHAO_CODE

    village = Region.objects.filter(code=XISHAO_CODE).first()
    if village is None or Contract.objects.filter(village=village).exists():
        return 0
    county = village.county_ancestor()
    assert county is not None
    _lease(village, county)
    _cleared_2025(village)
    # Ending within 90 days, and under review now (a 2016 land contract at a fraction of the rent).
    ending = services.contract_create(
        actor=SYSTEM, village=village, kind="contracting", subject="河滩地果园", area_mu=Decimal("35.00"),
        party_name="申建华", party_kind="person", start=D(2017, 1, 15), end=D(2027, 1, 14),
        amount=Decimal("52500.00"), number="HT2017-0100", at=_at(2016, 12, 1),
    )
    under_review = services.contract_create(
        actor=SYSTEM, village=village, kind="contracting", subject="西梁集体林地", area_mu=Decimal("120.00"),
        party_name="温振华", party_kind="person", start=D(2016, 3, 1), end=D(2036, 2, 28),
        amount=Decimal("24000.00"), number="HT2016-0100", at=_at(2016, 1, 10),
    )
    _decide(village, [ending, under_review], day=D(2016, 12, 20))
    services.contract_flag(actor=SYSTEM, contract=under_review, on=D(2026, 10, 15), at=_at(2026, 10, 15),
                           reason="每亩每年仅 10 元，远低于周边 80 元的水平，期限 20 年")
    # The demo's "today": old contracts become active, the overdue rent and the contract ending
    # in January are reminded to the committee (once; the sweeper is idempotent).
    sweep_contracts(_at(2026, 11, 1))
    trust_village = Region.objects.filter(code=TRUST_CODE).first() or village
    households = _trusteeship(trust_village)
    n = Contract.objects.filter(village=village).count()
    if stdout is not None:
        area = sum(TrustParcel.objects.filter(village=trust_village).values_list("area_mu", flat=True))
        stdout.write(f"contracts: {n} in {village.name} (28 cleared in 2025, 1 under review); "
                     f"trusteeship: {households} households, {area} mu in {trust_village.name}\n")
    return n
