"""Disclosure schedules and their deadlines, swept by the shared `hemei sweep`.

Rule (村民委员会组织法 art. 30, defaults per village in `ScheduleSettings`):
- finances every month, village and party affairs every quarter; periods are calendar-aligned
  (months; quarters Jan–Mar, Apr–Jun, …; an n-month period starts in a month m with
  (m − 1) mod n = 0);
- a period is due by the end of the `due_working_days`-th (default 10th) working day after its
  last day — for the finances of month M: the 10th working day of M+1 — counted with the
  working-day calendar (`hemei.core.calendar`, holidays skipped);
- a major item (重大事项) is due `major_working_days` (default 5) working days after its
  draft was created (`services.disclosure_create`);
- a period counts as published when a published version of the village's disclosure of that
  kind covers it (the disclosure's period contains the due period).

The sweeper (`@sweeper("disclosure")` in `hemei.disclosure.sweep`):
1. creates the due rows for every period that has ended since `tracked_from` (insert, conflicts
   ignored: two sweepers at once create each row once);
2. reads the open rows past their deadline below county tier; for each, in its own transaction,
   a period that was published meanwhile is marked published; otherwise the row moves up one
   tier with a conditional update on (pk, tier, due_at as read, still unpublished) — only the
   sweeper whose update changed the row acts, so each deadline escalates exactly once. The new
   deadline is the same number of working days counted from `now`, at the new tier.
   The winner notifies the tier above and the village's secretary and director (`hemei.notify`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from hemei.core.audit import audit_record, diff
from hemei.core.calendar import add_working_days
from hemei.core.parsing import parse_int
from hemei.core.scope import require_actor
from hemei.core.sweeps import NEXT_TIER, Escalation, Tier, claim_once
from hemei.disclosure.models import DisclosureVersion, Kind, ScheduleDue, ScheduleSettings
from hemei.regions.access import scope_for
from hemei.regions.models import Post, Region, Role

PERIODIC_KINDS = (Kind.FINANCE, Kind.VILLAGE, Kind.PARTY)


def _month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def _from_index(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 1)


def periods(settings: ScheduleSettings, kind: str, until: dt.date) -> Iterator[tuple[dt.date, dt.date]]:
    """(first day, last day) of each period of `kind` that has ended before `until`."""
    months = max(1, settings.months_for(kind))
    index = _month_index(settings.tracked_from)
    index -= index % 12 % months  # align: quarters start in Jan/Apr/Jul/Oct
    while True:
        start = _from_index(index)
        end = _from_index(index + months) - dt.timedelta(days=1)
        if end >= until:
            return
        yield start, end
        index += months


def due_for(period_end: dt.date, working_days: int, county_code: str) -> dt.datetime:
    """End of the n-th working day after the period's last day."""
    tz = timezone.get_default_timezone()
    return add_working_days(dt.datetime.combine(period_end, dt.time(12), tz), working_days, county_code=county_code)


def schedule_refresh(now: dt.datetime) -> int:
    """Create the due rows of every period that has ended (idempotent)."""
    today = timezone.localtime(now).date()
    created = 0
    for settings in ScheduleSettings.objects.select_related("village"):
        village = settings.village
        county_code = village.code[:6]
        county = village.county_ancestor()
        if county is None:
            continue
        rows = [
            ScheduleDue(
                county=county,
                village=village,
                kind=kind,
                period_start=start,
                period_end=end,
                due_at=due_for(end, settings.due_working_days, county_code),
            )
            for kind in PERIODIC_KINDS
            for start, end in periods(settings, kind, today)
        ]
        existing = set(ScheduleDue.objects.filter(village=village, major=False, case__isnull=True)
                       .values_list("kind", "period_start"))
        new = [r for r in rows if (r.kind, r.period_start) not in existing]
        if new:
            ScheduleDue.objects.bulk_create(new, ignore_conflicts=True)
            created += len(new)
            # A period published before its row existed (published right after it ended).
            fresh = ScheduleDue.objects.filter(
                village=village, major=False, case__isnull=True, fulfilled_at__isnull=True,
                period_start__in=[r.period_start for r in new]
            )
            for due in fresh:
                if is_published(due):
                    claim_once(ScheduleDue, due.pk, expect={"fulfilled_at": None}, update={"fulfilled_at": now})
    return created


