"""`hemei import-roster FILE --region CODE [--dry-run]`: the operator's roster import.

The same all-or-nothing import as the upload page (`hemei.regions.roster.roster_import`).
On any error nothing is written, the row-by-row report is printed and the exit code is 1.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from hemei.regions.management.commands._actor import add_actor_arguments, command_actor
from hemei.regions.models import Region
from hemei.regions.roster import ImportReport, RowError, report_to_xlsx, roster_import


def format_error(error: RowError) -> str:
    where = _("row %(row)d") % {"row": error.row} if error.row else _("file")
    column = f" [{error.column}]" if error.column else ""
    value = f" \u201c{error.value}\u201d" if error.value else ""
    return f"{where}{column}{value}: {error.message}"


class Command(BaseCommand):
    help = ("Import a roster xlsx (户号, 姓名, 与户主关系, 公民身份号码, 联系电话, 网格编码, "
            "户类型, 是否党员) into a region. All or nothing: on any error nothing is written, "
            "the report is printed and the exit code is 1.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the roster .xlsx file (see docs/roster.md)")
        parser.add_argument("--region", required=True,
                            help="code of the region to import into; every grid in the file "
                                 "must lie inside it")
        parser.add_argument("--dry-run", action="store_true",
                            help="check the file and print what would change; write nothing")
        parser.add_argument("--report", metavar="XLSX",
                            help="also write the row-by-row report to this xlsx file")
        add_actor_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("File not found: %(path)s") % {"path": path})
        region = Region.objects.filter(code=options["region"]).first()
        if region is None:
            raise CommandError(_("Unknown region code %(code)s.") % {"code": options["region"]})
        show_progress = options["verbosity"] >= 1 and sys.stderr.isatty()

        def progress(done: int, total: int) -> None:
            if show_progress:
                text = f"{done * 100 // total}%" if total else f"{done:,}"
                self.stderr.write(f"\r{text}   ", ending="")

        try:
            report = roster_import(source=path, region=region, actor=command_actor(options),
                                   dry_run=options["dry_run"], progress=progress)
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        if show_progress:
            self.stderr.write("")
        if options["report"]:
            Path(options["report"]).write_bytes(report_to_xlsx(report))
        self._print(report, region)
        if not report.ok:
            raise CommandError(
                _("%(n)d errors; nothing was written.") % {"n": report.error_count}, returncode=1
            )

    def _print(self, report: ImportReport, region: Region) -> None:
        for error in report.errors:
            self.stdout.write(format_error(error))
        for warning in report.warnings:
            self.stdout.write(_("warning") + ": " + format_error(warning))
        if not report.ok:
            return
        summary = _(
            "%(rows)d rows: %(hh)d households created, %(new)d residents created, "
            "%(upd)d updated (%(moved)d moved), %(same)d unchanged."
        ) % {"rows": report.rows, "hh": report.created_households, "new": report.created_residents,
             "upd": report.updated_residents, "moved": report.moved_residents,
             "same": report.unchanged}
        if report.dry_run:
            self.stdout.write(_("Dry run, nothing written.") + " " + summary)
        else:
            self.stdout.write(self.style.SUCCESS(
                _("Imported into %(region)s.") % {"region": region} + " " + summary
            ))
