"""Every write of a courtyard review (ARCHITECTURE rules 1, 3, 6 and 7).

Life of a review:
1. `event_create` / `event_update` (committee, draft only): criteria (weights sum to 100),
   panel, households and plaque tiers are checked together; all or nothing.
2. `event_open`: draft → scoring.
3. `score_submit` (panel members only, while scoring): all criteria of one household at
   once, each 0..max with at most two decimals. The same scores again return the current
   sheet unchanged (a double tap writes nothing); different scores are a new sheet that
   supersedes the earlier one (history kept).
4. `event_close` (committee): every panel member must have scored every household; results
   are computed (`hemei.courtyard.scoring`), ranked and plaques recorded, in one transaction.
5. `event_award` (committee): proposes one points entry per plaque through
   `hemei.points.ledger.entry_propose_batch`; the entries then follow the normal committee
   review and publicity. A second award proposes nothing.
Status changes are conditional updates on the status read, so two clerks never both act.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hemei.core.audit import audit_record
from hemei.core.idempotency import remembered
from hemei.core.scope import is_system, require_actor, user_of
from hemei.courtyard import scoring
from hemei.courtyard.access import is_committee, panel_candidates
from hemei.courtyard.models import Criterion, Result, ReviewEvent, Score, Submission, Tier
from hemei.points import ledger
from hemei.points.models import Entry, RuleItem, RuleSet, RuleVersion
from hemei.regions.models import Household, Level, Region

S = ReviewEvent.Status
MAX_CRITERIA = 12
MAX_TIERS = 5
MAX_NUMBER = Decimal("1e9")


@dataclass(frozen=True)
class CriterionSpec:
    name: str
    weight: int
    max_score: Decimal


@dataclass(frozen=True)
class TierSpec:
    name: str
    item: RuleItem
    top_n: int | None = None
    min_total: Decimal | None = None



def _require_committee(actor: Any, village: Region) -> None:
    if not is_committee(actor, village):
        raise ValidationError(_("Only the village committee manages courtyard reviews."), code="scope")


def _decimal(value: Any, label: str) -> Decimal:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(_("%(field)s is not a number.") % {"field": label}, code="number") from None
    if not number.is_finite():
        raise ValidationError(_("%(field)s is not a number.") % {"field": label}, code="number")
    # Before quantize: "1e999999" is finite, but quantizing it raises InvalidOperation (a 500).
    if abs(number) >= MAX_NUMBER:
        raise ValidationError(_("%(field)s is too large.") % {"field": label}, code="number")
    if number != number.quantize(scoring.CENT):
        raise ValidationError(_("%(field)s has more than two decimals.") % {"field": label}, code="number")
    return number


def adopted_version(village: Region) -> RuleVersion | None:
    rule_set = RuleSet.objects.filter(village=village).first()
    return rule_set.current_version() if rule_set else None


def _check(
    *,
    village: Region,
    title: str,
    method: str,
    criteria: list[CriterionSpec],
    panel: list[Any],
    households: list[Household],
    tiers: list[TierSpec],
) -> str:
    """All the checks of an event's set-up, in this order; returns the cleaned title.

    1. the village, the title and the scoring method;
    2. the criteria (`_check_criteria`): names, weights adding up to 100, maximum scores;
    3. the panel (`_check_panel`): staff of the village or its township, 3 for a trimmed mean;
    4. the households, all of this village;
    5. the plaque tiers (`_check_tiers`), mapped to items of the adopted points rules."""
    if village.level != Level.VILLAGE:
        raise ValidationError(_("A courtyard review belongs to a village."))
    title = (title or "").strip()
    if not title or len(title) > 100:
        raise ValidationError(_("Give a title of at most 100 characters."))
    if method not in ReviewEvent.Method.values:
        raise ValidationError(_("Unknown scoring method."))
    _check_criteria(criteria)
    _check_panel(village, method, panel)
    if not households:
        raise ValidationError(_("Choose the households to visit."))
    for h in households:
        if h.village_id != village.pk:
            raise ValidationError(_("Household %(h)s is not in this village.") % {"h": h.number})
    _check_tiers(village, tiers)
    return title


def _check_criteria(criteria: list[CriterionSpec]) -> None:
    if not criteria or len(criteria) > MAX_CRITERIA:
        raise ValidationError(_("Give between 1 and %(n)d criteria.") % {"n": MAX_CRITERIA})
    names = [(c.name or "").strip() for c in criteria]
    if any(not n or len(n) > 50 for n in names) or len(set(names)) != len(names):
        raise ValidationError(_("Each criterion needs its own name of at most 50 characters."))
    for c in criteria:
        if not isinstance(c.weight, int) or not 1 <= c.weight <= 100:
            raise ValidationError(_("Each weight is a whole number from 1 to 100."))
        top = _decimal(c.max_score, _("Maximum score"))
        if not Decimal("0.01") <= top <= Decimal("1000"):
            raise ValidationError(_("A maximum score lies between 0.01 and 1000."))
    weights = sum(c.weight for c in criteria)
    if weights != 100:
        raise ValidationError(
            _("The weights add up to %(n)d; they must add up to 100.") % {"n": weights}, code="weights"
        )


def _check_panel(village: Region, method: str, panel: list[Any]) -> None:
    if not panel:
        raise ValidationError(_("Choose the evaluators of the panel."))
    allowed = set(panel_candidates(village).filter(pk__in=[u.pk for u in panel]).values_list("pk", flat=True))
    outside = [str(u) for u in panel if u.pk not in allowed]
    if outside:
        raise ValidationError(
            _("Not staff of this village or its township: %(names)s.") % {"names": ", ".join(outside)}, code="panel"
        )
    if method == ReviewEvent.Method.TRIMMED and len({u.pk for u in panel}) < 3:
        raise ValidationError(_("A trimmed mean needs a panel of at least 3 evaluators."), code="panel")


def _check_tiers(village: Region, tiers: list[TierSpec]) -> None:
    version = adopted_version(village)
    if tiers and version is None:
        raise ValidationError(_("This village has no adopted points rules yet."))
    if len(tiers) > MAX_TIERS:
        raise ValidationError(_("At most %(n)d plaque tiers.") % {"n": MAX_TIERS})
    for t in tiers:
        if not (t.name or "").strip() or len(t.name.strip()) > 30:
            raise ValidationError(_("Each plaque tier needs a name of at most 30 characters."))
        if t.top_n is None and t.min_total is None:
            raise ValidationError(_("Plaque tier %(t)s needs a top N or a minimum total.") % {"t": t.name})
        if t.top_n is not None and t.top_n < 1:
            raise ValidationError(_("Top N is at least 1."))
        if t.min_total is not None and not Decimal(0) <= _decimal(t.min_total, _("Minimum total")) <= Decimal(100):
            raise ValidationError(_("A minimum total lies between 0 and 100."))
        assert version is not None
        if t.item.version_id != version.pk or t.item.kind == RuleItem.Kind.DEDUCTION:
            raise ValidationError(
                _("Plaque tier %(t)s must map to a points item of the adopted rules (not a deduction).")
                % {"t": t.name},
                code="item",
            )


def _write_setup(
    event: ReviewEvent,
    *,
    criteria: list[CriterionSpec],
    panel: list[Any],
    households: list[Household],
    tiers: list[TierSpec],
) -> None:
    Criterion.objects.bulk_create(
        [
            Criterion(event=event, name=c.name.strip(), weight=c.weight, max_score=_decimal(c.max_score, ""), sort=i)
            for i, c in enumerate(criteria)
        ]
    )
    Tier.objects.bulk_create(
        [
            Tier(event=event, name=t.name.strip(), top_n=t.top_n, min_total=t.min_total, item=t.item, sort=i)
            for i, t in enumerate(tiers)
        ]
    )
    event.panel.set(panel)
    event.households.set(households)


def _summary(criteria: list[CriterionSpec], panel: list[Any], households: list[Household]) -> dict[str, Any]:
    return {
        "criteria": [[c.name, c.weight, str(c.max_score)] for c in criteria],
        "panel": sorted(u.pk for u in panel),
        "households": len(households),
    }


@transaction.atomic
def event_create(
    *,
    actor: Any,
    village: Region,
    title: str,
    date: dt.date,
    method: str = ReviewEvent.Method.MEAN,
    criteria: list[CriterionSpec],
    panel: list[Any],
    households: list[Household],
    tiers: list[TierSpec],
    idempotency_key: str,
    at: dt.datetime | None = None,
) -> ReviewEvent:
    """A draft review; a replayed key (a double-posted form) returns the first event."""
    require_actor(actor)
    payload = {
        "village": village.pk,
        "title": (title or "").strip(),
        "date": date.isoformat(),
        "method": method,
        **_summary(criteria, panel, households),
        "tiers": [[t.name, t.item.pk, t.top_n, str(t.min_total)] for t in tiers],
    }

    def write() -> list[ReviewEvent]:
        _require_committee(actor, village)
        clean = _check(
            village=village,
            title=title,
            method=method,
            criteria=criteria,
            panel=panel,
            households=households,
            tiers=tiers,
        )
        county = village.county_ancestor()
        if county is None:
            raise ValidationError(_("Region %(r)s is not inside a county.") % {"r": village})
        event = ReviewEvent.objects.create(
            county=county,
            village=village,
            title=clean,
            date=date,
            method=method,
            created_by=user_of(actor),
            created_at=at or timezone.now(),
        )
        _write_setup(event, criteria=criteria, panel=panel, households=households, tiers=tiers)
        audit_record(actor=actor, action="create", obj=event, changes={"status": [None, S.DRAFT], **payload})
        return [event]

    return remembered(
        actor=actor, key=idempotency_key, operation="courtyard_create", payload=payload, model=ReviewEvent, write=write
    )[0][0]


@transaction.atomic
def event_update(
    *,
    actor: Any,
    event: ReviewEvent,
    title: str,
    date: dt.date,
    method: str,
    criteria: list[CriterionSpec],
    panel: list[Any],
    households: list[Household],
    tiers: list[TierSpec],
) -> ReviewEvent:
    """Replace a draft's whole set-up (nothing was scored yet, so nothing is lost)."""
    require_actor(actor)
    locked = ReviewEvent.objects.select_for_update().select_related("village").get(pk=event.pk)
    _require_committee(actor, locked.village)
    if locked.status != S.DRAFT:
        raise ValidationError(_("Only a draft review can be changed."), code="state")
    clean = _check(
        village=locked.village,
        title=title,
        method=method,
        criteria=criteria,
        panel=panel,
        households=households,
        tiers=tiers,
    )
    old = {"title": locked.title, "date": locked.date.isoformat(), "method": locked.method}
    locked.criteria.all().delete()
    locked.tiers.all().delete()
    ReviewEvent.objects.filter(pk=locked.pk).update(title=clean, date=date, method=method)
    locked.refresh_from_db()
    _write_setup(locked, criteria=criteria, panel=panel, households=households, tiers=tiers)
    new = {"title": clean, "date": date.isoformat(), "method": method}
    audit_record(
        actor=actor,
        action="update",
        obj=locked,
        changes={k: [old[k], new[k]] for k in new if old[k] != new[k]} | _summary(criteria, panel, households),
    )
    return locked


