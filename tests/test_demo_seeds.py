"""The demo generator beyond the default county: other sizes and seeds, and determinism (the
same seed gives the same people and the same cases; a different seed gives other people).

The generator is the same code on both databases and these build the demo two or three
times over, so they run once, in the SQLite pass (`slow`); the default build on each database
is checked by tests/test_demo.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction

from hemei.core.idnumbers import parse_id_number
from hemei.regions.demo import XISHAO_CODE, demo_build, resident_digest
from hemei.regions.models import Household, Level, Region, Resident


@pytest.mark.slow
@pytest.mark.django_db
def test_households_n_gives_exactly_n_households_and_keeps_xishao() -> None:
    summary = demo_build(households=1200, seed=7)
    assert summary.counts.households == Household.objects.count() == 1200
    assert Household.objects.filter(village__code=XISHAO_CODE).count() == 448
    assert Resident.objects.filter(household__village__code=XISHAO_CODE, is_party_member=True).count() == 63
    # Round-robin over the named townships: a small county still has more than one.
    assert Region.objects.filter(level=Level.TOWNSHIP, households__isnull=True).count() >= 2
    assert len(resident_digest()) == 64


@pytest.mark.slow
@pytest.mark.django_db
def test_a_different_seed_gives_different_people() -> None:
    with transaction.atomic():
        demo_build(households=500, seed=1)
        first = resident_digest()
        transaction.set_rollback(True)
    demo_build(households=500, seed=2)
    assert resident_digest() != first


def _build_in_fresh_database(path: Path, hash_seed: str) -> tuple[str, str, int]:
    """The digests of the people and of the cases of a demo built in a fresh database by a
    child process (its own PYTHONHASHSEED), and the number of cases."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "PYTHONHASHSEED": hash_seed}
    subprocess.run(
        [sys.executable, "-m", "hemei.cli", "demo", "--households", "800", "--seed", "11"],
        check=True,
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
    )
    people, cases = hashlib.sha256(), hashlib.sha256()
    with sqlite3.connect(path) as db:
        for name, number, birth, phone in db.execute(
            "SELECT name, id_number, birth_date, phone FROM regions_resident ORDER BY id"
        ):
            people.update(f"{name}\t{number}\t{birth}\t{phone}\n".encode())
        rows = db.execute("SELECT number, title, status FROM cases_case ORDER BY number").fetchall()
        for number, title, status in rows:
            cases.update(f"{number}\t{title}\t{status}\n".encode())
    return people.hexdigest(), cases.hexdigest(), len(rows)


@pytest.mark.slow  # two child processes on their own SQLite files
def test_the_same_seed_gives_the_same_people_and_cases_in_two_fresh_databases(tmp_path: Path) -> None:
    # One pair of builds for both: each build takes a minute or two on the CI machine.
    first = _build_in_fresh_database(tmp_path / "a.sqlite3", "1")
    second = _build_in_fresh_database(tmp_path / "b.sqlite3", "2")
    assert first[2] > 250  # the cases are there to compare
    assert first == second


def test_id_numbers_are_checksum_valid_for_children_born_last_year() -> None:
    # The newest birth dates stay in 2025, so no ID number lies in the future.
    import random

    from hemei.regions.demo.people import PeopleFactory

    people = PeopleFactory(random.Random(3))
    for age in (0, 1, 50, 100):
        number, birth = people.id_number(people.birth_date(age), "F")
        assert birth <= dt.date(2025, 12, 31)
        assert parse_id_number(number).sex == "F"
