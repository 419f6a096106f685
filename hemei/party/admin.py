"""The Django admin shows party organisations read-only (configuration to look at). The member
register, attendance and study records are personal data and stay in the scoped pages: the
admin's lists are not scoped by county."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from hemei.party.models import Branch


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin[Branch]):
    list_display = ("name", "kind", "region", "parent", "secretary_name")
    list_filter = ("kind",)
    search_fields = ("name",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
