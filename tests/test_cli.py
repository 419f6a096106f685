"""The `hemei` command, run as a real process against real database files."""

import os
import sqlite3
import subprocess
import sys

import pytest

from hemei.cli import COMMANDS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def hemei(*args, db, check=True, extra_env=None):
    env = {**os.environ, "DATABASE_URL": db, "HEMEI_TASKS_BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
           **(extra_env or {})}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run([sys.executable, "-m", "hemei.cli", *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"hemei {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


SEED_SCRIPT = """
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hemei.settings")
django.setup()
from hemei.cli import migrate
migrate()
from tests.conftest import build_world
build_world()
"""


def seed_world(db):
    env = {**os.environ, "DATABASE_URL": db}
    subprocess.run([sys.executable, "-c", SEED_SCRIPT], cwd=ROOT, env=env, check=True, timeout=300)


@pytest.mark.slow  # child processes on their own SQLite files: once, in the SQLite pass
def test_help_lists_every_command(tmp_path):
    out = hemei("--help", db=f"sqlite:///{tmp_path}/x.sqlite3").stdout
    for name in COMMANDS:
        assert name in out


@pytest.mark.slow  # child processes on their own SQLite files: once, in the SQLite pass
@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_has_help(tmp_path, name):
    result = hemei(name, "--help", db=f"sqlite:///{tmp_path}/x.sqlite3")
    assert "usage" in result.stdout.lower()


@pytest.mark.slow  # child processes on their own SQLite files: once, in the SQLite pass
def test_unknown_command_fails(tmp_path):
    assert hemei("frobnicate", db=f"sqlite:///{tmp_path}/x.sqlite3", check=False).returncode == 2


@pytest.mark.slow  # child processes on their own SQLite files: once, in the SQLite pass
def test_verify_passes_on_a_good_database_and_names_violations(tmp_path):
    path = tmp_path / "v.sqlite3"
    db = f"sqlite:///{path}"
    seed_world(db)
    ok = hemei("verify", db=db)
    assert "all invariants hold" in ok.stdout
    # Corrupt the register behind the application's back: a resident whose grid differs
    # from their household's, and a broken ID check character.
    con = sqlite3.connect(path)
    con.execute("UPDATE regions_resident SET region_id = (SELECT id FROM regions_region WHERE code='140110101202001') "
                "WHERE name = '张志强'")
    con.execute("UPDATE regions_resident SET id_number = substr(id_number, 1, 17) || "
                "CASE substr(id_number, 18, 1) WHEN '1' THEN '2' ELSE '1' END WHERE name = '李秀英'")
    con.commit()
    con.close()
    bad = hemei("verify", db=db, check=False)
    assert bad.returncode == 1
    assert "FAIL resident-places" in bad.stdout
    assert "FAIL resident-id-numbers" in bad.stdout
    assert "ok   region-tree" in bad.stdout


@pytest.mark.slow  # child processes on their own SQLite files: once, in the SQLite pass
def test_token_prints_a_key_that_works(tmp_path):
    db = f"sqlite:///{tmp_path}/t.sqlite3"
    seed_world(db)
    key = hemei("token", "grid1", db=db).stdout.strip()
    assert len(key) == 40
    assert hemei("token", "grid1", db=db).stdout.strip() == key
    assert hemei("token", "nobody", db=db, check=False).returncode != 0


def table_rows(path):
    con = sqlite3.connect(path)
    tables = [r[0] for r in con.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND (name LIKE 'regions_%' OR name LIKE 'core_%' "
        "OR name LIKE 'accounts_%')")]
    rows = {t: sorted(map(repr, con.execute(f'SELECT * FROM "{t}"'))) for t in tables}  # noqa: S608
    con.close()
    return rows


@pytest.mark.slow  # child processes on their own SQLite files: once, in the SQLite pass
def test_backup_and_restore_round_trip(tmp_path):
    source = tmp_path / "source.sqlite3"
    target = tmp_path / "target.sqlite3"
    seed_world(f"sqlite:///{source}")
    backup = tmp_path / "hemei-backup.json.gz"
    hemei("backup", str(backup), db=f"sqlite:///{source}")
    assert backup.stat().st_size > 0
    hemei("restore", str(backup), db=f"sqlite:///{target}")
    assert table_rows(target) == table_rows(source)
    assert "all invariants hold" in hemei("verify", db=f"sqlite:///{target}").stdout
    # A second restore into the same (now full) database is refused and changes nothing.
    again = hemei("restore", str(backup), db=f"sqlite:///{target}", check=False)
    assert again.returncode != 0 and "empty database" in again.stderr
    assert table_rows(target) == table_rows(source)


@pytest.mark.postgres_only
def test_backup_restores_from_sqlite_into_postgresql(tmp_path):
    import psycopg

    url = os.environ.get("HEMEI_TEST_POSTGRES") or os.environ["DATABASE_URL"]
    base = url.rsplit("/", 1)[0]
    name = f"hemei_restore_{os.getpid()}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}"')
        con.execute(f'CREATE DATABASE "{name}"')
    try:
        source = tmp_path / "source.sqlite3"
        seed_world(f"sqlite:///{source}")
        backup = tmp_path / "b.json"
        hemei("backup", str(backup), db=f"sqlite:///{source}")
        hemei("restore", str(backup), db=f"{base}/{name}")
        assert "all invariants hold" in hemei("verify", db=f"{base}/{name}").stdout
        with psycopg.connect(f"{base}/{name}") as con:
            count = con.execute("SELECT count(*) FROM regions_resident").fetchone()[0]
            audit = con.execute("SELECT count(*) FROM core_auditentry").fetchone()[0]
        src = sqlite3.connect(source)
        assert count == src.execute("SELECT count(*) FROM regions_resident").fetchone()[0]
        assert audit == src.execute("SELECT count(*) FROM core_auditentry").fetchone()[0]
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.slow  # child processes on their own SQLite files: once, in the SQLite pass
def test_demo_refuses_a_production_system(tmp_path):
    result = hemei("demo", db=f"sqlite:///{tmp_path}/p.sqlite3", check=False,
                   extra_env={"HEMEI_PRODUCTION": "1", "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "example.org"})
    assert result.returncode != 0
    assert "production" in (result.stderr + result.stdout)
    con = sqlite3.connect(tmp_path / "p.sqlite3")
    assert con.execute("SELECT count(*) FROM accounts_user").fetchone()[0] == 0
