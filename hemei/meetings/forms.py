"""Forms for the meeting pages: parsing only; every rule lives in the services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hemei.meetings.models import Meeting


class MeetingForm(forms.Form):
    region = forms.ChoiceField(label=_("Village"))
    kind = forms.ChoiceField(label=_("Kind"), choices=Meeting.Kind.choices)
    held_at = forms.DateTimeField(
        label=_("Date and time"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    place = forms.CharField(label=_("Place"), max_length=100, required=False)
    convened_by = forms.CharField(label=_("Convened by"), max_length=100, required=False)
    attendees = forms.IntegerField(
        label=_("Attendees"), required=False, help_text=_("Leave blank for a meeting still to come.")
    )
    eligible = forms.IntegerField(
        label=_("Eligible"),
        required=False,
        help_text=_("Adult villagers (villagers' assembly) or members (other meetings)."),
    )
    households_total = forms.IntegerField(label=_("Households in the village"), required=False)
    households_present = forms.IntegerField(label=_("Households represented"), required=False)
    minutes = forms.CharField(
        label=_("Minutes"), widget=forms.Textarea(attrs={"rows": 5}), required=False, max_length=20000
    )


class AttendanceForm(forms.Form):
    attendees = forms.IntegerField(label=_("Attendees"))
    eligible = forms.IntegerField(label=_("Eligible"), required=False)
    households_total = forms.IntegerField(label=_("Households in the village"), required=False)
    households_present = forms.IntegerField(label=_("Households represented"), required=False)
    minutes = forms.CharField(
        label=_("Minutes"), widget=forms.Textarea(attrs={"rows": 5}), required=False, max_length=20000
    )


# The POST forms below parse leniently (`hemei.core.parsing.form_values`): each field is the
# text as sent (a field that does not parse is left out, read as empty); the view turns counts
# into numbers where they are ones and the services refuse the rest with their own messages.


def _raw() -> forms.CharField:
    return forms.CharField(required=False, strip=False)


class MeetingStepForm(forms.Form):
    """The meeting page's steps: the attendance (`attendance`) and a new agenda item (`add`)."""

    attendees = _raw()
    eligible = _raw()
    households_total = _raw()
    households_present = _raw()
    minutes = _raw()
    corrects = _raw()
    title = _raw()
    description = _raw()


class DecideForm(forms.Form):
    votes_for = _raw()
    votes_against = _raw()
    votes_abstain = _raw()
    decision = _raw()


class CaseTableForm(forms.Form):
    """A case put to a meeting from the case page."""

    meeting = _raw()
    title = _raw()
