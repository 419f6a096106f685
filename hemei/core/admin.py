from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from hemei.core.audit import audit_record, diff
from hemei.core.models import AuditEntry, CalendarDay


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin[AuditEntry]):
    """Read-only: audit rows are never edited or removed."""

    list_display = ["at", "actor_name", "action", "object_type", "object_repr", "county_code", "ip"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_name", "object_repr", "object_id"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


CALENDAR_FIELDS = ["date", "kind", "name", "county_code"]
WEEKDAYS = [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday")]


def _calendar_values(obj: CalendarDay) -> dict[str, Any]:
    return {field: getattr(obj, field) for field in CALENDAR_FIELDS}


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin[CalendarDay]):
    """Holidays and make-up working days. Every deadline depends on this table, so each change is
    a configuration change and leaves an audit row (also deletes from the list's bulk action)."""

    list_display = ["date", "weekday", "kind", "name", "county_code"]
    list_filter = ["kind", "county_code", "name"]
    search_fields = ["name", "county_code"]
    date_hierarchy = "date"
    ordering = ["-date", "county_code"]

    @admin.display(description=_("weekday"))
    def weekday(self, obj: CalendarDay) -> str:
        return str(WEEKDAYS[obj.date.weekday()])

    def save_model(self, request: HttpRequest, obj: CalendarDay, form: Any, change: bool) -> None:
        old: dict[str, Any] = {}
        if change and obj.pk is not None:
            before = CalendarDay.objects.filter(pk=obj.pk).first()
            old = _calendar_values(before) if before is not None else {}
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action=AuditEntry.Action.UPDATE if change else AuditEntry.Action.CREATE,
            obj=obj,
            request=request,
            changes=diff(old, _calendar_values(obj)),
        )

    def _audit_delete(self, request: HttpRequest, obj: CalendarDay) -> None:
        audit_record(
            actor=request.user,
            action=AuditEntry.Action.DELETE,
            obj=obj,
            request=request,
            changes=diff(_calendar_values(obj), {}),
        )

    def delete_model(self, request: HttpRequest, obj: CalendarDay) -> None:
        self._audit_delete(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CalendarDay]) -> None:
        for obj in queryset:
            self._audit_delete(request, obj)
        super().delete_queryset(request, queryset)
