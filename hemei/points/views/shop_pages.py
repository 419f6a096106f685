"""The shop keeper's catalogue and the shop and ledger figures (pages and xlsx)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from hemei.core.parsing import form_values, parse_year
from hemei.core.views import flash_errors
from hemei.core.xlsx import xlsx_response
from hemei.points import catalogue, export, shop, stats
from hemei.points.access import (
    SHOP_ROLES,
    access_rewards,
    may,
)
from hemei.points.forms import ActionForm, RestockForm, RewardForm
from hemei.points.models import (
    Reward,
    StockMovement,
)
from hemei.points.views.common import (
    PERIOD_RE,
    _choose,
    _key,
    _overseen_villages,
    _staff_villages,
    _whole_village,
)
from hemei.regions.access import require_staff_scope

# --- the shop keeper's catalogue and statistics -------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def rewards(request: HttpRequest) -> HttpResponse:
    village, villages = _choose(request, SHOP_ROLES)
    form = RewardForm(initial={"active": True})
    if request.method == "POST":
        form = RewardForm(request.POST, request.FILES)
        try:
            if not form.is_valid():
                raise ValidationError(_("Please correct the reward."))
            data = form.cleaned_data
            shop.reward_create(
                actor=request.user,
                village=village,
                name=data["name"],
                price=data["price"],
                limit_per_period=data["limit_per_period"],
                own_product=data["own_product"],
                photo=catalogue.reward_photo(data["photo"]),
            )
            messages.success(request, _("Reward added. Restock it to put it on the shelf."))
            return redirect(f"{request.path}?village={village.code}")
        except ValidationError as exc:
            flash_errors(request, exc)
    listed = Reward.objects.filter(village=village).order_by("-active", "price", "name")
    return render(
        request, "points/rewards.html", {"village": village, "villages": villages, "rewards": listed, "form": form}
    )


@login_required
@require_http_methods(["GET", "POST"])
def reward_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    reward = access_rewards(request.user).select_related("village").filter(pk=pk).first()
    if reward is None or not may(request.user, reward.village, SHOP_ROLES):
        raise Http404
    initial = {f: getattr(reward, f) for f in ("name", "price", "limit_per_period", "own_product", "active")}
    form, restock = RewardForm(initial=initial), RestockForm()
    if request.method == "POST":
        sent = form_values(ActionForm(request.POST))
        try:
            if sent.get("action") == "restock":
                restock = RestockForm(request.POST)
                if not restock.is_valid():
                    raise ValidationError(_("Restock at least one."))
                shop.reward_restock(
                    actor=request.user,
                    reward=reward,
                    quantity=restock.cleaned_data["quantity"],
                    note=restock.cleaned_data["note"],
                    idempotency_key=sent.get("key", ""),
                )
            else:
                form = RewardForm(request.POST, request.FILES)
                if not form.is_valid():
                    raise ValidationError(_("Please correct the reward."))
                data = form.cleaned_data
                catalogue.reward_update(
                    actor=request.user,
                    reward=reward,
                    name=data["name"],
                    price=data["price"],
                    limit_per_period=data["limit_per_period"],
                    own_product=data["own_product"],
                    active=data["active"],
                    photo=catalogue.reward_photo(data["photo"]),
                    remove_photo=data["remove_photo"],
                )
            messages.success(request, _("Saved."))
            return redirect("shop-reward", pk=reward.pk)
        except ValidationError as exc:
            flash_errors(request, exc)
    return render(
        request,
        "points/reward.html",
        {
            "reward": reward,
            "form": form,
            "restock": restock,
            "key": _key(),
            "movements": StockMovement.objects.filter(reward=reward).select_related("actor")[:100],
        },
    )


@login_required
def reward_photo(request: HttpRequest, pk: int) -> FileResponse:
    """A reward's photo, for those who see the shop (villagers of the village, its staff)."""
    reward = access_rewards(request.user).filter(pk=pk).exclude(photo="").first()
    if reward is None:
        raise Http404
    return FileResponse(reward.photo.open("rb"), content_type="image/jpeg")


def _stats_args(request: HttpRequest) -> tuple[str, int | None]:
    by = request.GET.get("by", "quarter")
    by = by if by in stats.PERIODS else "quarter"
    year_text = request.GET.get("year", "")
    year = parse_year(year_text)
    year = year if year is not None and 2000 <= year <= 2100 else None
    if "year" not in request.GET:
        year = timezone.localdate().year
    return by, year


@login_required
def shop_stats(request: HttpRequest) -> HttpResponse:
    village = _whole_village(request, request.GET.get("village", ""))
    by, year = _stats_args(request)
    figures = stats.shop_stats(village, by=by, year=year)
    overseen = _overseen_villages(request)
    return render(
        request,
        "points/stats.html",
        {
            "village": village,
            "villages": overseen or [v for v in _staff_villages(request) if may(request.user, v, SHOP_ROLES)],
            "stats": figures,
            "chart": figures.chart(),
            "by": by,
            "year": year,
            "periods": [("month", _("month")), ("quarter", _("quarter")), ("year", _("year"))],
        },
    )


@login_required
def shop_stats_xlsx(request: HttpRequest) -> HttpResponse:
    village = _whole_village(request, request.GET.get("village", ""))
    by, year = _stats_args(request)
    figures = stats.shop_stats(village, by=by, year=year)
    data = export.stats_export(actor=request.user, village=village, stats=figures, by=by, year=year)
    return xlsx_response(data, f"shop-{village.code}-{year or 'all'}-{by}.xlsx")


@login_required
def ledger_xlsx(request: HttpRequest) -> HttpResponse:
    """The village's points ledger, optionally for periods from … to ("2026-07" … "2026-09")."""
    village = _whole_village(request, request.GET.get("village", ""))
    period_from, period_to = request.GET.get("from", "").strip(), request.GET.get("to", "").strip()
    if any(p and not PERIOD_RE.match(p) for p in (period_from, period_to)):
        return HttpResponse(_("Give periods as 2026-07."), status=400, content_type="text/plain; charset=utf-8")
    data = export.ledger_export(actor=request.user, village=village, period_from=period_from, period_to=period_to)
    return xlsx_response(data, f"points-{village.code}-{period_from or 'start'}-{period_to or 'now'}.xlsx")
