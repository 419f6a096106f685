"""Who hears about what on a case, and the reminder before a resolve-by deadline.

`case_event_notify(event)` is called for every new `CaseEvent` (from `services._event` and the
escalation sweep), inside the same transaction: the inbox rows commit or roll back with the
change, email and SMS go out only after the commit (`hemei.notify.services.notify`).

- submitted: the grid workers and grid leaders of the case's grid (and those posted at the
  whole village), the village secretary and director;
- accepted: the reporter's villager account, and the person made responsible;
- started, resolved, rejected, merged, transferred, extension granted, tabled, decided: the
  reporter's villager account (resolved and rejected by SMS too: the reporter must act);
- rated, reopened, extension granted / refused, transferred: the responsible person;
- escalated: staff posted at the new tier's region above the case (township staff; county
  administrators and dispatchers), and the responsible person is reminded (the village staff
  when nobody is responsible yet);
- reminded: the responsible person (the village staff when only a unit is responsible);
- extension asked: staff of the tier above the case's current tier, who decide.

The person who acted is never told about their own act. Texts are in the site language
(Chinese) whatever the actor's language, and carry the case number, never ID numbers or phones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from hemei.cases.models import Case, CaseEvent
from hemei.core.sweeps import Tier
from hemei.notify.models import Reminder
from hemei.notify.services import EMAIL, INBOX, SMS, notify
from hemei.regions.models import Level, Post, Region, Role

K = CaseEvent.Kind
GRID_ROLES = (Role.GRID_WORKER, Role.GRID_LEADER)
VILLAGE_HEAD_ROLES = (Role.SECRETARY, Role.DIRECTOR)
SUPERVISOR_ROLES: dict[str, tuple[str, ...]] = {
    Tier.VILLAGE: VILLAGE_HEAD_ROLES,
    Tier.TOWNSHIP: (Role.TOWNSHIP_STAFF,),
    Tier.COUNTY: (Role.COUNTY_ADMIN, Role.COUNTY_DISPATCHER),
}
TIER_LEVEL: dict[str, str] = {Tier.VILLAGE: Level.VILLAGE, Tier.TOWNSHIP: Level.TOWNSHIP, Tier.COUNTY: Level.COUNTY}
TIER_ABOVE: dict[str, str] = {Tier.VILLAGE: Tier.TOWNSHIP, Tier.TOWNSHIP: Tier.COUNTY, Tier.COUNTY: Tier.COUNTY}
RESOLVING = (Case.Status.ACCEPTED, Case.Status.IN_PROGRESS)
REMINDER_KIND = "case-resolve"
WITH_SMS = (INBOX, EMAIL, SMS)
NO_SMS = (INBOX, EMAIL)


# --- recipients: each a queryset of users (one query when `notify` reads it) ----------------


def _users_of(posts: QuerySet[Post]) -> QuerySet[Any]:
    return get_user_model().objects.filter(pk__in=posts.values("user_id"))


# Within one sweep, many late cases share a village and a tier: their recipients are looked
# up once per (kind, region, tier) instead of once per case (bench/sweep.py).
_MEMO: ContextVar[dict[tuple[Any, ...], list[Any]] | None] = ContextVar("case_recipient_memo", default=None)


@contextmanager
def recipient_memo() -> Iterator[None]:
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def _memoized(key: tuple[Any, ...], build: Callable[[], QuerySet[Any]]) -> QuerySet[Any] | list[Any]:
    memo = _MEMO.get()
    if memo is None:
        return build()
    if key not in memo:
        memo[key] = list(build().filter(is_active=True).order_by("pk"))
    return memo[key]


def village_staff(case: Case) -> QuerySet[Any]:
    """Staff of the case's village who may act on it: the grid's workers and leaders (and
    those posted at the whole village), the village secretary and director. Not the workers
    of the village's other grids."""
    region = case.region
    village_path = region.path[: -Region.steplen] if region.level == Level.GRID else region.path
    posts = Post.objects.current().filter(
        Q(role__in=GRID_ROLES, region__path__in={region.path, village_path})
        | Q(role__in=VILLAGE_HEAD_ROLES, region__path=village_path)
    )
    return _users_of(posts)


def tier_staff(case: Case, tier: str) -> QuerySet[Any]:
    """Staff posted at the region of `tier` that contains the case (its township or county)."""
    step = Region.steplen
    path = case.region.path
    prefixes = [path[:i] for i in range(step, len(path) + 1, step)]
    posts = Post.objects.current().filter(
        region__level=TIER_LEVEL[tier], region__path__in=prefixes, role__in=SUPERVISOR_ROLES[tier]
    )
    return _users_of(posts)


