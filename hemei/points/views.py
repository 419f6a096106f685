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
from django.db.models import Exists, OuterRef, Q, Sum
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from hemei.core.masking import mask_phone
from hemei.meetings.models import AgendaItem
from hemei.points import catalogue, export, ledger, public, rules, rules_edit, shop, stats
from hemei.points.access import (
    COMMITTEE_ROLES,
    GRID_ROLES,
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
    Entry,
    Objection,
    Redemption,
    Reward,
    RuleItem,
    RuleSet,
    RuleVersion,
    StockMovement,
)
from hemei.points.review import entry_approve_batch
from hemei.regions.access import access_household, access_regions, require_staff_scope, scope_for
from hemei.regions.models import Household, Level, Post, Region, Resident, Role
from hemei.regions.selectors import household_search

E = Entry.State



def _digits(value: str) -> bool:
    """ASCII digits only: str.isdigit() accepts '²', which int() refuses (a 500)."""
    return value.isascii() and value.isdigit() and len(value) < 18


def _pk(value: str | None) -> int:
    """A primary key from a form field; 0 (matches nothing) for anything else."""
    value = (value or "").strip()
    return int(value) if _digits(value) else 0

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


# Township and county staff read a village's rules and shop figures (oversight), never write.
OVERSIGHT_ROLES = frozenset({Role.TOWNSHIP_STAFF, Role.COUNTY_DISPATCHER, Role.COUNTY_ADMIN})


def _roles_in_village(user: Any, village: Region) -> frozenset[str]:
    """Roles of the user's current staff posts over the village or inside it (a grid worker's
    post is at a grid of the village), in one query."""
    if user.is_superuser:
        return frozenset(Role.values)
    posts = Post.objects.current().filter(user=user).exclude(role=Role.VILLAGER).select_related("region")
    return frozenset(
        p.role for p in posts if village.path.startswith(p.region.path) or p.region.path.startswith(village.path)
    )


def proposable_items(user: Any, village: Region, items: list[RuleItem]) -> list[RuleItem]:
    """The items this user may propose (the same rule as `ledger._check_proposal`): the
    committee any item, grid workers and leaders only items open to grid workers."""
    roles = _roles_in_village(user, village)
    if roles & COMMITTEE_ROLES:
        return items
    if roles & GRID_ROLES:
        return [i for i in items if i.proposer == RuleItem.Proposer.GRID]
    return []


