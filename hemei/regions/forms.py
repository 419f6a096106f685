from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from hemei.regions.models import Household, HouseholdLink, Post, Region, Resident, Tag


class ResidentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50)
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    relation = forms.ChoiceField(label=_("Relation to head"), choices=Resident.Relation.choices)
    is_party_member = forms.BooleanField(label=_("Party member"), required=False)


class ResidentStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Resident.Status.choices)
    on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


# --- workbench edit pages (hemei.regions.views_edit) -----------------------------------


def tag_choices(applies_to: str, current: Iterable[Tag] = ()) -> QuerySet[Tag]:
    """Tags in use for households or residents, plus any already set (kept even if retired)."""
    kinds = [applies_to, Tag.AppliesTo.BOTH]
    return Tag.objects.filter(
        Q(applies_to__in=kinds, active=True) | Q(pk__in=[t.pk for t in current])
    ).order_by("sort", "name")


class _TagsMixin:
    """Adds a `tags` checkbox list for households or residents."""

    tags_for = Tag.AppliesTo.HOUSEHOLD

    def _add_tags_field(self, current: Iterable[Tag]) -> None:
        self.fields["tags"] = forms.ModelMultipleChoiceField(  # type: ignore[attr-defined]
            label=_("Tags"), queryset=tag_choices(self.tags_for, current), required=False,
            widget=forms.CheckboxSelectMultiple,
        )


class HouseholdCreateForm(_TagsMixin, forms.Form):
    grid = forms.ModelChoiceField(label=_("Grid"), queryset=Region.objects.none(), empty_label=None)
    number = forms.CharField(label=_("Household number"), max_length=30)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    lives_in_village = forms.BooleanField(label=_("Lives in the village"), required=False, initial=True)

    def __init__(self, *args: Any, grids: QuerySet[Region] | None = None, **kwargs: Any) -> None:
        """`grids`: the grids to choose from; None when the grid is already fixed."""
        super().__init__(*args, **kwargs)
        if grids is None:
            del self.fields["grid"]
        else:
            self.fields["grid"].queryset = grids  # type: ignore[attr-defined]
        self._add_tags_field(())


class HouseholdEditForm(_TagsMixin, forms.Form):
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    lives_in_village = forms.BooleanField(label=_("Lives in the village"), required=False)

    def __init__(self, *args: Any, household: Household, **kwargs: Any) -> None:
        current = list(household.tags.all())
        kwargs.setdefault("initial", {"address": household.address, "lives_in_village": household.lives_in_village,
                                      "tags": current})
        super().__init__(*args, **kwargs)
        self._add_tags_field(current)


class ResidentCreateForm(_TagsMixin, forms.Form):
    tags_for = Tag.AppliesTo.RESIDENT

    name = forms.CharField(label=_("Name"), max_length=50)
    id_number = forms.CharField(label=_("ID number"), max_length=18, min_length=15,
                                widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}))
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False,
                            widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}))
    relation = forms.ChoiceField(label=_("Relation to head"), choices=Resident.Relation.choices,
                                 initial=Resident.Relation.OTHER)
    is_party_member = forms.BooleanField(label=_("Party member"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._add_tags_field(())


class ResidentTagsForm(_TagsMixin, forms.Form):
    tags_for = Tag.AppliesTo.RESIDENT

    def __init__(self, *args: Any, resident: Resident, **kwargs: Any) -> None:
        current = list(resident.tags.all())
        kwargs.setdefault("initial", {"tags": current})
        super().__init__(*args, **kwargs)
        self._add_tags_field(current)


class _MoveForm(forms.Form):
    # A date input only accepts ISO values; the localized default (2026/11/23) would show empty.
    on = forms.DateField(label=_("Moved on"), initial=dt.date.today,
                         widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def clean_on(self) -> dt.date:
        on: dt.date = self.cleaned_data["on"]
        if on > dt.date.today():
            raise forms.ValidationError(_("The date cannot be in the future."))
        return on


class ResidentMoveForm(_MoveForm):
    """The target household is looked up in the user's write scope by the view (404 outside)."""

    to_household = forms.IntegerField(label=_("Move to household"), widget=forms.HiddenInput)
    field_order = ["to_household", "on", "reason"]


class HouseholdMoveForm(_MoveForm):
    """`to_grid` is a region code; the view checks scope, the service checks it is a grid."""

    to_grid = forms.CharField(label=_("Move to grid"), max_length=15)
    field_order = ["to_grid", "on", "reason"]

    def __init__(self, *args: Any, grids: Iterable[Region] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_grid"].widget = forms.Select(
            choices=[("", "—"), *((g.code, _grid_label(g)) for g in grids)]
        )


def _grid_label(grid: Region) -> str:
    parent_name = getattr(grid, "village_name", "")
    return f"{parent_name} · {grid.name} ({grid.code})" if parent_name else f"{grid.name} ({grid.code})"


class HouseholdLinkForm(forms.Form):
    """Who looks after the household: a party member ("r<pk>") or a cadre post ("p<pk>")."""

    who = forms.ChoiceField(label=_("Linked by"), widget=forms.RadioSelect)

    def __init__(
        self, *args: Any, members: Iterable[Resident] = (), posts: Iterable[Post] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.members = {f"r{m.pk}": m for m in members}
        self.posts = {f"p{p.pk}": p for p in posts}
        choices: list[Any] = []
        if self.members:
            choices.append((_("Party members"), [(k, f"{m.name} · {m.household.number}")
                                                 for k, m in self.members.items()]))
        if self.posts:
            choices.append((_("Cadres"), [(k, f"{p.user} · {p.get_role_display()} · {p.region.name}")
                                          for k, p in self.posts.items()]))
        self.fields["who"].choices = choices  # type: ignore[attr-defined]

    def chosen(self) -> tuple[str, Resident | None, Post | None]:
        """(kind, resident, post) of the valid choice."""
        key = self.cleaned_data["who"]
        if key in self.members:
            return HouseholdLink.Kind.PARTY_MEMBER, self.members[key], None
        return HouseholdLink.Kind.CADRE, None, self.posts[key]


class RegionCodeForm(forms.Form):
    """The region code a POST names (the roster import), read before the form that checks it
    against the user's choices: `access_region` answers 404/403 for one outside the scope."""

    region = forms.CharField(required=False, strip=False)


class HouseholdSearchForm(forms.Form):
    """The household number searched for on the move page (its hidden input on POST)."""

    q = forms.CharField(required=False, max_length=100)
