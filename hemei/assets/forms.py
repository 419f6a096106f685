"""Forms for the asset pages. Numbers arrive as text: the service parses them (Decimal, two
places, not negative) so the page, the import and the API refuse the same input."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from hemei.assets.models import Asset, RevitalisationProject
from hemei.assets.services import AssetData
from hemei.core.parsing import KeyField


class AssetForm(forms.Form):
    code = forms.CharField(label=_("Asset code"), max_length=40)
    name = forms.CharField(label=_("Asset name"), max_length=120)
    category = forms.ChoiceField(label=_("Category"), choices=Asset.Category.choices)
    kind = forms.CharField(label=_("Type"), max_length=40, required=False,
                           help_text=_("e.g. school building, factory, farmland, machinery"))
    location = forms.CharField(label=_("Location"), max_length=200, required=False)
    area = forms.CharField(label=_("Area or quantity"), max_length=20,
                           widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    unit = forms.ChoiceField(label=_("Unit"), choices=Asset.Unit.choices)
    original_value = forms.CharField(label=_("Original value (yuan)"), max_length=20, initial="0.00",
                                     widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    net_value = forms.CharField(label=_("Net value (yuan)"), max_length=20, initial="0.00",
                                widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    ownership = forms.CharField(label=_("Ownership"), max_length=100, required=False)
    acquired = forms.DateField(label=_("Acquired"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    latitude = forms.CharField(label=_("Latitude"), max_length=12, required=False,
                               widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    longitude = forms.CharField(label=_("Longitude"), max_length=12, required=False,
                                widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    notes = forms.CharField(label=_("Notes"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def to_data(self) -> AssetData:
        c = self.cleaned_data
        return AssetData(
            code=c["code"], name=c["name"], category=c["category"], kind=c["kind"], location=c["location"],
            area=c["area"], unit=c["unit"], original_value=c["original_value"], net_value=c["net_value"],
            ownership=c["ownership"], acquired=c["acquired"], latitude=c["latitude"] or None,
            longitude=c["longitude"] or None, notes=c["notes"],
        )

    @classmethod
    def initial_for(cls, asset: Asset) -> dict[str, Any]:
        return {name: getattr(asset, name) for name in cls.base_fields}


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=Asset.Status.choices)
    reason = forms.CharField(label=_("Reason"), max_length=300)


class PhotoForm(forms.Form):
    caption = forms.CharField(label=_("Caption"), max_length=100, required=False)


class ProjectForm(forms.Form):
    region = forms.ChoiceField(label=_("Village or township"))
    name = forms.CharField(label=_("Project"), max_length=120)
    path = forms.ChoiceField(label=_("Path"), choices=RevitalisationProject.Path.choices)
    partner = forms.CharField(label=_("Partner"), max_length=120, required=False)
    description = forms.CharField(label=_("Description"), max_length=4000, required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    assets = forms.MultipleChoiceField(label=_("Assets"), widget=forms.CheckboxSelectMultiple)
    decision_item = forms.ChoiceField(label=_("Meeting decision"), required=False)
    decision_date = forms.DateField(label=_("Decision date"), required=False,
                                    widget=forms.DateInput(attrs={"type": "date"}))
    decision_summary = forms.CharField(label=_("Decision"), max_length=2000, required=False,
                                       widget=forms.Textarea(attrs={"rows": 2}))
    expected_annual_income = forms.CharField(label=_("Expected annual income (yuan)"), max_length=20,
                                             initial="0.00", widget=forms.TextInput(attrs={"inputmode": "decimal"}))


class IncomeForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    amount = forms.CharField(label=_("Actual income (yuan)"), max_length=20,
                             widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


# The POST forms below parse leniently (`hemei.core.parsing.form_values`): the services check
# the values and refuse bad ones with their own messages.


class NewStatusForm(forms.Form):
    """The status a new asset starts in: absent means in use; sent (even empty) goes to the
    service, which refuses an unknown one."""

    status = forms.CharField(required=False, strip=False)

    def clean_status(self) -> str:
        return str(self.cleaned_data["status"]) if "status" in self.data else Asset.Status.IN_USE


class CaptionForm(forms.Form):
    caption = forms.CharField(required=False, strip=False)  # the service trims and limits it


class KeyForm(forms.Form):
    key = KeyField()


class ProjectActionForm(forms.Form):
    action = forms.CharField(required=False)
