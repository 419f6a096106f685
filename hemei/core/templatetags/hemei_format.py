"""Numbers, money and moments as people read them (docs/design.md): thousands separators,
元 with two decimals, local time everywhere, durations in words."""

from __future__ import annotations

import datetime as dt
import decimal
import re
from typing import Any

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

register = template.Library()


def _number(value: Any) -> decimal.Decimal | None:
    if value is None or value == "":
        return None
    try:
        return decimal.Decimal(str(value))
    except (decimal.InvalidOperation, ValueError, TypeError):
        return None


@register.filter
def thousands(value: Any) -> str:
    """12345 → 12,345; 12345.5 → 12,345.5; anything else unchanged."""
    number = _number(value)
    if number is None:
        return "" if value is None else str(value)
    if number == number.to_integral_value():
        return f"{int(number):,}"
    return f"{number:,}"


@register.filter
def amount(value: Any) -> str:
    """Money in a column already labelled (元): thousands separators and always two decimals,
    so that 9,600.00 and 13,157.50 line up: 9600 → 9,600.00."""
    number = _number(value)
    if number is None:
        return "" if value is None else str(value)
    return f"{number.quantize(decimal.Decimal('0.01')):,}"


@register.filter
def yuan(value: Any) -> str:
    """An amount in 元 with thousands separators and two decimals: 1949000 → 1,949,000.00 元."""
    if _number(value) is None:
        return ""
    return _("%(amount)s yuan") % {"amount": amount(value)}


def _local(value: Any) -> dt.datetime | None:
    if not isinstance(value, dt.datetime):
        return None
    return timezone.localtime(value) if timezone.is_aware(value) else value


@register.filter
def local_dt(value: Any) -> str:
    """A moment in the site's time zone, minutes precision: 2026-12-02 14:30."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    moment = _local(value)
    return f"{moment:%Y-%m-%d %H:%M}" if moment else ("" if value is None else str(value))


@register.filter
def local_date(value: Any) -> str:
    moment = _local(value)
    if moment is not None:
        return f"{moment:%Y-%m-%d}"
    return f"{value:%Y-%m-%d}" if isinstance(value, dt.date) else ""


@register.filter
def local_time(value: Any) -> str:
    moment = _local(value)
    return f"{moment:%H:%M}" if moment else ""


def words_for(delta: dt.timedelta) -> str:
    """3 天 4 小时 / 5 小时 20 分钟 / 12 分钟."""
    seconds = max(int(delta.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return _("%(d)d days %(h)d hours") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d hours %(m)d minutes") % {"h": hours, "m": minutes}
    return _("%(m)d minutes") % {"m": minutes}


@register.filter
def since_words(value: Any) -> str:
    """How long ago `value` was (for "late by …")."""
    if not isinstance(value, dt.datetime):
        return ""
    return words_for(timezone.now() - value)


@register.filter
def stars(value: Any) -> str:
    """3 → ★★★ (styled gold by .stars)."""
    number = _number(value)
    return "★" * int(number) if number is not None and 0 < number <= 20 else ""


PUBLIC_NUMBER = re.compile(r"^\d{6}-\d{4}-\d{6}$")


@register.filter
def is_public_number(value: Any) -> bool:
    """A case number people quote on the phone (140110-2026-000123), not an internal key such
    as a schedule's "140110101201-party-202604": the inbox shows only the former."""
    return bool(PUBLIC_NUMBER.match(str(value or "")))


@register.filter
def place(region: Any, village: Any = None) -> str:
    """A grid with its village ("西邵村第一网格"): every village has a 第一网格, so a grid's
    name alone says nothing on a township's or county's list. The village's name comes from the
    list's own query when given (`|place:row.village_name`, see
    `hemei.regions.selectors.with_village_names`); else it is asked and cached for five minutes
    (a list of 50 rows asks once per village, not once per row)."""
    if region is None:
        return ""
    name = str(getattr(region, "name", region))
    if getattr(region, "level", "") != "grid":
        return name
    if village is not None:
        return f"{village}{name}"
    from django.core.cache import cache

    from hemei.regions.models import Region

    parent = region.path[: -Region.steplen]
    village = cache.get_or_set(f"hemei:region-name:{parent}",
                               lambda: Region.objects.filter(path=parent).values_list("name", flat=True).first() or "",
                               300)
    return f"{village}{name}"
