"""The committee's rule pages: the rule set, its versions and drafts, tabling at a meeting."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from hemei.core.parsing import form_values, picked
from hemei.core.views import flash_errors
from hemei.meetings.models import AgendaItem
from hemei.points import rules, rules_edit
from hemei.points.access import (
    COMMITTEE_ROLES,
    may,
)
from hemei.points.forms import (
    ActionForm,
    DraftForm,
    ItemPickForm,
    RuleItemForm,
    RuleSetCreateForm,
    SettingsForm,
    TableForm,
)
from hemei.points.models import (
    RuleSet,
    RuleVersion,
)
from hemei.points.views.common import (
    OVERSIGHT_ROLES,
    _overseen_villages,
    _staff_villages,
)
from hemei.regions.access import require_staff_scope
from hemei.regions.models import Post, Region

# --- the committee's rule pages -------------------------------------------------------------


def _has_committee_post(user: Any) -> bool:
    return bool(
        user.is_superuser or Post.objects.current().filter(user=user, role__in=COMMITTEE_ROLES).exists()
    )


def _choose_rules_village(request: HttpRequest) -> tuple[Region, list[Region], bool]:
    """(village, chooser, writable): the committee's villages, then those overseen read-only."""
    require_staff_scope(request.user)
    own = [v for v in _staff_villages(request) if may(request.user, v, COMMITTEE_ROLES)] if _has_committee_post(
        request.user
    ) else []
    villages = own + [v for v in _overseen_villages(request) if v not in own]
    code = picked(request, "village")
    village = next((v for v in villages if v.code == code), None) if code else (villages[0] if villages else None)
    if village is None:
        raise Http404
    return village, villages, village in own


def _settings_initial(rule_set: RuleSet) -> dict[str, Any]:
    return {k: getattr(rule_set, k) for k in rules_edit.SETTINGS}


