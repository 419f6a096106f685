"""Summary rows: kept equal to the facts, so that no dashboard reads a ledger.

Facts are the numbers per lowest region (grid or village), period and element; summaries are
the facts summed over each region's subtree. Three ways in, one rule (a sum of the facts):

1. **On write**: approving a village's report (`refresh_reports`) recomputes that village's
   entered facts for the month, its quarter and its year, and adds each *difference* to the
   village's summary and its ancestors' — a few rows per changed value.
2. **By the sweep** (`refresh`, the `indicators` sweeper, at most every
   ``HEMEI_ROLLUP_EVERY`` seconds): the computed facts of the open periods (this month and
   last month, their quarters and years) are recomputed with one grouped query per source and
   period, compared with the stored facts, and only the differences are applied upward.
3. **From scratch** (`rebuild`, `hemei rollup --rebuild`): every fact of the window
   (``HEMEI_ROLLUP_FROM``, default January of last year, to this month) recomputed and every
   summary re-summed. Snapshot facts of closed periods (see `sources`) are kept as recorded.

`differences()` (the `hemei verify` check "indicator-rollup") brings the rows up to date the
incremental way, computes what a rebuild would store and lists where the two differ (then
rolls the refresh back: verify changes nothing). Every refresh holds the `RollupState` row's
lock (an UPDATE first, so SQLite takes its write lock before reading), so two refreshes never
apply one difference twice.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hemei.indicators import catalogue
from hemei.indicators.catalogue import Aggregation
from hemei.indicators.models import Fact, Report, ReportValue, RollupState, Summary
from hemei.indicators.periods import Kind, Period, month_of, parse, window
from hemei.indicators.sources import SOURCES
from hemei.regions.models import Region

Key = tuple[int, str, str]  # region id, period code, element
Values = dict[Key, Decimal]
ZERO = Decimal(0)
Q4 = Decimal("0.0001")
ENTERED_CODES = frozenset(e.code for e in catalogue.ENTERED) | {"reports.approved"}


def _q(value: Decimal) -> Decimal:
    return Decimal(value).quantize(Q4)


def today() -> dt.date:
    return timezone.localdate()


def open_periods(on: dt.date | None = None) -> list[Period]:
    """This month and last month, with their quarters and years."""
    this = month_of(on or today())
    months = [this.previous(), this]
    return months + sorted({p for m in months for p in m.containing()}, key=lambda p: (p.kind != Kind.QUARTER, p))


def window_periods(on: dt.date | None = None) -> list[Period]:
    raw = getattr(settings, "HEMEI_ROLLUP_FROM", "") or ""
    last = month_of(on or today())
    first = parse(raw) if raw else Period(last.year - 1, 1)
    return window(first, last)


# --- computing facts ------------------------------------------------------------------------


def computed_facts(periods: Iterable[Period], *, snapshots: bool) -> Values:
    out: Values = {}
    for period in periods:
        for src in SOURCES:
            if src.snapshot and not snapshots:
                continue
            for element, by_region in src.fn(period).items():
                for region_id, value in by_region.items():
                    if value:
                        out[(region_id, period.code, element)] = _q(value)
    return out


def entered_facts(periods: Iterable[Period], villages: Iterable[int] | None = None) -> Values:
    """Facts of the approved reports: a month's values as reported (and `reports.approved` = 1);
    a quarter or year from its months by each element's aggregation (sum, or the last month
    reported)."""
    wanted = list(periods)
    months = sorted({m for p in wanted for m in p.months()})
    qs = ReportValue.objects.filter(report__status=Report.Status.APPROVED,
                                    report__period__in=[m.code for m in months])
    reports = Report.objects.filter(status=Report.Status.APPROVED, period__in=[m.code for m in months])
    if villages is not None:
        ids = list(villages)
        qs = qs.filter(report__village_id__in=ids)
        reports = reports.filter(village_id__in=ids)
    monthly: dict[tuple[int, str], dict[str, Decimal]] = defaultdict(dict)
    for village_id, code, element, value in qs.values_list("report__village_id", "report__period", "element",
                                                           "value"):
        monthly[(village_id, code)][element] = value
    for village_id, code in reports.values_list("village_id", "period"):
        monthly[(village_id, code)]["reports.approved"] = Decimal(1)
    out: Values = {}
    village_ids = {v for v, _p in monthly}
    for period in wanted:
        codes = [m.code for m in period.months()]
        for village_id in village_ids:
            rows = [(code, monthly[(village_id, code)]) for code in codes if (village_id, code) in monthly]
            if not rows:
                continue
            for element, value in _aggregate(rows).items():
                if value:
                    out[(village_id, period.code, element)] = _q(value)
    return out


def _aggregate(rows: list[tuple[str, dict[str, Decimal]]]) -> dict[str, Decimal]:
    """Months (oldest first) → one value per element: a sum, or the latest month's value."""
    result: dict[str, Decimal] = {}
    for _code, values in rows:
        for element, value in values.items():
            spec = catalogue.ELEMENTS.get(element)
            if spec is not None and spec.aggregation == Aggregation.SUM:
                result[element] = result.get(element, ZERO) + value
            else:
                result[element] = value
    return result


