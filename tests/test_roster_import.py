"""Roster import: all-or-nothing, idempotent, row-by-row report (hemei.regions.roster)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook, load_workbook

from hemei.core.idnumbers import check_character, make_id_number
from hemei.core.models import AuditEntry
from hemei.core.scope import SYSTEM, system
from hemei.regions.models import Household, MoveRecord, Resident, Tag
from hemei.regions.roster import (
    ROSTER_HEADERS,
    ImportReport,
    report_to_xlsx,
    roster_import,
)

H = ROSTER_HEADERS


def pid(seq: int, *, birth: dt.date = dt.date(1980, 3, 4)) -> str:
    """A valid ID number; odd sequence = male."""
    return make_id_number("140110", birth, seq)


def xlsx(rows: list[list[Any]], headers: list[str] | tuple[str, ...] = H) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "名册"
    sheet.append(list(headers))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


TEST_ACTOR = system("test")


def run(data: bytes, region: Any, *, actor: Any = TEST_ACTOR, dry_run: bool = False,
        progress: Any = None) -> ImportReport:
    return roster_import(source=io.BytesIO(data), region=region, actor=actor, dry_run=dry_run,
                         progress=progress)


def base_rows(world: Any) -> list[list[Any]]:
    a, b = world.grid_a.code, world.grid_b.code
    return [
        ["002", "赵大山", "户主", pid(101), "13811112222", a, "脱贫户、低保户", "是"],
        ["002", "钱小红", "配偶", pid(102), "", a, "", "否"],
        ["002", "赵小明", "子", pid(103, birth=dt.date(2005, 6, 7)), "", a, "", "否"],
        ["102", "孙立", "户主", pid(105), "139 1111 3333", b, "党员户", "1"],
    ]


def counts() -> tuple[int, int, int, int]:
    return (Household.objects.count(), Resident.objects.count(), MoveRecord.objects.count(),
            AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT).count())


# --- the happy path -------------------------------------------------------------------


def test_happy_path_creates_households_residents_heads_tags_party(world: Any) -> None:
    before = counts()
    ticks: list[tuple[int, int]] = []
    report = run(xlsx(base_rows(world)), world.village, progress=lambda d, t: ticks.append((d, t)))
    assert report.ok, report.errors
    assert (report.rows, report.created_households, report.created_residents) == (4, 2, 4)
    assert (report.updated_residents, report.unchanged) == (0, 0)
    assert counts() == (before[0] + 2, before[1] + 4, before[2], before[3] + 1)

    house = Household.objects.get(village=world.village, number="002")
    assert house.region == world.grid_a and house.county == world.county
    assert house.head is not None and house.head.name == "赵大山"
    assert sorted(t.name for t in house.tags.all()) == ["低保户", "脱贫户"]
    head = house.head
    assert head.is_party_member and head.phone == "13811112222" and head.phone_tail == "2222"
    assert head.name_initials == "zds" and head.sex == "M"
    assert head.birth_date == dt.date(1980, 3, 4) and head.id_tail == pid(101)[-4:]
    # Fields the import does not set take the model's defaults; timestamps are set.
    assert head.status == Resident.Status.LIVING and head.status_date is None
    assert head.created_at is not None and head.updated_at == head.created_at
    assert head.county == world.county and head.region == world.grid_a
    wife = Resident.objects.get(id_number=pid(102))
    assert wife.relation == Resident.Relation.SPOUSE and wife.sex == "F"
    assert not wife.is_party_member
    assert Resident.objects.get(id_number=pid(103, birth=dt.date(2005, 6, 7))).relation == "child"
    other = Household.objects.get(village=world.village, number="102")
    assert other.region == world.grid_b and other.head.name == "孙立"
    assert other.head.is_party_member and other.head.phone == "13911113333"
    assert [t.name for t in other.tags.all()] == ["党员户"]
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT).get()
    assert entry.changes["created_residents"] == 4 and entry.actor_name == "test"
    assert ticks and ticks[-1][0] == ticks[-1][1] == 8


def test_reimport_of_the_same_file_changes_nothing(world: Any) -> None:
    data = xlsx(base_rows(world))
    assert run(data, world.village).ok
    stamps = dict(Resident.objects.values_list("pk", "updated_at"))
    house_stamps = dict(Household.objects.values_list("pk", "updated_at"))
    audit_before = AuditEntry.objects.count()
    before = counts()
    report = run(data, world.village)
    assert report.ok
    assert report.created_households == report.created_residents == 0
    assert report.updated_residents == 0
    assert report.unchanged == 4 and report.updated_households == 0
    assert counts()[:3] == before[:3]
    assert AuditEntry.objects.count() == audit_before + 1  # the import's own row, nothing else
    assert dict(Resident.objects.values_list("pk", "updated_at")) == stamps
    assert dict(Household.objects.values_list("pk", "updated_at")) == house_stamps


def test_changed_file_updates_matched_residents_and_records_a_move(world: Any) -> None:
    assert run(xlsx(base_rows(world)), world.village).ok
    rows = base_rows(world)
    rows[0][1], rows[0][4] = "赵大川", "13800009999"  # renamed, new phone
    rows[1][7] = "是"  # joined the party
    rows[2][0], rows[2][2] = "003", "户主"  # the son set up his own household
    rows[3][6] = ""  # no longer a 党员户
    son = Resident.objects.get(id_number=pid(103, birth=dt.date(2005, 6, 7)))
    before = counts()
    report = run(xlsx(rows), world.village)
    assert report.ok, report.errors
    assert report.created_households == 1 and report.created_residents == 0
    assert report.updated_residents == 3 and report.moved_residents == 1 and report.unchanged == 1
    assert report.updated_households == 1
    assert counts() == (before[0] + 1, before[1], before[2] + 1, before[3] + 1)
    head = Resident.objects.get(id_number=pid(101))
    assert (head.name, head.name_initials, head.phone, head.phone_tail) == (
        "赵大川", "zdc", "13800009999", "9999")
    assert Resident.objects.get(id_number=pid(102)).is_party_member
    son.refresh_from_db()
    new_house = Household.objects.get(village=world.village, number="003")
    assert son.household == new_house and son.relation == "head" and new_house.head == son
    move = MoveRecord.objects.get(resident=son)
    assert move.from_household.number == "002" and move.household == new_house
    assert not Household.objects.get(village=world.village, number="102").tags.exists()
    # The move went through the service, so it has its own audit row too.
    assert AuditEntry.objects.filter(object_type="regions.resident", object_id=str(son.pk),
                                     changes__household=["002", "003"]).exists()


def test_new_head_for_an_existing_household_demotes_the_old_one(world: Any) -> None:
    rows = [["001", "王小军", "户主", pid(107), "", world.grid_a.code, "", "否"]]
    assert run(xlsx(rows), world.village).ok
    house = Household.objects.get(pk=world.house_a.pk)
    assert house.head.name == "王小军"
    world.head_a.refresh_from_db()
    assert world.head_a.relation == Resident.Relation.OTHER


def test_household_listed_under_another_grid_of_the_village_moves_there(world: Any) -> None:
    rows = [["101", "张志强", "户主", world.head_b.id_number, "13900003333", world.grid_a.code,
             "", "否"]]
    before = counts()
    report = run(xlsx(rows), world.village)
    assert report.ok, report.errors
    assert report.updated_households == 1 and report.unchanged == 1
    assert counts() == (before[0], before[1], before[2] + 1, before[3] + 1)
    house = Household.objects.get(pk=world.house_b.pk)
    assert house.region == world.grid_a
    world.head_b.refresh_from_db()
    assert world.head_b.region == world.grid_a
    move = MoveRecord.objects.get(household=house, resident=None)
    assert move.from_region == world.grid_b and move.to_region == world.grid_a
    # Into grid A alone the same row is refused: household 101 lives in grid B.
    Household.objects.filter(pk=house.pk).update(region=world.grid_b)
    Resident.objects.filter(household=house).update(region=world.grid_b)
    before = counts()
    report = run(xlsx(rows), world.grid_a)
    assert not report.ok and counts() == before
    assert any(e.row == 2 and e.column in {"户号", "公民身份号码"} for e in report.errors)


def test_dry_run_writes_nothing_but_reports_what_would_change(world: Any) -> None:
    before = counts()
    audit = AuditEntry.objects.count()
    report = run(xlsx(base_rows(world)), world.village, dry_run=True)
    assert report.ok and report.dry_run
    assert (report.created_households, report.created_residents) == (2, 4)
    assert counts() == before and AuditEntry.objects.count() == audit


def test_relation_words_party_words_optional_columns_and_extra_columns(world: Any) -> None:
    headers = ["备注", "网格编码", "姓名*", "公民身份号码", "户号", "与户主关系（必填）"]
    g = world.grid_a.code
    rows = [
        ["x", g, "甲", pid(111), "010", "户主"],
        ["", g, "乙", pid(112), "010", "妻子"],
        ["", g, "丙", pid(113, birth=dt.date(2010, 1, 1)), "010", "女儿"],
        ["", g, "丁", pid(115, birth=dt.date(1950, 1, 1)), "010", "父亲"],
        ["", g, "戊", pid(117, birth=dt.date(1930, 1, 1)), "010", "祖父母"],
        ["", g, "己", pid(119), "010", "儿媳"],
        ["", g, "庚", pid(121), "010", "兄弟姐妹"],
        ["", g, "辛", pid(123, birth=dt.date(2015, 1, 1)), "010", "孙子女"],
        ["", g, "壬", pid(125), "010", "其他"],
    ]
    report = run(xlsx(rows, headers), world.village)
    assert report.ok, report.errors
    got = dict(Resident.objects.filter(household__number="010").values_list("name", "relation"))
    assert got == {"甲": "head", "乙": "spouse", "丙": "child", "丁": "parent", "戊": "grandparent",
                   "己": "child_in_law", "庚": "sibling", "辛": "grandchild", "壬": "other"}
    # Optional columns absent: nothing about phone/party/tags is touched on re-import.
    Resident.objects.filter(name="甲").update(phone="13800005555", is_party_member=True)
    assert run(xlsx(rows, headers), world.village).unchanged == 9
    assert Resident.objects.get(name="甲").phone == "13800005555"


@pytest.mark.parametrize("word,expected", [("是", True), ("否", False), ("1", True), ("0", False),
                                           ("Y", True), ("n", False), ("", False)])
def test_party_member_words(world: Any, word: str, expected: bool) -> None:
    rows = [["020", "周一", "户主", pid(131), "", world.grid_a.code, "", word]]
    assert run(xlsx(rows), world.village).ok
    assert Resident.objects.get(id_number=pid(131)).is_party_member is expected


def test_import_from_a_path_and_existing_residents_inside_the_region_are_matched(
    world: Any, tmp_path: Path
) -> None:
    path = tmp_path / "roster.xlsx"
    rows = [["001", "王建国", "户主", world.head_a.id_number, "13800001111", world.grid_a.code,
             "", "是"]]
    path.write_bytes(xlsx(rows))
    report = roster_import(source=path, region=world.village, actor=SYSTEM)
    assert report.ok and report.unchanged == 1 and report.created_residents == 0


def test_web_user_must_be_allowed_to_write_the_region(world: Any) -> None:
    with pytest.raises(PermissionDenied):
        run(xlsx(base_rows(world)), world.village, actor=world.user("grid_a"))
    with pytest.raises(PermissionDenied):
        run(xlsx(base_rows(world)), world.village, actor=world.user("shop"))
    rows = [r for r in base_rows(world) if r[5] == world.grid_a.code]
    assert run(xlsx(rows), world.grid_a, actor=world.user("grid_a")).ok


# --- bad input: nothing written, the report names row and column ------------------------


def assert_refused(report: ImportReport, before: tuple[int, int, int, int], *,
                   row: int, column: str, word: str = "") -> None:
    assert not report.ok
    assert counts() == before, "nothing may be written"
    hits = [e for e in report.errors if e.row == row and e.column == column]
    assert hits, f"no error for row {row} column {column}: {report.errors}"
    if word:
        assert any(word in e.message or word in e.value for e in hits), hits
    assert report.created_residents == 0 and report.created_households == 0


def test_wrong_check_digit(world: Any) -> None:
    rows = base_rows(world)
    good = rows[2][3]
    rows[2][3] = good[:17] + ("0" if good[17] != "0" else "1")
    before = counts()
    assert_refused(run(xlsx(rows), world.village), before, row=4, column="公民身份号码")


def test_impossible_birth_date(world: Any) -> None:
    rows = base_rows(world)
    first17 = "140110" + "19800230" + "123"
    rows[1][3] = first17 + check_character(first17)
    before = counts()
    assert_refused(run(xlsx(rows), world.village), before, row=3, column="公民身份号码",
                   word="19800230")


def test_duplicate_id_in_the_file(world: Any) -> None:
    rows = base_rows(world)
    rows[3][3] = rows[0][3]
    before = counts()
    report = run(xlsx(rows), world.village)
    assert_refused(report, before, row=5, column="公民身份号码", word="2")


def test_duplicate_id_against_a_household_outside_the_region(world: Any) -> None:
    rows = base_rows(world)
    rows[1][3] = world.head_c.id_number  # lives in 东邵村, outside 西邵村
    before = counts()
    assert_refused(run(xlsx(rows), world.village), before, row=3, column="公民身份号码")


def test_unknown_grid_code(world: Any) -> None:
    rows = base_rows(world)
    rows[3][5] = "140110101201999"
    before = counts()
    assert_refused(run(xlsx(rows), world.village), before, row=5, column="网格编码")


def test_grid_outside_the_import_region(world: Any) -> None:
    rows = base_rows(world)
    before = counts()
    # Importing into grid A: the row for grid B lies outside.
    assert_refused(run(xlsx(rows), world.grid_a), before, row=5, column="网格编码")
    rows[3][5] = world.grid_c.code  # a grid of 东邵村
    assert_refused(run(xlsx(rows), world.village), before, row=5, column="网格编码")


def test_missing_required_column(world: Any) -> None:
    headers = [h for h in H if h != "公民身份号码"]
    rows = [[c for h, c in zip(H, r, strict=True) if h != "公民身份号码"] for r in base_rows(world)]
    before = counts()
    assert_refused(run(xlsx(rows, headers), world.village), before, row=1, column="公民身份号码")


def test_text_file_renamed_to_xlsx_and_csv_are_refused(world: Any, tmp_path: Path) -> None:
    before = counts()
    fake = tmp_path / "roster.xlsx"
    fake.write_text("户号,姓名\n001,王建国\n", encoding="utf-8")
    report = roster_import(source=fake, region=world.village, actor=SYSTEM)
    assert_refused(report, before, row=0, column="", word="xlsx")
    csv = tmp_path / "roster.csv"
    csv.write_text(",".join(H) + "\n", encoding="utf-8")
    assert_refused(roster_import(source=csv, region=world.village, actor=SYSTEM), before,
                   row=0, column="")
    # A zip that is not a workbook.
    import zipfile

    bogus = io.BytesIO()
    with zipfile.ZipFile(bogus, "w") as archive:
        archive.writestr("hello.txt", "hi")
    assert_refused(run(bogus.getvalue(), world.village), before, row=0, column="")


def test_file_over_the_size_limit(world: Any, settings: Any) -> None:
    settings.HEMEI_UPLOAD_MAX_BYTES = 1000
    before = counts()
    assert_refused(run(xlsx(base_rows(world)), world.village), before, row=0, column="",
                   word="MB")


def test_formula_cells_are_errors(world: Any) -> None:
    rows = base_rows(world)
    rows[1][1] = "=HYPERLINK(\"http://x\",\"钱小红\")"
    rows[3][4] = "=1+1"
    before = counts()
    report = run(xlsx(rows), world.village)
    assert_refused(report, before, row=3, column="姓名", word="=HYPERLINK")
    assert_refused(report, before, row=5, column="联系电话")
    # One message per formula cell, not also "name is required".
    assert len([e for e in report.errors if e.row == 3]) == 1


def test_every_bad_row_is_reported_in_one_go(world: Any) -> None:
    rows = base_rows(world)
    rows[0][4] = "12345"  # bad phone
    rows[1][2] = "邻居"  # unknown relation
    rows[2][6] = "富裕户"  # unknown household type
    rows[3][7] = "也许"  # not 是/否
    before = counts()
    report = run(xlsx(rows), world.village)
    assert not report.ok and counts() == before
    assert {(e.row, e.column) for e in report.errors} == {
        (2, "联系电话"), (3, "与户主关系"), (4, "户类型"), (5, "是否党员")}


def test_two_heads_and_one_household_in_two_grids(world: Any) -> None:
    rows = base_rows(world)
    rows[1][2] = "户主"
    rows[2][5] = world.grid_b.code
    before = counts()
    report = run(xlsx(rows), world.village)
    assert_refused(report, before, row=3, column="与户主关系")
    assert_refused(report, before, row=4, column="网格编码")


def test_blank_required_cells_and_id_typed_as_a_number(world: Any) -> None:
    rows = base_rows(world)
    rows[0][1] = "  "
    rows[1][3] = 140110198003041020  # Excel keeps only 15 significant digits
    rows[2][0] = None
    before = counts()
    report = run(xlsx(rows), world.village)
    assert_refused(report, before, row=2, column="姓名")
    assert_refused(report, before, row=3, column="公民身份号码")
    assert_refused(report, before, row=4, column="户号")


def test_empty_file_is_an_error(world: Any) -> None:
    before = counts()
    assert_refused(run(xlsx([]), world.village), before, row=0, column="")


def test_report_masks_personal_data_and_exports_to_xlsx(world: Any) -> None:
    rows = base_rows(world)
    rows[1][3] = world.head_c.id_number
    report = run(xlsx(rows), world.village)
    error = next(e for e in report.errors if e.column == "公民身份号码")
    assert error.value == world.head_c.id_masked
    sheet = load_workbook(io.BytesIO(report_to_xlsx(report))).worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    assert values[1][:3] == (3, "公民身份号码", world.head_c.id_masked)
    assert ImportReport.from_dict(report.to_dict()) == report


# --- the CLI ----------------------------------------------------------------------------


def test_cli_import_prints_the_report_and_exits_1(world: Any, tmp_path: Path) -> None:
    rows = base_rows(world)
    rows[3][5] = "140110101201999"
    path = tmp_path / "bad.xlsx"
    path.write_bytes(xlsx(rows))
    out = io.StringIO()
    before = counts()
    with pytest.raises(CommandError) as excinfo:
        call_command("import_roster", str(path), "--region", world.village.code, stdout=out)
    assert excinfo.value.returncode == 1
    assert "5" in out.getvalue() and "网格编码" in out.getvalue()
    assert counts() == before


def test_cli_import_dry_run_then_real(world: Any, tmp_path: Path) -> None:
    path = tmp_path / "good.xlsx"
    path.write_bytes(xlsx(base_rows(world)))
    before = counts()
    call_command("import_roster", str(path), "--region", world.village.code, "--dry-run",
                 stdout=io.StringIO())
    assert counts() == before
    report_path = tmp_path / "report.xlsx"
    out = io.StringIO()
    call_command("import_roster", str(path), "--region", world.village.code,
                 "--report", str(report_path), stdout=out)
    assert counts()[1] == before[1] + 4
    assert report_path.exists() and "4" in out.getvalue()
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT).get()
    assert entry.actor_name.startswith("cli")


def test_cli_import_unknown_region(world: Any, tmp_path: Path) -> None:
    path = tmp_path / "good.xlsx"
    path.write_bytes(xlsx(base_rows(world)))
    with pytest.raises(CommandError):
        call_command("import_roster", str(path), "--region", "999999", stdout=io.StringIO())


def test_inactive_or_resident_only_tags_are_refused(world: Any) -> None:
    Tag.objects.filter(name="低保户").update(active=False)
    rows = base_rows(world)
    rows[3][6] = "残疾人"  # a resident type, not a household type
    before = counts()
    report = run(xlsx(rows), world.village)
    assert_refused(report, before, row=2, column="户类型", word="低保户")
    assert_refused(report, before, row=5, column="户类型", word="残疾人")


def test_changed_residents_get_audit_rows_with_old_and_new_values(world, tmp_path):
    from hemei.core.models import AuditEntry
    from hemei.regions.roster import roster_export, roster_import

    path = tmp_path / "village.xlsx"
    path.write_bytes(roster_export(region=world.village, reveal=True, actor=SYSTEM))
    import openpyxl

    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    headers = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[headers.index("姓名")].value == "王建国":
            row[headers.index("姓名")].value = "王建军"
            row[headers.index("联系电话")].value = "13500001234"
    wb.save(path)
    report = roster_import(source=path, region=world.village, actor=world.user("secretary"))
    assert report.ok and report.updated_residents == 1
    entry = AuditEntry.objects.get(object_type="regions.resident", object_id=str(world.head_a.pk), action="update")
    assert entry.changes == {"name": ["王建国", "王建军"], "phone": ["***", "***"]}
    assert entry.actor_name == "secretary" and entry.county_code == "140110"
    assert "13500001234" not in str(entry.changes)