def _move(actor: Any, event: ReviewEvent, old: str, new: str, now: dt.datetime, **values: Any) -> ReviewEvent:
    if ReviewEvent.objects.filter(pk=event.pk, status=old).update(status=new, **values) != 1:
        raise ValidationError(_("This review is no longer %(s)s.") % {"s": S(old).label}, code="state")
    fresh = ReviewEvent.objects.select_related("village").get(pk=event.pk)
    audit_record(actor=actor, action="update", obj=fresh, changes={"status": [old, new]})
    return fresh


@transaction.atomic
def event_open(*, actor: Any, event: ReviewEvent, at: dt.datetime | None = None) -> ReviewEvent:
    require_actor(actor)
    _require_committee(actor, event.village)
    if not event.criteria.exists() or not event.households.exists() or not event.panel.exists():
        raise ValidationError(_("Set up criteria, panel and households first."))
    now = at or timezone.now()
    return _move(actor, event, S.DRAFT, S.SCORING, now, opened_at=now)


def current_sheets(event: ReviewEvent) -> Any:
    return Submission.objects.filter(event=event, superseded_by__isnull=True)


@transaction.atomic
def score_submit(
    *,
    actor: Any,
    event: ReviewEvent,
    household: Household,
    scores: dict[int, Any],
    evaluator: Any = None,
    at: dt.datetime | None = None,
) -> tuple[Submission, bool]:
    """One evaluator's scores for one household, all criteria at once.

    `evaluator` is the actor (a panel member); the demo passes SYSTEM and names the
    evaluator. Returns (sheet, unchanged): unchanged=True when the same scores were already
    the current sheet (nothing written)."""
    require_actor(actor)
    who = user_of(actor) or evaluator
    # Lock the event: a close running meanwhile either sees this sheet or refuses it.
    locked = ReviewEvent.objects.select_for_update().get(pk=event.pk)
    if who is None or not locked.panel.filter(pk=who.pk).exists():
        raise ValidationError(_("Only members of the review panel score."), code="scope")
    if locked.status != S.SCORING:
        raise ValidationError(_("Scoring is not open for this review."), code="state")
    if not locked.households.filter(pk=household.pk).exists():
        raise ValidationError(_("Household %(h)s is not on this review's list.") % {"h": household.number})
    criteria = list(locked.criteria.all())
    given = {int(k): v for k, v in scores.items()}
    if set(given) != {c.pk for c in criteria}:
        raise ValidationError(_("Score every criterion at once."), code="incomplete")
    values: dict[int, Decimal] = {}
    for c in criteria:
        raw = given[c.pk]
        if raw is None or str(raw).strip() == "":
            raise ValidationError(_("Score every criterion at once."), code="incomplete")
        value = _decimal(raw, c.name)
        if not Decimal(0) <= value <= c.max_score:
            raise ValidationError(
                _("%(c)s: the score must lie between 0 and %(max)s.") % {"c": c.name, "max": c.max_score},
                code="range",
            )
        values[c.pk] = value
    previous = (
        current_sheets(locked).filter(evaluator_id=who.pk, household=household).prefetch_related("scores").first()
    )
    if previous is not None and {s.criterion_id: s.score for s in previous.scores.all()} == values:
        return previous, True
    sheet = Submission.objects.create(
        event=locked, evaluator_id=who.pk, household=household, supersedes=previous, submitted_at=at or timezone.now()
    )
    Score.objects.bulk_create([Score(submission=sheet, criterion_id=pk, score=v) for pk, v in values.items()])
    audit_record(
        actor=actor if not is_system(actor) else f"system for {who.get_username()}",
        action="create",
        obj=sheet,
        county_code=locked.county_code,
        changes={
            "scores": {str(k): str(v) for k, v in values.items()},
            "supersedes": [None, getattr(previous, "pk", None)],
        },
    )
    return sheet, False


