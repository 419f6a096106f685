"""The demo county's year of cases (issue 3, "Demo"): every state, consistent timelines,
numbers from the county counter, the same cases for the same seed."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time
from collections import Counter
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings
from django.urls import reverse

from hemei.accounts.models import User
from hemei.care.services import CARE_CATEGORIES
from hemei.cases.demo import DEMO_NOW
from hemei.cases.models import Case, CaseCounter, CaseEvent, DeadlineExtension
from hemei.cases.services import ALLOWED
from hemei.regions.demo import XISHAO_CODE, demo_build

NUMBER = re.compile(r"^140110-20\d\d-\d{6}$")


@pytest.fixture(scope="class")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Any:
    md5 = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with django_db_blocker.unblock(), transaction.atomic(), md5:
        started = time.perf_counter()
        summary = demo_build()
        print(f"\ndefault demo build with cases: {time.perf_counter() - started:.1f} s")
        yield summary
        transaction.set_rollback(True)


def case_digest() -> str:
    digest = hashlib.sha256()
    for number, title, status in Case.objects.order_by("number").values_list("number", "title", "status"):
        digest.update(f"{number}\t{title}\t{status}\n".encode())
    return digest.hexdigest()


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


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_cases() -> None:
    digests = []
    for _ in range(2):
        with transaction.atomic():
            demo_build(households=900, seed=5)
            assert Case.objects.count() > 250
            digests.append(case_digest())
            transaction.set_rollback(True)
    assert digests[0] == digests[1]
