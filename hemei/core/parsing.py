"""Values from requests and forms: ids, integers, years, months, dates, amounts and text.

Query strings and form fields are whatever a browser, a script or a scanner sends. A list
filter given ``²`` (which ``str.isdigit`` accepts and ``int`` refuses), ``99999999999999999999``
(which no database integer holds) or ``-1.79e308`` must be ignored or answered with a clear
400, never a 500. So every page and API reads such values through these helpers:

- ``parse_*`` return the value, or None for anything else: a filter that cannot be read is
  ignored (as if it were absent).
- ``require_*`` raise a ``ValidationError`` with a message for the form or the API (400).
- ``IdFilter`` is the django-filter field for ids in the API: out-of-range values are a 400.

Only ASCII digits count: ``int("²")`` raises and ``int("١٢")`` succeeds, neither is an id.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from django_filters import fields as filter_fields
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils import html

if TYPE_CHECKING:
    from hemei.regions.models import Region

# The largest value of a 64-bit signed integer column (PostgreSQL bigint, SQLite INTEGER).
MAX_ID = 2**63 - 1
MIN_YEAR, MAX_YEAR = 1900, 2100
_INT = re.compile(r"-?[0-9]{1,19}")
_AMOUNT = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,6})?")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{1,2})")


def _clean(value: Any) -> str:
    return "" if value is None else str(value).strip()


def parse_int(value: Any, *, minimum: int = -MAX_ID, maximum: int = MAX_ID) -> int | None:
    """An integer written in ASCII digits within [minimum, maximum], else None."""
    text = _clean(value)
    if not _INT.fullmatch(text):
        return None
    number = int(text)
    return number if minimum <= number <= maximum else None


def parse_id(value: Any) -> int | None:
    """A primary key (1 … 2**63-1), else None."""
    return parse_int(value, minimum=1)


def parse_year(value: Any) -> int | None:
    """A four-digit year between 1900 and 2100, else None."""
    text = _clean(value)
    return parse_int(text, minimum=MIN_YEAR, maximum=MAX_YEAR) if len(text) == 4 else None


def parse_month(value: Any) -> tuple[int, int] | None:
    """``YYYY-MM`` as (year, month), else None."""
    match = _MONTH.fullmatch(_clean(value))
    if match is None:
        return None
    year, month = int(match[1]), int(match[2])
    return (year, month) if MIN_YEAR <= year <= MAX_YEAR and 1 <= month <= 12 else None


def parse_date(value: Any) -> dt.date | None:
    """``YYYY-MM-DD``, else None (``2026-13-45`` and ``20260101`` too)."""
    text = _clean(value)
    if len(text) != 10 or not text.isascii():
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return None
    return day if MIN_YEAR <= day.year <= MAX_YEAR else None


def parse_amount(value: Any) -> Decimal | None:
    """A plain decimal number (no exponent, NaN or infinity; at most 15 digits before the
    point and 6 after), else None."""
    text = _clean(value)
    if not _AMOUNT.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        return None


def require_date(value: Any, *, message: str | None = None) -> dt.date:
    """`parse_date` for a required form value: ValidationError(code="date") when missing or bad."""
    day = parse_date(value)
    if day is None:
        raise ValidationError(message or _("Enter the date as YYYY-MM-DD."), code="date")
    return day


def require_id(value: Any, *, message: str | None = None) -> int:
    """`parse_id` for a required value: ValidationError(code="id") when missing or bad."""
    pk = parse_id(value)
    if pk is None:
        raise ValidationError(message or _("Choose an entry from the list."), code="id")
    return pk


def clean_text(value: str | None, label: str, limit: int, *, required: bool = False, code: str | None = None) -> str:
    """Trimmed text for a service: ValidationError (with `code`, e.g. the field's name for the
    API to point at) when required and empty, or too long."""
    value = (value or "").strip()
    if required and not value:
        raise ValidationError(_("%(field)s is required.") % {"field": label}, code=code)
    if len(value) > limit:
        raise ValidationError(_("%(field)s is longer than %(n)d characters.") % {"field": label, "n": limit},
                              code=code)
    return value


def county_of(region: Region, *, message: str | None = None) -> Region:
    """The county a region lies in (itself for a county); ValidationError when there is none."""
    county = region.county_ancestor()
    if county is None:
        raise ValidationError(message or _("Region %(r)s is not inside a county.") % {"r": region})
    return county


class IdField(forms.IntegerField):
    """A form field for ids: 1 … 2**63-1 in ASCII digits (as `parse_id` reads them: not
    "+5", "5.0" or "١٢", which IntegerField takes), so a huge number is a form error, not a 500."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        if parse_int(value) is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class _Given:
    """A mixin for the form field of an API filter whose schema type has no empty value (an id,
    a yes/no, a date-time, one of a list): given blank (`?created_before=`, `?status=`) it is a
    400 with the field named, as the schema says; absent it is no filter (the widget reads an
    absent parameter as None, a blank one as "")."""

    def clean(self, value: Any) -> Any:
        if value is not None and not str(value).strip():
            raise ValidationError(_("Give a value, or leave this filter out."), code="blank")
        return super().clean(value)  # type: ignore[misc]


