"""Forms of the party pages; the services re-check everything (a form only parses)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hemei.core.parsing import IdField
from hemei.party.models import Attendance, BranchKind, SessionKind, Standing


class BranchForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=BranchKind.choices)
    region = forms.CharField(label=_("Region code"), max_length=20)
    parent = IdField(label=_("Parent organisation"), required=False)
    secretary_name = forms.CharField(label=_("Secretary"), max_length=50, required=False)


class SessionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=SessionKind.choices)
    title = forms.CharField(label=_("Topic"), max_length=150)
    planned_at = forms.DateTimeField(label=_("Planned for"),
                                     widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    place = forms.CharField(label=_("Place"), max_length=100, required=False)
    hours = forms.DecimalField(label=_("Hours"), max_digits=4, decimal_places=1, min_value=0, max_value=24,
                               initial="1.0")
    materials = forms.CharField(label=_("Materials (links)"), max_length=2000, required=False,
                                widget=forms.Textarea(attrs={"rows": 2}))


class MemberForm(forms.Form):
    resident = IdField(label=_("Resident"))
    joined_party_on = forms.DateField(label=_("Joined the party on"), widget=forms.DateInput(attrs={"type": "date"}))
    standing = forms.ChoiceField(label=_("Standing"), choices=Standing.choices)
    group = IdField(label=_("Party group"), required=False)
    transferred_from = forms.CharField(label=_("Transferred in from"), max_length=100, required=False)


class TransferForm(forms.Form):
    on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    to = forms.CharField(label=_("Transferred to (organisation elsewhere)"), max_length=100, required=False)
    to_branch = IdField(label=_("Or a branch here"), required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class ConfirmForm(forms.Form):
    on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))


class RecordForm(forms.Form):
    minutes = forms.CharField(label=_("Minutes"), max_length=20000, widget=forms.Textarea(attrs={"rows": 5}))
    hours = forms.DecimalField(label=_("Hours"), max_digits=4, decimal_places=1, min_value=0, max_value=24,
                               required=False)


class CancelForm(forms.Form):
    note = forms.CharField(label=_("Reason"), max_length=300)


class MarkForm(forms.Form):
    member = IdField()
    status = forms.ChoiceField(choices=Attendance.Status.choices)
    reason = forms.CharField(max_length=200, required=False)


class StudyForm(forms.Form):
    studied_on = forms.DateField(label=_("Studied on"), widget=forms.DateInput(attrs={"type": "date"}))
    hours = forms.DecimalField(label=_("Hours"), max_digits=4, decimal_places=1, min_value=0, max_value=24)
    content = forms.CharField(label=_("What was studied"), max_length=300)
    absence = IdField(label=_("Absence made up"), required=False)


class CodeForm(forms.Form):
    code = forms.CharField(label=_("Sign-in code"), max_length=16)


class GroupForm(forms.Form):
    """A member's party group: an id of a group, anything else (— too) no group."""

    group = forms.CharField(required=False)  # read with `parse_id`
