"""The working-day calendar and deadlines (DOMAIN: work-order time limits; ARCHITECTURE rule 5)."""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from hemei.core.calendar import (
    add_hours,
    add_working_days,
    count_working_days,
    deadline_for,
    is_working_day,
)
from hemei.core.models import AuditEntry, CalendarDay

SH = ZoneInfo("Asia/Shanghai")
COUNTY = "140110"
seed = importlib.import_module("hemei.core.migrations.0004_calendar_2026")


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=SH)


def end(y: int, m: int, d: int) -> dt.datetime:
    return dt.datetime(y, m, d, 17, 30, tzinfo=SH)


@pytest.fixture(autouse=True)
def calendar_2026(db):
    """The seed of migration 0004. Re-applied (idempotently) because a transactional test elsewhere
    in the same worker may have flushed the migration's rows."""
    seed.forwards(apps, None)


# --- the seed ----------------------------------------------------------------------------


def test_seed_matches_the_state_council_notice_for_2026():
    national = CalendarDay.objects.filter(county_code="", date__year=2026)
    workdays = set(national.filter(kind="workday").values_list("date", flat=True))
    assert workdays == {dt.date(2026, 1, 4), dt.date(2026, 2, 14), dt.date(2026, 2, 28), dt.date(2026, 5, 9),
                        dt.date(2026, 9, 20), dt.date(2026, 10, 10)}
    assert all(day.weekday() >= 5 for day in workdays)
    holidays = national.filter(kind="holiday")
    # 元旦 3 + 春节 9 + 清明 3 + 劳动节 5 + 端午 3 + 中秋 3 + 国庆 7
    assert holidays.count() == 33
    assert holidays.filter(name="春节").count() == 9
    assert not holidays.filter(date__range=(dt.date(2026, 2, 24), dt.date(2026, 3, 31))).exists()


# --- working days ------------------------------------------------------------------------


def test_weekends_are_skipped():
    assert is_working_day(dt.date(2026, 3, 13))  # Friday
    assert not is_working_day(dt.date(2026, 3, 14))  # Saturday
    assert not is_working_day(dt.date(2026, 3, 15))  # Sunday
    # Fri 13 Mar, 2 working days: Mon 16 (1), Tue 17 (2).
    assert add_working_days(at(2026, 3, 13), 2) == end(2026, 3, 17)


def test_a_holiday_is_skipped():
    assert not is_working_day(dt.date(2026, 4, 6))  # 清明, a Monday
    # Fri 3 Apr, 1 working day: Sat 4–Mon 6 are 清明 → Tue 7 Apr.
    assert add_working_days(at(2026, 4, 3), 1) == end(2026, 4, 7)
    # Thu 18 Jun, 1 working day: Fri 19 Jun is 端午 → Mon 22 Jun.
    assert add_working_days(at(2026, 6, 18), 1) == end(2026, 6, 22)


def test_a_make_up_working_day_on_a_weekend_counts():
    assert is_working_day(dt.date(2026, 1, 4))  # Sunday, 元旦调休
    assert is_working_day(dt.date(2026, 9, 20))  # Sunday, 国庆调休
    # Fri 8 May, 1 working day: Sat 9 May is a make-up working day.
    assert add_working_days(at(2026, 5, 8), 1) == end(2026, 5, 9)


