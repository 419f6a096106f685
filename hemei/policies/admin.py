from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from hemei.policies.models import Application, Policy


class ReadOnly(admin.ModelAdmin):
    """Read-only: policies, versions and applications change through the services (audit,
    validated rules, the workflow)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Policy)
class PolicyAdmin(ReadOnly):
    list_display = ("code", "name", "issuer", "region", "active")
    search_fields = ("code", "name")


@admin.register(Application)
class ApplicationAdmin(ReadOnly):
    list_display = ("household", "policy", "member", "status", "applied_on")
    list_filter = ("status",)
