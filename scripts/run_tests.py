"""`make test`: lint, types, deploy check, then pytest on SQLite and (when configured) PostgreSQL.

On a laptop, parts whose services are missing are skipped and listed at the end; with
HEMEI_REQUIRE_ALL=1 (CI) a missing part is a failure.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time

REQUIRE_ALL = os.environ.get("HEMEI_REQUIRE_ALL") == "1"
PG_URL = os.environ.get("HEMEI_TEST_POSTGRES", "")
WORKERS = os.environ.get("HEMEI_TEST_WORKERS", "2")


def step(title: str, argv: list[str], env: dict[str, str] | None = None) -> bool:
    print(f"\n=== {title}: {' '.join(argv)}", flush=True)
    started = time.monotonic()
    code = subprocess.call(argv, env={**os.environ, **(env or {})})  # noqa: S603
    print(f"=== {title}: {'ok' if code == 0 else f'FAILED (exit {code})'} in {time.monotonic() - started:.0f}s",
          flush=True)
    return code == 0


def main() -> int:
    py = sys.executable
    failures: list[str] = []
    skipped: list[str] = []
    if not step("ruff", [py, "-m", "ruff", "check", "."]):
        failures.append("ruff")
    if not step("mypy", [py, "-m", "mypy", "hemei"]):
        failures.append("mypy")
    prod = {"HEMEI_PRODUCTION": "1", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "hemei.example.org"}
    if not step("check --deploy", [py, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], prod):
        failures.append("check --deploy")
    pytest = [py, "-m", "pytest", "-n", WORKERS, "-rs", "-q", "--durations=30"]
    sqlite_env = {"DATABASE_URL": "sqlite:///:memory:"}
    if not step("pytest on SQLite", [*pytest, "-m", "not postgres_only"], {**sqlite_env}):
        failures.append("pytest on SQLite")
    if PG_URL:
        # "slow" tests run child processes on their own SQLite files whatever DATABASE_URL
        # says (benchmark smoke runs, CLI commands, demo determinism): a second pass would
        # repeat them as is.
        if not step("pytest on PostgreSQL", [*pytest, "-m", "not browser and not slow"], {"DATABASE_URL": PG_URL}):
            failures.append("pytest on PostgreSQL")
    else:
        skipped.append("PostgreSQL pass (set HEMEI_TEST_POSTGRES=postgres://user@host:5432/dbname)")
        if REQUIRE_ALL:
            failures.append("PostgreSQL pass required but HEMEI_TEST_POSTGRES is not set")
    print()
    for s in skipped:
        print(f"skipped: {s}")
    if failures:
        print("FAILED: " + ", ".join(failures))
        return 1
    print("all test steps passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
