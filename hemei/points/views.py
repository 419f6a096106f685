"""Points pages, phone-first: the villager's points and shop, the grid worker's proposals,
the committee's review queue with objections, and the shop keeper's counter. Thin: reads via
`hemei.points.access`, writes via the services; every form carries an idempotency key."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from hemei.points import ledger, shop
from hemei.points.access import (
    COMMITTEE_ROLES,
    SHOP_ROLES,
    SUPERVISION_ROLES,
    access_entries,
    access_rewards,
    may,
    villager_resident,
)
from hemei.points.models import Account, ChainHead, Entry, Objection, Redemption, RuleSet
from hemei.regions.access import access_household, access_regions, require_staff_scope
from hemei.regions.models import Household, Level, Region
from hemei.regions.selectors import household_search

E = Entry.State


def _key() -> str:
    return uuid.uuid4().hex


def _errors(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


def _resident(request: HttpRequest) -> Any:
    resident = villager_resident(request.user)
    if resident is None:
        raise Http404
    return resident


def _village_of(region: Region) -> Region:
    if region.level == Level.VILLAGE:
        return region
    village = Region.objects.get_ancestors(region).filter(level=Level.VILLAGE).first()
    if village is None:
        raise Http404
    return village


def _staff_villages(request: HttpRequest) -> list[Region]:
    """Villages the user works in: their own posts' villages (a grid worker's is above the grid)."""
    regions = list(access_regions(request.user).filter(level__in=[Level.VILLAGE, Level.GRID]).order_by("path")[:500])
    seen: dict[int, Region] = {}
    for region in regions:
        village = region if region.level == Level.VILLAGE else _village_of(region)
        seen.setdefault(village.pk, village)
    return list(seen.values())


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
    head = ChainHead.objects.filter(village_id=household.village_id).first()
    return render(
        request,
        "points/my_points.html",
        {
            "household": household,
            "balance": account.balance if account else 0,
            "available": shop.available_points(household),
            "effective": [e for e in entries[:300] if e.state == E.EFFECTIVE],
            "pending": [e for e in entries[:300] if e.state in (E.PROPOSED, E.PUBLICITY)],
            "board": board,
            "head": head,
            "key": _key(),
        },
    )


@login_required
@require_POST
def my_objection(request: HttpRequest, pk: int) -> HttpResponse:
    resident = _resident(request)
    entry = Entry.objects.filter(pk=pk, village_id=resident.household.village_id).first()
    if entry is None:
        raise Http404
    try:
        ledger.objection_raise(
            actor=request.user,
            entry=entry,
            reason=request.POST.get("reason", ""),
            idempotency_key=request.POST.get("key", "")[:100],
        )
        messages.success(request, _("Your objection has been recorded. The supervision committee will decide."))
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    return redirect("my-points")


@login_required
@require_http_methods(["GET", "POST"])
def my_shop(request: HttpRequest) -> HttpResponse:
    resident = _resident(request)
    household = resident.household
    rewards = access_rewards(request.user).filter(village_id=household.village_id, active=True)
    if request.method == "POST":
        action = request.POST.get("action", "reserve")
        try:
            if action == "cancel":
                redemption = Redemption.objects.get(pk=request.POST.get("redemption", ""), household=household)
                shop.redemption_cancel(
                    actor=request.user, redemption=redemption, idempotency_key=request.POST.get("key", "")[:100]
                )
                messages.success(request, _("Reservation cancelled; your points are back."))
            else:
                reward = rewards.get(pk=request.POST.get("reward", ""))
                shop.redemption_create(
                    actor=request.user,
                    household=household,
                    reward=reward,
                    quantity=int(request.POST.get("quantity") or 1),
                    channel=Redemption.Channel.PHONE,
                    idempotency_key=request.POST.get("key", "")[:100],
                )
                messages.success(request, _("Reserved. Collect it at the points shop."))
        except (ValidationError, ValueError, Redemption.DoesNotExist, rewards.model.DoesNotExist) as exc:
            messages.error(request, _errors(exc) if isinstance(exc, ValidationError) else _("Please try again."))
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


@login_required
@require_http_methods(["GET", "POST"])
def propose(request: HttpRequest) -> HttpResponse:
    """Single or batch: one rule item for the ticked households of a grid and month."""
    require_staff_scope(request.user)
    villages = [v for v in _staff_villages(request) if RuleSet.objects.filter(village=v).exists()]
    code = request.GET.get("village") or request.POST.get("village") or (villages[0].code if villages else "")
    village = next((v for v in villages if v.code == code), None)
    if village is None:
        return render(request, "points/propose.html", {"villages": villages, "village": None})
    rule_set = RuleSet.objects.get(village=village)
    version = rule_set.current_version()
    items = list(version.items.all()) if version else []
    households = household_search(request.user, region=village, q=request.GET.get("q", ""))[:200]
    if request.method == "POST":
        item = next((i for i in items if str(i.pk) == request.POST.get("item")), None)
        ids = request.POST.getlist("household")
        try:
            deed = dt.date.fromisoformat(request.POST.get("deed_date", ""))
            if item is None or not ids:
                raise ValidationError(_("Choose a rule item and at least one household."))
            chosen = [access_household(request.user, int(pk)) for pk in ids]
            proposals = [ledger.Proposal(h, item, deed, request.POST.get("evidence", "")) for h in chosen]
            entries, _replayed = ledger.entry_propose_batch(
                actor=request.user,
                rule_set=rule_set,
                proposals=proposals,
                idempotency_key=request.POST.get("key", "")[:100],
            )
            messages.success(request, _("%(n)d entries proposed for review.") % {"n": len(entries)})
            return redirect(f"{request.path}?village={village.code}")
        except ValidationError as exc:
            messages.error(request, _errors(exc))
        except ValueError:
            messages.error(request, _("Give the date of the deed."))
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


@login_required
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest) -> HttpResponse:
    """The committee's queue (approve / reject) and the supervision committee's objections."""
    require_staff_scope(request.user)
    villages = [v for v in _staff_villages(request) if may(request.user, v, COMMITTEE_ROLES | SUPERVISION_ROLES)]
    if request.method == "POST":
        try:
            if "objection" in request.POST:
                objection = Objection.objects.get(pk=request.POST["objection"], entry__in=access_entries(request.user))
                ledger.objection_decide(
                    actor=request.user,
                    objection=objection,
                    uphold=request.POST.get("uphold") == "1",
                    decision=request.POST.get("decision", ""),
                    idempotency_key=request.POST.get("key", "")[:100],
                )
            else:
                entry = access_entries(request.user).get(pk=request.POST.get("entry", ""))
                ledger.entry_review(
                    actor=request.user,
                    entry=entry,
                    approve=request.POST.get("approve") == "1",
                    reason=request.POST.get("reason", ""),
                    idempotency_key=request.POST.get("key", "")[:100],
                )
            messages.success(request, _("Saved."))
        except ValidationError as exc:
            messages.error(request, _errors(exc))
        except (Entry.DoesNotExist, Objection.DoesNotExist, ValueError):
            raise Http404 from None
        return redirect("points-review")
    ids = [v.pk for v in villages]
    queue = (
        access_entries(request.user)
        .filter(village_id__in=ids, state=E.PROPOSED)
        .select_related("household", "item", "proposed_by")
        .order_by("proposed_at", "pk")[:200]
    )
    publicity = (
        access_entries(request.user)
        .filter(village_id__in=ids, state=E.PUBLICITY)
        .select_related("household", "item")
        .order_by("publicity_until", "pk")[:200]
    )
    objections = Objection.objects.filter(entry__village_id__in=ids, state=Objection.State.OPEN).select_related(
        "entry__household", "entry__item", "resident"
    )[:200]
    return render(
        request, "points/review.html", {"queue": queue, "publicity": publicity, "objections": objections, "key": _key()}
    )


@login_required
@require_http_methods(["GET", "POST"])
def counter(request: HttpRequest) -> HttpResponse:
    """The shop keeper finds a household (name, pinyin initials or house number) and redeems."""
    require_staff_scope(request.user)
    villages = [v for v in _staff_villages(request) if may(request.user, v, SHOP_ROLES)]
    if not villages:
        raise Http404
    village = next((v for v in villages if v.code == request.GET.get("village")), villages[0])
    if request.method == "POST":
        try:
            household = access_household(request.user, int(request.POST.get("household", "")))
            if "collect" in request.POST:
                redemption = Redemption.objects.get(pk=request.POST["collect"], household=household)
                shop.redemption_collect(
                    actor=request.user, redemption=redemption, idempotency_key=request.POST.get("key", "")[:100]
                )
            else:
                reward = access_rewards(request.user).get(pk=request.POST.get("reward", ""), village=village)
                shop.redemption_create(
                    actor=request.user,
                    household=household,
                    reward=reward,
                    quantity=int(request.POST.get("quantity") or 1),
                    idempotency_key=request.POST.get("key", "")[:100],
                )
            messages.success(request, _("Done."))
        except ValidationError as exc:
            messages.error(request, _errors(exc))
        except (ValueError, Redemption.DoesNotExist, access_rewards(request.user).model.DoesNotExist):
            raise Http404 from None
        return redirect(f"{request.path}?village={village.code}&household={request.POST.get('household', '')}")
    q = request.GET.get("q", "").strip()
    found = household_search(request.user, region=village, q=q)[:20] if q else []
    shown: Household | None = None
    if request.GET.get("household", "").isdigit():
        shown = access_household(request.user, int(request.GET["household"]))
    context: dict[str, Any] = {
        "village": village,
        "villages": villages,
        "q": q,
        "found": found,
        "household": shown,
        "key": _key(),
        "rewards": access_rewards(request.user).filter(village=village, active=True),
    }
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