def progress(event: ReviewEvent) -> dict[int, int]:
    """Households scored so far, by evaluator id."""
    counts: dict[int, int] = defaultdict(int)
    for evaluator_id in current_sheets(event).values_list("evaluator_id", flat=True):
        counts[evaluator_id] += 1
    return dict(counts)


def compute(event: ReviewEvent) -> list[tuple[int, Decimal, list[Decimal]]]:
    """(household id, total, evaluator totals by evaluator id) for every household; raises if
    a panel member has not scored every household."""
    criteria = {c.pk: c for c in event.criteria.all()}
    panel = sorted(event.panel.values_list("pk", flat=True))
    households = list(event.households.values_list("pk", flat=True))
    sheets: dict[tuple[int, int], dict[int, Decimal]] = defaultdict(dict)
    for evaluator_id, household_id, criterion_id, score in Score.objects.filter(
        submission__in=current_sheets(event)
    ).values_list("submission__evaluator_id", "submission__household_id", "criterion_id", "score"):
        sheets[(evaluator_id, household_id)][criterion_id] = score
    missing = sum(1 for e in panel for h in households if (e, h) not in sheets)
    if missing:
        raise ValidationError(
            _("%(n)d score sheets are still missing; every evaluator scores every household.") % {"n": missing},
            code="incomplete",
        )
    trimmed = event.method == ReviewEvent.Method.TRIMMED
    if trimmed and len(panel) < 3:
        raise ValidationError(_("A trimmed mean needs a panel of at least 3 evaluators."), code="panel")
    out = []
    for h in households:
        per = [
            scoring.weighted_total(
                (criteria[c].weight, criteria[c].max_score, s) for c, s in sheets[(e, h)].items()
            )
            for e in panel
        ]
        out.append((h, scoring.household_total(per, trimmed=trimmed), per))
    return out


