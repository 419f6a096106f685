"""The village's period form: a status per programme and the entered quantities."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from hemei.indicators import catalogue

STATUS_CHOICES = [("none", _("not started")), ("started", _("under way")), ("done", _("done"))]


def _status_choices(programme: catalogue.Programme) -> list[tuple[str, Any]]:
    if not programme.modes:
        return STATUS_CHOICES
    return [*STATUS_CHOICES[:2], *((m, catalogue.MODE_NAMES[m]) for m in programme.modes)]


def _shown(value: Decimal | None, places: int) -> Decimal | None:
    """A stored value (kept with four decimals) as the field shows it: 18.0000 is 18, else a
    correction of an approved report would be refused on every field it did not retype."""
    return None if value is None else Decimal(value).quantize(Decimal(1).scaleb(-places))


class ReportForm(forms.Form):
    """One field per programme status and per entered quantity; `values()` turns the form
    into data-element values (status → `<p>.started`, `<p>.done`, `<p>.<mode>`)."""

    def __init__(self, *args: Any, initial_values: dict[str, Decimal] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        initial_values = initial_values or {}
        self.sections: list[tuple[catalogue.Programme, list[str]]] = []
        for p in catalogue.PROGRAMMES:
            names = [f"status_{p.code}"]
            self.fields[names[0]] = forms.ChoiceField(label=_("Status"), choices=_status_choices(p),
                                                      initial=_status_of(p, initial_values))
            for code in p.quantities:
                spec = catalogue.ELEMENTS[code]
                name = code.replace(".", "__")
                places = 0 if spec.integer else 2
                self.fields[name] = forms.DecimalField(
                    label=f"{spec.name} ({spec.unit})", required=False, min_value=Decimal(0),
                    decimal_places=places, max_digits=15, initial=_shown(initial_values.get(code), places))
                names.append(name)
            self.sections.append((p, names))
        self.fields["note"] = forms.CharField(label=_("Note"), required=False, max_length=500)

    def section_fields(self) -> list[tuple[catalogue.Programme, list[forms.BoundField]]]:
        return [(p, [self[n] for n in names]) for p, names in self.sections]

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        out: dict[str, Any] = {}
        for p in catalogue.PROGRAMMES:
            status = data.get(f"status_{p.code}", "none")
            out[f"{p.code}.started"] = int(status != "none")
            out[f"{p.code}.done"] = int(status not in ("none", "started"))
            for mode in p.modes:
                out[f"{p.code}.{mode}"] = int(status == mode)
            for code in p.quantities:
                value = data.get(code.replace(".", "__"))
                if value is not None:
                    out[code] = value
        return out


def _status_of(p: catalogue.Programme, values: dict[str, Decimal]) -> str:
    for mode in p.modes:
        if values.get(f"{p.code}.{mode}"):
            return mode
    if values.get(f"{p.code}.done"):
        return "done"
    if values.get(f"{p.code}.started"):
        return "started"
    return "none"


class ReturnForm(forms.Form):
    reason = forms.CharField(label=_("Why it goes back"), max_length=1000)