def test_a_complaint_across_spring_festival_2026():
    # Submitted Fri 13 Feb 2026, 15 working days (complaint). The start day is not counted:
    #   Sat 14 Feb make-up day ......... 1
    #   Sun 15 – Mon 23 Feb 春节 ........ skipped
    #   Tue 24, Wed 25, Thu 26, Fri 27 .. 2, 3, 4, 5
    #   Sat 28 Feb make-up day ......... 6
    #   Sun 1 Mar ...................... skipped
    #   Mon 2 – Fri 6 Mar .............. 7, 8, 9, 10, 11
    #   Mon 9, Tue 10, Wed 11, Thu 12 .. 12, 13, 14, 15
    # → Thu 12 Mar 2026, 17:30 Beijing time.
    deadline = deadline_for(at(2026, 2, 13, 16, 45), limit_days=15)
    assert deadline == end(2026, 3, 12)
    assert deadline.tzinfo is not None and deadline.utcoffset() == dt.timedelta(hours=8)
    # A consultation (2 working days) submitted on the eve: Sat 14 (1), Tue 24 (2).
    assert deadline_for(at(2026, 2, 13), limit_days=2) == end(2026, 2, 24)
    # Submitted during the holiday: Tue 24 Feb is the first day counted.
    assert deadline_for(at(2026, 2, 17), limit_days=2) == end(2026, 2, 25)


def test_accept_the_same_day():
    assert add_working_days(at(2026, 3, 11, 9), 0) == end(2026, 3, 11)  # Wednesday
    assert add_working_days(at(2026, 3, 11, 17, 30), 0) == end(2026, 3, 11)
    # After hours: due the next working day, not overdue on arrival.
    assert add_working_days(at(2026, 3, 11, 20), 0) == end(2026, 3, 12)
    # On a holiday: the next working day (国庆 1–7 Oct → Thu 8 Oct).
    assert add_working_days(at(2026, 10, 1), 0) == end(2026, 10, 8)
    # On a weekend: Monday. On a make-up Saturday: that Saturday.
    assert add_working_days(at(2026, 3, 14), 0) == end(2026, 3, 16)
    assert add_working_days(at(2026, 2, 28), 0) == end(2026, 2, 28)


def test_urgent_hours_are_plain_clock_hours_across_midnight_and_holidays():
    assert add_hours(at(2026, 3, 11, 23, 15), 2) == at(2026, 3, 12, 1, 15)
    assert deadline_for(at(2026, 9, 30, 12), limit_hours=24) == at(2026, 10, 1, 12)
    # Any time zone in, Beijing time out.
    start_utc = dt.datetime(2026, 3, 11, 15, 15, tzinfo=dt.UTC)  # = 23:15 in Beijing
    result = add_hours(start_utc, 2)
    assert result == at(2026, 3, 12, 1, 15)
    assert result.utcoffset() == dt.timedelta(hours=8)


def test_the_local_date_decides_not_the_utc_date():
    # 2026-03-13 20:00 UTC is Saturday 04:00 in Beijing: not a working day there.
    late_friday_utc = dt.datetime(2026, 3, 13, 20, 0, tzinfo=dt.UTC)
    assert not is_working_day(late_friday_utc)
    assert add_working_days(late_friday_utc, 1) == end(2026, 3, 16)


def test_workday_end_is_a_setting(settings):
    settings.HEMEI_WORKDAY_END = "18:00"
    assert add_working_days(at(2026, 3, 11), 1) == at(2026, 3, 12, 18, 0)


def test_deadline_with_frozen_now():
    with time_machine.travel(at(2026, 2, 13, 16, 45), tick=False):
        assert deadline_for(timezone.now(), limit_days=15) == end(2026, 3, 12)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_days(dt.datetime(2026, 3, 11, 10), 1)
    with pytest.raises(ValueError):
        add_working_days(at(2026, 3, 11), -1)
    with pytest.raises(ValueError):
        deadline_for(at(2026, 3, 11))
    with pytest.raises(ValueError):
        deadline_for(at(2026, 3, 11), limit_days=2, limit_hours=2)
    with pytest.raises(ValueError):
        add_hours(at(2026, 3, 11), -1)


# --- county days --------------------------------------------------------------------------


