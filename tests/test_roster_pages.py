"""Roster pages: upload → background import → progress → report; scope; downloads."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from hemei.core.models import AuditEntry
from hemei.regions.models import Household, Resident, RosterImport
from tests.test_roster_import import base_rows, xlsx

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
                         "QUEUES": ["default"]}}


@pytest.fixture(autouse=True)
def _tasks_and_media(settings: Any, tmp_path: Path) -> None:
    settings.TASKS = IMMEDIATE
    settings.MEDIA_ROOT = tmp_path / "media"


def upload(client: Any, region_code: str, data: bytes, *, name: str = "roster.xlsx",
           dry_run: bool = False) -> Any:
    form = {"region": region_code, "file": SimpleUploadedFile(name, data)}
    if dry_run:
        form["dry_run"] = "on"
    return client.post(reverse("roster-import"), form)


def people() -> tuple[int, int]:
    return Household.objects.count(), Resident.objects.count()


def test_import_page_offers_only_writable_regions(world: Any, login: Any) -> None:
    client = login(world.user("secretary"))
    page = client.get(reverse("roster-import"))
    assert page.status_code == 200
    html = page.content.decode()
    assert world.village.code in html and world.grid_a.code in html
    assert world.village2.code not in html  # 东邵村 is not the secretary's
    assert reverse("roster-template") in html and reverse("roster-export") in html


def test_villager_gets_no_import_page(world: Any, login: Any) -> None:
    assert login(world.user("villager")).get(reverse("roster-import")).status_code == 404


def test_upload_end_to_end_with_progress_and_status_done(world: Any, login: Any) -> None:
    client = login(world.user("secretary"))
    before = people()
    response = upload(client, world.village.code, xlsx(base_rows(world)))
    assert response.status_code == 302
    job = RosterImport.objects.get()
    assert response["Location"] == reverse("roster-import-status", args=[job.pk])
    assert job.status == RosterImport.Status.DONE and job.percent == 100
    assert job.total_rows == job.processed_rows == 4
    assert (job.created_households, job.created_residents) == (2, 4)
    assert job.user == world.user("secretary") and job.region == world.village
    assert job.file.name.startswith("imports/") and job.original_name == "roster.xlsx"
    assert job.started_at and job.finished_at and job.task_id
    assert people() == (before[0] + 2, before[1] + 4)
    entry = AuditEntry.objects.get(action=AuditEntry.Action.IMPORT)
    assert entry.actor == world.user("secretary")

    status = client.get(reverse("roster-import-status", args=[job.pk]))
    html = status.content.decode()
    assert status.status_code == 200 and 'value="100"' in html
    assert "hx-trigger" not in html  # finished: polling stops
    partial = client.get(reverse("roster-import-progress", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and b"<progress" in partial.content
    assert b"<html" not in partial.content


def test_status_page_polls_while_the_job_runs(world: Any, login: Any) -> None:
    user = world.user("secretary")
    job = RosterImport.objects.create(user=user, region=world.village, county=world.county,
                                      file="imports/x.xlsx", status=RosterImport.Status.RUNNING,
                                      total_rows=10, processed_rows=4, percent=20)
    html = login(user).get(reverse("roster-import-progress", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert reverse("roster-import-progress", args=[job.pk]) in html and 'value="20"' in html


def test_failed_upload_shows_errors_and_the_report_downloads(world: Any, login: Any) -> None:
    client = login(world.user("secretary"))
    rows = base_rows(world)
    rows[3][5] = world.grid_c.code  # 东邵村: outside the secretary's village
    before = people()
    upload(client, world.village.code, xlsx(rows))
    job = RosterImport.objects.get()
    assert job.status == RosterImport.Status.FAILED and people() == before
    assert job.report["error_count"] == 1
    html = client.get(reverse("roster-import-status", args=[job.pk])).content.decode()
    assert "网格编码" in html and world.grid_c.code in html
    assert reverse("roster-import-report", args=[job.pk]) in html

    response = client.get(reverse("roster-import-report", args=[job.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    rows_out = list(sheet.iter_rows(values_only=True))
    assert rows_out[1][:3] == (5, "网格编码", world.grid_c.code)


def test_dry_run_through_the_page_writes_nothing(world: Any, login: Any) -> None:
    client = login(world.user("secretary"))
    before = people()
    upload(client, world.village.code, xlsx(base_rows(world)), dry_run=True)
    job = RosterImport.objects.get()
    assert job.status == RosterImport.Status.DONE and job.dry_run
    assert job.created_residents == 4 and people() == before


@pytest.mark.parametrize("outcome", ["done", "failed", "crashed"])
def test_uploaded_file_is_deleted_after_the_import(world: Any, login: Any, settings: Any,
                                                   monkeypatch: Any, outcome: str) -> None:
    client = login(world.user("secretary"))
    rows = base_rows(world)
    if outcome == "failed":
        rows[3][5] = world.grid_c.code  # outside the village: the import refuses the file
    if outcome == "crashed":
        def crash(**kwargs: Any) -> None:
            raise RuntimeError("boom")
        monkeypatch.setattr("hemei.regions.tasks.roster_import", crash)
    upload(client, world.village.code, xlsx(rows))
    job = RosterImport.objects.get()
    assert job.status == (RosterImport.Status.DONE if outcome == "done"
                          else RosterImport.Status.FAILED)
    # The upload was stored under its name, the name stays on the row, the file is gone.
    stored = Path(settings.MEDIA_ROOT) / job.file.name
    assert job.file.name.startswith("imports/") and job.file.name.endswith(".xlsx")
    assert stored.parent.is_dir() and not stored.exists()
    assert not any(path.is_file() for path in Path(settings.MEDIA_ROOT).rglob("*"))


@pytest.mark.parametrize("target", ["grid_b", "village"])
def test_grid_worker_cannot_import_outside_own_grid(world: Any, login: Any, target: str) -> None:
    client = login(world.user("grid_a"))
    region = getattr(world, target)
    response = upload(client, region.code, xlsx(base_rows(world)))
    assert response.status_code in (403, 404)
    assert not RosterImport.objects.exists()


def test_read_only_post_holder_gets_403(world: Any, login: Any) -> None:
    response = upload(login(world.user("shop")), world.village.code, xlsx(base_rows(world)))
    assert response.status_code == 403 and not RosterImport.objects.exists()


def test_grid_worker_imports_own_grid_but_rows_elsewhere_fail(world: Any, login: Any) -> None:
    client = login(world.user("grid_a"))
    page = client.get(reverse("roster-import")).content.decode()
    assert world.grid_a.code in page and world.grid_b.code not in page
    before = people()
    upload(client, world.grid_a.code, xlsx(base_rows(world)))  # row 5 is in grid B
    job = RosterImport.objects.get()
    assert job.status == RosterImport.Status.FAILED and people() == before
    assert any(e["row"] == 5 and e["column"] == "网格编码" for e in job.report["errors"])
    rows = [r for r in base_rows(world) if r[5] == world.grid_a.code]
    upload(client, world.grid_a.code, xlsx(rows))
    assert RosterImport.objects.first().status == RosterImport.Status.DONE


def test_imports_are_private_to_their_uploader(world: Any, login: Any, client: Any) -> None:
    job = RosterImport.objects.create(user=world.user("secretary"), region=world.village,
                                      county=world.county, file="imports/x.xlsx",
                                      report={"ok": False, "errors": []})
    client.force_login(world.user("township"))
    for name in ("roster-import-status", "roster-import-progress", "roster-import-report"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404


def test_upload_type_and_size_are_checked(world: Any, login: Any, settings: Any) -> None:
    client = login(world.user("secretary"))
    text = upload(client, world.village.code, "户号,姓名\n".encode(), name="roster.xlsx")
    assert text.status_code == 200 and "xlsx" in text.content.decode()
    csv = upload(client, world.village.code, "户号,姓名\n".encode(), name="roster.csv")
    assert csv.status_code == 200
    settings.HEMEI_UPLOAD_MAX_BYTES = 100
    big = upload(client, world.village.code, xlsx(base_rows(world)))
    assert big.status_code == 200 and "MB" in big.content.decode()
    assert not RosterImport.objects.exists()


def test_export_button_masks_without_permission(world: Any, login: Any) -> None:
    client = login(world.user("grid_a"))
    response = client.get(reverse("roster-export"), {"region": world.grid_a.code})
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content)))
                .worksheets[0].iter_rows(values_only=True))
    body = {r[1]: r for r in rows[1:]}
    assert body["王建国"][3] == world.head_a.id_masked
    assert AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT, actor=world.user("grid_a")
                                     ).count() == 1
    assert client.get(reverse("roster-export"), {"region": world.grid_b.code}).status_code == 404


def test_export_button_reveals_with_permission(world: Any, login: Any) -> None:
    client = login(world.user("secretary"))
    response = client.get(reverse("roster-export"), {"region": world.village.code, "reveal": "1"})
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content)))
                .worksheets[0].iter_rows(values_only=True))
    assert {r[3] for r in rows[1:]} >= {world.head_a.id_number}
    entry = AuditEntry.objects.get(action=AuditEntry.Action.EXPORT)
    assert entry.changes["reveal"] is True and entry.ip == "127.0.0.1"


def test_template_download(world: Any, login: Any) -> None:
    response = login(world.user("grid_a")).get(reverse("roster-template"))
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert workbook.sheetnames == ["名册", "说明"]


def test_the_posted_region_is_imported_into_not_the_one_in_the_address(world: Any, login: Any) -> None:
    client = login(world.user("grid_a"))
    data = xlsx(base_rows(world))
    url = reverse("roster-import") + f"?region={world.grid_a.code}"
    response = client.post(url, {"region": world.village.code, "file": SimpleUploadedFile("roster.xlsx", data)})
    assert response.status_code in (403, 404)
    # A code that is not text names no region: the form says so, nothing is queued.
    response = client.post(url, {"region": f"{world.grid_a.code}\x00", "file": SimpleUploadedFile("r.xlsx", data)})
    assert response.status_code == 200 and response.context["form"].errors
    assert not RosterImport.objects.exists()
