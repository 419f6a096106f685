"""Django admin for configuration (tags, regions, posts). Households and residents are edited
through the workbench so scope, masking and audit always apply; admin shows them read-only,
and roster import jobs too (they are written only by the upload page and its task)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from hemei.core.audit import audit_record
from hemei.core.models import AuditEntry
from hemei.regions.models import Household, HouseholdLink, Post, Region, Resident, RosterImport, Tag


@admin.register(Region)
class RegionAdmin(TreeAdmin):
    form = movenodeform_factory(Region)
    list_display = ["name", "code", "level", "valid_from", "valid_to"]
    search_fields = ["name", "code"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin[Tag]):
    list_display = ["name", "applies_to", "sensitive", "active", "sort"]
    list_editable = ["sort", "active"]


@admin.register(Post)
class PostAdmin(admin.ModelAdmin[Post]):
    """Posts decide who sees what. The admin's forms are not scoped, so only superusers may add or
    change posts here, and every save is audited like a service write."""

    list_display = ["user", "role", "region", "started_on", "ended_on"]
    list_filter = ["role"]
    search_fields = ["user__username", "region__name", "region__code"]
    raw_id_fields = ["user", "region", "resident"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # end a post with an end date; the row stays as history

    def save_model(self, request: HttpRequest, obj: Post, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit_record(actor=request.user, action=AuditEntry.Action.UPDATE if change else AuditEntry.Action.CREATE,
                     obj=obj, request=request, changes={k: [None, str(form.cleaned_data.get(k))]
                                                        for k in form.changed_data})


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Household)
class HouseholdAdmin(ReadOnlyAdmin):
    list_display = ["number", "village", "region", "lives_in_village"]
    search_fields = ["number", "village__name"]
    raw_id_fields = ["region", "village", "county", "head"]


@admin.register(Resident)
class ResidentAdmin(ReadOnlyAdmin):
    list_display = ["name", "id_masked", "phone_masked", "relation", "status"]
    search_fields = ["name", "name_initials", "id_tail"]
    exclude = ["id_number", "phone"]


@admin.register(RosterImport)
class RosterImportAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "region", "status", "total_rows", "processed_rows"]
    list_select_related = ["user", "region"]


@admin.register(HouseholdLink)
class HouseholdLinkAdmin(admin.ModelAdmin[HouseholdLink]):
    list_display = ["household", "kind", "post", "resident", "since"]
    raw_id_fields = ["household", "post", "resident"]
