"""Rules (issue 11, item 11): a villager's complaint that the village did not publish something
goes to the township (村民委员会组织法 art. 31), which orders publication with a deadline; the
deadline climbs through the shared sweep exactly once; who may order, and bad orders change
nothing."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from hemei.cases.models import Case, CaseEvent, Category
from hemei.cases.services import case_reject, case_submit
from hemei.core.models import AuditEntry
from hemei.disclosure import schedules
from hemei.disclosure import sweep as disclosure_sweep
from hemei.disclosure.models import Kind, ScheduleDue, ScheduleSettings
from tests.conftest import at

pytestmark = pytest.mark.usefixtures("migration_seeds")
START, END = dt.date(2026, 4, 1), dt.date(2026, 6, 30)


def complaint(world) -> Case:
    return case_submit(actor=world.user("villager"), region=world.grid_a,
                       category=Category.objects.get(county__isnull=True, name="村务未公开"),
                       title="二季度财务没公开", description="村里二季度的账一直没贴出来",
                       source=Case.Source.VILLAGER, reporter=world.head_a)


def order(world, case, persona="township", **kw):
    args = {"kind": Kind.FINANCE, "period_start": START, "period_end": END, "working_days": 5, **kw}
    return schedules.publication_order(actor=world.user(persona), case=case, **args)


def test_the_complaint_starts_at_the_township(world):
    assert complaint(world).tier == Case.Tier.TOWNSHIP


@time_machine.travel(at(2026, 7, 20), tick=False)
def test_the_township_orders_publication_with_a_deadline(world):
    case = complaint(world)
    due = order(world, case)
    assert due.village == world.village and due.case == case and due.tier == "township"
    assert due.due_at == at(2026, 7, 27, 17, 30)  # 5 working days: Tue 21 … Mon 27
    event = case.events.get(kind=CaseEvent.Kind.ORDERED)
    assert "2026-07-27" in event.note
    assert AuditEntry.objects.filter(object_type__icontains="scheduledue", action="create").exists()


def test_a_missed_order_climbs_to_the_county_exactly_once(world):
    with time_machine.travel(at(2026, 7, 20), tick=False):
        due = order(world, complaint(world))
    with time_machine.travel(at(2026, 7, 28, 9), tick=False):
        first = [e for e in disclosure_sweep.sweep() if "ordered" in e.ref]
        again = [e for e in disclosure_sweep.sweep() if "ordered" in e.ref]
    due.refresh_from_db()
    assert [(e.from_tier, e.to_tier) for e in first] == [("township", "county")]
    assert again == [] and due.tier == "county" and due.was_overdue


def test_the_periodic_schedule_still_tracks_the_same_period(world):
    ScheduleSettings.objects.create(village=world.village, tracked_from=START)
    with time_machine.travel(at(2026, 7, 20), tick=False):
        order(world, complaint(world))  # finances from April 1st, the first monthly period's start
        schedules.schedule_refresh(at(2026, 7, 20))
    periodic = ScheduleDue.objects.filter(village=world.village, kind=Kind.FINANCE, case__isnull=True)
    assert periodic.filter(period_start=START).exists()
    assert ScheduleDue.objects.filter(village=world.village, kind=Kind.FINANCE, period_start=START).count() == 2


@pytest.mark.parametrize("persona", ["villager", "grid_a", "secretary"])
def test_only_the_township_or_county_orders(world, persona):
    case = complaint(world)
    with pytest.raises(PermissionDenied):
        order(world, case, persona=persona)
    assert not ScheduleDue.objects.filter(case=case).exists()


@pytest.mark.parametrize("bad", [
    {"kind": "weather"},
    {"period_start": END, "period_end": START},
    {"working_days": 0},
    {"working_days": 31},
])
def test_a_bad_order_changes_nothing(world, bad):
    case = complaint(world)
    with pytest.raises(ValidationError):
        order(world, case, **bad)
    assert not ScheduleDue.objects.filter(case=case).exists()
    assert not case.events.filter(kind=CaseEvent.Kind.ORDERED).exists()


def test_a_closed_complaint_cannot_be_ordered(world):
    case = complaint(world)
    case_reject(actor=world.user("township"), case=case, reason="不属实")
    with pytest.raises(ValidationError):
        order(world, Case.objects.get(pk=case.pk))
