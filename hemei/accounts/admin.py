from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from hemei.accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "display_name", "is_staff", "locked_until", "last_login"]
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("Hemei", {"fields": ("display_name", "phone", "failed_logins", "locked_until")}),
    )
