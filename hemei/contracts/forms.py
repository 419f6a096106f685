"""The POST forms of the contract pages (the trusteeship forms are in `forms_trust`). They parse
leniently (`hemei.core.parsing.form_values`): each field is the text as sent (a field that does
not parse is left out, read as empty) and the services refuse bad values with their own
messages, as the import and the API do."""

from __future__ import annotations

from typing import Any

from django import forms


def _raw() -> forms.CharField:
    return forms.CharField(required=False, strip=False)  # the view or the service checks it


class _RawListField(forms.Field):
    """A repeated field as sent, empty values kept: the instalment rows pair `due_on` with
    `due_amount` by position."""

    widget = forms.MultipleHiddenInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> list[str]:
        values = value if isinstance(value, (list, tuple)) else ([value] if value else [])
        return [str(v) for v in values]

    def validate(self, value: Any) -> None:
        pass


class ContractNewForm(forms.Form):
    """A new contract: its terms and up to four instalment rows (`due_on`, `due_amount`)."""

    asset = _raw()
    kind = _raw()
    subject = _raw()
    party_name = _raw()
    party_kind = _raw()
    party_phone = _raw()
    start = _raw()
    end = _raw()
    amount = _raw()
    area_mu = _raw()
    number = _raw()
    due_on = _RawListField()
    due_amount = _RawListField()


class ContractStepForm(forms.Form):
    """Every step of a contract posts some of these (`contract_action`). The payment key goes
    to the service as sent: it refuses one longer than 100 characters."""

    on = _raw()
    summary = _raw()
    meeting = _raw()
    note = _raw()
    due = _raw()
    amount = _raw()
    key = _raw()
    reason = _raw()
    outcome = _raw()
