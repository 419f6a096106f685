"""The shop keeper's counter: find a household, redeem and hand over rewards."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from hemei.core.masking import mask_phone
from hemei.core.parsing import form_values, parse_id
from hemei.core.views import flash_errors
from hemei.points import shop
from hemei.points.access import (
    SHOP_ROLES,
    access_rewards,
    may,
)
from hemei.points.forms import ActionForm, CollectForm, CounterFindForm, CounterRedeemForm
from hemei.points.models import (
    Redemption,
)
from hemei.points.views.common import (
    _key,
    _quantity,
    _staff_villages,
)
from hemei.regions.access import access_household, require_staff_scope
from hemei.regions.models import Household, Region, Resident
from hemei.regions.selectors import household_search


@login_required
@require_http_methods(["GET", "POST"])
def counter(request: HttpRequest) -> HttpResponse:
    """The shop keeper finds a household (name, pinyin initials or house number) and redeems."""
    require_staff_scope(request.user)
    villages = [v for v in _staff_villages(request) if may(request.user, v, SHOP_ROLES)]
    if not villages:
        raise Http404
    village = next((v for v in villages if v.code == request.GET.get("village")), villages[0])
    # The search form posts, so a phone number typed in stays out of URLs (history, logs).
    searching = request.method == "POST" and form_values(ActionForm(request.POST)).get("action") == "find"
    if request.method == "POST" and not searching:
        return _counter_act(request, village)
    q = form_values(CounterFindForm(request.POST)).get("q", "") if searching else request.GET.get("q", "").strip()
    found = _counter_search(request.user, village, q) if q else []
    q_shown = mask_phone(q) if PHONE_RE.match(q) and len(re.sub(r"\D", "", q)) == 11 else q
    shown: Household | None = None
    household_pk = parse_id(request.GET.get("household"))
    if household_pk is not None:
        shown = access_household(request.user, household_pk)
    context: dict[str, Any] = {
        "village": village,
        "villages": villages,
        "q": q_shown,
        "found": found,
        "household": shown,
        "key": _key(),
        "rewards": access_rewards(request.user).filter(village=village, active=True),
    }
    if shown is None:
        # What waits at the counter: reservations made on the phone, oldest first, each one tap
        # from its household (the keeper hands them over there).
        context["waiting"] = (Redemption.objects.filter(village=village, state=Redemption.State.RESERVED)
                              .select_related("reward", "household__head").order_by("pk")[:50])
    if shown is not None:
        context["available"] = shop.available_points(shown)
        context["reservations"] = Redemption.objects.filter(
            household=shown, state=Redemption.State.RESERVED
        ).select_related("reward")
    context["redeemed"] = (
        Redemption.objects.filter(village=village)
        .exclude(state=Redemption.State.CANCELLED)
        .aggregate(points=Sum("points"))["points"]
        or 0
    )
    return render(request, "points/counter.html", context)


def _counter_act(request: HttpRequest, village: Region) -> HttpResponse:
    """Hand over a reserved reward (`collect=<redemption id>`) or redeem one at the counter
    (`reward=<id>`, `quantity`), for the household the form names; then back to it."""
    try:
        if "collect" in request.POST:  # the button pressed names the reservation
            collect = form_values(CollectForm(request.POST))
            household = access_household(request.user, collect.get("household") or 0)
            redemption = Redemption.objects.get(pk=collect.get("collect") or 0, household=household)
            shop.redemption_collect(actor=request.user, redemption=redemption, idempotency_key=collect.get("key", ""))
        else:
            sent = form_values(CounterRedeemForm(request.POST))
            household = access_household(request.user, sent.get("household") or 0)
            reward = access_rewards(request.user).get(pk=sent.get("reward") or 0, village=village)
            shop.redemption_create(
                actor=request.user, household=household, reward=reward,
                quantity=_quantity(sent), idempotency_key=sent.get("key", ""),
            )
        messages.success(request, _("Done."))
    except ValidationError as exc:
        flash_errors(request, exc)
    except (ValueError, Redemption.DoesNotExist, access_rewards(request.user).model.DoesNotExist):
        raise Http404 from None
    return redirect(f"{request.path}?village={village.code}&household={household.pk}")


PHONE_RE = re.compile(r"^[\d\s-]+$")


def _counter_search(user: Any, village: Region, q: str) -> list[tuple[Household, str]]:
    """Households for the counter, each with the masked phones that matched: a whole mobile
    number (11 digits) or its last 4 digits find the household of the resident with that
    phone; any other text searches names, initials and house numbers. The full number is
    never shown, only 138****1111."""
    digits = re.sub(r"\D", "", q) if PHONE_RE.match(q) else ""
    if len(digits) == 11:
        households = household_search(user, region=village).filter(
            Exists(Resident.objects.filter(household=OuterRef("pk"), phone=digits))
        )
    else:
        households = household_search(user, region=village, q=digits if len(digits) == 4 else q)
    found = list(households[:20])
    phones: dict[int, list[str]] = {}
    if len(digits) in (4, 11) and found:
        matching = Resident.objects.filter(household__in=[h.pk for h in found], phone_tail=digits[-4:])
        for resident in matching.order_by("pk"):
            if len(digits) == 4 or resident.phone == digits:
                phones.setdefault(resident.household_id, []).append(mask_phone(resident.phone))
    return [(h, " ".join(phones.get(h.pk, []))) for h in found]
