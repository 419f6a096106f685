"""Forms of the disclosure pages. They only parse shapes (dates, flags, the village asked
for); the services decide and say why they refuse."""

from __future__ import annotations

from typing import Any

from django import forms

from hemei.core.parsing import DateTextField, FlagField, TextField


class DraftForm(forms.Form):
    """A new disclosure or an edit of its open version."""

    village = forms.CharField(required=False)
    kind = forms.CharField(required=False)
    title = TextField()
    body = TextField()
    period_start = DateTextField()
    period_end = DateTextField()
    major = forms.BooleanField(required=False)


class SubmitForm(forms.Form):
    confirm = FlagField()  # "1" once the author confirmed the personal-data warnings


class ReviewForm(forms.Form):
    decision = forms.CharField(required=False)
    comment = TextField()


class CorrectionForm(forms.Form):
    reason = TextField()
    title = TextField()
    body = TextField()


class ScheduleForm(forms.Form):
    """A village's schedule: the first period and the intervals (blank keeps the default)."""

    village = forms.CharField(required=False)
    tracked_from = DateTextField()

    def __init__(self, *args: Any, fields: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in fields:
            self.fields[name] = forms.CharField(required=False)




class FinanceEntryForm(forms.Form):
    """An entry typed in on the finance page. The amount stays text for `finance.parse_amount`
    (which says why it refuses); the service checks subject, direction and voucher."""

    date = DateTextField()
    subject = TextField()
    direction = TextField()
    amount = TextField()
    voucher = TextField()
    counterparty = TextField()
    summary = TextField()
