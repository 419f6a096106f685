"""Forms of the trusteeship pages. Amounts and areas stay text here: the services parse them
(Decimal, at most two places, never a float), so a form and an import refuse the same things."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from hemei.contracts.models import TrustService
from hemei.core.parsing import IdListField
from hemei.regions.models import Household, Region


def find_household(village: Region, text: str) -> Household:
    """A household of `village` by its number, or by the name of its head when that name is
    unique in the village. Households of other villages are never found."""
    text = (text or "").strip()
    if not text:
        raise ValidationError(_("Enter the household number or the name of the head."), code="household")
    houses = Household.objects.filter(village=village).select_related("village", "county", "head")
    by_number = houses.filter(number=text).first()
    if by_number is not None:
        return by_number
    by_head = list(houses.filter(head__name=text)[:2])
    if len(by_head) == 1:
        return by_head[0]
    if by_head:
        raise ValidationError(_("Several households have a head of this name: enter the household number."),
                              code="household")
    raise ValidationError(_("No household %(t)s in %(v)s.") % {"t": text[:30], "v": village.name}, code="household")


def households_matching(village: Region, text: str, limit: int = 20) -> list[Household]:
    text = (text or "").strip()
    if not text:
        return []
    return list(Household.objects.filter(village=village)
                .filter(Q(number__startswith=text) | Q(head__name__contains=text))
                .select_related("head").order_by("number")[:limit])


class ParcelForm(forms.Form):
    household = forms.CharField(label=_l("Household (number or head's name)"), max_length=50)
    code = forms.CharField(label=_l("Parcel code"), max_length=40, required=False)
    area_mu = forms.CharField(label=_l("Area (mu)"), max_length=20)
    location = forms.CharField(label=_l("Location"), max_length=100, required=False)
    crop = forms.CharField(label=_l("Crop"), max_length=40, required=False)
    provider = forms.CharField(label=_l("Service provider"), max_length=100)
    entrusted_from = forms.DateField(label=_l("Entrusted from"), widget=forms.DateInput(attrs={"type": "date"}))
    entrusted_to = forms.DateField(label=_l("Entrusted until"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area_mu"].widget.attrs["inputmode"] = "decimal"
        if editing:  # the household of a parcel is never changed: end it and register anew
            del self.fields["household"]


class EndForm(forms.Form):
    ended_on = forms.DateField(label=_l("Entrustment ended on"), widget=forms.DateInput(attrs={"type": "date"}))


class ServiceForm(forms.Form):
    kind = forms.ChoiceField(label=_l("Service"), choices=TrustService.Kind.choices)
    on = forms.DateField(label=_l("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    fee_per_mu = forms.CharField(label=_l("Fee per mu (yuan)"), max_length=20,
                                 widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    note = forms.CharField(label=_l("Note"), max_length=200, required=False)
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)


class ParcelActionForm(forms.Form):
    """Which of the parcel page's forms was sent (`edit` or `end`)."""

    action = forms.CharField(required=False)


class ServiceParcelsForm(forms.Form):
    """The parcels a service is for: those ticked (ids that do not read as ids are dropped) or
    all those of one provider (`all_of`)."""

    parcel = IdListField()
    all_of = forms.CharField(required=False)


class ServiceAreasForm(forms.Form):
    """The area served on each chosen parcel (`area_<pk>`, blank = the whole parcel); the
    service parses and checks them."""

    def __init__(self, *args: Any, parcels: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for parcel in parcels:
            self.fields[f"area_{parcel.pk}"] = forms.CharField(required=False)


class IncomeForm(forms.Form):
    household = forms.CharField(label=_l("Household (number or head's name)"), max_length=50)
    year = forms.IntegerField(label=_l("Year"), min_value=2000, max_value=2100)
    yield_income = forms.CharField(label=_l("Yield income (yuan)"), max_length=20,
                                   widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    correct = forms.BooleanField(label=_l("Correct the recorded figure"), required=False)
    reason = forms.CharField(label=_l("Reason for the correction"), max_length=200, required=False)

