"""Land trusteeship: parcels, services, the income report, and who sees what."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from openpyxl import load_workbook

from hemei.contracts import trust
from hemei.contracts.models import TrustIncome, TrustParcel, TrustService
from hemei.core.scope import SYSTEM
from hemei.regions.models import Role
from tests.conftest import World, make_user

D = dt.date


def _land(world: World) -> None:
    sec = world.user("secretary")
    a1 = trust.parcel_register(actor=sec, household=world.house_a, area_mu=Decimal("6.50"), provider="西铺头农机合作社",
                               entrusted_from=D(2026, 1, 1), entrusted_to=D(2028, 12, 31), location="东沟", crop="玉米")
    a2 = trust.parcel_register(actor=sec, household=world.house_a, area_mu=Decimal("3.00"), provider="西铺头农机合作社",
                               entrusted_from=D(2026, 1, 1), entrusted_to=D(2028, 12, 31), location="西沟", crop="玉米")
    b1 = trust.parcel_register(actor=sec, household=world.house_b, area_mu=Decimal("4.25"), provider="西铺头农机合作社",
                               entrusted_from=D(2026, 1, 1), entrusted_to=D(2028, 12, 31), location="南坡", crop="谷子")
    for parcel, fee in ((a1, "195.00"), (a2, "90.00"), (b1, "127.50")):
        trust.service_record(actor=sec, parcel=parcel, kind="spraying", on=D(2026, 7, 1), area_mu=parcel.area_mu,
                             fee=Decimal(fee))
        trust.service_record(actor=sec, parcel=parcel, kind="fertilising", on=D(2026, 4, 1), area_mu=parcel.area_mu,
                             fee=Decimal("10.00"))
    trust.service_record(actor=sec, parcel=a1, kind="harvest", on=D(2025, 10, 1), area_mu=Decimal("6.5"),
                         fee=Decimal("300"))  # another year: not in 2026's fees
    trust.income_record(actor=sec, household=world.house_a, year=2026, yield_income=Decimal("9500.00"))
    trust.income_record(actor=sec, household=world.house_b, year=2026, yield_income=Decimal("4100.00"))
    # A parcel of 东邵村 (another village) never shows in 西邵村's report.
    trust.parcel_register(actor=SYSTEM, household=world.house_c, area_mu=Decimal("8"), provider="东邵合作社",
                          entrusted_from=D(2026, 1, 1), entrusted_to=D(2027, 1, 1))


def test_income_figures_add_up(world: World, login: Any) -> None:
    _land(world)
    rows = trust.income_rows(TrustParcel.objects.all(), TrustIncome.objects.all(), village=world.village, year=2026)
    by_number = {r.number: r for r in rows}
    a, b = by_number["001"], by_number["101"]
    assert (a.parcels, a.area_mu, a.fees, a.net) == (2, Decimal("9.50"), Decimal("305.00"), Decimal("9195.00"))
    assert (b.parcels, b.area_mu, b.fees, b.net) == (1, Decimal("4.25"), Decimal("137.50"), Decimal("3962.50"))
    assert len(rows) == 2
    client = login(world.user("secretary"))
    page = client.get(f"/w/trusteeship/income/?village={world.village.code}&year=2026").content.decode()
    assert "13,157.50" in page and "442.50" in page and "13.75" in page  # net, fees, area totals
    xlsx = client.get(f"/w/trusteeship/income/?village={world.village.code}&year=2026&format=xlsx")
    ws = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    values = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert sum(Decimal(str(r[6])) for r in values) == Decimal("13157.50")
    overview = login(world.user("township")).get("/w/trusteeship/").content.decode()
    assert "西邵村" in overview and "东邵村" in overview and "13.75" in overview


def test_villager_sees_only_own_parcels(world: World, login: Any) -> None:
    _land(world)
    page = login(world.user("villager")).get("/me/trusteeship/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "东沟" in text and "西沟" in text and "南坡" not in text
    assert "9,195.00" in text and "305.00" in text
    assert login(world.user("villager")).get("/w/trusteeship/").status_code == 404
    assert login(world.user("outsider")).get("/me/trusteeship/").status_code == 404


def test_other_village_staff_see_nothing_of_ours(world: World, login: Any) -> None:
    _land(world)
    other = make_user("sec2", region=world.village2, role=Role.SECRETARY)
    client = login(other)
    assert client.get(f"/w/trusteeship/income/?village={world.village.code}").status_code == 404
    overview = client.get("/w/trusteeship/").content.decode()
    assert "东邵村" in overview and "西邵村" not in overview
    with pytest.raises(ValidationError):
        trust.parcel_register(actor=other, household=world.house_a, area_mu=Decimal("1"), provider="x",
                              entrusted_from=D(2026, 1, 1), entrusted_to=D(2027, 1, 1))


@pytest.mark.parametrize(
    ("area", "fee", "message"),
    [
        (Decimal("-1"), Decimal("1"), "more than zero"),
        (Decimal("0"), Decimal("1"), "more than zero"),
        (2.5, Decimal("1"), "floating-point"),
        (Decimal("1"), 12.3, "floating-point"),
        (Decimal("1"), Decimal("-5"), "more than zero"),
        (Decimal("99"), Decimal("1"), "larger than the parcel"),
    ],
)
def test_bad_areas_and_fees_refused(world: World, area: Any, fee: Any, message: str) -> None:
    parcel = trust.parcel_register(actor=SYSTEM, household=world.house_a, area_mu=Decimal("5"), provider="合作社",
                                   entrusted_from=D(2026, 1, 1), entrusted_to=D(2027, 1, 1))
    with translation.override("en"), pytest.raises(ValidationError, match=message):
        trust.service_record(actor=SYSTEM, parcel=parcel, kind="spraying", on=D(2026, 7, 1), area_mu=area, fee=fee)
    assert not TrustService.objects.exists()


def test_parcel_term_and_area_checked(world: World) -> None:
    with translation.override("en"), pytest.raises(ValidationError, match="end before it starts"):
        trust.parcel_register(actor=SYSTEM, household=world.house_a, area_mu=Decimal("5"), provider="合作社",
                              entrusted_from=D(2026, 1, 1), entrusted_to=D(2025, 1, 1))
    with translation.override("en"), pytest.raises(ValidationError, match="more than zero"):
        trust.parcel_register(actor=SYSTEM, household=world.house_a, area_mu=Decimal("-5"), provider="合作社",
                              entrusted_from=D(2026, 1, 1), entrusted_to=D(2027, 1, 1))
    assert not TrustParcel.objects.exists()
