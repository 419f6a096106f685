"""Deadlines for a case's category, computed with the working-day calendar (rule 5)."""

from __future__ import annotations

import datetime as dt

from hemei.cases.models import Category
from hemei.core.calendar import add_hours, add_working_days, deadline_for


def accept_deadline(category: Category, start: dt.datetime, county_code: str) -> dt.datetime:
    if category.accept_minutes:
        # Clock minutes, day and night: a call for help does not wait for a working day.
        return start + dt.timedelta(minutes=category.accept_minutes)
    if category.accept_hours is None:
        # Accept the same working day (or the next one for a request made after hours).
        return add_working_days(start, 0, county_code=county_code)
    return add_hours(start, category.accept_hours)


def resolve_deadline(category: Category, start: dt.datetime, county_code: str) -> dt.datetime:
    return deadline_for(start, limit_days=category.resolve_working_days, limit_hours=category.resolve_hours,
                        county_code=county_code)
