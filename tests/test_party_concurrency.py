"""Taps and sweepers at once never double-act (PostgreSQL: real row locks and unique indexes)."""

from __future__ import annotations

import pytest
import time_machine
from django.utils import timezone

from hemei.core.models import AuditEntry
from hemei.core.scope import SYSTEM
from hemei.notify.models import Notification
from hemei.party import services
from hemei.party.models import Attendance, PeriodCheck
from hemei.party.sweep import sweep_schedule
from tests.conftest import at
from tests.partykit import build_party
from tests.test_contracts_concurrency import _race


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_four_taps_of_one_member_are_one_sign_in(world):
    party = build_party(world)
    session = services.session_plan(actor=SYSTEM, branch=party.group_a, kind="group", title="学习",
                                    planned_at=timezone.now())
    session = services.session_open(actor=SYSTEM, session=session)
    results, errors = _race(4, lambda: services.attendance_sign_in(actor=party.users["villager"], code=session.code))
    assert not errors
    assert len({row.pk for row in results}) == 1
    assert Attendance.objects.filter(session=session).count() == 1
    assert AuditEntry.objects.filter(object_type="party.attendance").count() == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_escalate_a_missed_period_once(world, settings):
    settings.HEMEI_PARTY_SCHEDULE = {"group": "month"}
    settings.HEMEI_PARTY_LOOKBACK_DAYS = 45
    with time_machine.travel(at(2026, 6, 15), tick=False):
        build_party(world)
        results, errors = _race(4, lambda: sweep_schedule(at(2026, 6, 15)))
    assert not errors
    assert sum(len(r) for r in results) == 2  # the two groups' May, each escalated by one sweeper
    assert PeriodCheck.objects.filter(status="missed").count() == 2
    assert Notification.objects.filter(kind="party_session_missed", recipient__username="township").count() == 2
