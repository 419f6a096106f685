"""The villager's pages: their points, objections and the shop on the phone."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from hemei.core.parsing import form_values
from hemei.core.views import flash_errors
from hemei.points import ledger, public, shop
from hemei.points.access import (
    access_rewards,
)
from hemei.points.forms import ActionForm, CancelForm, ObjectionRaiseForm, RedeemForm
from hemei.points.models import (
    Account,
    Entry,
    Objection,
    Redemption,
    RuleSet,
)
from hemei.points.views.common import (
    E,
    _key,
    _quantity,
    _resident,
)


@login_required
def my_points(request: HttpRequest) -> HttpResponse:
    resident = _resident(request)
    household = resident.household
    account = Account.objects.filter(household=household).first()
    entries = Entry.objects.filter(household=household).select_related("item").order_by("-proposed_at", "-id")
    now = timezone.now()
    board = (
        Entry.objects.filter(village_id=household.village_id, state=E.PUBLICITY, publicity_until__gt=now)
        .select_related("household", "item")
        .order_by("publicity_until", "pk")[:200]
    )
    head = public.head_of(household.village)
    # The ranking only if the village publishes one (RuleSet.ranking); the household's own
    # place is shown even when a top list leaves it out.
    setting, ranked = public.ranking(household.village)
    mine = next((r for r in public.ranking(household.village, force_all=True)[1] if r.household_id == household.pk),
                None) if setting != RuleSet.Ranking.NONE else None
    return render(
        request,
        "points/my_points.html",
        {
            "ranking": ranked,
            "ranking_on": setting != RuleSet.Ranking.NONE,
            "my_rank": mine,
            "household": household,
            "balance": account.balance if account else 0,
            "available": shop.available_points(household),
            "effective": [e for e in entries[:300] if e.state == E.EFFECTIVE],
            "pending": [e for e in entries[:300] if e.state in (E.PROPOSED, E.PUBLICITY)],
            "board": board,
            "head": head,
            "key": _key(),
            # What became of the household's own objections (upheld voids the entry).
            "objections": Objection.objects.filter(resident=resident)
            .select_related("entry__household", "entry__item")
            .order_by("-raised_at", "-pk")[:50],
        },
    )


@login_required
@require_POST
def my_objection(request: HttpRequest, pk: int) -> HttpResponse:
    resident = _resident(request)
    entry = Entry.objects.filter(pk=pk, village_id=resident.household.village_id).first()
    if entry is None:
        raise Http404
    sent = form_values(ObjectionRaiseForm(request.POST))
    try:
        ledger.objection_raise(
            actor=request.user, entry=entry, reason=sent.get("reason", ""), idempotency_key=sent.get("key", "")
        )
        messages.success(request, _("Your objection has been recorded. The supervision committee will decide."))
    except ValidationError as exc:
        flash_errors(request, exc)
    return redirect("my-points")


@login_required
@require_http_methods(["GET", "POST"])
def my_shop(request: HttpRequest) -> HttpResponse:
    resident = _resident(request)
    household = resident.household
    rewards = access_rewards(request.user).filter(village_id=household.village_id, active=True)
    if request.method == "POST":
        action = form_values(ActionForm(request.POST)).get("action") or "reserve"
        try:
            if action == "cancel":
                cancel = form_values(CancelForm(request.POST))
                redemption = Redemption.objects.get(pk=cancel.get("redemption") or 0, household=household)
                shop.redemption_cancel(
                    actor=request.user, redemption=redemption, idempotency_key=cancel.get("key", "")
                )
                messages.success(request, _("Reservation cancelled; your points are back."))
            else:
                sent = form_values(RedeemForm(request.POST))
                reward = rewards.get(pk=sent.get("reward") or 0)
                shop.redemption_create(
                    actor=request.user,
                    household=household,
                    reward=reward,
                    quantity=_quantity(sent),
                    channel=Redemption.Channel.PHONE,
                    idempotency_key=sent.get("key", ""),
                )
                messages.success(request, _("Reserved. Collect it at the points shop."))
        except (ValidationError, ValueError, Redemption.DoesNotExist, rewards.model.DoesNotExist) as exc:
            if isinstance(exc, ValidationError):
                flash_errors(request, exc)
            else:
                messages.error(request, _("Please try again."))
        return redirect("my-shop")
    return render(
        request,
        "points/my_shop.html",
        {
            "rewards": rewards,
            "available": shop.available_points(household),
            "key": _key(),
            "reservations": Redemption.objects.filter(household=household).select_related("reward")[:50],
        },
    )
