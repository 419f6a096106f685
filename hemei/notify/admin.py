from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from hemei.notify.models import Delivery, Notification, Reminder


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by `hemei.notify.services` and the reminder sweeper."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "recipient", "kind", "ref", "title", "read_at")
    list_filter = ("kind",)
    search_fields = ("ref",)
    raw_id_fields = ("recipient", "county")


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "notification", "channel", "status", "attempts", "error")
    list_filter = ("channel", "status")
    raw_id_fields = ("notification",)


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "ref", "deadline")
