"""The Django admin: alarm rules are edited here (data, per county); devices, alarms and dead
letters are read-only (devices are registered through the service, which hashes the secret)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from hemei.devices.models import Alarm, AlarmRule, DeadLetter, Device


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AlarmRule)
class AlarmRuleAdmin(admin.ModelAdmin):
    list_display = ("kind", "profile", "code", "severity", "metric", "min_value", "max_value", "opens_case",
                    "category", "tier", "county", "active")
    list_filter = ("kind", "severity", "opens_case", "active")


@admin.register(Device)
class DeviceAdmin(ReadOnly):
    list_display = ("code", "name", "kind", "region", "active", "online", "last_seen_at")
    list_filter = ("kind", "active", "online")
    search_fields = ("code", "name")
    exclude = ("secret_hash", "signing_key")


@admin.register(Alarm)
class AlarmAdmin(ReadOnly):
    list_display = ("device", "code", "severity", "state", "count", "raised_at", "last_at")
    list_filter = ("state", "severity")


@admin.register(DeadLetter)
class DeadLetterAdmin(ReadOnly):
    list_display = ("received_at", "channel", "reason", "device_code", "topic", "detail")
    list_filter = ("reason", "channel")
    search_fields = ("device_code", "topic")