def test_a_county_holiday_only_affects_that_county():
    CalendarDay.objects.create(date=dt.date(2026, 3, 18), kind="holiday", name="县庆", county_code=COUNTY)
    wednesday = dt.date(2026, 3, 18)
    assert not is_working_day(wednesday, county_code=COUNTY)
    assert is_working_day(wednesday)
    assert is_working_day(wednesday, county_code="140105")
    assert add_working_days(at(2026, 3, 17), 1, county_code=COUNTY) == end(2026, 3, 19)
    assert add_working_days(at(2026, 3, 17), 1) == end(2026, 3, 18)
    assert add_working_days(at(2026, 3, 17), 1, county_code="140105") == end(2026, 3, 18)
    # A township/village/grid code is cut to its county prefix.
    assert not is_working_day(wednesday, county_code="140110101201001")
    assert count_working_days(dt.date(2026, 3, 16), dt.date(2026, 3, 20), county_code=COUNTY) == 3
    assert count_working_days(dt.date(2026, 3, 16), dt.date(2026, 3, 20)) == 4


def test_a_county_row_wins_over_the_national_row_on_the_same_date():
    # Sat 28 Feb 2026 is a national make-up working day; this county rests that day.
    CalendarDay.objects.create(date=dt.date(2026, 2, 28), kind="holiday", name="县内调整", county_code=COUNTY)
    assert is_working_day(dt.date(2026, 2, 28))
    assert not is_working_day(dt.date(2026, 2, 28), county_code=COUNTY)
    # Fri 27 Feb + 1: nationally Sat 28; in the county Mon 2 Mar.
    assert add_working_days(at(2026, 2, 27), 1, county_code=COUNTY) == end(2026, 3, 2)


def test_one_day_per_date_and_scope():
    with transaction.atomic(), pytest.raises(IntegrityError):
        CalendarDay.objects.create(date=dt.date(2026, 10, 1), kind="holiday", name="国庆节")
    CalendarDay.objects.create(date=dt.date(2026, 10, 9), kind="holiday", name="县庆", county_code=COUNTY)


def test_validation_of_a_day():
    with pytest.raises(ValidationError) as excinfo:
        CalendarDay(date=dt.date(2026, 3, 18), kind="workday", name="typo").full_clean()
    assert "date" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        CalendarDay(date=dt.date(2026, 3, 21), kind="holiday", county_code="1401").full_clean()
    assert "county_code" in excinfo.value.message_dict
    CalendarDay(date=dt.date(2026, 3, 18), kind="workday", county_code=COUNTY).full_clean()


# --- queries -------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 15, 250, 2000])
def test_one_query_whatever_n(n, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        add_working_days(at(2026, 1, 30), n, county_code=COUNTY)
    with django_assert_max_num_queries(1):
        count_working_days(dt.date(2026, 1, 1), dt.date(2026, 1, 1) + dt.timedelta(days=n), county_code=COUNTY)


# --- property ------------------------------------------------------------------------------


def oracle() -> dict[dt.date, str]:
    """National rows as a plain dict — the test's own reading of the rule."""
    return dict(CalendarDay.objects.filter(county_code="").values_list("date", "kind"))


def oracle_working(day: dt.date, kinds: dict[dt.date, str]) -> bool:
    kind = kinds.get(day)
    return kind == "workday" if kind else day.weekday() < 5


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start=st.datetimes(
        min_value=dt.datetime(2025, 12, 1),  # naive bounds; hypothesis attaches the zone
        max_value=dt.datetime(2026, 12, 31, 23, 59),
        timezones=st.sampled_from([SH, dt.UTC]),
    ),
    n=st.integers(min_value=1, max_value=60),
)
def test_property_n_working_days_after_the_start_day(start, n):
    kinds = oracle()
    deadline = add_working_days(start, n)
    start_day = start.astimezone(SH).date()
    deadline_day = deadline.astimezone(SH).date()
    assert deadline > start
    assert deadline.astimezone(SH).time() == dt.time(17, 30)
    assert oracle_working(deadline_day, kinds)
    between = [start_day + dt.timedelta(days=i) for i in range(1, (deadline_day - start_day).days + 1)]
    assert sum(oracle_working(day, kinds) for day in between) == n
    assert count_working_days(start_day, deadline_day) == n


