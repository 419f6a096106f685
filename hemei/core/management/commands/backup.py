from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

# Rebuilt by `migrate` on the target (and their ids may differ), or short-lived (sessions).
EXCLUDE = ["contenttypes", "auth.permission", "sessions"]


class Command(BaseCommand):
    help = "Write the whole database to FILE.json (add .gz/.xz/.bz2 to compress). Works across SQLite and PostgreSQL."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        if ".json" not in options["file"]:
            raise CommandError("the backup file name must end in .json (optionally .json.gz, .json.xz, .json.bz2)")
        # One snapshot: a live system keeps writing while the tables are read one after another.
        # SQLite gives a transaction a consistent view; PostgreSQL needs REPEATABLE READ for it.
        # Natural keys for permissions and content types make the file portable between
        # databases whose auto-created rows got different ids.
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            call_command("dumpdata", exclude=EXCLUDE, natural_foreign=True, output=options["file"],
                         format="hemei-json", verbosity=0)
        self.stdout.write(f"backup written to {options['file']}")
