from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from hemei.services.models import Venue


@admin.register(Venue)
class VenueAdmin(admin.ModelAdmin):
    """Read-only: venues, slots and bookings change through the services (audit, capacity)."""

    list_display = ("name", "region", "default_capacity", "active")
    list_filter = ("active",)
    search_fields = ("name",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
