"""Forms of the visit, patrol and monitoring pages. They parse leniently
(`hemei.core.parsing.form_values`): a field that does not parse is left out, and the view's
default or the service's check decides, with the messages the pages always gave."""

from __future__ import annotations

from typing import Any

from django import forms

from hemei.core.parsing import DateTextField, FlagField, IdField, TextField, TextListField


class YesUnlessNoField(FlagField):
    """A yes/no whose absence is yes (the buttons and the box of these forms send "1" or "0";
    a form without them agrees): "1" or nothing is yes, anything else no."""

    def to_python(self, value: Any) -> bool:
        return value is None or value == "1"


class VisitForm(forms.Form):
    """A household visit: its notes and "1"/"0" answers as text (the page shows them again on
    an error), and the problem rows `problem_text_<i>`, `problem_title_<i>`, `problem_category_<i>`."""

    TEXT = (
        "phone_contact",
        "phone_outcome",
        "health_note",
        "housing_note",
        "water_note",
        "income_per_capita",
        "heavy_spending_amount",
        "income_note",
        "schooling_note",
        "jobs_note",
        "needs",
        "notes",
    )
    FLAGS = ("health_ok", "housing_safe", "water_safe", "schooling_ok")
    OTHER = ("present", "heavy_spending", "visited_at")

    def __init__(self, *args: Any, rows: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in (*self.TEXT, *self.FLAGS, *self.OTHER):
            self.fields[name] = TextField()
        for i in range(1, rows + 1):
            self.fields[f"problem_text_{i}"] = forms.CharField(required=False)
            self.fields[f"problem_title_{i}"] = forms.CharField(required=False)
            self.fields[f"problem_category_{i}"] = IdField(required=False)


class PatrolForm(forms.Form):
    """A patrol: the grid (by code), route, times, summary and the rows `finding_<i>` with
    `finding_category_<i>`."""

    grid = forms.CharField(required=False, strip=False)
    route = TextField()
    started_at = TextField()
    ended_at = TextField()
    summary = TextField()

    def __init__(self, *args: Any, rows: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(1, rows + 1):
            self.fields[f"finding_{i}"] = forms.CharField(required=False)
            self.fields[f"finding_category_{i}"] = IdField(required=False)


class MonitoringNewForm(forms.Form):
    """Staff entering a household into monitoring (a cadre's check or a paper declaration)."""

    source = TextField()
    kind = TextField()
    risks = TextListField()
    detail = TextField()
    has_labour = YesUnlessNoField()


class DeclarationForm(forms.Form):
    """A villager's own declaration (农户申报)."""

    risks = TextListField()
    detail = TextField()


class MonitoringActionForm(forms.Form):
    """One step of the procedure (`monitoring_action`): each action reads the fields it needs."""

    agreed = YesUnlessNoField()
    note = TextField()
    # verify
    kind = TextField()
    risks = TextListField()
    has_labour = FlagField()
    # notice
    start = DateTextField()
    days = forms.CharField(required=False, max_length=20)  # read with parse_int: 0 … 3650
    text = TextField()
    # measure
    measure = TextField()
    department = TextField()
    date = DateTextField()
    # income
    checked_on = DateTextField()
    income = TextField()
    stable = FlagField()
