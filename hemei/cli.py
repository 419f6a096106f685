"""The `hemei` command: one front door for operators.

Each subcommand is a Django management command (so `manage.py <name>` works too); this
wrapper maps the dashed names, sets the settings module and migrates the database named by
DATABASE_URL first, so every subcommand works on a fresh database.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

COMMANDS = {
    "serve": ("serve", "Run the web server and the background task worker."),
    "demo": ("demo", "Build the deterministic demo county."),
    "import-roster": ("import_roster", "Import a roster xlsx into a region (all-or-nothing)."),
    "export-roster": ("export_roster", "Export a region's roster to xlsx."),
    "token": ("token", "Print a user's API token."),
    "sweep": ("sweep", "Escalate every case past a deadline (--now to sweep as of a moment)."),
    "verify": ("verify", "Check every invariant; non-zero exit on any violation."),
    "bench": ("bench", "Run the benchmarks in bench/."),
    "backup": ("backup", "Write the whole database to a file."),
    "restore": ("restore", "Load a backup file into an empty database."),
    "rollup": ("rollup", "Refresh the indicator summaries (--rebuild: from scratch)."),
    "mqtt": ("mqtt", "The device listener (MQTT); `mqtt acl` writes the broker's password and ACL files."),
    "simulate-devices": ("simulate_devices", "Publish realistic traffic of the demo devices to the broker."),
    "workflows": ("workflows", "Print every workflow's states and moves as Markdown (docs/workflows.md)."),
}
NO_MIGRATE = {"backup", "workflows"}


def migrate() -> None:
    """Migrate the database of DATABASE_URL, from the template when one is set (see below)."""
    from django.core.management import call_command

    with from_template():
        call_command("migrate", interactive=False, verbosity=0)


@contextlib.contextmanager
def from_template() -> Iterator[None]:
    """HEMEI_SQLITE_TEMPLATE=<file> and HEMEI_PG_TEMPLATE=<database name> (the test suite and
    `hemei bench`, which make dozens of fresh databases): a fresh database starts as a copy of
    the template, so that `migrate` (40-60 s from nothing, most of it Django rebuilding its
    model state) only applies what the template lacks. The first process to find no template
    migrates as usual and leaves a copy of its fresh database as the template, under a lock so
    that two processes never build it at once. Without the variables nothing changes."""
    from django.db import connection

    if connection.vendor == "sqlite" and os.environ.get("HEMEI_SQLITE_TEMPLATE"):
        with _sqlite_template(os.environ["HEMEI_SQLITE_TEMPLATE"]):
            yield
    elif connection.vendor == "postgresql" and os.environ.get("HEMEI_PG_TEMPLATE"):
        with _pg_template(os.environ["HEMEI_PG_TEMPLATE"]):
            yield
    else:
        yield


@contextlib.contextmanager
def _sqlite_template(template: str) -> Iterator[None]:
    import fcntl
    import sqlite3

    from django.db import connection

    target = str(connection.settings_dict.get("NAME") or "")
    fresh = target not in ("", ":memory:") and not target.startswith("file:") and (
        not os.path.exists(target) or os.path.getsize(target) == 0)
    if not fresh:
        yield
        return

    def copy(source: str, dest: str) -> None:
        # SQLite's own backup: whole pages, whatever is still in a WAL file.
        with contextlib.closing(sqlite3.connect(source)) as src, contextlib.closing(sqlite3.connect(dest)) as dst:
            src.backup(dst)

    with open(template + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(template):
            copy(template, target)
            yield
            return
        yield  # migrate the new file, then keep a copy of it as the template
        connection.close()
        copy(target, template + ".part")
        os.replace(template + ".part", template)


def pg_admin_conninfo(settings_dict: dict[str, object]) -> str:
    """A connection string to the server's `postgres` database, as the given database's user."""
    from psycopg.conninfo import make_conninfo

    parts = {"host": settings_dict.get("HOST"), "port": settings_dict.get("PORT"),
             "user": settings_dict.get("USER"), "password": settings_dict.get("PASSWORD")}
    return make_conninfo(dbname="postgres", **{k: str(v) for k, v in parts.items() if v})


def pg_clone(admin: psycopg.Connection[Any], template: str, target: str) -> None:
    """Replace the database `target` by a copy of `template` (the server copies its files)."""
    from psycopg import sql

    admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target)))
    admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(target), sql.Identifier(template)))


@contextlib.contextmanager
def _pg_template(template: str) -> Iterator[None]:
    import psycopg
    from django.db import connection

    with connection.cursor() as cursor:
        fresh = not connection.introspection.table_names(cursor)
    target = str(connection.settings_dict["NAME"])
    if not fresh or target == template:
        yield
        return
    connection.close()  # the target is dropped and created again as the template's copy
    with psycopg.connect(pg_admin_conninfo(connection.settings_dict), autocommit=True) as admin:
        # A session lock (released when `admin` closes): one builder of the template at a time.
        admin.execute("SELECT pg_advisory_lock(hashtext(%s))", [template])
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template]).fetchone():
            pg_clone(admin, template, target)
            admin.execute("SELECT pg_advisory_unlock(hashtext(%s))", [template])
            yield
            return
        yield  # migrate the empty database, then copy it as the template
        connection.close()
        from psycopg import sql

        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(template),
                                                                      sql.Identifier(target)))


def usage() -> str:
    lines = ["usage: hemei <command> [options]   (hemei <command> --help for details)", "", "commands:"]
    lines += [f"  {name:<15} {help_}" for name, (_cmd, help_) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"hemei: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hemei.settings")
    import django
    from django.core.management import execute_from_command_line

    django.setup()
    wants_help = "-h" in rest or "--help" in rest
    if not wants_help and name not in NO_MIGRATE:
        migrate()
    command = COMMANDS[name][0]
    try:
        execute_from_command_line([f"hemei {name}", command, *rest])
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else (1 if exc.code else 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