class _IdFilterField(_Given, IdField):
    pass


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    """An id filter for the API: anything but an id in range is a 400 with the field named."""

    field_class = _IdFilterField


class _BoolFilterField(_Given, forms.Field):
    """`true` or `false` (any case), as the schema's boolean is written in a query string;
    anything else — `null`, `yes`, `1` — is a 400 (Django's NullBooleanField would read it as "no
    filter" and answer every row)."""

    widget = forms.TextInput
    VALUES = {"true": True, "false": False}

    def to_python(self, value: Any) -> bool | None:
        if value is None:
            return None
        answer = self.VALUES.get(_clean(value).lower())
        if answer is None:
            raise ValidationError(_("Enter true or false."), code="boolean")
        return answer


@extend_schema_field({"type": "boolean"})
class BoolFilter(django_filters.BooleanFilter):
    """A yes/no filter for the API: `true`/`false`; anything else given is a 400."""

    field_class = _BoolFilterField


class _ChoiceFilterField(_Given, filter_fields.ChoiceField):
    pass


class ChoiceFilter(django_filters.ChoiceFilter):
    """A choice filter for the API: a value not in the list, blank included, is a 400."""

    field_class = _ChoiceFilterField


class _DateTimeFilterField(_Given, filter_fields.IsoDateTimeField):
    pass


class DateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 date-time filter for the API (`2026-05-01T00:00:00+08:00`): unreadable or
    blank is a 400."""

    field_class = _DateTimeFilterField


class FlagField(forms.Field):
    """A yes/no sent by a button or hidden input: "1" is yes, anything else (absent, "0") no.
    (BooleanField would read "0" as yes.)"""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> bool:
        return value == "1"

    def validate(self, value: Any) -> None:
        pass


class IdListField(forms.Field):
    """Ids sent as a repeated field (`?entries=1&entries=2`): the ids that read as ids, as a
    set; the others are dropped (the view then finds fewer rows than were sent)."""

    widget = forms.MultipleHiddenInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> frozenset[int]:
        values = value if isinstance(value, (list, tuple)) else ([value] if value else [])
        return frozenset(pk for v in values if (pk := parse_id(v)) is not None)

    def validate(self, value: Any) -> None:
        pass


def form_values(form: forms.Form) -> dict[str, Any]:
    """The values of a POST form whose fields all parse leniently (the services check them):
    what parsed, a field that did not left out."""
    form.is_valid()
    return getattr(form, "cleaned_data", {})


class DateTextField(forms.Field):
    """A ``YYYY-MM-DD`` date read as `parse_date` reads it: anything else is None, for the
    view or the service to refuse with its own message."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> dt.date | None:
        return parse_date(value)

    def validate(self, value: Any) -> None:
        pass


