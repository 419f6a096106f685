"""Assets in and out of Excel: all-or-nothing import with a row report, export round trip,
formula injection."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from openpyxl import Workbook, load_workbook

from hemei.accounts.models import User
from hemei.assets.io import HEADERS, asset_export, asset_import
from hemei.assets.models import Asset, AssetStatusChange
from hemei.assets.services import AssetData, asset_create
from hemei.core.models import AuditEntry
from hemei.core.scope import SYSTEM
from hemei.regions import services as region_services
from hemei.regions.models import Role

HEAD = ["资产编码", "资产名称", "资产类别", "面积或数量", "计量单位", "原值（元）", "净值（元）", "使用状态"]


def workbook(rows: list[list[Any]], header: list[str] = HEAD) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def counts() -> tuple[int, int, int]:
    return Asset.objects.count(), AssetStatusChange.objects.count(), AuditEntry.objects.count()


def test_a_good_file_creates_every_asset_with_history_and_audit(world):
    data = workbook([
        ["XS-1", "旧村委会大院", "非经营性", "860.5", "平方米", "420000", "180000.00", "闲置"],
        ["XS-2", "集体机动地", "资源性", 58, "亩", None, None, None],
    ])
    result = asset_import(actor=world.user("secretary"), village=world.village, data=data)
    assert result.ok and result.created == 2 and result.errors == []
    a = Asset.objects.get(code="XS-1")
    assert (a.area, a.original_value, a.status, a.category) == (Decimal("860.50"), Decimal("420000.00"), "idle",
                                                                "non_operating")
    b = Asset.objects.get(code="XS-2")
    assert (b.unit, b.status, b.net_value) == ("mu", "in_use", Decimal("0.00"))
    assert AssetStatusChange.objects.filter(asset__in=[a, b], from_state="").count() == 2
    assert AuditEntry.objects.filter(object_type="assets.asset", action="create").count() == 2
    assert AuditEntry.objects.filter(action="import", object_id=str(world.village.pk)).count() == 1


def test_one_bad_row_and_nothing_is_written_with_a_row_report(world):
    asset_create(actor=SYSTEM, village=world.village, data=AssetData(code="XS-OLD", name="村委会办公楼",
                                                                   category="non_operating", area=Decimal("600")))
    before = counts()
    data = workbook([
        ["XS-1", "好的一行", "经营性", "100", "平方米", "1000", "900", "闲置"],           # 2: fine
        ["XS-2", "负面积", "经营性", "-5", "平方米", "0", "0", "闲置"],                 # 3
        ["XS-3", "类别不明", "其他", "10", "平方米", "0", "0", "闲置"],                 # 4
        ["XS-OLD", "已有编码", "经营性", "10", "平方米", "0", "0", "闲置"],             # 5
        ["XS-1", "文件内重复", "经营性", "10", "平方米", "0", "0", "闲置"],             # 6
        ["XS-6", "三位小数", "经营性", "10", "平方米", 1000.125, "0", "闲置"],          # 7
        ["XS-7", None, "经营性", "10", "平方米", "0", "0", "闲置"],                     # 8: name missing
        ["XS-8", "金额不是数", "经营性", "10", "平方米", "一万元", "0", "闲置"],        # 9
        ["XS-9", "联系电话13812345678", "经营性", "10", "平方米", "0", "0", "闲置"],    # 10
        ["XS-10", "负原值", "经营性", "10", "平方米", "-100", "0", "闲置"],             # 11
    ])
    with translation.override("en"):
        result = asset_import(actor=world.user("secretary"), village=world.village, data=data)
    assert not result.ok and result.created == 0 and result.rows == 10
    found = {(e.row, e.column) for e in result.errors}
    assert found == {
        (3, "面积或数量"), (4, "资产类别"), (5, "资产编码"), (6, "资产编码"), (7, "原值（元）"), (8, "资产名称"),
        (9, "原值（元）"), (10, "资产名称"), (11, "原值（元）"),
    }
    messages = {(e.row, e.column): e.message for e in result.errors}
    assert "negative" in messages[(3, "面积或数量")]
    assert "two decimal places" in messages[(7, "原值（元）")]
    assert "already used" in messages[(5, "资产编码")] and "repeated" in messages[(6, "资产编码")]
    assert "13812345678" not in " ".join(e.value + e.message for e in result.errors)
    assert counts() == before


def test_missing_columns_and_broken_files_are_refused(world):
    before = counts()
    r = asset_import(actor=world.user("secretary"), village=world.village,
                     data=workbook([["XS-1", "x"]], header=["资产编码", "资产名称"]))
    assert not r.ok and r.errors[0].row == 1 and "面积或数量" in r.errors[0].column
    r = asset_import(actor=world.user("secretary"), village=world.village, data=b"not a workbook")
    assert not r.ok and r.errors[0].row == 0
    assert counts() == before


def test_export_round_trips_into_another_village(world):
    secretary = world.user("secretary")
    region_services.post_assign(actor=SYSTEM, user=secretary, region=world.village2, role=Role.SECRETARY)
    secretary = User.objects.get(pk=secretary.pk)  # fresh: scopes are cached on the user object
    for code, name, status, lat in (("XS-1", "旧校舍", "idle", Decimal("37.712345")),
                                    ("XS-2", "=HYPERLINK(\"http://x\")", "in_use", None)):
        asset_create(actor=SYSTEM, village=world.village, status=status, data=AssetData(
            code=code, name=name, category="operating", area=Decimal("1860.25"), kind="校舍", location="西邵村东街",
            latitude=lat, longitude=Decimal("112.451234") if lat else None, original_value=Decimal("960000.10"),
            net_value=Decimal("310000.05"), ownership="西邵村股份经济合作社", acquired=dt.date(1992, 9, 1),
            notes="清产核资"))
    exported = asset_export(actor=secretary, village=world.village)
    sheet = load_workbook(io.BytesIO(exported)).worksheets[0]
    assert [c.value for c in sheet[1]] == list(HEADERS)
    assert sheet["B3"].value.startswith("'=")  # formula injection neutralised
    assert AuditEntry.objects.filter(action="export", object_id=str(world.village.pk)).count() == 1
    result = asset_import(actor=secretary, village=world.village2, data=exported)
    assert result.ok, result.errors
    fields = ["code", "category", "kind", "location", "area", "unit", "original_value", "net_value", "ownership",
              "status", "acquired", "latitude", "longitude", "notes"]
    a = list(Asset.objects.filter(village=world.village).order_by("code").values(*fields))
    b = list(Asset.objects.filter(village=world.village2).order_by("code").values(*fields))
    assert a == b and len(a) == 2
    assert Asset.objects.get(village=world.village2, code="XS-2").name == "'=HYPERLINK(\"http://x\")"


def test_import_and_export_pages(world, login):
    client = login(world.user("secretary"))
    good = SimpleUploadedFile("a.xlsx", workbook([["XS-1", "旧校舍", "经营性", "10", "平方米", "0", "0", "闲置"]]))
    response = client.post(f"/w/assets/import/?village={world.village.code}", {"file": good})
    assert response.status_code == 200 and Asset.objects.filter(code="XS-1").exists()
    bad = SimpleUploadedFile("b.xlsx", workbook([["XS-2", "旧校舍", "经营性", "-10", "平方米", "0", "0", "闲置"]]))
    response = client.post(f"/w/assets/import/?village={world.village.code}", {"file": bad})
    assert '<h2 class="error">' in response.content.decode() and not Asset.objects.filter(code="XS-2").exists()
    response = client.get(f"/w/assets/export/?village={world.village.code}")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
    assert client.get("/w/assets/import/template/").status_code == 200
    township = login(world.user("township"))
    assert township.get(f"/w/assets/import/?village={world.village.code}").status_code == 403
    assert township.get(f"/w/assets/export/?village={world.village.code}").status_code == 200