def plaque_for(tiers: list[Tier], total: Decimal, rank: int) -> Tier | None:
    for tier in tiers:
        if (tier.top_n is None or rank <= tier.top_n) and (tier.min_total is None or total >= tier.min_total):
            return tier
    return None


@transaction.atomic
def event_close(*, actor: Any, event: ReviewEvent, at: dt.datetime | None = None) -> list[Result]:
    """Close scoring, compute and rank the results and record the plaques (all at once)."""
    require_actor(actor)
    locked = ReviewEvent.objects.select_for_update().select_related("village").get(pk=event.pk)
    _require_committee(actor, locked.village)
    if locked.status != S.SCORING:
        raise ValidationError(_("Only a review being scored can be closed."), code="state")
    rows = compute(locked)
    places = scoring.ranks([total for _h, total, _per in rows])
    tiers = list(locked.tiers.all())
    results = Result.objects.bulk_create(
        [
            Result(
                event=locked,
                household_id=h,
                total=total,
                rank=rank,
                evaluator_totals=[str(p) for p in per],
                tier=plaque_for(tiers, total, rank),
            )
            for (h, total, per), rank in zip(rows, places, strict=True)
        ]
    )
    now = at or timezone.now()
    _move(actor, locked, S.SCORING, S.CLOSED, now, closed_at=now)
    plaques: dict[str, int] = defaultdict(int)
    for r in results:
        if r.tier is not None:
            plaques[r.tier.name] += 1
    audit_record(
        actor=actor, action="create", obj=locked, note="results", changes={"results": len(results), "plaques": plaques}
    )
    return results


