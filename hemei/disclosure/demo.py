"""三务公开 and finances of 西邵村 for `hemei demo` (issue 5, "Demo").

Deterministic, with the demo's fixed reference time (2026-11-01 09:00, never the wall clock):
1. Collective income by year as audited, 2019–2025 (23.7万 → 167.4万, the seed's rise), and
   finance entries for October 2025 – October 2026 whose 2026 income adds up to 194.9万.
2. Twelve monthly statements (October 2025 – September 2026), each drafted by the accountant,
   reviewed by the supervision committee and published by the secretary a few working days
   after its month — through the same services a clerk uses, so the chain and hashes are real.
   October 2026's statement is not yet due (the 10th working day of November).
3. Party and village affairs for the quarters of 2026, one village disclosure corrected (two
   published versions); the party affairs of the second quarter were never published.
4. A schedule from January 2026, then one sweep at the reference time: the missed quarter is
   escalated to the township, exactly once.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Protocol

from hemei.accounts.models import User
from hemei.cases.demo import DEMO_NOW, SH, XISHAO_CODE
from hemei.disclosure import finance, services, sweep
from hemei.disclosure.models import AnnualIncome, Disclosure, DisclosureVersion, FinanceEntry, Kind, ScheduleSettings
from hemei.regions.models import Region

ANNUAL = {
    2019: "237000",
    2020: "352000",
    2021: "528000",
    2022: "785000",
    2023: "1063000",
    2024: "1386000",
    2025: "1674000",
}
# Monthly collective income (yuan); January–October 2026 add up to 1,949,000 (194.9万).
MONTHLY_INCOME = {
    (2025, 10): 140_000,
    (2025, 11): 130_000,
    (2025, 12): 160_000,
    (2026, 1): 150_000,
    (2026, 2): 120_000,
    (2026, 3): 180_000,
    (2026, 4): 210_000,
    (2026, 5): 190_000,
    (2026, 6): 230_000,
    (2026, 7): 200_000,
    (2026, 8): 220_000,
    (2026, 9): 214_000,
    (2026, 10): 235_000,
}
PARTNERS = ("晋源果蔬专业合作社", "西邵村冷库租户", "太原市晋源区农业农村局", "山西某农业科技有限公司")


class Output(Protocol):
    def write(self, text: str, /) -> object: ...


def _at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), SH)


def _entries(village: Region, county: Region, accountant: User) -> list[FinanceEntry]:
    rows: list[FinanceEntry] = []
    for (year, month), total in MONTHLY_INCOME.items():
        first = dt.date(year, month, 1)
        parts = [
            ("502", "income", total * 55 // 100, 5, "土地及冷库承包费", PARTNERS[0]),
            ("501", "income", total * 30 // 100, 12, "农产品销售收入", PARTNERS[1]),
            ("504", "income", total * 10 // 100, 18, "村级运转补助", PARTNERS[2]),
            ("503", "income", total - total * 95 // 100, 25, "合作社入股分红", PARTNERS[3]),
            ("511", "expense", total * 20 // 100, 8, "冷库电费及维护", ""),
            ("512", "expense", 8000, 15, "办公及会议支出", ""),
            ("513", "expense", total * 15 // 100, 22, "道路保洁及路灯维修", ""),
        ]
        for n, (subject, direction, amount, day, summary, partner) in enumerate(parts, start=1):
            date = first.replace(day=day)
            rows.append(
                FinanceEntry(
                    county=county,
                    village=village,
                    date=date,
                    year=year,
                    subject=subject,
                    direction=direction,
                    amount=Decimal(amount).quantize(finance.CENT),
                    counterparty=partner,
                    voucher=f"记-{month:02d}-{n:02d}",
                    summary=summary,
                    created_by=accountant,
                    created_at=_at(date, 16),
                )
            )
    return rows


def _publish(version: DisclosureVersion, *, author: User, reviewer: User, publisher: User, day: dt.date) -> None:
    services.version_submit(actor=author, version=version, now=_at(day, 10))
    services.version_review(actor=reviewer, version=version, approve=True, now=_at(day + dt.timedelta(days=1), 10))
    services.version_publish(actor=publisher, version=version, now=_at(day + dt.timedelta(days=2), 10))


QUARTERS = {
    1: (dt.date(2026, 1, 1), dt.date(2026, 3, 31), dt.date(2026, 4, 7)),
    2: (dt.date(2026, 4, 1), dt.date(2026, 6, 30), dt.date(2026, 7, 6)),
    3: (dt.date(2026, 7, 1), dt.date(2026, 9, 30), dt.date(2026, 10, 12)),
}
VILLAGE_TEXT = {
    1: "一、村集体土地承包合同清理 28 份，已全部公示。\n二、春季植树 1200 株。\n三、村道路灯维修 36 盏。",
    2: "一、冷库改造项目完成招标，中标单位已公示。\n二、村内道路硬化 1.2 公里。\n三、新增保洁员 2 名。",
    3: "一、村内道路硬化 0.8 公里。\n二、果蔬合作社入社农户 126 户。\n三、积分超市兑换 312 人次。",
}
PARTY_TEXT = {
    1: "一、召开党员大会 1 次、支委会 3 次。\n二、开展主题党日活动 3 次。\n三、收缴党费共计 2860.00 元。",
    3: "一、召开党员大会 1 次、支委会 3 次。\n二、确定入党积极分子 2 名。\n三、收缴党费共计 2910.00 元。",
}


def demo_disclosure(*, stdout: Output | None = None) -> int:
    """Write the demo for 西邵村; returns the number of published versions (0 if already there)."""
    village = Region.objects.filter(code=XISHAO_CODE).first()
    if village is None or Disclosure.objects.filter(village=village).exists():
        return 0
    county = village.county_ancestor()
    users = {u.username: u for u in User.objects.filter(username__in=["secretary", "supervisor", "accountant"])}
    if county is None or len(users) < 3:
        return 0
    secretary, supervisor, accountant = users["secretary"], users["supervisor"], users["accountant"]
    for year, amount in ANNUAL.items():
        AnnualIncome.objects.create(village=village, year=year, amount=Decimal(amount), source="年度审计报告")
    FinanceEntry.objects.bulk_create(_entries(village, county, accountant))
    ScheduleSettings.objects.create(village=village, tracked_from=dt.date(2026, 1, 1))
    published = 0
    # 1. Monthly statements, October 2025 – September 2026.
    for year, month in list(MONTHLY_INCOME)[:12]:
        start = dt.date(year, month, 1)
        after = finance.next_month(start) + dt.timedelta(days=2)
        version = finance.statement_draft(actor=accountant, village=village, year=year, month=month, now=_at(after))
        _publish(version, author=accountant, reviewer=supervisor, publisher=secretary, day=after)
        published += 1
    # 2. Village and party affairs by quarter; Q3 village affairs corrected; Q2 party affairs missed.
    for quarter, (start, end, day) in QUARTERS.items():
        version = services.disclosure_create(
            actor=secretary,
            village=village,
            kind=Kind.VILLAGE,
            title=f"2026年第{quarter}季度村务公开",
            body=VILLAGE_TEXT[quarter],
            period_start=start,
            period_end=end,
            now=_at(day - dt.timedelta(days=1)),
        )
        _publish(version, author=secretary, reviewer=supervisor, publisher=secretary, day=day)
        published += 1
        if quarter in PARTY_TEXT:
            party = services.disclosure_create(
                actor=secretary,
                village=village,
                kind=Kind.PARTY,
                title=f"2026年第{quarter}季度党务公开",
                body=PARTY_TEXT[quarter],
                period_start=start,
                period_end=end,
                now=_at(day - dt.timedelta(days=1)),
            )
            _publish(party, author=secretary, reviewer=supervisor, publisher=secretary, day=day)
            published += 1
        if quarter == 3:
            correction = services.correction_start(
                actor=secretary,
                disclosure=version.disclosure,
                reason="道路硬化长度核实后更正为 1.1 公里",
                body=VILLAGE_TEXT[3].replace("0.8 公里", "1.1 公里"),
                now=_at(dt.date(2026, 10, 19)),
            )
            _publish(correction, author=secretary, reviewer=supervisor, publisher=secretary, day=dt.date(2026, 10, 19))
            published += 1
    # 3. The shared sweep at the reference time: the missed quarter climbs to the township once.
    escalated = sweep.sweep(DEMO_NOW)
    if stdout is not None:
        stdout.write(f"disclosures: {published} published versions, {len(escalated)} overdue escalated\n")
    return published


def summary(village: Region) -> dict[str, Any]:
    """Counts for tests and the demo's report."""
    return {
        "entries": FinanceEntry.objects.filter(village=village).count(),
        "published": DisclosureVersion.objects.filter(village=village, status="published").count(),
    }
