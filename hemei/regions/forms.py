from django import forms
from django.utils.translation import gettext_lazy as _

from hemei.regions.models import Resident


class ResidentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50)
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    relation = forms.ChoiceField(label=_("Relation to head"), choices=Resident.Relation.choices)
    is_party_member = forms.BooleanField(label=_("Party member"), required=False)


class ResidentStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Resident.Status.choices)
    on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Note"), max_length=200, required=False)