def stored_facts(periods: Iterable[Period], *, elements: Iterable[str] | None = None,
                 regions: Iterable[int] | None = None) -> Values:
    qs = Fact.objects.filter(period__in=[p.code for p in periods])
    if elements is not None:
        qs = qs.filter(element__in=list(elements))
    if regions is not None:
        qs = qs.filter(region_id__in=list(regions))
    return {(r, p, e): _q(v) for r, p, e, v in qs.values_list("region_id", "period", "element", "value")}


# --- applying differences -------------------------------------------------------------------


@dataclass
class Applied:
    facts: int = 0  # facts changed
    summaries: int = 0  # summary rows changed


def _ancestors(region_ids: Iterable[int]) -> dict[int, list[tuple[int, str, int]]]:
    """region id → [(id, path, depth)] of itself and every ancestor (two queries)."""
    own = dict(Region.objects.filter(pk__in=set(region_ids)).values_list("pk", "path"))
    step = Region.steplen
    prefixes = {path[:i] for path in own.values() for i in range(step, len(path) + 1, step)}
    by_path = {p: (pk, d) for pk, p, d in Region.objects.filter(path__in=prefixes).values_list("pk", "path", "depth")}
    return {rid: [(by_path[path[:i]][0], path[:i], by_path[path[:i]][1])
                  for i in range(step, len(path) + 1, step) if path[:i] in by_path]
            for rid, path in own.items()}


def _apply(new: Values, old: Values) -> Applied:
    """Make the facts of the keys in `old` ∪ `new` equal `new`, and add each difference to the
    summaries of the fact's region and of its ancestors."""
    diffs = {k: new.get(k, ZERO) - old.get(k, ZERO) for k in set(new) | set(old)}
    diffs = {k: d for k, d in diffs.items() if d}
    if not diffs:
        return Applied()
    _write_facts(diffs, new)
    chains = _ancestors({k[0] for k in diffs})
    deltas: dict[Key, Decimal] = defaultdict(Decimal)
    places: dict[int, tuple[str, int]] = {}
    for (region_id, period, element), delta in diffs.items():
        for pk, path, depth in chains.get(region_id, []):
            deltas[(pk, period, element)] += delta
            places[pk] = (path, depth)
    existing = {(s.region_id, s.period, s.element): s for s in Summary.objects.filter(
        region_id__in={k[0] for k in deltas}, period__in={k[1] for k in deltas}, element__in={k[2] for k in deltas})}
    changed, created = [], []
    for key, delta in deltas.items():
        if not delta:
            continue
        row = existing.get(key)
        if row is None:
            path, depth = places[key[0]]
            created.append(Summary(region_id=key[0], path=path, depth=depth, period=key[1], element=key[2],
                                   value=delta))
        else:
            row.value = row.value + delta
            changed.append(row)
    Summary.objects.bulk_update(changed, ["value"], batch_size=500)
    Summary.objects.bulk_create(created, batch_size=1000)
    return Applied(facts=len(diffs), summaries=len(changed) + len(created))


def _write_facts(diffs: dict[Key, Decimal], new: Values) -> None:
    keys = list(diffs)
    existing = {(f.region_id, f.period, f.element): f for f in Fact.objects.filter(
        region_id__in={k[0] for k in keys}, period__in={k[1] for k in keys}, element__in={k[2] for k in keys})}
    changed, created, gone = [], [], []
    for key in keys:
        value = new.get(key, ZERO)
        row = existing.get(key)
        if row is None:
            created.append(Fact(region_id=key[0], period=key[1], element=key[2], value=value))
        elif value:
            row.value = value
            changed.append(row)
        else:
            gone.append(row.pk)
    Fact.objects.bulk_update(changed, ["value"], batch_size=500)
    Fact.objects.bulk_create(created, batch_size=1000)
    if gone:
        Fact.objects.filter(pk__in=gone).delete()


def _lock() -> RollupState:
    """Take the rollup's lock for the rest of the transaction: an UPDATE first (SQLite's write
    lock before anything is read), then the row (PostgreSQL's row lock)."""
    state, _created = RollupState.objects.get_or_create(name="default")
    RollupState.objects.filter(pk=state.pk).update(name="default")
    return RollupState.objects.select_for_update().get(pk=state.pk)


# --- the three ways in ----------------------------------------------------------------------


@transaction.atomic
def refresh_reports(village_id: int, month: Period) -> Applied:
    """On write: the entered facts of one village for one month, its quarter and its year."""
    _lock()
    periods = [month, *month.containing()]
    new = entered_facts(periods, [village_id])
    old = stored_facts(periods, elements=ENTERED_CODES, regions=[village_id])
    return _apply(new, old)


