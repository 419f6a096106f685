"""What an uploaded workbook may cost: every limit of `hemei.core.xlsx`, each with a real
crafted xlsx file — the decompression bomb, the uncompressed size, the row count per import and
the capped error report — through the roster import, a small import and the upload page."""

from __future__ import annotations

import io
import os
import zipfile
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from openpyxl import Workbook

from hemei.assets.io import asset_import
from hemei.assets.models import Asset
from hemei.core import xlsx
from hemei.core.xlsx import WorkbookRefused, check_workbook
from hemei.regions.models import Household, Resident
from hemei.regions.roster import roster_import, roster_template
from tests.test_assets_io import workbook as asset_workbook
from tests.test_roster_import import base_rows, pid
from tests.test_roster_import import xlsx as roster_xlsx

MB = 1024 * 1024


@pytest.fixture(autouse=True)
def english() -> Any:
    with translation.override("en"):
        yield


def _forbid_openpyxl(monkeypatch: Any) -> None:
    """Refused means refused before openpyxl reads anything."""

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("openpyxl was asked to read a refused workbook")

    monkeypatch.setattr(xlsx, "load_workbook", boom)


SST = "xl/sharedStrings.xml"
SST_TYPE = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
SST_REL = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def _registered(name: str, content: bytes) -> bytes:
    """The package parts that make a reader load the shared strings: the content type and
    the workbook's relationship (openpyxl writes inline strings and neither of these)."""
    if name == "[Content_Types].xml" and SST_TYPE not in content:
        return content.replace(b"</Types>", b'<Override PartName="/' + SST.encode() + b'" ContentType="'
                               + SST_TYPE + b'"/></Types>')
    if name == "xl/_rels/workbook.xml.rels" and SST_REL not in content:
        return content.replace(b"</Relationships>", b'<Relationship Id="rIdSst" Type="' + SST_REL
                               + b'" Target="sharedStrings.xml"/></Relationships>')
    return content


def _with_shared_strings(data: bytes, *, megabytes: int, chunk: bytes) -> bytes:
    """The workbook `data` with `megabytes` MB of shared strings (`chunk` repeated), streamed
    into the zip so the test never holds the expanded part in memory."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            if member.filename != SST:
                target.writestr(member, _registered(member.filename, source.read(member.filename)))
        info = zipfile.ZipInfo(SST)
        info.compress_type = zipfile.ZIP_DEFLATED
        with target.open(info, "w", force_zip64=True) as part:
            part.write(b'<?xml version="1.0" encoding="UTF-8"?>'
                       b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            block = chunk * (MB // len(chunk))
            for _ in range(megabytes):
                part.write(block)
            part.write(b"</sst>")
    return out.getvalue()


def _roster_counts() -> tuple[int, int]:
    return Household.objects.count(), Resident.objects.count()


# --- the decompression bomb ------------------------------------------------------------------


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """A real roster workbook whose shared strings expand to 610 MB from about a megabyte."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["户号", "姓名"])
    sheet.append(["001", "王建国"])
    buffer = io.BytesIO()
    book.save(buffer)
    return _with_shared_strings(buffer.getvalue(), megabytes=610, chunk=b"<si><t>AAAAAAAA</t></si>")