class KeyField(forms.CharField):
    """The idempotency key a form carries (`hemei.core.idempotency`): at most 100 characters
    are kept, as every service stores it."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("strip", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str:
        return str(super().to_python(value))[:100]


class TextListField(forms.Field):
    """Text sent as a repeated field (ticked boxes: `risks=a&risks=b`): the non-empty values,
    trimmed, in the order sent, each at most `limit` characters; the service checks them."""

    widget = forms.MultipleHiddenInput

    def __init__(self, *, limit: int = 200, **kwargs: Any) -> None:
        self.limit = limit
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> list[str]:
        values = value if isinstance(value, (list, tuple)) else ([value] if value else [])
        return [text[: self.limit] for v in values if (text := _clean(v))]

    def validate(self, value: Any) -> None:
        pass


class _PickForm(forms.Form):
    """The selectors a page takes from its query string, or on POST from its form (the
    village, grid, month or household a page is about); each is bounded text."""

    village = forms.CharField(required=False, max_length=64)
    region = forms.CharField(required=False, max_length=64)
    grid = forms.CharField(required=False, max_length=64)
    month = forms.CharField(required=False, max_length=16)
    household = forms.CharField(required=False, max_length=64)
    q = forms.CharField(required=False, max_length=100)


PICKS = frozenset(_PickForm.base_fields)
FILTERS = frozenset({"month", "q"})  # the rest name a record: unreadable is a 404


def picked(request: Any, name: str) -> str:
    """The selector `name` from the query string, else from the POST form, else "": what a
    page that is both linked to (`?village=…`) and posted to (a hidden input) is about. A value
    that is no code at all (too long, a NUL) is a 404, as a code that names nothing is: never
    "absent", which would let a page fall back to another village. A month or a search that
    cannot be read is a filter ignored (the page shows its default), as `parse_month` does."""
    if name not in PICKS:  # pragma: no cover - a programming error, not user input
        raise KeyError(name)
    for data in (request.GET, request.POST):
        if not str(data.get(name, "")).strip():
            continue
        form = _PickForm(data)
        if not form.is_valid() and name in form.errors:
            if name in FILTERS:
                return ""
            raise Http404(name)
        return str(form.cleaned_data[name])
    return ""


class TextField(forms.CharField):
    """Text a lenient form passes on as sent (not required, not stripped): the service trims,
    limits and checks it with its own messages, the same for the page, the API and the demo.
    (A NUL or other unreadable input leaves the field out, `form_values`.)"""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("strip", False)
        super().__init__(**kwargs)


class StrictBooleanField(serializers.BooleanField):
    """A yes/no in an API body: JSON `true`/`false`, or the text `true`/`false` (any case) in a
    form-encoded body. DRF's BooleanField also takes 0, 1, "yes", "on", "t"…, which the schema's
    boolean does not (a client sending `"has_labour": 0` has a bug to hear about, not a "no"). A
    field left out of a form-encoded body takes its default (DRF would read it as an unticked
    checkbox: false)."""

    TRUE_VALUES = {True, "true", "True", "TRUE"}
    FALSE_VALUES = {False, "false", "False", "FALSE"}
    NULL_VALUES = {None}
    default_empty_html = serializers.empty

    def to_internal_value(self, data: Any) -> bool:
        # `1 == True` and `0 == False` in a set look-up: only real booleans and the texts pass.
        if isinstance(data, bool) or (isinstance(data, str) and data in self.TRUE_VALUES | self.FALSE_VALUES):
            return super().to_internal_value(data)
        self.fail("invalid", input=data)
        raise AssertionError  # pragma: no cover - fail() raises


class StrictCharField(serializers.CharField):
    """Text in an API body: a JSON string only. DRF's CharField also takes a number and writes
    it as text (`"description": 0` becomes "0"), which the schema's string does not allow."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class StrictDecimalField(serializers.DecimalField):
    """An amount in an API body as the schema writes it: a JSON string of digits ("15000.00"),
    as the answers give it back. DRF's DecimalField also takes a JSON number, which the schema's
    string does not allow (and a float is not an exact amount)."""

    def to_internal_value(self, data: Any) -> Decimal:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class _NotANumber:
    """What a JSON body gave for a number field that is no number (true, "0.5"): refused."""

    def __init__(self, value: Any) -> None:
        self.value = value


class StrictFloatField(serializers.FloatField):
    """A number in an API body: a JSON number — not `true`/`false` or the text "0.5", which DRF
    would turn into 1.0 and 0.5 but the schema's number does not allow — or, in a form-encoded
    body (all text), a number written out. A nullable one there is null when left blank or sent
    as the text `null` (a form has no null of its own; `null` is what a client writes for a
    JSON-like null); DRF takes blank and refuses `null`."""

    def get_value(self, dictionary: Any) -> Any:
        value = super().get_value(dictionary)
        if html.is_html_input(dictionary):
            return None if self.allow_null and value == "null" else value
        return _NotANumber(value) if isinstance(value, bool | str) else value

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, _NotANumber):
            self.fail("invalid")
        return super().to_internal_value(data)
