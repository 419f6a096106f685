"""Grid workers and the committee propose entries: one rule item for the ticked households."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from hemei.core.parsing import form_values, picked
from hemei.core.views import flash_errors
from hemei.points import ledger
from hemei.points.forms import ProposeForm
from hemei.points.models import (
    RuleItem,
    RuleSet,
)
from hemei.points.views.common import (
    _key,
    _staff_villages,
    proposable_items,
)
from hemei.regions.access import access_household, require_staff_scope
from hemei.regions.selectors import household_search


@login_required
@require_http_methods(["GET", "POST"])
def propose(request: HttpRequest) -> HttpResponse:
    """Single or batch: one rule item for the ticked households of a grid and month."""
    require_staff_scope(request.user)
    villages = _staff_villages(request)
    with_rules = set(RuleSet.objects.filter(village__in=villages).values_list("village_id", flat=True))
    villages = [v for v in villages if v.pk in with_rules]
    code = picked(request, "village") or (villages[0].code if villages else "")
    village = next((v for v in villages if v.code == code), None)
    if village is None:
        return render(request, "points/propose.html", {"villages": villages, "village": None})
    rule_set = RuleSet.objects.get(village=village)
    version = rule_set.current_version()
    # Only what the user may propose: a committee-only or panel item would be refused anyway.
    items = proposable_items(request.user, village, list(version.items.all())) if version else []
    households = household_search(request.user, region=village, q=request.GET.get("q", ""))[:200]
    if request.method == "POST" and _propose_batch(request, rule_set, items):
        return redirect(f"{request.path}?village={village.code}")
    return render(
        request,
        "points/propose.html",
        {
            "villages": villages,
            "village": village,
            "version": version,
            "items": items,
            "households": households,
            "key": _key(),
            "today": timezone.localdate().isoformat(),
            "q": request.GET.get("q", ""),
        },
    )


def _propose_batch(request: HttpRequest, rule_set: RuleSet, items: list[RuleItem]) -> bool:
    """One entry per ticked household for the chosen item and the date of the deed; False
    (and the message) when the form is incomplete or a service refuses."""
    sent = form_values(ProposeForm(request.POST))
    item = next((i for i in items if i.pk == sent.get("item")), None)
    ids: list[int] = sent.get("household") or []  # left out when one of them is not an id
    try:
        deed = sent.get("deed_date")
        if deed is None:
            messages.error(request, _("Give the date of the deed."))
            return False
        if item is None or not ids:
            raise ValidationError(_("Choose a rule item and at least one household."))
        chosen = [access_household(request.user, pk) for pk in ids]
        proposals = [ledger.Proposal(h, item, deed, sent.get("evidence", "")) for h in chosen]
        entries, _replayed = ledger.entry_propose_batch(
            actor=request.user,
            rule_set=rule_set,
            proposals=proposals,
            idempotency_key=sent.get("key", ""),
        )
    except ValidationError as exc:
        flash_errors(request, exc)
        return False
    messages.success(request, _("%(n)d entries proposed for review.") % {"n": len(entries)})
    return True

