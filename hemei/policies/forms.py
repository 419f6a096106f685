"""Forms of the policy pages; the services re-check everything (a form only parses)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from hemei.core.parsing import IdField
from hemei.policies.eligibility import WORK_PLACES, validate_conditions

_DATE = forms.DateInput(attrs={"type": "date"})


class ApplyForm(forms.Form):
    """A household (or a member) applied for a policy; `key` makes a double tap one record."""

    policy = IdField(label=_("Policy"))
    member = IdField(label=_("Member"), required=False)
    applied_on = forms.DateField(label=_("Applied on"), required=False, widget=_DATE)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
    key = forms.CharField(max_length=64, widget=forms.HiddenInput)
    next = forms.CharField(max_length=200, required=False, widget=forms.HiddenInput)


class DecideForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=[("grant", _("grant")), ("refuse", _("refuse"))])
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class WorkAwayForm(forms.Form):
    resident = IdField(label=_("Member"))
    place = forms.ChoiceField(label=_("Works"), choices=list(WORK_PLACES.items()))
    province = forms.CharField(label=_("Province or city of work"), max_length=30, required=False)
    since = forms.DateField(label=_("Working there since"), required=False, widget=_DATE)


class VersionForm(forms.Form):
    """A new version of a policy's rules; the conditions are JSON, checked against the whitelist."""

    label = forms.CharField(label=_("Version"), max_length=40)
    effective_from = forms.DateField(label=_("In force from"), widget=_DATE)
    effective_to = forms.DateField(label=_("In force until"), required=False, widget=_DATE)
    benefit = forms.CharField(label=_("Amount or standard"), max_length=200, required=False)
    basis = forms.CharField(label=_("Policy document"), max_length=200, required=False)
    conditions = forms.CharField(label=_("Conditions (JSON)"), max_length=10000,
                                 widget=forms.Textarea(attrs={"rows": 8, "class": "wide", "spellcheck": "false"}))

    def clean_conditions(self) -> Any:
        text = self.cleaned_data["conditions"]
        try:
            value = json.loads(text)
        except ValueError:
            raise forms.ValidationError(_("The conditions are not valid JSON.")) from None
        return validate_conditions(value)


class NotAppliedFilter(forms.Form):
    region = forms.CharField(max_length=20, required=False)
    policy = IdField(required=False)
    on = forms.DateField(required=False)
