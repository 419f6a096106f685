"""The schedule sweep of 三会一课 (one `@sweeper` of `hemei sweep`).

`sweep_schedule(now)`:
1. For every 党支部 and 党小组 and every kind its rule covers (`hemei.party.rules`), make sure
   a `PeriodCheck` row exists for each period that has ended (within the look-back and after
   the organisation was founded). Rows are inserted with ignore_conflicts on the unique
   (branch, kind, period) key, so two sweepers insert each row once.
2. For each check still due: look for a held session of that kind in the period. Claim the
   row with the workflow's conditional update on (pk, status=due) (`party.period`): met, or missed and moved
   to the township tier. Only the sweeper whose update changed the row goes on.
3. For a missed period: an audit row, and the township staff (and the village secretary) are
   told in their inbox.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from hemei.core.scope import system
from hemei.core.sweeps import Escalation, Tier, next_due, sweeper
from hemei.core.workflow import transition
from hemei.party import rules
from hemei.party.models import Branch, PeriodCheck, Session, SessionKind
from hemei.regions.models import Post, Region, Role

SWEEP = system("sweep")


def _start(branch: Branch) -> dt.date:
    return branch.founded_on or timezone.localdate(branch.created_at)


def ensure_checks(now: dt.datetime) -> int:
    """Step 1: the checks of every ended period; returns how many rows were asked for."""
    lookback = int(getattr(settings, "HEMEI_PARTY_LOOKBACK_DAYS", 366))
    rows: list[PeriodCheck] = []
    for branch in Branch.objects.filter(kind__in=rules.CHECKED_BRANCH_KINDS).only(
            "pk", "kind", "county_id", "founded_on", "created_at"):
        for kind, period in rules.rules_for(branch.kind).items():
            for start, end in rules.completed_periods(period, since=_start(branch), now=now, lookback_days=lookback):
                rows.append(PeriodCheck(county_id=branch.county_id, branch_id=branch.pk, kind=kind, period_start=start,
                                        period_end=end, due_by=rules.end_moment(end)))
    PeriodCheck.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return len(rows)


def held_in(check: PeriodCheck) -> Session | None:
    start = rules.end_moment(check.period_start - dt.timedelta(days=1))
    return (Session.objects.filter(branch_id=check.branch_id, kind=check.kind,
                                   status__in=(Session.Status.HELD, Session.Status.RECORDED),
                                   held_at__gte=start, held_at__lt=check.due_by)
            .order_by("held_at", "pk").first())


def _tell(check: PeriodCheck) -> None:
    region = check.branch.region
    step = Region.steplen
    prefixes = [region.path[:i] for i in range(step, len(region.path) + 1, step)]
    posts = Post.objects.current().filter(role__in=(Role.TOWNSHIP_STAFF, Role.SECRETARY),
                                          region__path__in=prefixes)
    users = get_user_model().objects.filter(pk__in=posts.values("user_id"), is_active=True)
    from hemei.notify.services import notify

    with translation.override(settings.LANGUAGE_CODE):
        notify(
            recipients=users, kind="party_session_missed",
            title=_("Party session not held: %(kind)s") % {"kind": SessionKind(check.kind).label},
            body=_("%(branch)s held no %(kind)s between %(start)s and %(end)s.") % {
                "branch": check.branch.name, "kind": SessionKind(check.kind).label,
                "start": check.period_start.isoformat(), "end": check.period_end.isoformat()},
            link=reverse("party-branch", args=[check.branch_id]), ref=f"party-{check.pk}", county=check.county_id,
        )


def settle(pk: int, now: dt.datetime) -> Escalation | None:
    """Steps 2 and 3 for one check."""
    with transaction.atomic():
        check = (PeriodCheck.objects.select_related("branch__region")
                 .filter(pk=pk, status=PeriodCheck.Status.DUE).first())
        if check is None or check.due_by > now:
            return None
        session = held_in(check)
        # The move's conditional update on (pk, status=due) is the claim: a second sweeper
        # (or a second run) finds the check settled and moves nothing.
        try:
            if session is not None:
                transition(check, PeriodCheck.Status.MET, actor=SWEEP, at=now, session=session, checked_at=now,
                           data={"session": session.pk})
                return None
            transition(check, PeriodCheck.Status.MISSED, actor=SWEEP, at=now, tier=Tier.TOWNSHIP, checked_at=now,
                       changes={"status": [PeriodCheck.Status.DUE, PeriodCheck.Status.MISSED],
                                "tier": [Tier.VILLAGE, Tier.TOWNSHIP]}, audit_note="escalated")
        except ValidationError:
            return None
        _tell(check)
    return Escalation("party", f"{check.branch.name} {check.kind} {check.period_start}", "session",
                      Tier.VILLAGE, Tier.TOWNSHIP)


@sweeper("party")
def sweep_schedule(now: dt.datetime) -> list[Escalation]:
    ensure_checks(now)
    due = (PeriodCheck.objects.filter(status=PeriodCheck.Status.DUE, due_by__lte=now)
           .order_by("due_by", "pk").values_list("pk", flat=True))
    done = []
    for pk in list(due):
        result = settle(pk, now)
        if result is not None:
            done.append(result)
    return done


@next_due("party")
def earliest_deadline() -> dt.datetime | None:
    """The end of the current period of the shortest rule: checks are created when it passes."""
    periods = set(rules.schedule().values())
    if not periods or not Branch.objects.filter(kind__in=rules.CHECKED_BRANCH_KINDS).exists():
        return None
    today = timezone.localdate()
    return min(rules.end_moment(rules.period_of(today, p)[1]) for p in periods)
