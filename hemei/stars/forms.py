"""Forms of the star pages, one per page's POST. They only parse shapes (numbers, ids, lists of
ids, the action asked for); the services decide and say why they refuse."""

from __future__ import annotations

from typing import Any

from django import forms

from hemei.core.parsing import IdField, KeyField, TextField


class StarsField(forms.Field):
    """The ticked stars (a repeated field), as sent: the service refuses an id that is not a
    star of the village's catalogue, rather than the form dropping it unseen."""

    widget = forms.MultipleHiddenInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> list[str]:
        return [str(v) for v in value] if isinstance(value, (list, tuple)) else ([str(value)] if value else [])


def _actions(*names: str) -> forms.ChoiceField:
    return forms.ChoiceField(choices=[(n, n) for n in names])



class CatalogueForm(forms.Form):
    """/w/stars/: add a star, keep or stop using one, open a round."""

    village = forms.CharField(required=False)
    action = _actions("add_star", "toggle_star", "open_round")
    name = TextField()
    star = IdField(required=False)
    # The state the form wants ("0"/"1"), so a form sent twice does not flip the star back.
    active = forms.ChoiceField(choices=[("0", "0"), ("1", "1")], required=False)
    year = forms.IntegerField(required=False, min_value=-9999, max_value=9999)
    publicity_days = forms.IntegerField(required=False, min_value=-999, max_value=999)


class RoundForm(forms.Form):
    """A round's page: the step the committee or the township takes."""

    action = _actions("advance", "approve", "publicity", "award")
    to = forms.CharField(required=False)
    note = TextField()


class HouseholdForm(forms.Form):
    """A household's page: the rating of the step under way, or an ad-hoc 挂星 / 摘星."""

    action = _actions("declare", "record", "exclude", "grant", "withdraw")
    star = StarsField()  # the ticked stars (one for 挂星 / 摘星)
    note = TextField()
    reason = TextField()
    date = forms.DateField(required=False, input_formats=["%Y-%m-%d"])
    key = KeyField()


class DeclareForm(forms.Form):
    """/me/stars/: the stars the villager ticks."""

    star = StarsField()