@transaction.atomic
def refresh(periods: list[Period] | None = None, *, now: dt.datetime | None = None) -> Applied:
    """By the sweep: the computed facts (snapshots included) and entered facts of the open
    periods (or of `periods`, which must be open: a snapshot means "as now")."""
    state = _lock()
    on = timezone.localtime(now).date() if now else None
    if state.rebuilt_at is None:  # never built: the first refresh builds everything
        return rebuild(on, now=now)
    chosen = periods or open_periods(on)
    new = {**computed_facts(chosen, snapshots=True), **entered_facts(chosen)}
    old = stored_facts(chosen)
    applied = _apply(new, old)
    state.refreshed_at = now or timezone.now()
    state.save(update_fields=["refreshed_at"])
    return applied


def expected(on: dt.date | None = None) -> tuple[Values, Values]:
    """What a rebuild stores: (facts, summaries) for the window."""
    periods = window_periods(on)
    open_codes = {p.code for p in open_periods(on)}
    snapshot_elements = {e for s in SOURCES if s.snapshot for e in s.elements}
    facts = computed_facts(periods, snapshots=False)
    facts.update(computed_facts([p for p in periods if p.code in open_codes], snapshots=True))
    facts.update(entered_facts(periods))
    kept = Fact.objects.filter(element__in=snapshot_elements, period__in=[p.code for p in periods]).exclude(
        period__in=open_codes)
    for r, p, e, v in kept.values_list("region_id", "period", "element", "value"):
        facts[(r, p, e)] = _q(v)
    facts = {k: v for k, v in facts.items() if v}
    summaries: Values = defaultdict(Decimal)
    chains = _ancestors({k[0] for k in facts})
    for (region_id, period, element), value in facts.items():
        for pk, _path, _depth in chains.get(region_id, []):
            summaries[(pk, period, element)] += value
    return facts, {k: v for k, v in summaries.items() if v}


@transaction.atomic
def rebuild(on: dt.date | None = None, *, now: dt.datetime | None = None) -> Applied:
    """From scratch: every fact and summary of the window recomputed and written anew.
    `now` (a sweep run for another moment, `hemei sweep --now`) is recorded as the moment the
    rows describe, so that `differences` compares them with the same window."""
    state = _lock()
    facts, summaries = expected(on)
    places = dict((pk, (path, depth)) for pk, path, depth in Region.objects.filter(
        pk__in={k[0] for k in summaries}).values_list("pk", "path", "depth"))
    Fact.objects.all().delete()
    Summary.objects.all().delete()
    Fact.objects.bulk_create([Fact(region_id=r, period=p, element=e, value=v) for (r, p, e), v in facts.items()],
                             batch_size=2000)
    Summary.objects.bulk_create([Summary(region_id=r, path=places[r][0], depth=places[r][1], period=p, element=e,
                                         value=v) for (r, p, e), v in summaries.items()], batch_size=2000)
    state.rebuilt_at = state.refreshed_at = now or timezone.now()
    state.save(update_fields=["rebuilt_at", "refreshed_at"])
    return Applied(facts=len(facts), summaries=len(summaries))


def differences(on: dt.date | None = None, limit: int = 20) -> list[str]:
    """Stored facts and summaries against what a rebuild would store: one line per
    difference (at most `limit`, then a count). Nothing to compare before the first build
    (a fresh install, before its first sweep or `hemei rollup`)."""
    state = RollupState.objects.filter(rebuilt_at__isnull=False).first()
    if state is None:
        return []
    # The window is the one of the last refresh: rows built by `hemei sweep --now <moment>`
    # describe that moment's window, not today's.
    moment = state.refreshed_at or state.rebuilt_at
    on = on or timezone.localdate(moment)
    # What was written since the last refresh is not in the rollup yet (the sweep refreshes
    # every HEMEI_ROLLUP_EVERY seconds): that lag is by design, not drift. The check is that
    # the incremental path equals a rebuild, so the incremental path runs first, in a
    # transaction that is rolled back.
    with transaction.atomic():
        refresh(now=moment)
        problems = _compare(on)
        transaction.set_rollback(True)
    if len(problems) > limit:
        return [*problems[:limit], f"… {len(problems) - limit} more"]
    return problems


def _compare(on: dt.date) -> list[str]:
    want_facts, want_summaries = expected(on)
    periods = [p.code for p in window_periods(on)]
    have_facts = {(r, p, e): _q(v) for r, p, e, v in Fact.objects.filter(period__in=periods).values_list(
        "region_id", "period", "element", "value") if v}
    have_summaries = {(r, p, e): _q(v) for r, p, e, v in Summary.objects.filter(period__in=periods).values_list(
        "region_id", "period", "element", "value") if v}
    problems: list[str] = []
    for what, want, have in (("fact", want_facts, have_facts), ("summary", want_summaries, have_summaries)):
        for key in sorted(set(want) | set(have)):
            if want.get(key, ZERO) != have.get(key, ZERO):
                problems.append(f"{what} region {key[0]} {key[1]} {key[2]}: stored {have.get(key, ZERO)}, "
                                f"rebuild {want.get(key, ZERO)}")
    return problems

