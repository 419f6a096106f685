"""The demo county: 西邵村 as the seeds describe it, valid people, working logins, a year of
cases (issue 3, "Demo") and of visits, patrols and monitoring — all on one build.

The default county (~6,000 households) is built once for this module inside a transaction
that is rolled back afterwards (a build takes most of a minute: the register, the cases and
the visits are checked on the same one; under xdist each worker that runs some of them builds
its own, as `--dist loadgroup` no longer groups tests with pytest 9.2, pytest-xdist#1386).
Other seeds and sizes, and determinism, are in tests/test_demo_seeds.py.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import models, transaction
from django.db.models import Count
from django.test import override_settings
from django.urls import reverse

from hemei.accounts.backends import UsernameOrPhoneBackend
from hemei.accounts.models import User
from hemei.care.services import CARE_CATEGORIES
from hemei.cases.demo import DEMO_NOW
from hemei.cases.models import Case, CaseCounter, CaseEvent, DeadlineExtension
from hemei.cases.services import ALLOWED
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
)
from hemei.regions.models import Household, HouseholdLink, Level, Post, Region, Resident, Role
from hemei.visits.models import Monitoring, PatrolFinding, VisitProblem
from hemei.visits.selectors import coverage, missing_households, period_of

COUNTY = "140110"


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """The default demo county, built once for the module and rolled back afterwards."""
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


NUMBER = re.compile(r"^140110-20\d\d-\d{6}$")

# Timeline entries that leave the status as it was (blank on the case a duplicate joined).
KEEPS_STATUS = {CaseEvent.Kind.TRANSFERRED, CaseEvent.Kind.EXTENSION_ASKED, CaseEvent.Kind.EXTENSION_GRANTED,
                CaseEvent.Kind.EXTENSION_REFUSED, CaseEvent.Kind.MERGED, CaseEvent.Kind.PHOTO,
                CaseEvent.Kind.REMINDED, CaseEvent.Kind.TABLED, CaseEvent.Kind.DECIDED}


@pytest.mark.usefixtures("demo")
@pytest.mark.django_db
class TestDemoCases:
    def test_about_300_cases_in_xishao_and_two_other_villages(self) -> None:
        # The simulated year ends on DEMO_NOW; the day of the build adds grid1's cases due today.
        assert 280 <= Case.objects.filter(created_at__lte=DEMO_NOW).count() <= 300
        # (The care demo's work orders of the last weeks are cases too, in their own categories.)
        today = Case.objects.filter(created_at__gt=DEMO_NOW, region__code=f"{XISHAO_CODE}001").exclude(
            category__name__in=CARE_CATEGORIES.values())
        assert today.count() == 3
        # Cameras' cases (the devices demo) belong to a village, not to a household.
        reported = Case.objects.exclude(source=Case.Source.DEVICE, household__isnull=True)
        assert Case.objects.filter(source=Case.Source.DEVICE, household__isnull=True).count() == 2
        villages = Counter(reported.values_list("household__village__code", flat=True))
        assert len(villages) == 3 and villages[XISHAO_CODE] > 100
        assert not Case.objects.exclude(county__code="140110").exists()
        for case in reported.select_related("region", "household__region", "reporter"):
            assert case.household.region_id == case.region_id == case.reporter.region_id
            assert case.reporter.household_id == case.household_id

    def test_every_status_and_rating(self) -> None:
        statuses = Counter(Case.objects.values_list("status", flat=True))
        expected = set(Case.Status.values) - {Case.Status.MERGED}
        assert expected <= {s for s, n in statuses.items() if n > 0}, statuses
        assert statuses[Case.Status.CLOSED] > Case.objects.count() / 2
        ratings = Counter(Case.objects.filter(status=Case.Status.CLOSED).values_list("rating", flat=True))
        assert ratings[Case.Rating.SATISFIED] > ratings[Case.Rating.BASICALLY] > 0
        reopened = Case.objects.filter(events__kind=CaseEvent.Kind.REOPENED).distinct()
        assert reopened.filter(status=Case.Status.CLOSED).exists()

    def test_escalated_cases_with_overdue_flags(self) -> None:
        escalated = Case.objects.filter(tier__in=[Case.Tier.TOWNSHIP, Case.Tier.COUNTY])
        assert escalated.filter(status__in=[Case.Status.SUBMITTED, Case.Status.ACCEPTED,
                                            Case.Status.IN_PROGRESS]).exists()
        assert escalated.filter(tier=Case.Tier.COUNTY).exists()
        for case in escalated:
            assert case.overdue_accept or case.overdue_resolve
            assert case.escalated_at is not None
            assert case.events.filter(kind=CaseEvent.Kind.ESCALATED).exists()
        assert not Case.objects.filter(tier=Case.Tier.VILLAGE, escalated_at__isnull=False).exists()

    def test_numbers_and_counter(self) -> None:
        numbers = list(Case.objects.order_by("created_at", "id").values_list("number", "created_at"))
        assert all(NUMBER.match(n) for n, _ in numbers)
        for year in (2025, 2026):
            seqs = sorted(int(n[-6:]) for n, _ in numbers if n[7:11] == str(year))
            assert seqs == list(range(1, len(seqs) + 1))
            assert CaseCounter.objects.get(county__code="140110", year=year).last == len(seqs)

    def test_timelines_are_consistent(self) -> None:
        events: dict[int, list[CaseEvent]] = {}
        for event in CaseEvent.objects.order_by("at", "id"):
            events.setdefault(event.case_id, []).append(event)
        for case in Case.objects.filter(created_at__lte=DEMO_NOW):  # the simulated year
            timeline = events[case.pk]
            assert timeline[0].kind == CaseEvent.Kind.SUBMITTED and timeline[0].at == case.created_at
            assert timeline[-1].to_status == case.status, case.number
            assert timeline[-1].at == case.updated_at <= DEMO_NOW
            status = Case.Status.SUBMITTED
            for event in timeline[1:]:
                if event.kind in KEEPS_STATUS and {event.from_status, event.to_status} <= {"", status}:
                    continue  # a note on the timeline, not a transition
                assert event.from_status == status
                if event.kind != CaseEvent.Kind.ESCALATED:
                    assert event.to_status in ALLOWED[status], (case.number, status, event.kind)
                status = event.to_status
            open_ = case.status in (Case.Status.SUBMITTED, Case.Status.ACCEPTED, Case.Status.IN_PROGRESS)
            if open_ and case.tier != Case.Tier.COUNTY:  # the sweep has run up to the demo's now
                deadline = case.accept_by if case.status == Case.Status.SUBMITTED else case.resolve_by
                assert deadline > DEMO_NOW - dt.timedelta(minutes=10), case.number
            if case.status == Case.Status.CLOSED:
                assert case.closed_at and case.resolved_at and case.accepted_at and case.rating
            if case.status == Case.Status.RESOLVED:
                assert case.resolved_at and case.rating is None

    def test_merges_transfers_and_extensions(self) -> None:
        merged = list(Case.objects.filter(status=Case.Status.MERGED).select_related("merged_into"))
        assert merged, "the demo shows merged duplicates"
        for dup in merged:
            target = dup.merged_into
            assert target is not None and target.region_id == dup.region_id and target.created_at < dup.created_at
            assert target.events.filter(kind="merged", data__duplicate=dup.number).exists()
        assert CaseEvent.objects.filter(kind="transferred").exists()
        granted = DeadlineExtension.objects.filter(status="granted").select_related("case")
        assert granted.exists()
        for ext in granted:
            assert ext.decided_by is not None and ext.until > ext.old_resolve_by
            assert ext.case.events.filter(kind="extension_granted").exists()

    def test_responsible_staff_of_xishao(self) -> None:
        users = set(Case.objects.filter(household__village__code=XISHAO_CODE, responsible__isnull=False)
                    .values_list("responsible__username", flat=True))
        assert "secretary" in users and users & {"grid1", "grid2", "leader1", "leader3"}

    def test_secretary_case_list(self, client: Any) -> None:
        client.force_login(User.objects.get(username="secretary"))
        response = client.get(reverse("case-list"))
        assert response.status_code == 200
        page = response.content.decode()
        assert "140110-2026-" in page

    def test_villager_sees_own_cases(self, client: Any) -> None:
        client.force_login(User.objects.get(username="villager"))
        response = client.get(reverse("my-cases"))
        assert response.status_code == 200 and "140110-20" in response.content.decode()


@pytest.mark.usefixtures("demo")
@pytest.mark.django_db
def test_the_demo_has_a_year_of_visits_patrols_and_monitoring() -> None:
    """`hemei demo` (cases first, then visits): coverage with missing households this quarter,
    linked visit cases, patrols, ten monitoring records with one escalated."""
    village = Region.objects.get(code=XISHAO_CODE)
    rows = coverage(village, period_of(DEMO_NOW.date()))
    total, seen = sum(r.households for r in rows), sum(r.visited for r in rows)
    assert 0.5 * total < seen < total
    assert len(missing_households(village, period_of(DEMO_NOW.date()))) == total - seen
    assert VisitProblem.objects.exists() and PatrolFinding.objects.filter(case__isnull=False).exists()
    assert all(
        c.visit_problem.visit.household_id == c.household_id
        for c in Case.objects.filter(source="visit", visit_problem__isnull=False)[:20]
    )
    steps = set(Monitoring.objects.values_list("step", flat=True))
    assert steps == {s.value for s in Monitoring.Step}
    assert Monitoring.objects.filter(tier="township", was_overdue=True, step="verify").count() == 1


@pytest.mark.usefixtures("demo")
@pytest.mark.django_db
def test_the_dashboards_default_month_has_visits_and_points() -> None:
    """Issue 15: the simulated year ends on DEMO_NOW, but the dashboards open on last month:
    a demo built later carries visits and monthly scoring up to the day of the build."""
    from hemei.dashboards.figures import default_period
    from hemei.points.models import Entry
    from hemei.visits.models import Visit

    period = default_period()
    assert period.start >= DEMO_NOW.date()  # the case this test is about: the year ends on its first day
    village = Region.objects.get(code=XISHAO_CODE)
    visits = Visit.objects.filter(household__village=village, visited_at__date__gte=period.start,
                                  visited_at__date__lte=period.end)
    assert visits.values("household").distinct().count() > 0.2 * Household.objects.filter(village=village).count()
    scored = Entry.objects.filter(village=village, state=Entry.State.EFFECTIVE, deed_date__gte=period.start,
                                  deed_date__lte=period.end)
    assert scored.values("household").distinct().count() >= 50


@pytest.mark.usefixtures("demo")
@pytest.mark.django_db
def test_the_recent_months_reach_the_build_day_and_no_further() -> None:
    """Built on 2027-03-15: visits in every month from November 2026 to March 2027, none on or
    after the build day; monthly scoring effective for November to February, nothing for
    March (that month's proposals are `demo_today_points`' and wait for review)."""
    from hemei.points.demo import demo_recent_points
    from hemei.points.models import Entry
    from hemei.visits.demo import demo_recent_visits
    from hemei.visits.models import Visit

    now = dt.datetime(2027, 3, 15, 9, tzinfo=DEMO_NOW.tzinfo)
    assert demo_recent_visits(now=now) > 0
    assert demo_recent_points(now=now) > 0
    village = Region.objects.get(code=XISHAO_CODE)
    visits = Visit.objects.filter(household__village=village, visited_at__gt=DEMO_NOW)
    months = {(v.year, v.month) for v in visits.values_list("visited_at", flat=True)}
    assert {(2026, 11), (2026, 12), (2027, 1), (2027, 2), (2027, 3)} <= months
    assert not visits.filter(visited_at__gte=now.replace(hour=0)).exists()
    effective = Entry.objects.filter(village=village, state=Entry.State.EFFECTIVE, kind="score",
                                     deed_date__gte=dt.date(2026, 11, 1))
    scored = {(d.year, d.month) for d in effective.values_list("deed_date", flat=True)}
    assert {(2026, 11), (2026, 12), (2027, 1), (2027, 2)} <= scored
    assert not effective.filter(deed_date__gte=dt.date(2027, 3, 1)).exists()


@pytest.mark.usefixtures("demo")
@pytest.mark.django_db
def test_xishaos_cases_have_a_place_on_the_map(client) -> None:
    """Issue 15: the case page shows the location on a small map; the demo's cases of 西邵村 lie
    within about 400 m of the village, so a newcomer sees one."""
    cases = Case.objects.filter(region__path__startswith=Region.objects.get(code=XISHAO_CODE).path,
                                created_at__lte=DEMO_NOW)
    assert cases.exists() and not cases.filter(lat__isnull=True).exists()
    assert all(abs(float(c.lat) - 37.718) < 0.004 and abs(float(c.long) - 112.452) < 0.005 for c in cases[:50])
    case = cases.filter(status="submitted").first() or cases.first()
    client.force_login(User.objects.get(username="secretary"))
    page = client.get(reverse("case-detail", args=[case.number])).content.decode()
    assert "data-case-map" in page
