"""Forms of the disclosure pages. They only parse shapes (dates, flags, the village asked
for); the services decide and say why they refuse."""

from __future__ import annotations

from typing import Any

from django import forms

from hemei.core.parsing import DateTextField, FlagField


def _text() -> forms.CharField:
    return forms.CharField(required=False, strip=False)  # the services trim, limit and check it


class DraftForm(forms.Form):
    """A new disclosure or an edit of its open version."""

    village = forms.CharField(required=False)
    kind = forms.CharField(required=False)
    title = _text()
    body = _text()
    period_start = DateTextField()
    period_end = DateTextField()
    major = forms.BooleanField(required=False)


class SubmitForm(forms.Form):
    confirm = FlagField()  # "1" once the author confirmed the personal-data warnings


class ReviewForm(forms.Form):
    decision = forms.CharField(required=False)
    comment = _text()


class CorrectionForm(forms.Form):
    reason = _text()
    title = _text()
    body = _text()


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
    subject = _text()
    direction = _text()
    amount = _text()
    voucher = _text()
    counterparty = _text()
    summary = _text()
