from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

# Rebuilt by `migrate` on the target, so they are not copied (and their ids may differ).
EXCLUDE = ["contenttypes", "auth.permission", "sessions", "admin.logentry"]


class Command(BaseCommand):
    help = "Write the whole database to FILE.json (add .gz/.xz/.bz2 to compress). Works across SQLite and PostgreSQL."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        if ".json" not in options["file"]:
            raise CommandError("the backup file name must end in .json (optionally .json.gz, .json.xz, .json.bz2)")
        # Natural keys for permissions and content types make the file portable between
        # databases whose auto-created rows got different ids.
        call_command("dumpdata", exclude=EXCLUDE, natural_foreign=True, output=options["file"],
                     format="hemei-json", verbosity=0)
        self.stdout.write(f"backup written to {options['file']}")