def is_published(due: ScheduleDue) -> bool:
    published = DisclosureVersion.objects.filter(status=DisclosureVersion.Status.PUBLISHED)
    if due.major:
        return published.filter(disclosure=due.disclosure_id).exists()
    return published.filter(
        village_id=due.village_id,
        disclosure__kind=due.kind,
        disclosure__period_start__lte=due.period_start,
        disclosure__period_end__gte=due.period_end,
    ).exists()


def _limit(due: ScheduleDue) -> int:
    settings = ScheduleSettings.objects.filter(village_id=due.village_id).first()
    if settings is None:
        return 5 if due.major else 10
    return settings.major_working_days if due.major else settings.due_working_days


TIER_ROLES: dict[str, tuple[str, ...]] = {
    Tier.TOWNSHIP: (Role.TOWNSHIP_STAFF,),
    Tier.COUNTY: (Role.COUNTY_DISPATCHER, Role.COUNTY_ADMIN),
}


def _tell(due: ScheduleDue, tier: str, new_due: dt.datetime) -> None:
    """The tier above learns of the missed publication (inbox, in this transaction), and the
    village's secretary and director are reminded."""
    from hemei.notify.services import notify

    village = due.village
    step = Region.steplen
    above = [village.path[:i] for i in range(step, len(village.path), step)]
    posts = Post.objects.current().filter(
        Q(region__path__in=above, role__in=TIER_ROLES.get(tier, ()))
        | Q(region=village, role__in=(Role.SECRETARY, Role.DIRECTOR))
    )
    users = get_user_model().objects.filter(pk__in=posts.values("user_id"), is_active=True)
    period = f"{due.period_start:%Y-%m-%d} – {due.period_end:%Y-%m-%d}"
    notify(
        recipients=users,
        kind="disclosure_overdue",
        title=_("%(village)s: %(kind)s for %(period)s not published on time")
        % {"village": village.name, "kind": Kind(due.kind).label, "period": period},
        body=_("Escalated to the %(tier)s; new deadline %(due)s.")
        % {"tier": Tier(tier).label, "due": timezone.localtime(new_due).strftime("%Y-%m-%d %H:%M")},
        link="/w/disclosure/schedule/",
        ref=f"{village.code}-{due.kind}-{due.period_start:%Y%m}",
        county=due.county_id,
    )


def escalate(pk: int, now: dt.datetime) -> Escalation | None:
    with transaction.atomic():
        due = ScheduleDue.objects.select_related("village").filter(pk=pk).first()
        if due is None or due.fulfilled_at is not None or due.tier not in NEXT_TIER or due.due_at > now:
            return None
        if is_published(due):
            claim_once(ScheduleDue, pk, expect={"fulfilled_at": None}, update={"fulfilled_at": now})
            return None
        old_due, old_tier, new_tier = due.due_at, due.tier, NEXT_TIER[due.tier]
        new_due = add_working_days(now, _limit(due), county_code=due.village.code[:6])
        if not claim_once(
            ScheduleDue,
            pk,
            expect={"tier": old_tier, "due_at": old_due, "fulfilled_at": None},
            update={"tier": new_tier, "due_at": new_due, "was_overdue": True, "escalated_at": now},
        ):
            return None  # another sweeper (or a publication) got there first
        _tell(due, new_tier, new_due)
        audit_record(
            actor="sweep",
            action="update",
            obj=due,
            county_code=due.village.code[:6],
            note="escalated",
            changes={"tier": [old_tier, new_tier], "due_at": [old_due, new_due]},
        )
    ref = (f"{due.village.code} {due.kind} {due.period_start:%Y-%m}" + (" major" if due.major else "")
           + (f" ordered {due.case_id}" if due.case_id else ""))
    return Escalation("disclosure", ref, "publish", old_tier, new_tier)


SETTING_LIMITS = {
    "finance_months": (1, 12),
    "village_months": (1, 12),
    "party_months": (1, 12),
    "due_working_days": (0, 60),
    "major_working_days": (0, 30),
}


def _label(key: str) -> str:
    return str(getattr(ScheduleSettings._meta.get_field(key), "verbose_name", key))


