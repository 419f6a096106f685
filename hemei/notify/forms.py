"""The inbox's POST form: follow the notice's link (`go`) and come back to the page one was on."""

from __future__ import annotations

from django import forms


class InboxForm(forms.Form):
    go = forms.CharField(required=False, strip=False)  # any value follows the link (the page sends "1")
    page = forms.CharField(required=False, max_length=20)
