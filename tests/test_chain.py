"""The one hash-chain mechanism (`hemei.core.chain`): the encoding, `hemei verify --chain CODE
--json`, and the outsider's script of docs/chain.md run exactly as written, with only the
standard library, against the command's output."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from hemei.core import chain
from hemei.core.models import GENESIS_HASH, ChainHead
from hemei.points import ledger
from hemei.points.models import Entry
from tests.conftest import World
from tests.test_disclosure import draft, publish
from tests.test_disclosure import staff as staff  # the fixtures, re-exported under their names
from tests.test_points_posting import OVER, in_publicity
from tests.test_points_posting import pts as pts

DOC = Path(__file__).resolve().parent.parent / "docs" / "chain.md"


def doc_script() -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) == 1, "docs/chain.md has exactly one Python block: the outsider's script"
    assert len(blocks[0].splitlines()) <= 20
    return blocks[0]


def outsider(output: str) -> subprocess.CompletedProcess[str]:
    """The doc's script under the system Python, isolated (-I) and without site packages (-S):
    nothing but the standard library."""
    python = shutil.which("python3", path="/usr/bin:/bin") or sys.executable
    return subprocess.run([python, "-I", "-S", "-c", doc_script()], input=output, capture_output=True,
                          text=True, timeout=60, check=False)


def exported(code: str) -> str:
    out = io.StringIO()
    call_command("verify", chain=code, json=True, stdout=out)
    return out.getvalue()


def heads(out: str) -> dict[str, tuple[int, str]]:
    lines = [line.split() for line in out.splitlines()]
    return {kind: (int(n), digest) for kind, n, digest in (line for line in lines if len(line) == 3)}


@pytest.fixture
def chained(world: World, pts: Any, staff: dict[str, Any]) -> World:
    """西邵村 with three effective points entries and two published disclosure versions."""
    in_publicity(world, pts, 3)
    assert ledger.publicity_sweep(OVER) == 3
    publish(world, staff, draft(world))
    publish(world, staff, draft(world, title="第二条", body="账目：收入 1,200.50 元。"))
    return world


def test_the_encoding_is_canonical_json_with_fixed_formats() -> None:
    when = dt.datetime(2026, 10, 20, 10, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    payload = {"b": Decimal("12.50"), "a": "西邵村", "d": dt.date(2026, 10, 5), "t": when, "n": None}
    assert chain.canonical(payload) == (
        '{"a":"西邵村","b":"12.50","d":"2026-10-05","n":null,"t":"2026-10-20T02:00:00.123456+00:00"}'
    ).encode()
    with pytest.raises(TypeError):
        chain.canonical({"t": dt.datetime(2026, 10, 20)})  # a time without a zone is ambiguous
    with pytest.raises(ValueError):
        chain.canonical({"x": float("nan")})
    assert GENESIS_HASH == "0" * 64


def test_an_outsider_rederives_every_chain_of_the_village(chained: World) -> None:
    output = exported(chained.village.code)
    doc = json.loads(output)
    assert [c["kind"] for c in doc["chains"]] == ["disclosure", "points"]
    assert [len(c["links"]) for c in doc["chains"]] == [2, 3]
    result = outsider(output)
    assert result.returncode == 0, result.stdout + result.stderr
    stored = {h.chain: (h.length, h.head_hash) for h in ChainHead.objects.filter(village=chained.village)}
    assert heads(result.stdout) == stored == {"disclosure": (2, stored["disclosure"][1]),
                                               "points": (3, stored["points"][1])}
    first = doc["chains"][1]["links"][0]["payload"]
    assert first["prev_hash"] == GENESIS_HASH and first["sequence"] == 1


def test_the_outsider_finds_a_tampered_link_and_a_wrong_head(chained: World) -> None:
    doc = json.loads(exported(chained.village.code))
    points = doc["chains"][1]
    points["links"][1]["payload"]["points"] += 50
    result = outsider(json.dumps(doc, ensure_ascii=False))
    assert result.returncode == 1 and "points link 2: does not re-derive" in result.stdout
    doc = json.loads(exported(chained.village.code))
    doc["chains"][0]["head_hash"] = "f" * 64
    result = outsider(json.dumps(doc))
    assert result.returncode == 1 and "disclosure: the head does not match the links" in result.stdout


@pytest.mark.sqlite_only  # drops the SQLite guard trigger inside the test transaction
def test_an_entry_changed_in_the_database_is_detected(chained: World) -> None:
    entry = Entry.objects.get(village=chained.village, sequence=2)
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER points_entry_effective_immutable")
        cursor.execute("UPDATE points_entry SET points = points + 50 WHERE id = %s", [entry.pk])
    result = outsider(exported(chained.village.code))
    assert result.returncode == 1 and "points link 2: does not re-derive" in result.stdout
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("verify", chain=chained.village.code, stdout=out)
    assert exit_.value.code == 1
    assert f"entry {entry.pk} content does not match its hash" in out.getvalue()
    assert "ok   disclosure: 2 links" in out.getvalue()


def test_verify_chain_checks_one_village_and_refuses_an_unknown_code(chained: World) -> None:
    out = io.StringIO()
    call_command("verify", chain=chained.village.code, stdout=out)
    head = ChainHead.objects.get(chain="points", village=chained.village)
    assert f"ok   points: 3 links, head {head.head_hash}" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("verify", chain="999999999999", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("verify", json=True, stdout=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_the_migrations_move_existing_chains_both_ways(chained: World) -> None:
    """Back to the two old chains (points heads in points_chainhead, the disclosure chain from
    "" in disclosure_disclosurechain) and forward again: the links re-derive under the one
    genesis, the heads come back exactly, and the re-derivation leaves an audit row."""
    from django.db.migrations.executor import MigrationExecutor

    from hemei.core.models import AuditEntry
    from hemei.core.verify import CHECKS
    from hemei.disclosure.models import DisclosureVersion

    before = {(h.chain, h.length, h.head_hash) for h in ChainHead.objects.all()}
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate([("core", "0004_calendar_2026")])
        with connection.cursor() as cursor:
            cursor.execute("SELECT sequence, head_hash FROM points_chainhead")
            points_heads = cursor.fetchall()
            cursor.execute("SELECT length, head_hash FROM disclosure_disclosurechain")
            disclosure_heads = cursor.fetchall()
        first, second = DisclosureVersion.objects.filter(sequence__isnull=False).order_by("sequence")
        assert (first.prev_hash, second.prev_hash) == ("", first.hash)
        assert disclosure_heads == [(2, second.hash)]
        assert {("points", n, h) for n, h in points_heads} <= before
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(leaves)
    assert {(h.chain, h.length, h.head_hash) for h in ChainHead.objects.all()} == before
    assert CHECKS["points-chains"]() == [] and CHECKS["disclosure-chains"]() == []
    note = AuditEntry.objects.get(object_type="core.chainhead")
    assert note.changes["head_hash"] == [second.hash, dict((c, h) for c, _n, h in before)["disclosure"]]