def test_the_bomb_is_small_on_disk_and_huge_inside(bomb: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
        inside = sum(m.file_size for m in archive.infolist())
    assert len(bomb) < 2 * MB and inside > 600 * MB


def test_the_bomb_is_refused_by_the_roster_import_before_parsing(world: Any, bomb: bytes, monkeypatch: Any) -> None:
    _forbid_openpyxl(monkeypatch)
    before = _roster_counts()
    report = roster_import(source=io.BytesIO(bomb), region=world.village, actor="test")
    assert not report.ok and _roster_counts() == before
    assert [e.row for e in report.errors] == [0]
    assert "expands" in report.errors[0].message


def test_the_bomb_is_refused_by_the_upload_page_before_parsing(
    world: Any, login: Any, bomb: bytes, monkeypatch: Any
) -> None:
    _forbid_openpyxl(monkeypatch)
    client = login(world.user("secretary"))
    response = client.post(f"/w/assets/import/?village={world.village.code}",
                           {"file": SimpleUploadedFile("bomb.xlsx", bomb)}, follow=True)
    with translation.override("zh-hans"):
        expands = translation.gettext(
            "The workbook expands %(ratio)d times when opened; at most %(limit)d times is accepted.")
    assert response.status_code == 200 and expands.split("%")[0] in response.content.decode()
    assert not Asset.objects.exists()


def test_the_ratio_limit_is_a_setting(settings: Any) -> None:
    data = _with_shared_strings(asset_workbook([["XS-1", "旧校舍"]]), megabytes=3, chunk=b"<si><t>A</t></si>")
    settings.HEMEI_XLSX_MAX_RATIO = 100_000
    check_workbook(data)
    settings.HEMEI_XLSX_MAX_RATIO = 100
    with pytest.raises(WorkbookRefused, match="expands"):
        check_workbook(data)


# --- the uncompressed size -------------------------------------------------------------------


def test_a_workbook_that_opens_too_big_is_refused_even_when_it_barely_compresses(
    world: Any, settings: Any, monkeypatch: Any
) -> None:
    # Random hex compresses about twice: no ratio limit catches it, the total does.
    data = asset_workbook([["XS-1", os.urandom(500).hex()] for _ in range(3000)])
    settings.HEMEI_XLSX_MAX_UNCOMPRESSED_BYTES = 2 * MB
    _forbid_openpyxl(monkeypatch)
    result = asset_import(actor=world.user("secretary"), village=world.village, data=data)
    assert not result.ok and len(result.errors) == 1 and "MB of data" in result.errors[0].message
    assert not Asset.objects.exists()


def test_real_workbooks_pass_the_checks() -> None:
    check_workbook(roster_template())
    check_workbook(asset_workbook([["XS-1", "旧校舍", "经营性", "10", "平方米", "0", "0", "闲置"]] * 500))


def test_not_a_zip_and_a_broken_zip_are_refused() -> None:
    with pytest.raises(WorkbookRefused):
        check_workbook(b"name,phone\n")
    with pytest.raises(WorkbookRefused):
        check_workbook(b"PK\x03\x04" + b"\0" * 100)


# --- the row count per import ----------------------------------------------------------------


def test_the_roster_stops_at_the_row_limit(world: Any, settings: Any) -> None:
    settings.HEMEI_IMPORT_MAX_ROWS = 3
    before = _roster_counts()
    report = roster_import(source=io.BytesIO(roster_xlsx(base_rows(world))), region=world.village, actor="test")
    assert not report.ok and _roster_counts() == before
    assert any("At most 3 rows" in e.message for e in report.errors)
    settings.HEMEI_IMPORT_MAX_ROWS = 4
    assert roster_import(source=io.BytesIO(roster_xlsx(base_rows(world))), region=world.village, actor="test").ok


def test_a_small_import_keeps_the_lower_of_its_own_limit_and_the_setting(world: Any, settings: Any) -> None:
    rows = [[f"XS-{i}", "旧校舍", "经营性", "10", "平方米", "0", "0", "闲置"] for i in range(6)]
    settings.HEMEI_IMPORT_MAX_ROWS = 5
    result = asset_import(actor=world.user("secretary"), village=world.village, data=asset_workbook(rows))
    assert not result.ok and [e.message for e in result.errors] == ["At most 5 rows per file."]
    settings.HEMEI_IMPORT_MAX_ROWS = 6
    assert asset_import(actor=world.user("secretary"), village=world.village, data=asset_workbook(rows)).ok


# --- the error report ------------------------------------------------------------------------


def test_the_roster_report_lists_n_errors_and_counts_the_rest(world: Any, settings: Any) -> None:
    settings.HEMEI_IMPORT_MAX_ERRORS = 3
    grid = world.grid_a.code
    rows = [[f"{i:03d}", f"户主{i}", "邻居", pid(200 + i), "", grid, "", "否"] for i in range(10)]
    report = roster_import(source=io.BytesIO(roster_xlsx(rows)), region=world.village, actor="test")
    assert not report.ok and report.error_count >= 10
    assert [e.row for e in report.errors[:3]] == [2, 3, 4]
    assert len(report.errors) == 4
    assert f"{report.error_count - 3} more errors are not listed" in report.errors[3].message


def test_the_upload_page_lists_n_errors_and_says_how_many_more(world: Any, login: Any, settings: Any) -> None:
    settings.HEMEI_IMPORT_MAX_ERRORS = 2
    rows = [[f"XS-{i}", "旧校舍", "经营性", "-10", "平方米", "0", "0", "闲置"] for i in range(5)]
    client = login(world.user("secretary"))
    response = client.post(f"/w/assets/import/?village={world.village.code}",
                           {"file": SimpleUploadedFile("a.xlsx", asset_workbook(rows))})
    html = response.content.decode()
    with translation.override("zh-hans"):
        more = translation.gettext("%(n)d more errors are not listed; fix the ones above and import again.")
    assert response.status_code == 200 and more % {"n": 3} in html
    assert html.count("<td>-10</td>") == 2
    assert not Asset.objects.exists()
