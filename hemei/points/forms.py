"""Forms of the committee's rule pages and the shop keeper's catalogue. They only parse and
check shapes; the services decide (and say why they refuse)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hemei.core.parsing import FlagField, IdField, IdListField, KeyField
from hemei.points.models import RuleItem, RuleSet


class RuleItemForm(forms.Form):
    code = forms.CharField(label=_("code"), max_length=10)
    kind = forms.ChoiceField(label=_("kind"), choices=RuleItem.Kind.choices)
    description = forms.CharField(label=_("What the points are for"), max_length=200)
    points = forms.IntegerField(label=_("points"), min_value=-1000, max_value=1000)
    evidence = forms.CharField(label=_("evidence needed"), max_length=200, required=False)
    cap_per_period = forms.IntegerField(label=_("cap per household per period"), min_value=1, required=False)
    proposer = forms.ChoiceField(label=_("who may propose"), choices=RuleItem.Proposer.choices)


class SettingsForm(forms.Form):
    publicity_days = forms.IntegerField(label=_("publicity days"), min_value=1, max_value=60)
    redemption_period = forms.ChoiceField(label=_("redemption period"), choices=RuleSet.RedemptionPeriod.choices)
    after_redemption = forms.ChoiceField(label=_("after a redemption period"), choices=RuleSet.AfterRedemption.choices)
    min_balance_to_redeem = forms.IntegerField(label=_("minimum balance to redeem"), min_value=0)
    exclude_absent = forms.BooleanField(label=_("exclude households not living in the village"), required=False)
    ranking = forms.ChoiceField(label=_("public ranking"), choices=RuleSet.Ranking.choices)
    ranking_top_n = forms.IntegerField(label=_("households in a top list"), min_value=1, max_value=500)


class RewardForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=100)
    price = forms.IntegerField(label=_("price in points"), min_value=1)
    limit_per_period = forms.IntegerField(label=_("limit per household per period"), min_value=1, required=False)
    own_product = forms.BooleanField(label=_("villagers' own product"), required=False)
    active = forms.BooleanField(label=_("active"), required=False, initial=True)
    photo = forms.FileField(label=_("photo"), required=False)
    remove_photo = forms.BooleanField(label=_("remove the photo"), required=False)


class RestockForm(forms.Form):
    quantity = forms.IntegerField(label=_("quantity"), min_value=1, max_value=100000)
    note = forms.CharField(label=_("note"), max_length=200, required=False)


# --- the review queue: one form per action ---------------------------------------------------


class ApproveAllForm(forms.Form):
    """Approve every entry the committee member was shown, after ticking the confirmation."""

    entries = IdListField()
    confirm = FlagField()
    key = KeyField()


class ObjectionDecideForm(forms.Form):
    objection = IdField()
    uphold = FlagField()
    decision = forms.CharField(required=False, strip=False)  # the service requires and trims it
    key = KeyField()


class EntryReviewForm(forms.Form):
    entry = IdField()
    approve = FlagField()
    reason = forms.CharField(required=False, strip=False)  # required by the service on rejection
    key = KeyField()
