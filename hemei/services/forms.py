from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hemei.core.parsing import IdField, IdListField, KeyField, TextField
from hemei.services.services import MAX_CAPACITY

_LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class SlotForm(forms.Form):
    starts_at = forms.DateTimeField(label=_("starts"), widget=_LOCAL, input_formats=["%Y-%m-%dT%H:%M",
                                                                                    "%Y-%m-%d %H:%M"])
    ends_at = forms.DateTimeField(label=_("ends"), widget=_LOCAL, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    capacity = forms.IntegerField(label=_("capacity"), min_value=1, max_value=MAX_CAPACITY)


def _amount(name: str, *, maximum: int = 100_000_000) -> forms.DecimalField:
    from hemei.services.sme import FIELDS

    return forms.DecimalField(label=FIELDS[name], min_value=0, max_value=maximum, max_digits=14, decimal_places=2,
                              widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}))


class SmeCheckForm(forms.Form):
    """A company's figures for the 专精特新 self-check (amounts in 万元, shares in %)."""

    tech_sme_number = forms.CharField(label=_("科技型中小企业 registration number"), max_length=40, required=False)
    innovative_certificate = forms.BooleanField(label=_("创新型中小企业 certificate"), required=False)
    years_in_niche = forms.IntegerField(label=_("years in the niche market"), min_value=0, max_value=200)
    revenue = _amount("revenue")
    revenue_before = _amount("revenue_before")
    equity_financing = _amount("equity_financing")
    main_business_share = _amount("main_business_share", maximum=100)
    debt_ratio = _amount("debt_ratio", maximum=1000)
    rd_last = _amount("rd_last")
    rd_before = _amount("rd_before")
    own_ip_class1 = forms.IntegerField(label=_("class-I IP rights developed in-house"), min_value=0, max_value=100000)
    bought_ip_class1 = forms.IntegerField(label=_("class-I IP rights bought or transferred in (not counted)"),
                                          min_value=0, max_value=100000, required=False)


# The POST forms below parse leniently (`hemei.core.parsing.form_values`): each field is read
# as text of bounded length, and the service refuses bad values with its own messages, so the
# page, the API and the demo meet the same rules.



class BookingForm(forms.Form):
    """The public study-tour booking form (the template writes its own inputs, phone-first)."""

    organisation = TextField(strip=True)
    group_kind = TextField(strip=True)
    group_size = TextField(strip=True)
    contact_name = TextField(strip=True)
    contact_phone = TextField(strip=True)
    key = KeyField()


class NoteForm(forms.Form):
    note = TextField(strip=True)


class DeclareForm(forms.Form):
    area = IdField(required=False)
    hazard = TextField(strip=True)
    level = TextField(strip=True)
    reason = TextField(strip=True)
    hours = IdField(required=False, max_value=24 * 30)


class LevelForm(forms.Form):
    """Raise, lower (`level`) or lift (`step=lift`) a response in force."""

    step = TextField(strip=True)
    level = TextField(strip=True)
    reason = TextField(strip=True)


class CheckInForm(forms.Form):
    reached = IdListField()
    note = TextField(strip=True)


# --- childcare places (托育): the forms parse, `hemei.services.childcare` re-checks everything --

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ProviderForm(forms.Form):
    """A new childcare centre (the region is chosen by code among those the user manages)."""

    region = forms.CharField(label=_("Village or township code"), max_length=15)
    name = forms.CharField(label=_("Centre name"), max_length=100)
    capacity = forms.IntegerField(label=_("Places"), min_value=1, max_value=1000)
    min_age_months = forms.IntegerField(label=_("Youngest age (months)"), min_value=0, max_value=72, initial=6)
    max_age_months = forms.IntegerField(label=_("Oldest age (months)"), min_value=0, max_value=72, initial=72)
    address = forms.CharField(label=_("Centre address"), max_length=200, required=False)
    phone = forms.CharField(label=_("Centre phone"), max_length=20, required=False)


class ProviderEditForm(forms.Form):
    capacity = forms.IntegerField(label=_("Places"), min_value=1, max_value=1000)
    min_age_months = forms.IntegerField(label=_("Youngest age (months)"), min_value=0, max_value=72)
    max_age_months = forms.IntegerField(label=_("Oldest age (months)"), min_value=0, max_value=72)
    phone = forms.CharField(label=_("Centre phone"), max_length=20, required=False)
    active = forms.BooleanField(label=_("Taking applications"), required=False)


class ApplicationForm(forms.Form):
    """A family's application as staff enter it, phone-first: one field a line."""

    child_name = forms.CharField(label=_("Child's name"), max_length=50)
    child_birth_date = forms.DateField(label=_("Child's birth date"), widget=_DATE)
    guardian_name = forms.CharField(label=_("Guardian"), max_length=50)
    guardian_phone = forms.CharField(label=_("Guardian's mobile phone"), max_length=20,
                                     widget=forms.TextInput(attrs={"type": "tel", "inputmode": "numeric"}))
    desired_start = forms.DateField(label=_("Desired start"), widget=_DATE)
    household = forms.CharField(label=_("Household number in the register (if known)"), max_length=30,
                                required=False)
    key = KeyField(widget=forms.HiddenInput)


class OfferForm(forms.Form):
    skip_reason = TextField(strip=True)  # the service requires it when others are ahead, and limits it
