"""The demo county: 西邵村 as the seeds describe it, valid people, working logins, one build.

The default county (~6,000 households) is built once for the TestDefaultDemo class inside a
transaction that is rolled back afterwards; determinism is checked by building twice in two
fresh database files in separate processes (different hash seeds), as `make run` would.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import models, transaction
from django.db.models import Count
from django.test import override_settings

from hemei.accounts.backends import UsernameOrPhoneBackend
from hemei.accounts.models import User
from hemei.core.idnumbers import parse_id_number
from hemei.core.models import AuditEntry
from hemei.regions.access import access_households
from hemei.regions.demo import (
    DEFAULT_PASSWORD,
    PERSONAS,
    XISHAO_CODE,
    DemoSummary,
    demo_build,
    demo_markdown,
    resident_digest,
)
from hemei.regions.models import Household, HouseholdLink, Level, Post, Region, Resident, Role

COUNTY = "140110"


@pytest.fixture(scope="class")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """The default demo county, built once per class and rolled back afterwards."""
    # The autouse MD5 hasher of conftest is function-scoped; hash the shared demo password
    # with it too, or the persona accounts could not sign in inside the tests.
    md5 = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with django_db_blocker.unblock(), transaction.atomic(), md5:
        started = time.perf_counter()
        summary = demo_build()
        print(f"\ndefault demo build: {time.perf_counter() - started:.1f} s, {summary.counts.households} households")
        yield summary
        transaction.set_rollback(True)


@pytest.mark.usefixtures("demo")
@pytest.mark.django_db
class TestDefaultDemo:
    def test_xishao_has_448_households_in_5_grids(self) -> None:
        village = Region.objects.get(code=XISHAO_CODE)
        assert village.name == "西邵村"
        assert village.level == Level.VILLAGE
        assert Region.objects.get_parent(village).name == "姚村镇"
        grids = list(Region.objects.get_children(village).order_by("code"))
        assert [g.code for g in grids] == [f"{XISHAO_CODE}{i:03d}" for i in range(1, 6)]
        assert [g.name for g in grids] == [
            "第一网格",
            "第二网格",
            "第三网格",
            "第四网格",
            "第五网格",
        ]
        assert Household.objects.filter(village=village).count() == 448
        assert Household.objects.filter(region__in=grids).count() == 448

    def test_xishao_has_63_party_members(self) -> None:
        members = Resident.objects.filter(household__village__code=XISHAO_CODE, is_party_member=True)
        assert members.count() == 63
        assert all(r.age >= 18 for r in members)

    def test_the_county_spans_several_townships_and_villages(self, demo: DemoSummary) -> None:
        county = Region.objects.get(code=COUNTY)
        assert Region.objects.get_parent(county).code == "1401"
        assert Region.objects.get_root(county).code == "14"
        townships = Region.objects.get_children(county)
        assert {"姚村镇", "晋源街道", "金胜镇", "晋祠镇"} <= {t.name for t in townships}
        assert 5 <= Region.objects.get_children(Region.objects.get(code="140110101")).count() <= 8
        sizes = Household.objects.filter(county=county).values("village").annotate(n=Count("id"))
        assert all(150 <= row["n"] <= 600 for row in sizes)
        grids = Household.objects.filter(county=county).values("region").annotate(n=Count("id"))
        assert max(row["n"] for row in grids) <= 300
        assert demo.counts.households == Household.objects.filter(county=county).count()

    def test_the_tree_is_consistent(self) -> None:
        # treebeard's own check: paths, depths and child counts agree.
        assert all(not problems for problems in Region.objects.find_problems())
        county = Region.objects.get(code=COUNTY)
        codes = dict(Region.objects.values_list("path", "code"))
        for region in Region.objects.get_descendants(county):
            assert region.code.startswith(codes[region.path[: -Region.steplen]])

    def test_every_id_number_is_valid_and_matches_sex_and_birth_date(self) -> None:
        rows = Resident.objects.filter(county__code=COUNTY).values_list("id_number", "sex", "birth_date", "id_tail")
        seen = set()
        for number, sex, birth, tail in rows:
            parsed = parse_id_number(number)
            assert number.startswith(COUNTY)
            assert (parsed.sex, parsed.birth_date, parsed.tail4) == (sex, birth, tail)
            seen.add(number)
        assert len(seen) == len(rows)

    def test_households_have_one_head_and_plausible_families(self) -> None:
        households = Household.objects.filter(county__code=COUNTY)
        sizes = Counter(households.annotate(n=Count("residents")).values_list("n", flat=True))
        assert set(sizes) <= {2, 3, 4, 5}
        heads = Resident.objects.filter(county__code=COUNTY, relation=Resident.Relation.HEAD)
        assert heads.count() == households.count()
        assert not households.exclude(head__relation=Resident.Relation.HEAD).exists()
        assert not households.filter(head__isnull=True).exists()
        head_birth = dict(heads.values_list("household_id", "birth_date"))
        for relation, gap in ((Resident.Relation.CHILD, 18), (Resident.Relation.GRANDCHILD, 36)):
            for hid, birth in Resident.objects.filter(county__code=COUNTY, relation=relation).values_list(
                "household_id", "birth_date"
            ):
                assert (birth - head_birth[hid]).days >= gap * 365 - 366, (relation, hid)
        parents = Resident.objects.filter(county__code=COUNTY, relation=Resident.Relation.PARENT)
        for hid, birth in parents.values_list("household_id", "birth_date"):
            assert (head_birth[hid] - birth).days >= 20 * 365

    def test_some_residents_moved_out_or_died_and_households_are_tagged(self) -> None:
        statuses = Counter(Resident.objects.filter(county__code=COUNTY).values_list("status", flat=True))
        assert statuses[Resident.Status.MOVED_OUT] > 0
        assert statuses[Resident.Status.DECEASED] > 0
        assert (
            not Resident.objects.filter(county__code=COUNTY)
            .exclude(status="living")
            .filter(status_date__isnull=True)
            .exists()
        )
        tagged = set(Household.objects.filter(county__code=COUNTY).values_list("tags__name", flat=True))
        assert {"脱贫户", "低保户", "独居老人", "党员户"} <= tagged

    def test_phones_are_mobile_numbers_and_unique(self) -> None:
        phones = list(Resident.objects.filter(county__code=COUNTY).exclude(phone="").values_list("phone", flat=True))
        assert phones
        assert all(len(p) == 11 and p[0] == "1" and p[1] in "3456789" and p.isdigit() for p in phones)
        assert len(set(phones)) == len(phones)

    def test_party_members_and_cadres_link_households(self) -> None:
        xishao = Household.objects.filter(village__code=XISHAO_CODE)
        party_links = HouseholdLink.objects.filter(household__in=xishao, kind=HouseholdLink.Kind.PARTY_MEMBER)
        per_member = Counter(party_links.values_list("resident_id", flat=True))
        assert len(per_member) == 63
        assert all(8 <= n <= 12 for n in per_member.values())
        cadre_links = HouseholdLink.objects.filter(kind=HouseholdLink.Kind.CADRE)
        roles = set(cadre_links.values_list("post__role", flat=True))
        assert roles == {Role.SECRETARY, Role.DIRECTOR, Role.GRID_LEADER}
        assert set(cadre_links.values_list("household__village__code", flat=True)) == {XISHAO_CODE}

    def test_every_persona_login_exists_with_its_post(self) -> None:
        expected = {
            "villager": (Role.VILLAGER, XISHAO_CODE),
            "grid1": (Role.GRID_WORKER, XISHAO_CODE + "001"),
            "grid2": (Role.GRID_WORKER, XISHAO_CODE + "002"),
            "secretary": (Role.SECRETARY, XISHAO_CODE),
            "township": (Role.TOWNSHIP_STAFF, "140110101"),
            "county": (Role.COUNTY_ADMIN, COUNTY),
            "shop": (Role.SHOP_KEEPER, XISHAO_CODE),
            "care": (Role.CARE_WORKER, XISHAO_CODE),
            "carelead": (Role.CARE_WORKER, XISHAO_CODE),
            **{f"leader{i}": (Role.GRID_LEADER, f"{XISHAO_CODE}{i:03d}") for i in range(1, 6)},
        }
        for username, (role, code) in expected.items():
            post = Post.objects.current().get(user__username=username)
            assert (post.role, post.region.code) == (role, code), username
        assert {p.username for p in PERSONAS} <= set(User.objects.values_list("username", flat=True))
        assert User.objects.get(username="admin").is_superuser

    def test_the_care_demo_has_the_centre_elders_a_week_and_one_open_call(self) -> None:
        from hemei.care.models import Elder, Institution, OperatorRating, Reading, WorkOrder
        from hemei.care.services import certified_share

        centre = Institution.objects.get(name="西邵村智慧康养服务中心")
        assert (centre.area_m2, centre.region.code, centre.lead.username) == (590, XISHAO_CODE, "carelead")
        assert Elder.objects.filter(monitored=True).count() == 160
        staff = [certified_share(i) for i in Institution.objects.all()]
        assert min(staff) >= 0.95 and Reading.objects.count() > 5000
        orders = WorkOrder.objects.select_related("case")
        assert orders.filter(case__tier="township").count() == 1
        assert orders.filter(case__status="submitted").count() == 1  # the call open now
        assert orders.filter(case__status="closed", case__accepted_at__lte=models.F("respond_by")).count() >= 20
        assert OperatorRating.objects.filter(kind="sewage").count() == 1

    def test_reveal_and_admin_rights(self) -> None:
        secretary, county, grid1 = (User.objects.get(username=u) for u in ("secretary", "county", "grid1"))
        assert secretary.has_perm("regions.reveal_personal_data")
        assert county.has_perm("regions.reveal_personal_data")
        assert not grid1.has_perm("regions.reveal_personal_data")
        assert county.is_staff and not county.is_superuser
        assert county.has_perm("regions.change_tag")
        # Posts decide scopes; the admin's post forms are not scoped, so county staff get none.
        assert not county.has_perm("regions.add_post") and not county.has_perm("regions.change_post")
        assert not county.has_perm("regions.view_resident")

    def test_grid1_and_grid2_are_different_grids_and_grid1_sees_only_its_grid(self) -> None:
        grid1, grid2 = User.objects.get(username="grid1"), User.objects.get(username="grid2")
        region1 = Post.objects.get(user=grid1).region
        region2 = Post.objects.get(user=grid2).region
        assert region1 != region2
        households = access_households(grid1)
        assert set(households.values_list("region_id", flat=True)) == {region1.pk}
        assert households.count() == Household.objects.filter(region=region1).count() == 90

    def test_the_villager_signs_in_with_the_phone_of_their_resident(self) -> None:
        user = User.objects.get(username="villager")
        post = Post.objects.get(user=user)
        assert post.resident.relation == Resident.Relation.HEAD
        assert post.resident.region.code == XISHAO_CODE + "001"
        assert user.phone == post.resident.phone
        assert UsernameOrPhoneBackend().authenticate(None, username=user.phone, password=DEFAULT_PASSWORD) == user

    def test_a_second_run_changes_nothing(self) -> None:
        before = (
            Region.objects.count(),
            Household.objects.count(),
            Resident.objects.count(),
            User.objects.count(),
            Post.objects.count(),
            AuditEntry.objects.count(),
        )
        summary = demo_build()
        assert not summary.created
        after = (
            Region.objects.count(),
            Household.objects.count(),
            Resident.objects.count(),
            User.objects.count(),
            Post.objects.count(),
            AuditEntry.objects.count(),
        )
        assert after == before

    def test_the_build_leaves_one_import_audit_row(self) -> None:
        rows = AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT, county_code=COUNTY)
        assert rows.count() == 1
        assert rows.get().changes["households"] == Household.objects.filter(county__code=COUNTY).count()

    def test_docs_demo_md_is_current(self, demo: DemoSummary) -> None:
        committed = Path(settings.BASE_DIR, "docs", "demo.md").read_text(encoding="utf-8")
        assert demo_markdown(demo) == committed, "run `hemei demo` on an empty database and commit docs/demo.md"


@pytest.mark.django_db
def test_households_n_gives_exactly_n_households_and_keeps_xishao() -> None:
    summary = demo_build(households=1200, seed=7)
    assert summary.counts.households == Household.objects.count() == 1200
    assert Household.objects.filter(village__code=XISHAO_CODE).count() == 448
    assert Resident.objects.filter(household__village__code=XISHAO_CODE, is_party_member=True).count() == 63
    # Round-robin over the named townships: a small county still has more than one.
    assert Region.objects.filter(level=Level.TOWNSHIP, households__isnull=True).count() >= 2
    assert len(resident_digest()) == 64


@pytest.mark.django_db
def test_a_different_seed_gives_different_people() -> None:
    with transaction.atomic():
        demo_build(households=500, seed=1)
        first = resident_digest()
        transaction.set_rollback(True)
    demo_build(households=500, seed=2)
    assert resident_digest() != first


def _build_in_fresh_database(path: Path, hash_seed: str) -> str:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "PYTHONHASHSEED": hash_seed}
    subprocess.run(
        [sys.executable, "-m", "hemei.cli", "demo", "--households", "800", "--seed", "11"],
        check=True,
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
    )
    digest = hashlib.sha256()
    with sqlite3.connect(path) as db:
        for name, number, birth, phone in db.execute(
            "SELECT name, id_number, birth_date, phone FROM regions_resident ORDER BY id"
        ):
            digest.update(f"{name}\t{number}\t{birth}\t{phone}\n".encode())
    return digest.hexdigest()


@pytest.mark.slow  # two child processes on their own SQLite files: once, in the SQLite pass
def test_the_same_seed_gives_the_same_people_in_two_fresh_databases(tmp_path: Path) -> None:
    first = _build_in_fresh_database(tmp_path / "a.sqlite3", "1")
    second = _build_in_fresh_database(tmp_path / "b.sqlite3", "2")
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