@login_required
@require_http_methods(["GET", "POST"])
def rules_page(request: HttpRequest) -> HttpResponse:
    """The adopted rules, the history of versions, drafts, and the cycle settings. Township
    and county staff read the rules of the villages they oversee (a chooser); only the
    committee writes."""
    village, villages, writable = _choose_rules_village(request)
    rule_set = RuleSet.objects.filter(village=village).first()
    form = SettingsForm(initial=_settings_initial(rule_set)) if rule_set else None
    if request.method == "POST" and not writable:
        raise Http404
    if request.method == "POST":
        action = form_values(ActionForm(request.POST)).get("action", "")
        try:
            if action == "create_set" and rule_set is None:
                name = form_values(RuleSetCreateForm(request.POST)).get("name", "")
                rules.rule_set_create(actor=request.user, village=village, name=name)
            elif action == "draft" and rule_set is not None:
                # One draft at a time: a second tap on "start a draft" opens the same draft.
                open_draft = rule_set.versions.filter(state=RuleVersion.State.DRAFT).order_by("-number").first()
                if open_draft is not None:
                    return redirect("points-rule-version", pk=open_draft.pk)
                current = rule_set.current_version()
                title = form_values(DraftForm(request.POST)).get("title", "")
                draft = rules.rule_version_create(actor=request.user, rule_set=rule_set, title=title, copy_from=current)
                messages.success(request, _("Draft version %(n)d started.") % {"n": draft.number})
                return redirect("points-rule-version", pk=draft.pk)
            elif action == "settings" and rule_set is not None:
                form = SettingsForm(request.POST)
                if not form.is_valid():
                    raise ValidationError(_("Please correct the settings."))
                rules_edit.rule_set_settings_update(actor=request.user, rule_set=rule_set, **form.cleaned_data)
            else:
                raise Http404
            messages.success(request, _("Saved."))
            return redirect(f"{request.path}?village={village.code}")
        except ValidationError as exc:
            flash_errors(request, exc)
    versions = list(rule_set.versions.order_by("-number")) if rule_set else []
    current = next((v for v in versions if v.state == RuleVersion.State.ADOPTED), None)
    return render(
        request,
        "points/rules.html",
        {
            "village": village,
            "villages": villages,
            "rule_set": rule_set,
            "versions": versions,
            "current": current,
            "items": list(current.items.all()) if current else [],
            "form": form,
            "writable": writable,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def rule_version(request: HttpRequest, pk: int) -> HttpResponse:
    """One version: read-only when adopted or superseded; a draft's items can be edited, added
    and removed, and the draft tabled at a meeting that may adopt it."""
    require_staff_scope(request.user)
    version = RuleVersion.objects.select_related("rule_set__village", "adopted_by").filter(pk=pk).first()
    if version is None:
        raise Http404
    village = version.rule_set.village
    writable = may(request.user, village, COMMITTEE_ROLES)
    if not writable and not may(request.user, village, OVERSIGHT_ROLES):
        raise Http404
    if request.method == "POST" and not writable:
        raise Http404
    # A tabled draft is frozen until its meeting decides (a failed vote thaws it).
    tabled_now = rules_edit.is_tabled(version)
    is_draft = version.state == RuleVersion.State.DRAFT and writable and not tabled_now
    add_form = RuleItemForm(prefix="new")
    if request.method == "POST":
        done, add_form = _change_version(request, version, add_form)
        if done:
            return redirect("points-rule-version", pk=version.pk)
    items = list(version.items.all())
    forms_ = [
        (
            i,
            RuleItemForm(
                prefix=f"i{i.pk}",
                initial={f: getattr(i, f) for f in RuleItemForm.base_fields if f != "cap_per_period"}
                | {"cap_per_period": i.cap_per_period},
            ),
        )
        for i in items
    ]
    tabled = AgendaItem.objects.filter(subject_type=rules.SUBJECT_TYPE, subject_id=str(version.pk)).select_related(
        "meeting"
    )
    return render(
        request,
        "points/rule_version.html",
        {
            "version": version,
            "village": village,
            "is_draft": is_draft,
            "items": items,
            "item_forms": forms_,
            "add_form": add_form,
            "meetings": rules_edit.tableable_meetings(village)[:30] if is_draft else [],
            "tabled": tabled,
            "tabled_now": tabled_now,
            "writable": writable,
        },
    )


def _change_version(request: HttpRequest, version: RuleVersion, add_form: RuleItemForm) -> tuple[bool, RuleItemForm]:
    """One change to a draft (`action`: add, update or remove an item, or table the draft at a
    meeting): (True, …) when done, (False, the form with its errors) when refused."""
    action = form_values(ActionForm(request.POST)).get("action", "")
    try:
        if action == "add":
            add_form = RuleItemForm(request.POST, prefix="new")
            if not add_form.is_valid():
                raise ValidationError(_("Please correct the item."))
            rules.rule_item_add(actor=request.user, version=version, **add_form.cleaned_data)
        elif action in ("update", "remove"):
            _change_item(request, version, action)
        elif action == "table":
            meeting_pk = form_values(TableForm(request.POST)).get("meeting") or 0
            meeting = rules_edit.tableable_meetings(version.rule_set.village).filter(pk=meeting_pk).first()
            if meeting is None:
                raise ValidationError(_("Choose a villagers' assembly or representatives meeting."))
            rules_edit.rule_version_table(actor=request.user, version=version, meeting=meeting)
            messages.success(request, _("Tabled. The version is adopted when the meeting passes the item."))
            return True, add_form
        else:
            raise Http404
    except ValidationError as exc:
        flash_errors(request, exc)
        return False, add_form
    messages.success(request, _("Saved."))
    return True, add_form


def _change_item(request: HttpRequest, version: RuleVersion, action: str) -> None:
    item = version.items.filter(pk=form_values(ItemPickForm(request.POST)).get("item") or 0).first()
    if item is None:
        raise Http404
    if action == "remove":
        rules_edit.rule_item_remove(actor=request.user, item=item)
        return
    form = RuleItemForm(request.POST, prefix=f"i{item.pk}")
    if not form.is_valid():
        raise ValidationError(_("Please correct the item."))
    rules_edit.rule_item_update(actor=request.user, item=item, **form.cleaned_data)

