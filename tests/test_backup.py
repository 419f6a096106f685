"""Backups beside a live system (issue 12, items 1 and 4): a backup never holds up writers,
restores to a consistent state, replaces the previous file only when complete, and a file
cut short or edited is refused."""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.faultkit import (
    ROOT,
    VENDORS,
    child_env,
    count,
    drop_database,
    fresh_database,
    hemei,
    seeded,
    seeds,
)

__all__ = ["seeded", "seeds"]  # fixtures

WRITER = """
import django, os, sys, time, uuid
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hemei.settings")
django.setup()
from hemei.accounts.models import User
from hemei.points.shop import reward_create, reward_restock
from hemei.regions.models import Region
shop = User.objects.get(username="shop")
reward = reward_create(actor=shop, village=Region.objects.get(code="140110101201"), name="毛巾", price=5)
print("ready", flush=True)
until = time.monotonic() + float(sys.argv[1])
while time.monotonic() < until:
    started = time.monotonic()
    reward_restock(actor=shop, reward=reward, quantity=1, idempotency_key=uuid.uuid4().hex)
    print(f"ack {time.monotonic() - started:.3f}", flush=True)
"""


def start_writer(db: str, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(seconds)], cwd=ROOT, env=child_env(db),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready", proc.stderr.read() if proc.stderr else ""
    return proc


@pytest.mark.parametrize("seeded", VENDORS, indirect=True)
def test_backup_under_concurrent_writes_blocks_no_writer_and_restores_consistently(seeded, tmp_path):
    db = seeded.copy(tmp_path)
    writer = start_writer(db, seconds=12)
    time.sleep(1)
    before = count(db, "SELECT count(*) FROM points_stockmovement")
    backup = tmp_path / "live.json.gz"
    started = time.monotonic()
    hemei("backup", str(backup), db=db)
    took = time.monotonic() - started
    after = count(db, "SELECT count(*) FROM points_stockmovement")
    out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err[-3000:]
    latencies = [float(line.split()[1]) for line in out.splitlines() if line.startswith("ack")]
    # The writer kept going through the backup: no error, no write held up by it.
    assert after > before, (before, after, took)
    assert max(latencies) < 5, (max(latencies), took)
    target = fresh_database(seeded.vendor, tmp_path)
    try:
        hemei("restore", str(backup), db=target)
        assert "all invariants hold" in hemei("verify", db=target).stdout  # stock = Σ movements: one snapshot
        restored = count(target, "SELECT count(*) FROM points_stockmovement")
        assert before <= restored <= after
    finally:
        drop_database(target)


