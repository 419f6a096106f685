"""Seed the national working-day calendar for 2026.

Source: 国务院办公厅关于2026年部分节假日安排的通知 (dated 2025-11-04, published by Xinhua):

    一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
    二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。
        2月14日（周六）、2月28日（周六）上班。
    三、清明节：4月4日（周六）至6日（周一）放假，共3天。
    四、劳动节：5月1日（周五）至5日（周二）放假调休，共5天。5月9日（周六）上班。
    五、端午节：6月19日（周五）至21日（周日）放假，共3天。
    六、中秋节：9月25日（周五）至27日（周日）放假，共3天。
    七、国庆节：10月1日（周四）至7日（周三）放假调休，共7天。9月20日（周日）、10月10日（周六）上班。

Every day of each holiday period is stored (also the weekend days inside it, so the admin shows
the whole period under its name); make-up working days are stored as `workday`. The dates were
checked against the notice's text as republished; the table stays editable in the admin in case
a correction is ever needed. Later years are entered the same way (docs/calendar.md).
"""

import datetime as dt

from django.db import migrations


def _span(first, last, name):
    day = first
    while day <= last:
        yield day, "holiday", name
        day += dt.timedelta(days=1)


D = dt.date
DAYS_2026 = [
    *_span(D(2026, 1, 1), D(2026, 1, 3), "元旦"),
    (D(2026, 1, 4), "workday", "元旦调休"),
    (D(2026, 2, 14), "workday", "春节调休"),
    *_span(D(2026, 2, 15), D(2026, 2, 23), "春节"),
    (D(2026, 2, 28), "workday", "春节调休"),
    *_span(D(2026, 4, 4), D(2026, 4, 6), "清明节"),
    *_span(D(2026, 5, 1), D(2026, 5, 5), "劳动节"),
    (D(2026, 5, 9), "workday", "劳动节调休"),
    *_span(D(2026, 6, 19), D(2026, 6, 21), "端午节"),
    (D(2026, 9, 20), "workday", "国庆节调休"),
    *_span(D(2026, 9, 25), D(2026, 9, 27), "中秋节"),
    *_span(D(2026, 10, 1), D(2026, 10, 7), "国庆节"),
    (D(2026, 10, 10), "workday", "国庆节调休"),
]


def forwards(apps, schema_editor):
    """Idempotent: a national row already present for a date is updated, not duplicated."""
    CalendarDay = apps.get_model("core", "CalendarDay")
    for day, kind, name in DAYS_2026:
        CalendarDay.objects.update_or_create(date=day, county_code="", defaults={"kind": kind, "name": name})


def backwards(apps, schema_editor):
    CalendarDay = apps.get_model("core", "CalendarDay")
    CalendarDay.objects.filter(county_code="", date__in=[day for day, _kind, _name in DAYS_2026]).delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0003_calendarday")]
    operations = [migrations.RunPython(forwards, backwards)]