def _overseen_villages(request: HttpRequest) -> list[Region]:
    """Villages with points rules that township / county staff oversee: one query for the
    posts, one for the villages (a county has hundreds)."""
    user: Any = request.user
    posts = list(
        Post.objects.current().filter(user=user, role__in=OVERSIGHT_ROLES).select_related("region")
    )
    if not posts and not user.is_superuser:
        return []
    # Villages with rules first; the others still open (a township whose villages have no
    # rules yet sees that, not a 404).
    qs = Region.objects.filter(level=Level.VILLAGE).annotate(
        has_rules=Exists(RuleSet.objects.filter(village_id=OuterRef("pk")))
    )
    if not user.is_superuser:
        q = Q(pk__in=[])
        for post in posts:
            q |= Q(path__startswith=post.region.path)
        qs = qs.filter(q)
    return list(qs.order_by("-has_rules", "path")[:500])


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
    # Only what the user may propose: a committee-only or panel item would be refused anyway.
    items = proposable_items(request.user, village, list(version.items.all())) if version else []
    households = household_search(request.user, region=village, q=request.GET.get("q", ""))[:200]
    if request.method == "POST":
        item = next((i for i in items if str(i.pk) == request.POST.get("item")), None)
        ids = request.POST.getlist("household")
        try:
            deed = dt.date.fromisoformat(request.POST.get("deed_date", ""))
            if item is None or not ids:
                raise ValidationError(_("Choose a rule item and at least one household."))
            if not all(pk.isascii() and pk.isdigit() for pk in ids):
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
    ids = [v.pk for v in villages]
    grid_code = request.GET.get("grid") or request.POST.get("grid") or ""
    month = request.GET.get("month") or request.POST.get("month") or ""
    month = month if PERIOD_RE.match(month) else ""
    back = f"{request.path}?grid={grid_code}&month={month}" if grid_code or month else request.path
    if request.method == "POST" and request.POST.get("action") == "approve_all":
        chosen = {int(pk) for pk in request.POST.getlist("entries") if pk.isdigit()}
        batch = list(
            access_entries(request.user)
            .filter(pk__in=chosen, village_id__in=ids)
            .select_related("household", "village")
        )
        if len(batch) != len(chosen):
            raise Http404
        try:
            if request.POST.get("confirm") != "1":
                raise ValidationError(_("Tick the box to confirm that you checked every entry shown."))
            done = entry_approve_batch(
                actor=request.user, entries=batch, idempotency_key=request.POST.get("key", "")[:100]
            )
            messages.success(request, _("%(n)d entries approved; their publicity starts now.") % {
                "n": len(done.approved)})
            if done.skipped_own:
                messages.warning(
                    request,
                    _("%(n)d entries you proposed yourself were skipped (households %(h)s): another member "
                      "of the committee reviews them.")
                    % {"n": len(done.skipped_own), "h": ", ".join(e.household.number for e in done.skipped_own)},
                )
        except ValidationError as exc:
            messages.error(request, _errors(exc))
        return redirect(back)
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
        return redirect(back)
    in_villages = Q(pk__in=[])
    for v in villages:
        in_villages |= Q(path__startswith=v.path)
    grids = list(Region.objects.filter(in_villages, level=Level.GRID).order_by("path")[:200])
    queue_qs = access_entries(request.user).filter(village_id__in=ids, state=E.PROPOSED)
    if grid_code:
        queue_qs = queue_qs.filter(household__region__code=grid_code)
    if month:
        queue_qs = queue_qs.filter(period=month)
    queue = list(queue_qs.select_related("household", "item", "proposed_by").order_by("proposed_at", "pk")[:200])
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
        request,
        "points/review.html",
        {
            "queue": queue,
            "publicity": publicity,
            "objections": objections,
            "key": _key(),
            "grids": grids,
            "grid": grid_code,
            "month": month,
            "own": sum(1 for e in queue if e.proposed_by_id == request.user.pk),
        },
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
    # The search form posts, so a phone number typed in stays out of URLs (history, logs).
    searching = request.method == "POST" and request.POST.get("action") == "find"
    if request.method == "POST" and not searching:
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
    q = (request.POST.get("q", "") if searching else request.GET.get("q", "")).strip()
    found = _counter_search(request.user, village, q) if q else []
    q_shown = mask_phone(q) if PHONE_RE.match(q) and len(re.sub(r"\D", "", q)) == 11 else q
    shown: Household | None = None
    if _digits(request.GET.get("household", "")):
        shown = access_household(request.user, int(request.GET["household"]))
    context: dict[str, Any] = {
        "village": village,
        "villages": villages,
        "q": q_shown,
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


# --- the committee's rule pages -------------------------------------------------------------


def _whole_village(request: HttpRequest, code: str) -> Region:
    """A village the user reads as a whole (committee, shop keeper, township, county); a grid
    worker reads only their grid, and anyone else gets a 404."""
    require_staff_scope(request.user)
    scope = scope_for(request.user)
    villages = _staff_villages(request)
    village = next((v for v in villages if v.code == code), None) if code else (villages[0] if villages else None)
    if village is None or not scope.covers_path(village.path):
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
    code = request.GET.get("village") or request.POST.get("village") or ""
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
        action = request.POST.get("action", "")
        try:
            if action == "create_set" and rule_set is None:
                rules.rule_set_create(actor=request.user, village=village, name=request.POST.get("name", ""))
            elif action == "draft" and rule_set is not None:
                # One draft at a time: a second tap on "start a draft" opens the same draft.
                open_draft = rule_set.versions.filter(state=RuleVersion.State.DRAFT).order_by("-number").first()
                if open_draft is not None:
                    return redirect("points-rule-version", pk=open_draft.pk)
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
        action = request.POST.get("action", "")
        try:
            if action == "add":
                add_form = RuleItemForm(request.POST, prefix="new")
                if not add_form.is_valid():
                    raise ValidationError(_("Please correct the item."))
                rules.rule_item_add(actor=request.user, version=version, **add_form.cleaned_data)
            elif action in ("update", "remove"):
                item = version.items.filter(pk=_pk(request.POST.get("item"))).first()
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
                meeting = rules_edit.tableable_meetings(village).filter(pk=_pk(request.POST.get("meeting"))).first()
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
            "tabled_now": tabled_now,
            "writable": writable,
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
    year = int(year_text) if _digits(year_text) and 2000 <= int(year_text) <= 2100 else None
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
