"""Forms of the people pages (hemei.regions.views_people).

Role and region are plain values with a select list of what the manager may use; the view
looks the region up in the manager's scope (404 outside) and the service checks the role
(403 when it is above the manager's authority), so a tampered form never becomes a post.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib.auth.password_validation import password_validators_help_texts
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.translation import gettext_lazy as _

from hemei.regions.models import Region, Role

DATE_WIDGET = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


def region_label(region: Region, top_depth: int) -> str:
    """Indented by depth below the manager's top region, so the tree reads in a select."""
    indent = "\u3000" * max(region.depth - top_depth, 0)
    return f"{indent}{region.name} ({region.code})"


class _PasswordForm(forms.Form):
    """A password a staff member types for someone else, typed twice against typos. The
    password policy (settings.AUTH_PASSWORD_VALIDATORS) is applied by the service."""

    password1 = forms.CharField(
        label=_("Initial password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Password again"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["password1"].help_text = " ".join(password_validators_help_texts())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
            self.add_error("password2", _("The two passwords differ."))
        return data


class _PostFields(forms.Form):
    role = forms.CharField(label=_("Role"), max_length=20)
    region = forms.CharField(label=_("Region"), max_length=15)
    started_on = forms.DateField(label=_("Started on"), initial=dt.date.today, widget=DATE_WIDGET)

    def set_choices(self, *, roles: Iterable[str], regions: Iterable[Region], top_depth: int) -> None:
        role_set = set(roles)
        self.fields["role"].widget = forms.Select(
            choices=[("", "—"), *((value, label) for value, label in Role.choices if value in role_set)]
        )
        self.fields["region"].widget = forms.Select(
            choices=[("", "—"), *((r.code, region_label(r, top_depth)) for r in regions)]
        )

    def clean_started_on(self) -> dt.date:
        started: dt.date = self.cleaned_data["started_on"]
        if started > dt.date.today():
            raise forms.ValidationError(_("The date cannot be in the future."))
        return started


class StaffAccountForm(_PostFields, _PasswordForm):
    username = forms.CharField(
        label=_("User name"), max_length=150, validators=[UnicodeUsernameValidator()],
        help_text=_("For signing in; letters, digits and @ . + - _ only."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )
    display_name = forms.CharField(label=_("Name"), max_length=50)
    phone = forms.CharField(
        label=_("Phone (optional)"), max_length=20, required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    field_order = ["username", "display_name", "phone", "role", "region", "started_on", "password1", "password2"]


class PostAddForm(_PostFields):
    pass


class PostEndForm(forms.Form):
    on = forms.DateField(
        label=_("Ends on"), initial=dt.date.today, widget=DATE_WIDGET,
        help_text=_("From this day on the post grants nothing. Today: at once."),
    )


class PasswordSetForm(_PasswordForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["password1"].label = _("New password")
