from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hemei.services.services import MAX_CAPACITY

_LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class SlotForm(forms.Form):
    starts_at = forms.DateTimeField(label=_("starts"), widget=_LOCAL, input_formats=["%Y-%m-%dT%H:%M",
                                                                                    "%Y-%m-%d %H:%M"])
    ends_at = forms.DateTimeField(label=_("ends"), widget=_LOCAL, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    capacity = forms.IntegerField(label=_("capacity"), min_value=1, max_value=MAX_CAPACITY)
