"""Review fixes on the asset pages: huge or malformed numbers are errors (never a 500) and
change nothing; a project form or an income figure sent twice writes once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hemei.assets.io import asset_import
from hemei.assets.models import Asset, ProjectIncome, RevitalisationProject
from hemei.assets.services import AssetData, asset_create
from hemei.core.models import AuditEntry
from hemei.core.scope import SYSTEM
from tests.conftest import World
from tests.test_assets_io import workbook


def _asset(world: World) -> Asset:
    return asset_create(actor=SYSTEM, village=world.village, status=Asset.Status.IDLE,
                        data=AssetData(code="XS-1", name="旧校舍", category=Asset.Category.OPERATING,
                                       area=Decimal("100.00")))


def test_huge_numbers_are_errors_not_500(world: World, login: Any) -> None:
    asset = _asset(world)
    client = login(world.user("secretary"))
    before = AuditEntry.objects.count()
    form = {"code": "XS-1", "name": "旧校舍", "category": "operating", "area": "100", "unit": "sqm",
            "original_value": "0", "net_value": "0"}
    # "1e99999" is a finite Decimal, but quantizing it raises InvalidOperation.
    for bad in ({"area": "1e99999"}, {"original_value": "1e99999"}):
        response = client.post(f"/w/assets/{asset.pk}/edit/", form | bad)
        assert response.status_code == 200 and response.context["form"].errors, bad
    result = asset_import(actor=world.user("secretary"), village=world.village,
                          data=workbook([["XS-9", "冷库", "经营性", "1e99999", "平方米", "1e99999", "0", "闲置"]]))
    assert not result.ok and len(result.errors) == 2
    assert Asset.objects.get().area == Decimal("100.00") and Asset.objects.count() == 1
    assert AuditEntry.objects.count() == before
    assert client.get("/w/assets/projects/?year=²").status_code == 200  # "²".isdigit() is true


def test_project_form_and_income_sent_twice_write_once(world: World, login: Any) -> None:
    asset = _asset(world)
    client = login(world.user("secretary"))
    form = {"key": "form-1", "region": world.village.code, "name": "研学基地", "path": "lease",
            "assets": [asset.pk], "expected_annual_income": "1000.00"}
    first = client.post("/w/assets/projects/new/", form)
    second = client.post("/w/assets/projects/new/", form)
    assert first.status_code == second.status_code == 302 and first["Location"] == second["Location"]
    project = RevitalisationProject.objects.get()
    income = {"year": "2025", "amount": "900.00", "note": ""}
    client.post(f"/w/assets/projects/{project.pk}/", income)
    client.post(f"/w/assets/projects/{project.pk}/", income)
    assert ProjectIncome.objects.count() == 1
    client.post(f"/w/assets/projects/{project.pk}/", income | {"amount": "950.00"})  # a real correction
    assert ProjectIncome.objects.count() == 2
    # The page's form carries a fresh key.
    assert 'name="key"' in client.get("/w/assets/projects/new/").content.decode()
