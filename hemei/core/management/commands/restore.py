from __future__ import annotations

import os
import tempfile
from typing import Any

from django.apps import apps
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from hemei.core.serializers import SealError, read_sealed


class Command(BaseCommand):
    help = "Load a backup FILE into an empty (freshly migrated) database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--unsealed", action="store_true",
                            help="accept a file without a seal (written by a Hemei older than sealed backups)")

    def handle(self, *args: Any, **options: Any) -> None:
        """1. Refuse a database that already holds data: merging two histories would break
        the append-only audit log and the region tree. 2. Refuse a file whose seal is missing
        or does not match (cut short, damaged, edited). 3. Load everything in one transaction
        (loaddata is atomic) and reset sequences."""
        for label in ("regions.Region", "regions.Household", "accounts.User", "core.AuditEntry"):
            if apps.get_model(label).objects.exists():
                raise CommandError(
                    f"restore needs an empty database, but {label} has rows. "
                    "Point DATABASE_URL at a new SQLite file or a freshly created PostgreSQL database."
                )
        if options["unsealed"]:
            call_command("loaddata", options["file"], verbosity=0)
            self.stdout.write(f"restored {options['file']} (not checked: unsealed)")
            return
        try:
            fixture, count = read_sealed(options["file"])
        except SealError as exc:
            raise CommandError(f"{options['file']} is not a whole backup: {exc}. Nothing was restored.") from None
        with tempfile.TemporaryDirectory(prefix="hemei-restore-") as tmp:
            path = os.path.join(tmp, "backup.json")
            with open(path, "w", encoding="utf-8") as stream:
                stream.write(fixture)
            del fixture
            call_command("loaddata", path, verbosity=0)
        self.stdout.write(f"restored {options['file']} ({count} objects, seal checked)")
