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