@pytest.mark.parametrize("seeded", [VENDORS[0]], indirect=True)
def test_a_sqlite_backup_never_takes_the_write_lock(seeded, tmp_path):
    """While `hemei backup` runs, another connection can always start a write transaction at
    once (busy timeout 0). The old backup held BEGIN IMMEDIATE for the whole dump."""
    db = seeded.copy(tmp_path)
    path = db.removeprefix("sqlite:///")
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    probe.execute("PRAGMA journal_mode=WAL")
    proc = subprocess.Popen([sys.executable, "-m", "hemei.cli", "backup", str(tmp_path / "b.json")], cwd=ROOT,
                            env=child_env(db), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    tries, locked = 0, 0
    while proc.poll() is None:
        tries += 1
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("UPDATE regions_household SET address = address WHERE id = -1")
            probe.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            assert "locked" in str(exc)
            locked += 1
        time.sleep(0.002)
    probe.close()
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    assert tries > 50
    assert locked == 0, f"{locked} of {tries} write attempts found the database locked during the backup"


def _tables_in_dump_order(path: str) -> list[str]:
    con = sqlite3.connect(path)
    names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'contracts_%'")]
    con.close()
    return names


@pytest.mark.parametrize("seeded", [VENDORS[0]], indirect=True)
def test_a_failing_backup_leaves_the_previous_file_intact(seeded, tmp_path):
    db = seeded.copy(tmp_path)
    backup = tmp_path / "nightly.json.gz"
    hemei("backup", str(backup), db=db)
    good = backup.read_bytes()
    # Break the database behind the application's back so that the dump fails part way
    # (the contracts app is dumped after most others).
    path = db.removeprefix("sqlite:///")
    con = sqlite3.connect(path)
    con.execute("PRAGMA foreign_keys=OFF")
    for table in _tables_in_dump_order(path):
        con.execute(f'DROP TABLE "{table}"')
    con.commit()
    con.close()
    failed = hemei("backup", str(backup), db=db, check=False)
    assert failed.returncode != 0
    assert backup.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no partial file left
    target = fresh_database("sqlite", tmp_path)
    hemei("restore", str(backup), db=target)
    assert count(target, "SELECT count(*) FROM regions_household") == 3


@pytest.mark.parametrize("seeded", [VENDORS[0]], indirect=True)
def test_a_backup_cut_short_or_edited_is_refused_and_restores_nothing(seeded, tmp_path):
    db = seeded.copy(tmp_path)
    plain = tmp_path / "b.json"
    hemei("backup", str(plain), db=db)
    text = plain.read_text(encoding="utf-8")
    objects = json.loads(text)
    assert objects[-1]["model"] == "hemei.seal" and objects[-1]["fields"]["objects"] == len(objects) - 1
    bad = {
        # A valid fixture with one resident fewer: loaddata alone would load it.
        "edited.json": json.dumps([o for i, o in enumerate(objects) if i != 5], ensure_ascii=False),
        "unsealed.json": json.dumps(objects[:-1], ensure_ascii=False),
        "cut.json": text[: len(text) // 2],
        "cut-after-seal.json": text[: len(text) - 3],
    }
    for name, content in bad.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    with gzip.open(tmp_path / "good.json.gz", "wt", encoding="utf-8") as stream:
        stream.write(text)
    (tmp_path / "cut.json.gz").write_bytes((tmp_path / "good.json.gz").read_bytes()[:-40])
    target = fresh_database("sqlite", tmp_path)  # one target: each refusal leaves it empty
    for name in [*bad, "cut.json.gz"]:
        result = hemei("restore", str(tmp_path / name), db=target, check=False)
        assert result.returncode != 0, name
        assert count(target, "SELECT count(*) FROM regions_household") == 0, name
        assert "not a whole backup" in result.stderr or "rror" in result.stderr, (name, result.stderr)
    target = fresh_database("sqlite", tmp_path)
    assert "seal checked" in hemei("restore", str(tmp_path / "good.json.gz"), db=target).stdout
    assert count(target, "SELECT count(*) FROM regions_household") == 3
    # A backup of an older Hemei (no seal) still restores when the operator says so.
    target = fresh_database("sqlite", tmp_path)
    hemei("restore", "--unsealed", str(tmp_path / "unsealed.json"), db=target)
    assert count(target, "SELECT count(*) FROM regions_household") == 3




@pytest.mark.parametrize("seeded", [VENDORS[0]], indirect=True)
def test_a_backup_removes_what_killed_backups_left_and_nothing_of_a_running_one(seeded, tmp_path):
    db = seeded.copy(tmp_path)
    backups = tmp_path / "backups"
    backups.mkdir()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(gone.stdout)  # a process that has exited: what a kill -9 leaves behind
    alive = os.getpid()  # this test's process: a backup still running
    left = [backups / f".nightly.json.gz.{dead}.0badc0de.partial.gz", backups / f".hemei-snapshot-{dead}-x1y2"]
    kept = [
        backups / f".nightly.json.gz.{alive}.0badc0de.partial.gz",
        backups / f".hemei-snapshot-{alive}-x1y2",
        backups / ".nightly.json.gz.notes",  # not ours: never touched
    ]
    for path in left[:1] + kept[::2]:
        path.write_bytes(b"half a backup")
    for path in (left[1], kept[1]):
        path.mkdir()
        (path / "snapshot.sqlite3").write_bytes(b"a whole copy")
    result = hemei("backup", str(backups / "nightly.json.gz"), db=db)
    assert [p for p in left if p.exists()] == []
    assert [p for p in kept if not p.exists()] == []
    assert result.stderr.count("left by a backup that was killed") == 2
    assert (backups / "nightly.json.gz").stat().st_size > 0
