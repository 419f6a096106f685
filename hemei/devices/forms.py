from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from hemei.devices.models import Kind


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class DeviceForm(forms.Form):
    region = forms.ChoiceField(label=_("Village or grid"))
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices)
    code = forms.CharField(label=_("Device code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=100)
    profile = forms.CharField(label=_("Profile"), max_length=40, required=False,
                              help_text=_("e.g. scorpion_house: picks that profile's threshold rules"))

    def __init__(self, *args: Any, regions: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = regions  # type: ignore[attr-defined]


class NextForm(forms.Form):
    """Where an alarm action returns to: `list` for the alarm list, else the alarm."""

    next = forms.CharField(required=False)
