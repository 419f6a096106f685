"""Roster export: masked unless revealed, audited, formula-safe, re-importable."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from hemei.core.models import AuditEntry
from hemei.core.scope import SYSTEM
from hemei.regions import services
from hemei.regions.access import scope_for
from hemei.regions.models import Resident, Tag
from hemei.regions.roster import (
    ROSTER_HEADERS,
    neutralise,
    roster_export,
    roster_import,
    roster_template,
)
from tests.test_roster_import import pid


def rows_of(data: bytes) -> list[tuple[Any, ...]]:
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    return list(sheet.iter_rows(values_only=True))


def export_count() -> int:
    return AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).count()


def test_export_writes_the_template_with_masked_values_without_reveal(world: Any) -> None:
    user = world.user("grid_a")
    assert not scope_for(user).can_reveal
    data = roster_export(region=world.village, reveal=scope_for(user).can_reveal, actor=user)
    rows = rows_of(data)
    assert rows[0] == ROSTER_HEADERS
    body = {r[1]: r for r in rows[1:]}
    assert set(body) == {"王建国", "李秀英", "张志强"}  # 西邵村 only, not 东邵村
    wang = body["王建国"]
    assert wang[0] == "001" and wang[2] == "户主" and wang[5] == world.grid_a.code
    assert wang[3] == world.head_a.id_masked and "*" in wang[3]
    assert wang[4] == "138****1111" and wang[7] == "是"
    assert body["李秀英"][2] == "配偶" and body["李秀英"][7] == "否"
    # Heads come first within a household.
    assert rows[1][1] == "王建国"
    assert all(world.head_a.id_number not in str(cell) for row in rows for cell in row)


def test_export_reveals_for_a_user_with_the_permission_and_is_audited(world: Any) -> None:
    user = world.user("secretary")
    assert scope_for(user).can_reveal
    before = export_count()
    data = roster_export(region=world.village, reveal=scope_for(user).can_reveal, actor=user)
    body = {r[1]: r for r in rows_of(data)[1:]}
    assert body["王建国"][3] == world.head_a.id_number
    assert body["王建国"][4] == "13800001111"
    assert export_count() == before + 1
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).first()
    assert entry is not None
    assert entry.actor == user and entry.changes["reveal"] is True and entry.changes["rows"] == 3


def test_export_household_types_and_sexed_relation_words(world: Any) -> None:
    house = world.house_a
    house.tags.set(Tag.objects.filter(name__in=["脱贫户", "低保户"]))
    services.resident_create(actor=SYSTEM, household=house, name="王小花", id_number=pid(202),
                             relation="child")
    body = {r[1]: r for r in rows_of(roster_export(region=world.grid_a, reveal=True,
                                                   actor=SYSTEM))[1:]}
    assert body["王小花"][2] == "女"
    assert set(body["王建国"][6].split("、")) == {"脱贫户", "低保户"}


def test_formula_like_cells_are_neutralised(world: Any) -> None:
    for seq, name in enumerate(("=HYPERLINK(\"http://evil\")", "+SUM(1)", "-1+2", "@cmd", "Tab")):
        services.resident_create(actor=SYSTEM, household=world.house_b, name=name, id_number=pid(211 + seq),
                                 relation="other")
    # Services strip names; data from elsewhere may still start with a tab.
    Resident.objects.filter(name="Tab").update(name="\tTab")
    sheet = load_workbook(io.BytesIO(roster_export(region=world.grid_b, reveal=False,
                                                   actor=SYSTEM))).worksheets[0]
    names = [row[1] for row in sheet.iter_rows(min_row=2)]
    neutralised = [c.value for c in names if c.value != "张志强"]
    assert all(v.startswith("'") for v in neutralised), neutralised
    assert "'=HYPERLINK(\"http://evil\")" in neutralised
    assert all(c.data_type == "s" for c in names)
    assert neutralise("普通") == "普通" and neutralise(3) == 3


def test_revealed_export_reimports_without_changes(world: Any) -> None:
    Resident.objects.filter(pk=world.head_b.pk).update(is_party_member=True)
    data = roster_export(region=world.village, reveal=True, actor=SYSTEM)
    report = roster_import(source=io.BytesIO(data), region=world.village, actor=SYSTEM)
    assert report.ok, report.errors
    assert report.unchanged == 3 and report.created_residents == 0
    assert report.updated_residents == 0 and report.created_households == 0


def test_masked_export_does_not_reimport(world: Any) -> None:
    data = roster_export(region=world.village, reveal=False, actor=SYSTEM)
    report = roster_import(source=io.BytesIO(data), region=world.village, actor=SYSTEM)
    assert not report.ok
    assert {e.column for e in report.errors} >= {"公民身份号码"}


def test_export_only_the_region_itself(world: Any) -> None:
    assert len(rows_of(roster_export(region=world.village, reveal=False, actor=SYSTEM,
                                     include_sub=False))) == 1
    assert len(rows_of(roster_export(region=world.grid_a, reveal=False, actor=SYSTEM,
                                     include_sub=False))) == 3


def test_moved_out_residents_are_not_exported(world: Any) -> None:
    import datetime as dt

    services.resident_set_status(resident=world.head_b, status="moved_out", on=dt.date.today(),
                                 actor=SYSTEM)
    names = [r[1] for r in rows_of(roster_export(region=world.village, reveal=False,
                                                 actor=SYSTEM))[1:]]
    assert "张志强" not in names


@pytest.mark.parametrize("reveal", [False, True])
def test_cli_export(world: Any, tmp_path: Path, reveal: bool) -> None:
    path = tmp_path / "out.xlsx"
    args = [str(path), "--region", world.village.code] + (["--reveal"] if reveal else [])
    before = export_count()
    call_command("export_roster", *args, stdout=io.StringIO())
    body = {r[1]: r for r in rows_of(path.read_bytes())[1:]}
    expected = world.head_a.id_number if reveal else world.head_a.id_masked
    assert body["王建国"][3] == expected
    assert export_count() == before + 1
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).first()
    assert entry is not None and entry.changes["reveal"] is reveal
    assert entry.actor_name.startswith("cli")


def test_template_has_headers_and_a_help_sheet() -> None:
    workbook = load_workbook(io.BytesIO(roster_template()))
    assert workbook.sheetnames == ["名册", "说明"]
    assert next(workbook["名册"].iter_rows(values_only=True)) == ROSTER_HEADERS
    help_rows = list(workbook["说明"].iter_rows(values_only=True))
    assert {row[0] for row in help_rows[1:9]} == set(ROSTER_HEADERS)
    assert ROSTER_HEADERS in help_rows  # the example row comes with its headers


def test_template_with_the_example_row_imports(world: Any) -> None:
    workbook = load_workbook(io.BytesIO(roster_template()))
    help_rows = list(workbook["说明"].iter_rows(values_only=True))
    example = list(help_rows[help_rows.index(ROSTER_HEADERS) + 1])
    example[3] = pid(301)
    example[5] = world.grid_a.code
    example[0] = "900"
    workbook["名册"].append(example)
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = roster_import(source=buffer, region=world.village, actor=SYSTEM)
    assert report.ok, report.errors
    assert report.created_residents == 1


def test_the_example_row_as_it_stands_is_refused_for_its_check_digit(world: Any) -> None:
    workbook = load_workbook(io.BytesIO(roster_template()))
    help_rows = list(workbook["说明"].iter_rows(values_only=True))
    example = list(help_rows[help_rows.index(ROSTER_HEADERS) + 1])
    example[5] = world.grid_a.code
    workbook["名册"].append(example)
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = roster_import(source=buffer, region=world.village, actor=SYSTEM)
    assert not report.ok and report.created_residents == 0
    assert any("校验码" in str(error) for error in report.errors), report.errors


def test_read_only_posts_cannot_download_a_whole_roster(world, client):
    from django.urls import reverse

    client.force_login(world.user("shop"))
    response = client.get(reverse("roster-export") + f"?region={world.village.code}")
    assert response.status_code in (403, 404)
    page = client.get(reverse("household-list") + f"?region={world.village.code}").content.decode()
    assert reverse("roster-export") not in page
    client.force_login(world.user("secretary"))
    page = client.get(reverse("household-list") + f"?region={world.village.code}").content.decode()
    assert reverse("roster-export") in page


def test_cli_acting_as_a_user_is_scoped(world, tmp_path):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("export_roster", str(tmp_path / "b.xlsx"), region=world.grid_b.code, as_user="grid1")
    with pytest.raises(CommandError):  # grid1 may not reveal
        call_command("export_roster", str(tmp_path / "a.xlsx"), region=world.grid_a.code, as_user="grid1", reveal=True)
    call_command("export_roster", str(tmp_path / "a.xlsx"), region=world.grid_a.code, as_user="grid1")
    assert (tmp_path / "a.xlsx").exists() and not (tmp_path / "b.xlsx").exists()


def test_cli_import_as_a_user_outside_the_region_is_refused(world, tmp_path):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from hemei.regions.models import Household
    from hemei.regions.roster import roster_export

    path = tmp_path / "grid_b.xlsx"
    path.write_bytes(roster_export(region=world.grid_b, reveal=True, actor=SYSTEM))
    before = Household.objects.count()
    with pytest.raises(CommandError):
        call_command("import_roster", str(path), region=world.grid_b.code, as_user="grid1")
    assert Household.objects.count() == before
