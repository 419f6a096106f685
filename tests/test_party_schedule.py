"""The schedule rule of 三会一课 and the missed-session sweep (escalation to the township)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from hemei.core.models import AuditEntry
from hemei.core.scope import SYSTEM
from hemei.core.sweeps import SWEEPERS, sweep_all
from hemei.notify.models import Notification
from hemei.party import rules, services
from hemei.party.models import PeriodCheck
from hemei.party.sweep import ensure_checks, sweep_schedule
from tests.conftest import at
from tests.partykit import build_party, held_session


def test_periods_are_calendar_months_quarters_and_weeks():
    assert rules.period_of(dt.date(2026, 2, 14), "month") == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert rules.period_of(dt.date(2026, 12, 31), "month") == (dt.date(2026, 12, 1), dt.date(2026, 12, 31))
    assert rules.period_of(dt.date(2026, 5, 1), "quarter") == (dt.date(2026, 4, 1), dt.date(2026, 6, 30))
    assert rules.period_of(dt.date(2026, 11, 15), "quarter") == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    assert rules.period_of(dt.date(2026, 6, 3), "week") == (dt.date(2026, 6, 1), dt.date(2026, 6, 7))


def test_the_default_rule():
    assert rules.schedule() == {"assembly": "quarter", "committee": "month", "group": "month",
                                "lecture": "quarter", "theme_day": "month"}
    assert rules.rules_for("group") == {"group": "month"}
    assert set(rules.rules_for("branch")) == {"assembly", "committee", "lecture", "theme_day"}
    assert rules.rules_for("general") == {}


def test_the_rule_is_a_setting(settings):
    settings.HEMEI_PARTY_SCHEDULE = {"group": "week", "study": "week"}
    assert rules.rules_for("group") == {"group": "week", "study": "week"}
    settings.HEMEI_PARTY_SCHEDULE = {"group": "fortnight"}
    with pytest.raises(ValueError):
        rules.schedule()
    settings.HEMEI_PARTY_SCHEDULE = {"meeting": "month"}
    with pytest.raises(ValueError):
        rules.schedule()


def test_completed_periods_start_with_the_branch_and_end_before_now():
    now = at(2026, 6, 15)
    months = rules.completed_periods("month", since=dt.date(2026, 3, 10), now=now, lookback_days=366)
    assert months == [(dt.date(2026, 4, 1), dt.date(2026, 4, 30)), (dt.date(2026, 5, 1), dt.date(2026, 5, 31))]
    quarters = rules.completed_periods("quarter", since=dt.date(2020, 1, 1), now=now, lookback_days=100)
    assert quarters == [(dt.date(2026, 1, 1), dt.date(2026, 3, 31))]


@pytest.fixture
def party(world):
    return build_party(world)


@time_machine.travel(at(2026, 6, 15), tick=False)
def test_a_month_without_a_group_meeting_is_missed_and_escalated(world, party, settings):
    settings.HEMEI_PARTY_SCHEDULE = {"group": "month"}
    settings.HEMEI_PARTY_LOOKBACK_DAYS = 45  # only May is checked
    held_session(party.group_a, "group", at(2026, 5, 20))
    done = sweep_schedule(at(2026, 6, 15))
    assert [(e.kind, e.from_tier, e.to_tier) for e in done] == [("party", "village", "township")]
    missed = PeriodCheck.objects.get(status="missed")
    assert (missed.branch, missed.kind, missed.period_start, missed.tier) == (party.group_b, "group",
                                                                              dt.date(2026, 5, 1), "township")
    met = PeriodCheck.objects.get(branch=party.group_a)
    assert met.status == "met" and met.session is not None
    assert AuditEntry.objects.filter(object_type="party.periodcheck", note="escalated").count() == 1
    told = set(Notification.objects.filter(kind="party_session_missed").values_list("recipient__username", flat=True))
    assert "township" in told and "secretary" in told and "grid1" not in told


@time_machine.travel(at(2026, 6, 15), tick=False)
def test_the_sweep_acts_once(world, party, settings):
    settings.HEMEI_PARTY_SCHEDULE = {"group": "month"}
    settings.HEMEI_PARTY_LOOKBACK_DAYS = 45
    assert len(sweep_schedule(at(2026, 6, 15))) == 2
    assert sweep_schedule(at(2026, 6, 15)) == []
    assert sweep_schedule(at(2026, 6, 16)) == []
    assert PeriodCheck.objects.count() == 2
    assert Notification.objects.filter(kind="party_session_missed", recipient__username="township").count() == 2


@time_machine.travel(at(2026, 6, 15), tick=False)
def test_a_session_outside_the_period_or_not_held_does_not_count(world, party, settings):
    settings.HEMEI_PARTY_SCHEDULE = {"group": "month"}
    settings.HEMEI_PARTY_LOOKBACK_DAYS = 45
    held_session(party.group_a, "group", at(2026, 4, 30, 23, 30))  # April
    held_session(party.group_a, "micro", at(2026, 5, 10))  # another kind
    cancelled = services.session_plan(actor=SYSTEM, branch=party.group_a, kind="group", title="t",
                                      planned_at=at(2026, 5, 12))
    services.session_cancel(actor=SYSTEM, session=cancelled, note="下雨")
    services.session_plan(actor=SYSTEM, branch=party.group_a, kind="group", title="t", planned_at=at(2026, 5, 14))
    sweep_schedule(at(2026, 6, 15))
    assert PeriodCheck.objects.get(branch=party.group_a, period_start=dt.date(2026, 5, 1)).status == "missed"


@time_machine.travel(at(2026, 6, 15), tick=False)
def test_the_quarterly_rules_of_a_branch(world, party, settings):
    settings.HEMEI_PARTY_LOOKBACK_DAYS = 100  # Q1 and the months March–May
    held_session(party.branch, "assembly", at(2026, 2, 10))
    held_session(party.branch, "lecture", at(2026, 3, 31, 20))
    for month in (3, 4, 5):
        held_session(party.branch, "committee", at(2026, month, 5))
        held_session(party.branch, "theme_day", at(2026, month, 6))
    sweep_schedule(at(2026, 6, 15))
    checks = PeriodCheck.objects.filter(branch=party.branch)
    assert set(checks.values_list("kind", "status").distinct()) == {("assembly", "met"), ("lecture", "met"),
                                                                     ("committee", "met"), ("theme_day", "met")}
    # Q2 is not over: nothing is owed for it yet.
    assert not checks.filter(period_start=dt.date(2026, 4, 1), kind="assembly").exists()


@time_machine.travel(at(2026, 6, 15), tick=False)
def test_a_branch_founded_mid_period_owes_nothing_for_it(world, party, settings):
    settings.HEMEI_PARTY_SCHEDULE = {"group": "month"}
    new = services.branch_create(actor=SYSTEM, region=world.grid_a, kind="group", name="第三党小组",
                                 parent=party.branch, founded_on=dt.date(2026, 5, 10))
    ensure_checks(at(2026, 6, 15))
    assert not PeriodCheck.objects.filter(branch=new).exists()


@time_machine.travel(at(2026, 6, 15), tick=False)
def test_the_party_sweeper_runs_in_the_shared_sweep(world, party, settings):
    settings.HEMEI_PARTY_SCHEDULE = {"group": "month"}
    settings.HEMEI_PARTY_LOOKBACK_DAYS = 45
    assert "party" in SWEEPERS
    done = sweep_all(at(2026, 6, 15), only=["party"])
    assert {e.kind for e in done} == {"party"} and len(done) == 2
