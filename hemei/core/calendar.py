"""Working days and deadlines (ARCHITECTURE rule 5: time is explicit).

A day is a working day when it is Monday–Friday, unless the calendar (`CalendarDay`) says
otherwise: a `holiday` row makes it a day off, a `workday` row makes a weekend day a make-up
working day (调休上班). National rows have a blank county code; a county's own row wins over a
national row on the same date for that county.

Deadlines (`add_working_days`):
- the start day itself is never counted (期间开始的当日不计算在内); the deadline is the END of the
  n-th working day after the start's local date — `HEMEI_WORKDAY_END` ("17:30") in
  settings.TIME_ZONE (Asia/Shanghai). If the start is not a working day, the next working day
  is the first day counted. So exactly n working days lie in (start day, deadline day].
- n = 0 ("accept the same day"): the end of the start day if it is a working day and the start
  is not after its end, otherwise the end of the next working day — a request made on a holiday
  or after hours is due the next working day, never overdue on arrival.
Urgent limits (`add_hours`) are plain clock hours, holidays included.

All functions take and return timezone-aware datetimes and never call now(); the caller passes
the start (tests freeze time). Calendar rows come from the process's cache (`calendar_rows`).
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from django.conf import settings
from django.core.cache import cache as django_cache
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from hemei.core.models import CalendarDay

SATURDAY = 5
DEFAULT_WORKDAY_END = "17:30"


def _local_tz() -> dt.tzinfo:
    # The default time zone, not the active one: deadlines follow the Chinese calendar whatever
    # time zone a user's session might have activated.
    return timezone.get_default_timezone()


@cache
def _parse_time(value: str) -> dt.time:
    try:
        hours, minutes = value.split(":")
        return dt.time(int(hours), int(minutes))
    except ValueError as exc:
        raise ValueError(f"HEMEI_WORKDAY_END must look like 17:30, not {value!r}") from exc


def workday_end() -> dt.time:
    """End of a working day, local time (setting HEMEI_WORKDAY_END, default 17:30)."""
    return _parse_time(str(getattr(settings, "HEMEI_WORKDAY_END", DEFAULT_WORKDAY_END)))


def _county(county_code: str) -> str:
    # A longer region code (township, village, grid) starts with its county's code.
    return (county_code or "")[:6]


def _local(moment: dt.datetime) -> dt.datetime:
    if timezone.is_naive(moment):
        raise ValueError("deadlines need a timezone-aware datetime")
    return moment.astimezone(_local_tz())


def _end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, workday_end(), tzinfo=_local_tz())


class _Days:
    """Calendar rows for one county over a window of dates, read with one query and extended
    (doubling) only if a computation runs past the window — which a normal calendar never does."""

    def __init__(self, county_code: str, first: dt.date, days: int) -> None:
        self.county_code = _county(county_code)
        self.kinds: dict[dt.date, str] = {}
        self.first = first
        self.last = first - dt.timedelta(days=1)
        self._load(max(days, 31))

    def _load(self, days: int) -> None:
        start = self.last + dt.timedelta(days=1)
        end = start + dt.timedelta(days=days - 1)
        for day, kind in calendar_rows(self.county_code).items():
            if start <= day <= end:
                self.kinds[day] = kind
        self.last = end

    def working(self, day: dt.date) -> bool:
        if day < self.first:
            raise ValueError("date before the loaded window")
        while day > self.last:
            self._load((self.last - self.first).days + 1)
        kind = self.kinds.get(day)
        if kind == CalendarDay.Kind.HOLIDAY:
            return False
        if kind == CalendarDay.Kind.WORKDAY:
            return True
        return day.weekday() < SATURDAY


def _cache_key(county_code: str) -> str:
    return f"hemei:calendar:{county_code}"


def calendar_rows(county_code: str) -> dict[dt.date, str]:
    """Every calendar row that applies to the county (national rows, then its own on top), from
    the process's cache: a deadline is computed on every case, and the calendar changes a few
    times a year. One query when not cached; an edit here clears it at once (signals below),
    other processes see it within `HEMEI_CALENDAR_CACHE_SECONDS` (default 60)."""
    key = _cache_key(county_code)
    kinds: dict[dt.date, str] | None = django_cache.get(key)
    if kinds is None:
        kinds = {}
        rows = CalendarDay.objects.filter(county_code__in={"", county_code}).values_list("date", "kind", "county_code")
        # National rows first, so that a county's row on the same date overrides them.
        for day, kind, _scope in sorted(rows, key=lambda row: row[2] != ""):
            kinds[day] = kind
        django_cache.set(key, kinds, int(getattr(settings, "HEMEI_CALENDAR_CACHE_SECONDS", 60)))
    return kinds


def _forget(sender: Any, instance: CalendarDay, **kwargs: Any) -> None:
    # A national row changes every county's calendar: forget all of them.
    if instance.county_code:
        django_cache.delete_many([_cache_key(instance.county_code), _cache_key("")])
    else:
        _forget_all()


def _forget_all() -> None:
    from hemei.regions.models import Level, Region

    codes = [""] + [c[:6] for c in Region.objects.filter(level=Level.COUNTY).values_list("code", flat=True)]
    django_cache.delete_many([_cache_key(c) for c in codes])


post_save.connect(_forget, sender=CalendarDay, dispatch_uid="calendar-cache-save")
post_delete.connect(_forget, sender=CalendarDay, dispatch_uid="calendar-cache-delete")


def _as_date(day: dt.date) -> dt.date:
    if isinstance(day, dt.datetime):
        return _local(day).date()
    return day


def is_working_day(day: dt.date, *, county_code: str = "") -> bool:
    """Whether `day` (a date, or an aware datetime taken in local time) is a working day."""
    day = _as_date(day)
    return _Days(county_code, day, 1).working(day)


def add_working_days(start: dt.datetime, n: int, *, county_code: str = "") -> dt.datetime:
    """The end of the n-th working day after the start's local date (see the module docstring)."""
    if n < 0:
        raise ValueError("n must be 0 or more")
    local = _local(start)
    day = local.date()
    # Working days are at least 5 in 7; 2n + 31 days holds n of them across any public holiday.
    days = _Days(county_code, day, 2 * n + 31)
    if n == 0:
        if days.working(day) and local <= _end_of(day):
            return _end_of(day)
        n = 1
    counted = 0
    while counted < n:
        day += dt.timedelta(days=1)
        if days.working(day):
            counted += 1
    return _end_of(day)


def add_hours(start: dt.datetime, hours: float) -> dt.datetime:
    """Plain clock hours (urgent limits: 2 h, 24 h), holidays and nights included."""
    if hours < 0:
        raise ValueError("hours must be 0 or more")
    utc = _local(start).astimezone(dt.UTC) + dt.timedelta(hours=hours)
    return utc.astimezone(_local_tz())


def deadline_for(
    start: dt.datetime,
    *,
    limit_days: int | None = None,
    limit_hours: float | None = None,
    county_code: str = "",
) -> dt.datetime:
    """The deadline for a limit in working days or in clock hours (exactly one of the two)."""
    if limit_days is not None and limit_hours is None:
        return add_working_days(start, limit_days, county_code=county_code)
    if limit_hours is not None and limit_days is None:
        return add_hours(start, limit_hours)
    raise ValueError("give exactly one of limit_days and limit_hours")


def count_working_days(after: dt.date, until: dt.date, *, county_code: str = "") -> int:
    """Working days in (after, until] — e.g. how many working days a case is overdue."""
    if until <= after:
        return 0
    first = after + dt.timedelta(days=1)
    days = _Days(county_code, first, (until - after).days)
    return sum(days.working(first + dt.timedelta(days=i)) for i in range((until - after).days))
