"""Background work for regions: the roster import behind the upload page.

The web request only stores the file and enqueues `roster_import_task`; the worker (the
django-tasks-db worker started by `hemei serve`, or the immediate backend in tests) runs the
all-or-nothing import and keeps the `RosterImport` row up to date so the page can poll it.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.tasks import task
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from hemei.regions.models import RosterImport
from hemei.regions.roster import ImportReport, RowError, roster_import

logger = logging.getLogger(__name__)

# Writing the progress row costs a query; a few updates a second are plenty for a bar.
PROGRESS_MIN_SECONDS = 0.5


@task()
def roster_import_task(import_id: int, language: str = "") -> dict[str, Any]:
    """Run one queued roster import and record the outcome on its `RosterImport` row.

    1. Mark the job running (a job that is no longer queued is left alone, so a task
       delivered twice does not import twice).
    2. Import, reporting progress to the row at most every PROGRESS_MIN_SECONDS.
    3. Store the report and counts; status "done" when the file was applied (or checked,
       for a dry run) and "failed" when it had errors or the import crashed.
    4. Delete the uploaded file either way (`_discard_upload`).
    """
    started = RosterImport.objects.filter(pk=import_id, status=RosterImport.Status.QUEUED).update(
        status=RosterImport.Status.RUNNING, started_at=timezone.now(), percent=0
    )
    if not started:
        return {"skipped": True}
    job = RosterImport.objects.select_related("region", "user").get(pk=import_id)
    last = 0.0

    def progress(done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        finished = total > 0 and done >= total
        if now - last < PROGRESS_MIN_SECONDS and not finished:
            return
        last = now
        rows = total // 2
        RosterImport.objects.filter(pk=import_id).update(
            total_rows=rows,
            processed_rows=min(done, rows) if total else done,
            percent=min(100, done * 100 // total) if total else None,
        )

    # The report is written in the uploader's language (override(None) would mean the
    # untranslated English msgids, so fall back to the site language instead).
    with translation.override(language or settings.LANGUAGE_CODE):
        try:
            with job.file.open("rb") as stream:
                report = roster_import(
                    source=stream, region=job.region, actor=job.user, dry_run=job.dry_run,
                    progress=progress,
                )
        except Exception:
            logger.exception("roster import %s crashed", import_id)
            report = ImportReport(ok=False, errors=[RowError(
                row=0, column="", value="",
                message=_("The import stopped with an internal error; nothing was written."),
            )], error_count=1, dry_run=job.dry_run)
            _store(import_id, report)
            _discard_upload(job)
            raise  # the task backend records the failure and the traceback too
    _store(import_id, report)
    _discard_upload(job)
    return {"ok": report.ok, "rows": report.rows, "errors": report.error_count}


def _store(import_id: int, report: ImportReport) -> None:
    RosterImport.objects.filter(pk=import_id).update(
        status=RosterImport.Status.DONE if report.ok else RosterImport.Status.FAILED,
        total_rows=report.rows,
        processed_rows=report.rows,
        percent=100,
        created_households=report.created_households,
        created_residents=report.created_residents,
        updated_residents=report.updated_residents,
        unchanged=report.unchanged,
        report=report.to_dict(),
        finished_at=timezone.now(),
    )


def _discard_upload(job: RosterImport) -> None:
    """Delete the uploaded roster from storage once its import has finished.

    The file holds full ID numbers and phones. Once the import is over it is no longer
    needed: the register holds what was applied and the row holds the (masked) report, and
    nothing imports the same upload twice. The row keeps the file name as a record of what
    was uploaded.
    """
    if not job.file.name:
        return
    try:
        job.file.storage.delete(job.file.name)
    except OSError:
        # The outcome is already stored; a file that could not be removed must not turn a
        # finished import into a failed task, but it must not go unnoticed either.
        logger.exception("roster import %s: could not delete %s", job.pk, job.file.name)
