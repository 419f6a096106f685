"""Points pages, phone-first: the villager's points and shop, the grid worker's proposals,
the committee's review queue with objections, and the shop keeper's counter. Thin: reads via
`hemei.points.access`, writes via the services; every form carries an idempotency key."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from hemei.meetings.models import AgendaItem
from hemei.points import catalogue, export, ledger, public, rules, rules_edit, shop, stats
from hemei.points.access import (
    COMMITTEE_ROLES,
    SHOP_ROLES,
    SUPERVISION_ROLES,
    access_entries,
    access_rewards,
    may,
    villager_resident,
)
from hemei.points.forms import RestockForm, RewardForm, RuleItemForm, SettingsForm
from hemei.points.models import (
    Account,
    ChainHead,
    Entry,
    Objection,
    Redemption,
    Reward,
    RuleSet,
    RuleVersion,
    StockMovement,
)
from hemei.regions.access import access_household, access_regions, require_staff_scope, scope_for
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


# --- the committee's rule pages -------------------------------------------------------------


def _whole_village(request: HttpRequest, code: str) -> Region:
    """A village the user reads as a whole (committee, shop keeper, township, county); a grid
    worker reads only their grid, and anyone else gets a 404."""
    require_staff_scope(request.user)
    scope = scope_for(request.user)
    villages = _staff_villages(request)
    village = next((v for v in villages if v.code == code), None) if code else (villages[0] if villages else None)
    if village is None or not (scope.everything or any(village.path.startswith(p) for p in scope.read_paths)):
        raise Http404
    return village


def _choose(request: HttpRequest, roles: frozenset[str]) -> tuple[Region, list[Region]]:
    require_staff_scope(request.user)
    villages = [v for v in _staff_villages(request) if may(request.user, v, roles)]
    code = request.GET.get("village") or request.POST.get("village") or ""
    village = next((v for v in villages if v.code == code), None) if code else (villages[0] if villages else None)
    if village is None:
        raise Http404
    return village, villages


def _settings_initial(rule_set: RuleSet) -> dict[str, Any]:
    return {k: getattr(rule_set, k) for k in rules_edit.SETTINGS}


@login_required
@require_http_methods(["GET", "POST"])
def rules_page(request: HttpRequest) -> HttpResponse:
    """The adopted rules, the history of versions, drafts, and the cycle settings."""
    village, villages = _choose(request, COMMITTEE_ROLES)
    rule_set = RuleSet.objects.filter(village=village).first()
    form = SettingsForm(initial=_settings_initial(rule_set)) if rule_set else None
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "create_set" and rule_set is None:
                rules.rule_set_create(actor=request.user, village=village, name=request.POST.get("name", ""))
            elif action == "draft" and rule_set is not None:
                current = rule_set.current_version()
                draft = rules.rule_version_create(
                    actor=request.user, rule_set=rule_set, title=request.POST.get("title", ""), copy_from=current
                )
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
            messages.error(request, _errors(exc))
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
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def rule_version(request: HttpRequest, pk: int) -> HttpResponse:
    """One version: read-only when adopted or superseded; a draft's items can be edited, added
    and removed, and the draft tabled at a meeting that may adopt it."""
    require_staff_scope(request.user)
    version = RuleVersion.objects.select_related("rule_set__village", "adopted_by").filter(pk=pk).first()
    if version is None or not may(request.user, version.rule_set.village, COMMITTEE_ROLES):
        raise Http404
    village = version.rule_set.village
    is_draft = version.state == RuleVersion.State.DRAFT
    add_form = RuleItemForm(prefix="new")
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "add":
                add_form = RuleItemForm(request.POST, prefix="new")
                if not add_form.is_valid():
                    raise ValidationError(_("Please correct the item."))
                rules.rule_item_add(actor=request.user, version=version, **add_form.cleaned_data)
            elif action in ("update", "remove"):
                item = version.items.filter(pk=request.POST.get("item", "")).first()
                if item is None:
                    raise Http404
                if action == "remove":
                    rules_edit.rule_item_remove(actor=request.user, item=item)
                else:
                    form = RuleItemForm(request.POST, prefix=f"i{item.pk}")
                    if not form.is_valid():
                        raise ValidationError(_("Please correct the item."))
                    rules_edit.rule_item_update(actor=request.user, item=item, **form.cleaned_data)
            elif action == "table":
                meeting = rules_edit.tableable_meetings(village).filter(pk=request.POST.get("meeting") or 0).first()
                if meeting is None:
                    raise ValidationError(_("Choose a villagers' assembly or representatives meeting."))
                rules_edit.rule_version_table(actor=request.user, version=version, meeting=meeting)
                messages.success(request, _("Tabled. The version is adopted when the meeting passes the item."))
                return redirect("points-rule-version", pk=version.pk)
            else:
                raise Http404
            messages.success(request, _("Saved."))
            return redirect("points-rule-version", pk=version.pk)
        except ValidationError as exc:
            messages.error(request, _errors(exc))
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
        },
    )


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
            messages.error(request, _errors(exc))
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
        try:
            if request.POST.get("action") == "restock":
                restock = RestockForm(request.POST)
                if not restock.is_valid():
                    raise ValidationError(_("Restock at least one."))
                shop.reward_restock(
                    actor=request.user,
                    reward=reward,
                    quantity=restock.cleaned_data["quantity"],
                    note=restock.cleaned_data["note"],
                    idempotency_key=request.POST.get("key", "")[:100],
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
            messages.error(request, _errors(exc))
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
    year = int(year_text) if year_text.isdigit() and 2000 <= int(year_text) <= 2100 else None
    if "year" not in request.GET:
        year = timezone.localdate().year
    return by, year


@login_required
def shop_stats(request: HttpRequest) -> HttpResponse:
    village = _whole_village(request, request.GET.get("village", ""))
    by, year = _stats_args(request)
    figures = stats.shop_stats(village, by=by, year=year)
    return render(
        request,
        "points/stats.html",
        {
            "village": village,
            "villages": _staff_villages(request),
            "stats": figures,
            "chart": figures.chart(),
            "by": by,
            "year": year,
            "periods": [("month", _("month")), ("quarter", _("quarter")), ("year", _("year"))],
        },
    )


def _xlsx(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def shop_stats_xlsx(request: HttpRequest) -> HttpResponse:
    village = _whole_village(request, request.GET.get("village", ""))
    by, year = _stats_args(request)
    figures = stats.shop_stats(village, by=by, year=year)
    data = export.stats_export(actor=request.user, village=village, stats=figures, by=by, year=year)
    return _xlsx(data, f"shop-{village.code}-{year or 'all'}-{by}.xlsx")


PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@login_required
def ledger_xlsx(request: HttpRequest) -> HttpResponse:
    """The village's points ledger, optionally for periods from … to ("2026-07" … "2026-09")."""
    village = _whole_village(request, request.GET.get("village", ""))
    period_from, period_to = request.GET.get("from", "").strip(), request.GET.get("to", "").strip()
    if any(p and not PERIOD_RE.match(p) for p in (period_from, period_to)):
        return HttpResponse(_("Give periods as 2026-07."), status=400, content_type="text/plain; charset=utf-8")
    data = export.ledger_export(actor=request.user, village=village, period_from=period_from, period_to=period_to)
    return _xlsx(data, f"points-{village.code}-{period_from or 'start'}-{period_to or 'now'}.xlsx")


# --- public pages (no login) ----------------------------------------------------------------


def _public_village(code: str) -> Region:
    village = Region.objects.filter(code=code, level=Level.VILLAGE).first()
    if village is None or not RuleSet.objects.filter(village=village).exists():
        raise Http404
    return village


def public_print(request: HttpRequest, code: str) -> HttpResponse:
    """公示 notice for the village notice board (A4): the entries in publicity, the chain head
    (length and hash) to check the paper against the board, and how to object."""
    village = _public_village(code)
    return render(
        request,
        "points/print.html",
        {
            "village": village,
            "entries": public.in_publicity(village, limit=500),
            "head": public.head_of(village),
            "today": timezone.localdate(),
        },
    )


def public_ranking(request: HttpRequest, code: str) -> HttpResponse:
    village = _public_village(code)
    setting, rows = public.ranking(village)
    if setting == RuleSet.Ranking.NONE:
        raise Http404
    return render(
        request,
        "points/ranking.html",
        {"village": village, "rows": rows, "setting": setting, "year": timezone.localdate().year},
    )
