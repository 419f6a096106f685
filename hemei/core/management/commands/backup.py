"""`hemei backup FILE.json[.gz|.xz|.bz2]`: the whole database in one sealed, portable file.

A backup runs beside a live server and never holds up its writers:
- SQLite: SQLite's online backup API copies the database into a private snapshot file in one
  step (a read, which in WAL mode never blocks a writer), and the slow part, serialising,
  reads the snapshot, not the live file. (It used to hold an IMMEDIATE transaction for the
  whole dump: on the demo county 74 s in which every write failed and the task worker died.)
- PostgreSQL: one REPEATABLE READ READ ONLY transaction, a snapshot no writer waits for.

The file is written under a temporary name in the target's directory, flushed to disk and
renamed over the target only when complete, so a crash, a full disk or a failing query leaves
the previous backup as it was. Its last element is a seal (hemei.core.serializers) that
`hemei restore` checks.

A killed backup (kill -9, OOM, power cut) runs no clean-up. Its temporary file and snapshot
directory carry the pid of the backup that made them, so the next backup into that directory
removes those whose process is gone, and never those of a backup still running.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction

from hemei.core.serializers import OPENERS

# Rebuilt by `migrate` on the target (and their ids may differ), or short-lived (sessions).
EXCLUDE = ["contenttypes", "auth.permission", "sessions"]
SNAPSHOT_ALIAS = "backup-snapshot"
SNAPSHOT_PREFIX = ".hemei-snapshot-"
# `.<target>.<pid>.<random>.partial[.gz]` and `.hemei-snapshot-<pid>-<random>`.
LEFTOVER = re.compile(
    r"^(?:\..+\.(?P<file_pid>\d+)\.[0-9a-f]{8}\.partial(?:\.\w+)?|\.hemei-snapshot-(?P<dir_pid>\d+)-.+)$"
)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def remove_leftovers(directory: Path) -> list[Path]:
    """Delete the temporary files and snapshot directories that dead backups left in
    `directory`; returns what was removed."""
    removed: list[Path] = []
    for entry in directory.iterdir():
        match = LEFTOVER.match(entry.name)
        if not match:
            continue
        pid = int(match["file_pid"] or match["dir_pid"])
        if pid == os.getpid() or process_alive(pid):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


@contextmanager
def sqlite_snapshot(directory: Path) -> Iterator[str]:
    """A private copy of the live SQLite database, registered as a connection alias for the
    time of the block. The copy is taken in one backup step through the application's own
    connection (so an in-memory database works too): one consistent read."""
    with tempfile.TemporaryDirectory(prefix=f"{SNAPSHOT_PREFIX}{os.getpid()}-", dir=directory) as tmp:
        path = os.path.join(tmp, "snapshot.sqlite3")
        import sqlite3

        connection.ensure_connection()
        target = sqlite3.connect(path)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
        connections.settings[SNAPSHOT_ALIAS] = {**connections.settings[DEFAULT_DB_ALIAS], "NAME": path}
        try:
            yield SNAPSHOT_ALIAS
        finally:
            connections[SNAPSHOT_ALIAS].close()
            del connections[SNAPSHOT_ALIAS]
            del connections.settings[SNAPSHOT_ALIAS]


def fsync_path(path: str | Path, *, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temporary_name(target: Path) -> Path:
    """A hidden name beside the target that keeps its compression suffix (dumpdata chooses
    gzip/xz/bz2 by the last suffix)."""
    suffix = target.suffix if target.suffix in OPENERS else ""
    return target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.partial{suffix}")


class Command(BaseCommand):
    help = "Write the whole database to FILE.json (add .gz/.xz/.bz2 to compress). Works across SQLite and PostgreSQL."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        """1. Dump a snapshot to a temporary file beside the target. 2. fsync it. 3. Rename it
        over the target and fsync the directory. On any failure the temporary file goes and
        the target is untouched."""
        if ".json" not in options["file"]:
            raise CommandError("the backup file name must end in .json (optionally .json.gz, .json.xz, .json.bz2)")
        target = Path(options["file"]).absolute()
        if not target.parent.is_dir():
            raise CommandError(f"no directory {target.parent}")
        for path in remove_leftovers(target.parent):
            self.stderr.write(f"removed {path.name}, left by a backup that was killed")
        partial = temporary_name(target)
        try:
            self._dump(str(partial), target.parent)
            fsync_path(partial)
            os.replace(partial, target)
            fsync_path(target.parent, directory=True)
        finally:
            partial.unlink(missing_ok=True)
        self.stdout.write(f"backup written to {options['file']}")

    def _dump(self, output: str, directory: Path) -> None:
        # Natural keys for permissions and content types make the file portable between
        # databases whose auto-created rows got different ids.
        dump = {"exclude": EXCLUDE, "natural_foreign": True, "output": output, "format": "hemei-json", "verbosity": 0}
        if connection.vendor == "sqlite":
            with sqlite_snapshot(directory) as alias:
                call_command("dumpdata", database=alias, **dump)
            return
        # One snapshot: a live system keeps writing while the tables are read one after another.
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            call_command("dumpdata", **dump)
