"""The roster import: all-or-nothing, built for big files (a county is ~100k residents).

1. Stream the sheet once with openpyxl in read-only mode and check every cell that can be
   checked alone (ID number, phone, relation, party flag, formulas) — nothing is written
   (`hemei.regions.roster.reader`).
2. Resolve grids, households and residents that already exist with a handful of queries
   (never one per row) and check the rules that span rows: one ID once, one head per
   household, one grid per household number, every grid under the import's region, no ID
   that already belongs to someone outside that region (`hemei.regions.roster.plan`).
3. Only when there is no error at all, write everything inside one transaction with
   bulk_create / bulk_update; the rare moves go through the regular services so their
   history rows (MoveRecord, audit) are the same as for a move made by hand.

The per-row services (`resident_create` …) are deliberately not used for creation: they
cost several queries each. The same checks are reused instead (`check_id_number`,
`normalise_phone`, `pinyin_initials`).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from hemei.core.audit import audit_record
from hemei.core.models import AuditEntry
from hemei.core.scope import require_actor
from hemei.core.xlsx import WorkbookRefused, open_workbook
from hemei.regions.access import scope_for
from hemei.regions.models import Region
from hemei.regions.roster.plan import Plan
from hemei.regions.roster.reader import ProgressCallback, read_rows
from hemei.regions.roster.report import Collector, ImportReport


@dataclass
class _Source:
    stream: IO[bytes]
    size: int
    name: str
    close: bool


def _open_source(source: str | Path | IO[bytes]) -> _Source:
    if isinstance(source, (str, Path)):
        path = Path(source)
        return _Source(stream=path.open("rb"), size=path.stat().st_size, name=path.name, close=True)
    stream = source
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return _Source(stream=stream, size=size, name=str(getattr(source, "name", "") or ""),
                   close=False)


def _sha256(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    stream.seek(0)
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


def roster_import(
    *,
    source: str | Path | IO[bytes],
    region: Region,
    actor: Any,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Check a roster file completely, then apply it in one transaction or not at all.

    1. Refuse a file that is too big, not an xlsx or expands too much (`check_workbook`).
    2. Read the header row; every required column must be there.
    3. Stream the rows, checking each cell on its own (see `read_rows`).
    4. Check grids, households and IDs against the database and across rows (`Plan`).
    5. If anything is wrong, return the report: nothing was written.
    6. Unless `dry_run`, write it all in one transaction and append one "import" audit row.

    `progress(done, total)` is called now and then: each data row counts once when checked
    and once when written, so `total` is twice the row count; `total` is 0 while the row
    count is still unknown (the sheet gives no dimension). Re-importing an unchanged file
    changes nothing and only adds the import's audit row.
    """
    require_actor(actor)
    if not scope_for(actor).covers_path(region.path, write=True):
        raise PermissionDenied(_("This region is outside your posts."))
    report = ImportReport(dry_run=dry_run)
    errors = Collector()
    tick: ProgressCallback = progress or (lambda done, total: None)

    src = _open_source(source)
    try:
        checksum = _sha256(src.stream)
        try:
            # Size, type and what the zip expands to are checked before openpyxl reads it;
            # data_only=False so that formulas show as formulas and can be refused.
            workbook = open_workbook(src.stream, data_only=False)
        except WorkbookRefused as exc:
            errors.add(0, "", src.name, exc.message)
            return _finish(report, errors)
        try:
            rows = read_rows(workbook, errors, tick)
        finally:
            workbook.close()
    finally:
        if src.close:
            src.stream.close()
    if rows is None:
        return _finish(report, errors)
    report.rows = len(rows)
    total = 2 * len(rows)
    tick(len(rows), total)
    if not rows and not errors.count:
        errors.add(0, "", "", _("The file has no data rows."))
        return _finish(report, errors)

    plan = Plan(region=region, rows=rows, errors=errors)
    plan.check()
    report.created_households = len(plan.new_households)
    report.created_residents = len(plan.new_rows)
    report.updated_residents = len(plan.updates)
    report.moved_residents = len(plan.moves)
    report.unchanged = plan.unchanged
    report.updated_households = len(
        set(plan.household_changes()) | {plan.households[k].pk for k in plan.household_moves}
    )
    if errors.count or dry_run:
        if not errors.count:
            tick(total, total)
        return _finish(report, errors)

    try:
        with transaction.atomic():
            plan.write(actor=actor, tick=lambda written: tick(len(rows) + written, total))
            audit_record(
                actor=actor, action=AuditEntry.Action.IMPORT, obj=region,
                object_repr=f"{region.name} ({region.code})", county_code=region.code[:6],
                changes={
                    "file": src.name, "sha256": checksum, "rows": report.rows,
                    "created_households": report.created_households,
                    "created_residents": report.created_residents,
                    "updated_residents": report.updated_residents,
                    "moved_residents": report.moved_residents,
                    "updated_households": report.updated_households,
                    "unchanged": report.unchanged,
                    # Which residents changed, without personal data (ids and field names).
                    "changed_fields": plan.changed_fields_summary(),
                },
            )
    except IntegrityError:
        # Someone registered the same person or household number between our check and
        # our write; the transaction rolled back, so still nothing was written.
        errors.add(0, "", "", _(
            "The register changed while the file was being imported; nothing was written. "
            "Please import the file again."
        ))
        return _finish(report, errors)
    tick(total, total)
    return _finish(report, errors)


def _finish(report: ImportReport, errors: Collector) -> ImportReport:
    report.errors = errors.finish()
    report.warnings = list(errors.warnings)
    report.error_count = errors.count
    report.ok = errors.count == 0
    if not report.ok:
        # Nothing was (or would be) written: counts of a failed file would only mislead.
        report.created_households = report.created_residents = report.updated_residents = 0
        report.moved_residents = report.updated_households = report.unchanged = 0
    return report
