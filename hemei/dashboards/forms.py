"""The POST forms of the dashboard pages (the monthly report's own forms are in
`hemei.indicators.forms`)."""

from __future__ import annotations

from django import forms


class EntryActionForm(forms.Form):
    """The report page's button: `save` (also when none is named), `submit`, `approve` or
    `return`; anything else does nothing."""

    action = forms.CharField(required=False, strip=False)

    def clean_action(self) -> str:
        return str(self.cleaned_data["action"]) if "action" in self.data else "save"