def reporter_accounts(case: Case) -> QuerySet[Any]:
    """The villager account(s) of the reporter (a villager post names its resident)."""
    if case.reporter_id is None:
        return get_user_model().objects.none()
    return _users_of(Post.objects.current().filter(role=Role.VILLAGER, resident_id=case.reporter_id))


def responsible(case: Case, user_id: Any = None) -> QuerySet[Any]:
    pk = user_id or case.responsible_id
    return get_user_model().objects.filter(pk=pk) if pk else get_user_model().objects.none()


# --- texts ----------------------------------------------------------------------------------


def _when(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return ""
    if not isinstance(value, dt.datetime):
        return ""
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"


def _villager_text(kind: str, event: CaseEvent) -> tuple[str, str] | None:
    """(title, body) for the reporter, in plain words (适老化), or None when not told."""
    n = event.case.number
    texts: dict[str, tuple[str, str]] = {
        K.ACCEPTED: (
            _("Your request has been taken on"),
            _("Request %(n)s: someone is now responsible for it.") % {"n": n},
        ),
        K.STARTED: (_("Work on your request has started"), _("Request %(n)s is being worked on.") % {"n": n}),
        K.RESOLVED: (
            _("Your request has been dealt with"),
            _("Request %(n)s: please open it and tell us whether you are satisfied.") % {"n": n},
        ),
        K.REJECTED: (
            _("Your request could not be taken on"),
            _("Request %(n)s: open it to see the reason.") % {"n": n},
        ),
        K.MERGED: (
            _("Your request was joined with the same problem reported earlier"),
            _("Request %(n)s will be dealt with together with it.") % {"n": n},
        ),
        K.TRANSFERRED: (
            _("Your request was passed to the unit that can deal with it"),
            _("Request %(n)s has a new responsible unit.") % {"n": n},
        ),
        K.EXTENSION_GRANTED: (
            _("Your request needs more time"),
            _("Request %(n)s will be dealt with by %(date)s.")
            % {"n": n, "date": _when(event.data.get("until") or event.data.get("resolve_by"))}
            if (event.data.get("until") or event.data.get("resolve_by"))
            else _("Request %(n)s needs more time to be dealt with.") % {"n": n},
        ),
        K.TABLED: (
            _("Your request will be discussed at a village meeting"),
            _("Request %(n)s has been put to a village meeting.") % {"n": n},
        ),
        K.DECIDED: (
            _("A village meeting has decided on your request"),
            _("Request %(n)s: open it to see the decision.") % {"n": n},
        ),
    }
    return texts.get(kind)


VILLAGER_SMS = frozenset({K.RESOLVED, K.REJECTED})  # the reporter must act, or it ends


def case_event_notify(event: CaseEvent) -> None:
    """Tell the right people about one new event on a case (see the table above)."""
    with translation.override(settings.LANGUAGE_CODE):
        _notify(event)


def _notify(event: CaseEvent) -> None:
    case, kind = event.case, event.kind
    actor = [event.actor_id] if event.actor_id else []
    staff_link = reverse("case-detail", args=[case.number])
    common: dict[str, Any] = {"ref": case.number, "county": case.county_id, "exclude": actor}
    kind_key = f"case_{kind}"

    plain = _villager_text(kind, event)
    # A merge writes an event on both cases; only the duplicate's reporter is told it was joined.
    if plain is not None and not (kind == K.MERGED and "into" not in event.data):
        notify(
            recipients=reporter_accounts(case),
            kind=kind_key,
            title=plain[0],
            body=plain[1],
            link=reverse("my-case", args=[case.number]),
            channels=WITH_SMS if kind in VILLAGER_SMS else NO_SMS,
            **common,
        )

    if kind == K.SUBMITTED:
        notify(
            recipients=village_staff(case),
            kind=kind_key,
            title=_("New request: %(title)s") % {"title": case.title},
            body=_("%(n)s in %(region)s. Please take it on by %(date)s.")
            % {"n": case.number, "region": case.region.name, "date": _when(case.accept_by)},
            link=staff_link,
            **common,
        )
    elif kind == K.ACCEPTED and event.data.get("responsible"):
        notify(
            recipients=responsible(case, event.data["responsible"]),
            kind="case_assigned",
            title=_("You are responsible for request %(n)s") % {"n": case.number},
            body=_("%(title)s. Deal with it by %(date)s.") % {"title": case.title, "date": _when(case.resolve_by)},
            link=staff_link,
            **common,
        )
    elif kind == K.RATED:
        notify(
            recipients=responsible(case),
            kind=kind_key,
            title=_("Request %(n)s was rated: %(rating)s")
            % {
                "n": case.number,
                "rating": Case.Rating(event.data.get("rating")).label
                if event.data.get("rating") in Case.Rating.values
                else "",
            },
            body=case.title,
            link=staff_link,
            **common,
        )
    elif kind == K.REOPENED:
        notify(
            recipients=responsible(case),
            kind=kind_key,
            title=_("Request %(n)s is open again") % {"n": case.number},
            body=_("The reporter was not satisfied. New deadline: %(date)s.")
            % {"date": _when(event.data.get("resolve_by"))},
            link=staff_link,
            **common,
        )
    elif kind == K.ESCALATED:
        _escalated(event, staff_link, common)
    elif kind == K.REMINDED:
        notify(
            recipients=responsible(case) if case.responsible_id else village_staff(case),
            kind=kind_key,
            title=_("Reminder: request %(n)s is due soon") % {"n": case.number},
            body=_("%(title)s. Deal with it by %(date)s.")
            % {"title": case.title, "date": _when(event.data.get("resolve_by") or case.resolve_by)},
            link=staff_link,
            channels=WITH_SMS,
            **common,
        )
    elif kind == K.EXTENSION_ASKED:
        notify(
            recipients=tier_staff(case, TIER_ABOVE[case.tier]),
            kind=kind_key,
            title=_("Request %(n)s asks for more time") % {"n": case.number},
            body=_("%(title)s. Please decide on the extension.") % {"title": case.title},
            link=staff_link,
            **common,
        )
    elif kind in (K.EXTENSION_GRANTED, K.EXTENSION_REFUSED, K.TRANSFERRED):
        notify(
            recipients=responsible(case, event.data.get("to_person")),
            kind=kind_key,
            title=_("Request %(n)s: %(what)s") % {"n": case.number, "what": K(kind).label},
            body=case.title,
            link=staff_link,
            **common,
        )


def _escalated(event: CaseEvent, staff_link: str, common: dict[str, Any]) -> None:
    """The tier above is told; whoever should have acted is reminded."""
    case, data = event.case, event.data
    to_tier = data.get("to_tier", case.tier)
    missed = _("to be taken on") if data.get("deadline") == "accept" else _("to be resolved")
    if to_tier in TIER_LEVEL:
        notify(
            recipients=_memoized(("tier", case.region_id, to_tier), lambda: tier_staff(case, to_tier)),
            kind="case_escalated",
            title=_("Overdue request for supervision: %(n)s") % {"n": case.number},
            body=_("%(title)s (%(region)s) missed its deadline %(what)s (%(date)s).")
            % {"title": case.title, "region": case.region.name, "what": missed, "date": _when(data.get("missed"))},
            link=staff_link,
            channels=WITH_SMS,
            **common,
        )
    new_deadline = data.get("accept_by") or data.get("resolve_by")
    notify(
        recipients=responsible(case) if case.responsible_id
        else _memoized(("village", case.region_id), lambda: village_staff(case)),
        kind="case_overdue",
        title=_("Reminder: request %(n)s is overdue") % {"n": case.number},
        body=_("It is now supervised by the %(tier)s. New deadline: %(date)s.")
        % {"tier": Tier(to_tier).label if to_tier in Tier.values else to_tier, "date": _when(new_deadline)},
        link=staff_link,
        channels=WITH_SMS,
        **common,
    )


# --- the reminder sweep ----------------------------------------------------------------------


def remind(pk: int, now: dt.datetime, horizon: dt.datetime) -> bool:
    """1. re-read the case; act only if it is still being resolved and due within the window;
    2. insert the (kind, number, deadline) reminder row — a unique row, so of two sweepers the
       second one's insert fails (on PostgreSQL it waits for the first to commit) and it skips;
    3. write the `reminded` event, which notifies the responsible person."""
    with transaction.atomic():
        case = Case.objects.select_related("region").filter(pk=pk).first()
        if case is None or case.status not in RESOLVING or not now < case.resolve_by <= horizon:
            return False
        try:
            with transaction.atomic():
                Reminder.objects.create(kind=REMINDER_KIND, ref=case.number, deadline=case.resolve_by, created_at=now)
        except IntegrityError:
            return False  # reminded already (or right now, by another sweeper)
        event = CaseEvent.objects.create(
            case=case,
            at=now,
            actor=None,
            kind=K.REMINDED,
            from_state=case.status,
            to_state=case.status,
            data={"deadline": "resolve", "resolve_by": case.resolve_by.isoformat()},
        )
        case_event_notify(event)
    return True
