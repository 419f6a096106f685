"""The POST forms of the courtyard review pages. They parse leniently
(`hemei.core.parsing.form_values`): each field is text as sent (a field that does not parse is
left out, read as empty), and the view and the services refuse bad values with their own
messages."""

from __future__ import annotations

from typing import Any

from django import forms

from hemei.core.parsing import KeyField, TextListField


def _raw() -> forms.CharField:
    return forms.CharField(required=False, strip=False)  # the view or the service checks it


class ActionForm(forms.Form):
    """A button's `action`, and the idempotency key of a form that creates a review."""

    action = _raw()
    key = KeyField()


class SetupForm(forms.Form):
    """The set-up of a review: title, date, method, `criteria_rows` criterion rows
    (`c_name_<i>`, `c_weight_<i>`, `c_max_<i>`), `tier_rows` plaque tiers (`t_name_<i>`,
    `t_item_<i>`, `t_top_<i>`, `t_min_<i>`), the ticked evaluators and households."""

    title = _raw()
    date = _raw()
    method = _raw()
    panel = TextListField()
    household = TextListField()

    def __init__(self, *args: Any, criteria_rows: int, tier_rows: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(criteria_rows):
            for name in ("c_name", "c_weight", "c_max"):
                self.fields[f"{name}_{i}"] = _raw()
        for i in range(tier_rows):
            for name in ("t_name", "t_item", "t_top", "t_min"):
                self.fields[f"{name}_{i}"] = _raw()


class ScoreForm(forms.Form):
    """One evaluator's scores for one household: `household` and a `score_<pk>` for each
    criterion passed in."""

    household = _raw()

    def __init__(self, *args: Any, criteria: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for c in criteria:
            self.fields[f"score_{c.pk}"] = _raw()
