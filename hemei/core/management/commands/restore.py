from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Load a backup FILE into an empty (freshly migrated) database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        """1. Refuse a database that already holds data: merging two histories would break
        the append-only audit log and the region tree. 2. Load everything in one transaction
        (loaddata is atomic) and reset sequences."""
        for label in ("regions.Region", "regions.Household", "accounts.User", "core.AuditEntry"):
            if apps.get_model(label).objects.exists():
                raise CommandError(
                    f"restore needs an empty database, but {label} has rows. "
                    "Point DATABASE_URL at a new SQLite file or a freshly created PostgreSQL database."
                )
        call_command("loaddata", options["file"], verbosity=0)
        self.stdout.write(f"restored {options['file']}")
