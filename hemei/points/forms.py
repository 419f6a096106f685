"""Forms of the committee's rule pages and the shop keeper's catalogue. They only parse and
check shapes; the services decide (and say why they refuse)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from hemei.core.parsing import DateTextField, FlagField, IdField, IdListField, KeyField, TextField, parse_id, parse_int
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


# --- the other POST forms: lenient (`hemei.core.parsing.form_values`), the services check -----



class ActionForm(forms.Form):
    """Which of a page's buttons was pressed (`action`) and the form's idempotency key."""

    action = forms.CharField(required=False, strip=False)
    key = KeyField()


class QuantityField(forms.Field):
    """How many of a reward: 1 when not sent, else a whole number (the service refuses what
    is not positive or too many); anything else is None, which the view refuses."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> int | None:
        if value is None or value == "":
            return 1
        return parse_int(value, minimum=-1_000_000, maximum=1_000_000)

    def validate(self, value: Any) -> None:
        pass


class RedeemForm(ActionForm):
    """A villager reserves a reward on the phone (`reward`, `quantity`)."""

    reward = IdField(required=False)
    quantity = QuantityField()


class CancelForm(ActionForm):
    """A villager cancels their reservation."""

    redemption = IdField(required=False)


class CounterRedeemForm(RedeemForm):
    """The shop keeper redeems a reward at the counter for the household shown."""

    household = IdField(required=False)


class CollectForm(ActionForm):
    """The shop keeper hands over a reserved reward (`collect=<redemption id>`)."""

    household = IdField(required=False)
    collect = IdField(required=False)


class CounterFindForm(forms.Form):
    """The counter's search (posted, so a phone number stays out of URLs and logs)."""

    q = forms.CharField(required=False)  # trimmed


class ObjectionRaiseForm(forms.Form):
    reason = TextField()
    key = KeyField()


class ProposeForm(forms.Form):
    """One rule item for the ticked households: a household that is not an id leaves the
    whole list out, so the view refuses the batch (nobody is proposed for by half)."""

    item = IdField(required=False)
    household = forms.Field(required=False, widget=forms.MultipleHiddenInput)
    deed_date = DateTextField()
    evidence = TextField()
    key = KeyField()

    def clean_household(self) -> list[int]:
        sent = self.cleaned_data.get("household") or []
        ids = [parse_id(v) for v in (sent if isinstance(sent, list) else [sent])]
        if None in ids:
            raise ValidationError(_("Choose an entry from the list."), code="id")
        return [pk for pk in ids if pk is not None]


class RuleSetCreateForm(forms.Form):
    name = TextField()


class DraftForm(forms.Form):
    title = TextField()


class TableForm(forms.Form):
    """Table a draft at a meeting."""

    meeting = IdField(required=False)


class ItemPickForm(forms.Form):
    """The rule item of a draft to update or remove."""

    item = IdField(required=False)