@hypothesis_settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.datetimes(min_value=dt.datetime(2025, 12, 1), max_value=dt.datetime(2026, 12, 31),
                          timezones=st.just(SH)))
def test_property_accept_the_same_day(start):
    kinds = oracle()
    deadline = add_working_days(start, 0)
    assert deadline >= start
    assert oracle_working(deadline.date(), kinds)
    # No earlier working day's end lies at or after the start.
    day = start.date()
    while day < deadline.date():
        assert not oracle_working(day, kinds) or dt.datetime.combine(day, dt.time(17, 30), tzinfo=SH) < start
        day += dt.timedelta(days=1)


# --- admin -----------------------------------------------------------------------------------


def test_admin_edits_are_audited(client):
    from hemei.accounts.models import User

    admin = User.objects.create_superuser("root", password="Root-pass-2026")
    client.force_login(admin)
    response = client.get("/admin/core/calendarday/?kind__exact=workday")
    assert response.status_code == 200
    assert "2026-02-14" in response.content.decode() or "2026年2月14日" in response.content.decode()

    data = {"date": "2026-03-18", "kind": "holiday", "name": "县庆", "county_code": COUNTY}
    response = client.post("/admin/core/calendarday/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    day = CalendarDay.objects.get(date=dt.date(2026, 3, 18), county_code=COUNTY)
    created = AuditEntry.objects.get(object_type="core.calendarday", object_id=str(day.pk), action="create")
    assert created.actor_name == "root" and created.county_code == COUNTY
    assert created.changes["name"] == [None, "县庆"]

    response = client.post(f"/admin/core/calendarday/{day.pk}/change/", {**data, "name": "县庆日"})
    assert response.status_code == 302
    updated = AuditEntry.objects.get(object_type="core.calendarday", object_id=str(day.pk), action="update")
    assert updated.changes == {"name": ["县庆", "县庆日"]}

    response = client.post(f"/admin/core/calendarday/{day.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not CalendarDay.objects.filter(pk=day.pk).exists()
    assert AuditEntry.objects.filter(object_type="core.calendarday", object_id=str(day.pk), action="delete").exists()

    # The list's bulk delete is audited too, one row per day.
    national = CalendarDay.objects.get(date=dt.date(2026, 10, 10), county_code="")
    response = client.post("/admin/core/calendarday/", {"action": "delete_selected", "_selected_action": [national.pk],
                                                         "post": "yes"})
    assert response.status_code == 302
    assert AuditEntry.objects.filter(object_type="core.calendarday", object_id=str(national.pk),
                                     action="delete").exists()

    # A national make-up working day on a weekday is refused by the form.
    response = client.post("/admin/core/calendarday/add/", {"date": "2026-03-19", "kind": "workday", "name": "x",
                                                            "county_code": ""})
    assert response.status_code == 200
    assert not CalendarDay.objects.filter(date=dt.date(2026, 3, 19)).exists()


def test_verify_wants_the_current_year_in_the_calendar(db):
    import time_machine

    from hemei.core.verify import check_calendar_year

    with time_machine.travel(dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)):
        assert check_calendar_year() == []
    with time_machine.travel(dt.datetime(2031, 6, 1, 12, tzinfo=dt.UTC)):
        assert "2031" in check_calendar_year()[0]


def test_deadlines_read_the_calendar_from_the_cache_and_see_an_edit_at_once(
    db: Any, django_assert_num_queries: Any
) -> None:
    from hemei.core.calendar import add_working_days
    from hemei.core.models import CalendarDay

    start = dt.datetime(2031, 3, 2, 9, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Sunday
    first = add_working_days(start, 1, county_code="140110")
    with django_assert_num_queries(0):
        assert add_working_days(start, 1, county_code="140110") == first
    CalendarDay.objects.create(date=first.date(), kind=CalendarDay.Kind.HOLIDAY, county_code="140110", name="test")
    assert add_working_days(start, 1, county_code="140110").date() == first.date() + dt.timedelta(days=1)