@transaction.atomic
def event_award(*, actor: Any, event: ReviewEvent, at: dt.datetime | None = None) -> list[Entry]:
    """Propose the plaques' points through the points ledger (committee review and publicity
    follow as for any entry). Awarding an awarded review returns its entries and writes none.

    Each tier's item is looked up by code in the rules adopted now: if the rules were amended
    since the set-up, the entry is made under the current version, as the ledger requires."""
    require_actor(actor)
    locked = ReviewEvent.objects.select_for_update().select_related("village").get(pk=event.pk)
    _require_committee(actor, locked.village)
    if locked.status == S.AWARDED:
        return list(Entry.objects.filter(pk__in=locked.results.exclude(entry=None).values("entry_id")))
    if locked.status != S.CLOSED:
        raise ValidationError(_("Points are awarded after the review is closed."), code="state")
    winners = list(locked.results.exclude(tier=None).select_related("tier__item", "household").order_by("rank", "pk"))
    entries: list[Entry] = []
    if winners:
        version = adopted_version(locked.village)
        if version is None:
            raise ValidationError(_("This village has no adopted points rules yet."))
        items = {i.code: i for i in version.items.all()}
        proposals = []
        for r in winners:
            assert r.tier is not None
            item = items.get(r.tier.item.code)
            if item is None:
                raise ValidationError(
                    _("Rule item %(c)s is not in the adopted rules of this village.") % {"c": r.tier.item.code}
                )
            evidence = f"{locked.title}：{r.tier.name}（{r.total} 分，第 {r.rank} 名）"
            proposals.append(ledger.Proposal(r.household, item, locked.date, evidence))
        entries, _replayed = ledger.entry_propose_batch(
            actor=actor,
            rule_set=version.rule_set,
            proposals=proposals,
            idempotency_key=f"courtyard-award-{locked.pk}",
            at=at,
        )
        for r, entry in zip(winners, entries, strict=True):
            Result.objects.filter(pk=r.pk, entry__isnull=True).update(entry=entry)
    now = at or timezone.now()
    _move(actor, locked, S.CLOSED, S.AWARDED, now, awarded_at=now)
    return entries
