"""Forms of the case pages. They parse leniently (`hemei.core.parsing.form_values`): a field
that does not parse is left out, and the view's default or the service's check decides, with
the messages the pages always gave. Values the page shows again on an error stay text."""

from __future__ import annotations

from typing import Any

from django import forms

from hemei.cases.models import CasePhoto
from hemei.core.parsing import FlagField, KeyField, TextField


class _Report(forms.Form):
    """What every new case says; `confirm=1` sends it although personal data was found in it."""

    category = TextField()  # matched against the page's categories by pk
    title = TextField()
    description = TextField()
    key = KeyField()
    confirm = FlagField()


class VillagerCaseForm(_Report):
    """我要反映: a villager's own request, with the phone's position if it gave one."""

    lat = TextField()
    long = TextField()


class StaffCaseForm(_Report):
    """A case staff take by phone, on a visit or on a patrol, for a village or grid by code."""

    region = TextField()
    reporter_name = TextField()
    source = TextField()


class RateForm(forms.Form):
    rating = TextField()


class ExtensionDecisionForm(forms.Form):
    grant = FlagField()  # "1" grants, anything else refuses
    note = TextField()


class CaseActionForm(forms.Form):
    """One step on a case (`case_action`): each action reads the fields it needs."""

    responsible = TextField()  # a user id from the list, or blank
    unit = TextField()
    note = TextField()
    into = forms.CharField(required=False)  # a case number, trimmed
    until = TextField()
    reason = TextField()
    measures = TextField()
    stage = TextField()

    def clean_stage(self) -> Any:
        """Photos without a stage are photos of the result."""
        if "stage" not in self.data:
            return CasePhoto.Stage.RESOLVED
        return self.cleaned_data["stage"]
