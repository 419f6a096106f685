"""Every write of the emergency response levels (应急响应): declare, raise, lower, lift, and a
grid's check-in. The level's moves go through the response workflow (`hemei.services.workflow`),
so each leaves an event row with its reason and an audit row; the grid staff of the area are
told at once through `hemei.notify` (inbox and SMS)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, Final

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from hemei.core.audit import audit_record
from hemei.core.models import AuditEntry
from hemei.core.parsing import clean_text, county_of
from hemei.core.scope import GRID_ROLES, may, require, require_actor, scope_for, user_of
from hemei.core.workflow import record, transition
from hemei.notify.services import INBOX, SMS, notify
from hemei.regions.models import Level, Post, Region
from hemei.services.access import DECLARE_ROLES
from hemei.services.models import GridCheck, Hazard, HouseholdContact, Response, ResponseLevel
from hemei.services.selectors import vulnerable_households

#: Hours the grids have to check in, by level (Ⅰ is the most urgent); HEMEI_EMERGENCY_CHECKIN_HOURS
#: overrides them per level.
CHECKIN_HOURS: Final = {1: 1, 2: 2, 3: 4, 4: 6}
AREA_LEVELS: Final = (Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE)
URGENT: Final = (INBOX, SMS)


def checkin_hours(level: int) -> int:
    return int({**CHECKIN_HOURS, **getattr(settings, "HEMEI_EMERGENCY_CHECKIN_HOURS", {})}[level])


def _level(value: Any) -> int:
    try:
        level = int(value)
    except (TypeError, ValueError):
        level = 0
    if level not in ResponseLevel.values or isinstance(value, bool):
        raise ValidationError(_("Choose a response level from Ⅳ to Ⅰ."), code="level")
    return level


def area_grids(region: Region) -> QuerySet[Region]:
    today = timezone.localdate()
    return (Region.objects.filter(path__startswith=region.path, level=Level.GRID)
            .exclude(valid_to__lt=today).order_by("path"))


def grid_staff(grid_paths: Iterable[str]) -> QuerySet[Any]:
    """The users holding a current grid post (grid worker, grid leader) at any of the grids."""
    posts = Post.objects.current().filter(role__in=GRID_ROLES, region__path__in=list(grid_paths))
    return get_user_model().objects.filter(pk__in=posts.values("user_id"), is_active=True)


def _tell_grids(response: Response, *, kind: str, title: str, body: str) -> None:
    paths = area_grids(response.region).values_list("path", flat=True)
    with translation.override(settings.LANGUAGE_CODE):
        notify(recipients=grid_staff(paths), kind=kind, title=title, body=body,
               link=reverse("emergency-home"), ref=f"response-{response.pk}", county=response.county_id,
               channels=URGENT)


def _words(response: Response) -> dict[str, str]:
    return {"area": response.region.name, "hazard": str(response.get_hazard_display()),
            "level": str(response.get_level_display()),
            "time": f"{timezone.localtime(response.checkin_by):%m-%d %H:%M}"}


@transaction.atomic
def response_declare(*, actor: Any, region: Region, hazard: str, level: Any, reason: str,
                     checkin_within_hours: int | None = None, now: dt.datetime | None = None) -> Response:
    """Declare a response level for an area (the region and all below it).

    1. The actor holds a county or township role over the area (out of scope: 404); the area
       is a county, township or village; the hazard and level are known; a reason is given;
       no response to the same hazard is already in force for the same area (raise or lower
       that one instead). Bad input changes nothing.
    2. Write the response and its `declare` event, then one `GridCheck` per current grid of
       the area, each with the number of its vulnerable households (`vulnerable_households`).
    3. Tell every grid worker and grid leader of the area at once (inbox and SMS, after the
       commit), and write the audit row.
    """
    require_actor(actor)
    if not scope_for(actor).covers_path(region.path):
        raise Http404
    require(actor, DECLARE_ROLES, region)
    if region.level not in AREA_LEVELS:
        raise ValidationError(_("A response is declared for a county, a township or a village."), code="area")
    if hazard not in Hazard.values:
        raise ValidationError(_("Choose the hazard."), code="hazard")
    level = _level(level)
    reason = clean_text(reason, _("Reason"), 1000, required=True)
    hours = checkin_hours(level) if checkin_within_hours is None else checkin_within_hours
    if not isinstance(hours, int) or not 1 <= hours <= 72:
        raise ValidationError(_("The grids check in within 1 to 72 hours."), code="hours")
    now = now or timezone.now()
    if Response.objects.filter(region=region, hazard=hazard, status=Response.Status.ACTIVE).exists():
        raise ValidationError(_("A response to this hazard is already in force here; raise or lower it instead."),
                              code="duplicate")
    response = Response.objects.create(county=county_of(region), region=region, hazard=hazard, level=level,
                                       reason=reason, checkin_by=now + dt.timedelta(hours=hours),
                                       declared_by=user_of(actor), declared_at=now, updated_at=now)
    record(response, kind="declare", actor=actor, at=now, to_state=Response.Status.ACTIVE, note=reason,
           to_level=level)
    grids = list(area_grids(region).values_list("pk", flat=True))
    lists = vulnerable_households(grids)
    GridCheck.objects.bulk_create([
        GridCheck(response=response, county_id=response.county_id, region_id=grid, households=len(lists.get(grid, {})))
        for grid in grids
    ])
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, obj=response,
                 changes={"hazard": [None, hazard], "level": [None, level], "grids": [None, len(grids)]}, note=reason)
    words = _words(response)
    _tell_grids(response, kind="emergency_declared",
                title=_("%(area)s: %(hazard)s response %(level)s") % words,
                body=_("Contact your grid's vulnerable households and check in by %(time)s.") % words)
    return response


@transaction.atomic
def response_change_level(*, actor: Any, response: Response, level: Any, reason: str,
                          now: dt.datetime | None = None) -> Response:
    """Raise (towards Ⅰ) or lower (towards Ⅳ) a response in force, with a reason; the grids are
    told. The level as read is part of the conditional update, so two changes at once never
    both apply."""
    require_actor(actor)
    new = _level(level)
    old = response.level
    if new == old:
        raise ValidationError(_("The response is already at that level."), code="same")
    move = "raise" if new < old else "lower"
    reason = clean_text(reason, _("Reason"), 1000, required=True)
    now = now or timezone.now()
    # A higher level is more urgent: grids not yet checked in get its shorter time from now,
    # never a later deadline than they had. Lowering keeps the deadline already set.
    sooner: dict[str, Any] = (
        {"checkin_by": min(response.checkin_by, now + dt.timedelta(hours=checkin_hours(new)))}
        if move == "raise" else {})
    transition(response, Response.Status.ACTIVE, actor=actor, move=move, note=reason, at=now, level=new,
               expect={"level": old}, event={"from_level": old, "to_level": new}, **sooner)
    words = _words(response)
    _tell_grids(response, kind="emergency_level",
                title=_("%(area)s: %(hazard)s response now %(level)s") % words, body=reason)
    return response


@transaction.atomic
def response_lift(*, actor: Any, response: Response, reason: str, now: dt.datetime | None = None) -> Response:
    """Lift a response (终止响应), with a reason; the grids are told."""
    require_actor(actor)
    reason = clean_text(reason, _("Reason"), 1000, required=True)
    now = now or timezone.now()
    transition(response, Response.Status.LIFTED, actor=actor, move="lift", note=reason, at=now, lifted_at=now,
               event={"from_level": response.level})
    _tell_grids(response, kind="emergency_lifted",
                title=_("%(area)s: %(hazard)s response lifted") % _words(response), body=reason)
    return response


@transaction.atomic
def grid_check_in(*, actor: Any, check: GridCheck, reached: Iterable[int], note: str = "",
                  now: dt.datetime | None = None) -> GridCheck:
    """A grid's staff report that they have contacted the grid's vulnerable households.

    1. The actor holds a grid role (or a village cadre's) over the grid; the response is in
       force.
    2. The list is the grid's vulnerable households as recorded now; `reached` must name only
       households of it, and any household not reached needs a note saying why.
    3. Claim the check-in with a conditional update on its pending state (a second check-in,
       from another phone at once, is refused), write one `HouseholdContact` per household and
       the audit row. A check-in after the deadline is accepted and keeps its escalation.
    """
    require_actor(actor)
    if not may(actor, "check_in", check):
        raise PermissionDenied(_("Only the grid's staff check it in."))
    response = check.response
    if response.status != Response.Status.ACTIVE:
        raise ValidationError(_("This response has been lifted."), code="lifted")
    listed = vulnerable_households([check.region_id]).get(check.region_id, {})
    chosen = set(reached)
    unknown = chosen - set(listed)
    if unknown:
        raise ValidationError(_("Some households are not on this grid's list."), code="unknown")
    note = clean_text(note, _("Note"), 2000)
    missing = len(listed) - len(chosen)
    if missing and not note:
        raise ValidationError(_("%(n)d households were not reached: say why in the note.") % {"n": missing},
                              code="unreached")
    now = now or timezone.now()
    if check.status != GridCheck.Status.PENDING:
        raise ValidationError(_("This grid has already checked in."), code="conflict")
    households = check.households
    # The move's conditional update on the pending state is the claim: a second check-in from
    # another phone at once finds it done (ValidationError `conflict`) and writes nothing.
    transition(check, GridCheck.Status.DONE, actor=actor, at=now, households=len(listed), reached=len(chosen),
               checked_in_by=user_of(actor), checked_in_at=now, note=note, audit_note="check_in",
               changes={"status": [GridCheck.Status.PENDING, GridCheck.Status.DONE],
                        "reached": [0, len(chosen)], "households": [households, len(listed)]})
    if note:
        # `note` is also transition()'s name for the event's note (which it is, above); the
        # check-in keeps it in its own column too, in the move's transaction.
        GridCheck.objects.filter(pk=check.pk).update(note=note)
        check.note = note
    HouseholdContact.objects.bulk_create([
        HouseholdContact(grid_check=check, household_id=pk, reasons=reasons, reached=pk in chosen, at=now)
        for pk, reasons in sorted(listed.items())
    ])
    return check