@transaction.atomic
def schedule_settings_save(
    *, actor: object, village: Region, tracked_from: dt.date, values: dict[str, str]
) -> ScheduleSettings:
    """Create or change a village's schedule. Blank values keep the defaults (the law's
    minimum); a longer interval than the law allows is refused: finances at most quarterly,
    village and party affairs at most quarterly (art. 30: 至少每季度公布一次)."""
    require_actor(actor)
    from hemei.disclosure import access

    access.require_role(actor, village, access.SCHEDULE_ROLES)
    settings = ScheduleSettings.objects.filter(village=village).first() or ScheduleSettings(village=village)
    old = {k: getattr(settings, k) for k in SETTING_LIMITS} | {"tracked_from": settings.tracked_from}
    for key, (low, high) in SETTING_LIMITS.items():
        raw = (values.get(key) or "").strip()
        if not raw:
            continue
        if parse_int(raw, minimum=low, maximum=high) is None:
            raise ValidationError(
                _("%(field)s must be a whole number from %(low)d to %(high)d.")
                % {"field": _label(key), "low": low, "high": high}
            )
        setattr(settings, key, int(raw))
    if max(settings.finance_months, settings.village_months, settings.party_months) > 3:
        raise ValidationError(_("The law asks for publication at least every quarter (3 months)."))
    settings.tracked_from = tracked_from
    settings.save()
    new = {k: getattr(settings, k) for k in SETTING_LIMITS} | {"tracked_from": tracked_from}
    audit_record(
        actor=actor,
        action="update" if old["tracked_from"] else "create",
        obj=settings,
        county_code=village.code[:6],
        changes=diff(old, new),
    )
    return settings


# --- a publication ordered on a villager's complaint (村民委员会组织法 art. 31) ----------------

ORDER_ROLES = frozenset({Role.TOWNSHIP_STAFF, Role.COUNTY_DISPATCHER, Role.COUNTY_ADMIN})
ORDER_MAX_DAYS = 30


def publication_order(
    *, actor: Any, case: Any, kind: str, period_start: dt.date, period_end: dt.date, working_days: int
) -> ScheduleDue:
    """The township orders the village to publish what a villager complained was not published.

    1. Only township (or county) staff over the case's village, on an open case.
    2. `kind` and the period name what must be published; `working_days` (1–30) the deadline,
       counted with the working-day calendar from now.
    3. A period already published needs no order (an error: answer the villager instead).
    4. One `ScheduleDue` row with the case attached, at the township tier: the shared sweep
       (`sweep` above) marks it published when a covering version appears, or moves it to the
       county exactly once when the deadline passes. The case gets an `ordered` event and the
       audit log a row; the village's secretary and director are told."""
    from hemei.cases.models import Case, CaseEvent
    from hemei.cases.services import OPEN_STATUSES
    from hemei.core.workflow import record
    from hemei.notify.services import notify

    require_actor(actor)
    assert isinstance(case, Case)
    village = case.region if case.region.level == "village" else case.region.get_parent()
    scope = scope_for(actor)
    if not (scope.covers_path(village.path, write=True) and scope.roles_over(village.path) & ORDER_ROLES):
        raise PermissionDenied(_("Only the township or the county orders a village to publish."))
    if case.status not in OPEN_STATUSES:
        raise ValidationError(_("The complaint is no longer open."))
    if kind not in Kind.values:
        raise ValidationError(_("Unknown kind of disclosure."))
    if period_end < period_start:
        raise ValidationError(_("The period ends before it starts."))
    if not 1 <= working_days <= ORDER_MAX_DAYS:
        raise ValidationError(_("The deadline is 1 to %(n)d working days.") % {"n": ORDER_MAX_DAYS})
    now = timezone.now()
    due = ScheduleDue(county=case.county, village=village, kind=kind, case=case, period_start=period_start,
                      period_end=period_end, tier=Tier.TOWNSHIP,
                      due_at=add_working_days(now, working_days, county_code=village.code[:6]))
    if is_published(due):
        raise ValidationError(_("This period is already published."))
    with transaction.atomic():
        due.save()
        note = _("%(kind)s for %(start)s – %(end)s to be published by %(due)s") % {
            "kind": Kind(kind).label, "start": period_start, "end": period_end,
            "due": timezone.localtime(due.due_at).strftime("%Y-%m-%d %H:%M")}
        record(case, kind=CaseEvent.Kind.ORDERED, actor=actor, at=now, note=note,
               data={"due": due.pk, "due_at": due.due_at.isoformat()})
        audit_record(actor=actor, action="create", obj=due,
                     changes={"kind": [None, kind], "case": [None, case.number], "due_at": [None, str(due.due_at)]})
        posts = Post.objects.current().filter(region=village, role__in=(Role.SECRETARY, Role.DIRECTOR))
        notify(recipients=get_user_model().objects.filter(pk__in=posts.values("user_id"), is_active=True),
               kind="disclosure_ordered", title=_("The township orders publication: %(note)s") % {"note": note},
               body=case.number, link="/w/disclosure/schedule/")
    return due
