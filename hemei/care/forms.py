"""Forms of the care pages: every POST value is read through one of these."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hemei.care.models import MAX_SCORE, Metric
from hemei.cases.models import Case


class NoteForm(forms.Form):
    note = forms.CharField(label=_("What was done"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class OptionalNoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RatingForm(forms.Form):
    rating = forms.ChoiceField(label=_("Rating"), choices=Case.Rating.choices)


class ReadingForm(forms.Form):
    metric = forms.ChoiceField(label=_("Metric"), choices=Metric.choices)
    value = forms.FloatField(label=_("Value"))
    key = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)


class AssessmentForm(forms.Form):
    score = forms.IntegerField(label=_("Total score (0–90)"), min_value=0, max_value=MAX_SCORE)


class CallForm(forms.Form):
    kind = forms.ChoiceField(choices=(("call", _("Call for help")), ("service", _("Ask for a service"))),
                             initial="call")
    key = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)


class BackForm(forms.Form):
    """Where an order step returns to: `home` for the carer's phone page, else the order."""

    back = forms.CharField(required=False)
