"""Grids that have not checked in by their response's deadline climb to the township.

`sweep_checkins(now)`:
1. Read the ids of grid check-ins still pending at the village tier whose response is in force
   and whose `checkin_by` has passed.
2. For each, in its own transaction, claim it with `claim_once` (pending, village tier as
   read → township tier): only the sweeper whose update changed the row goes on, so two
   sweepers never escalate a grid twice.
3. Write the audit row and tell the township staff and the village secretary and director
   over the grid (inbox and SMS).

`sweep_offers(now)`: a childcare place offered and not taken up within
HEMEI_CHILDCARE_OFFER_DAYS (14) lapses (the workflow's move "lapse", offered → declined) and
goes back to the centre for the next family on the waiting list.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Min
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from hemei.core.audit import audit_record
from hemei.core.scope import system
from hemei.core.sweeps import Escalation, Tier, claim_once, next_due, sweeper
from hemei.core.workflow import transition
from hemei.notify.services import INBOX, SMS, notify
from hemei.regions.models import Post, Region, Role
from hemei.services.childcare import lock_centre
from hemei.services.models import ChildcareApplication, GridCheck, Response

SWEEP = system("sweep")


def _over(region: Region) -> list[str]:
    step = Region.steplen
    return [region.path[:i] for i in range(step, len(region.path) + 1, step)]


def _tell(check: GridCheck) -> None:
    posts = Post.objects.current().filter(role__in=(Role.TOWNSHIP_STAFF, Role.SECRETARY, Role.DIRECTOR),
                                          region__path__in=_over(check.region))
    response = check.response
    with translation.override(settings.LANGUAGE_CODE):
        notify(recipients=get_user_model().objects.filter(pk__in=posts.values("user_id"), is_active=True),
               kind="emergency_late", channels=(INBOX, SMS),
               title=_("Grid not checked in: %(grid)s") % {"grid": check.region.name},
               body=_("%(hazard)s response %(level)s: the grid's vulnerable households were due to be "
                      "contacted by %(time)s.") % {
                   "hazard": response.get_hazard_display(), "level": response.get_level_display(),
                   "time": f"{timezone.localtime(response.checkin_by):%m-%d %H:%M}"},
               link=reverse("emergency-board", args=[response.pk]), ref=f"response-{response.pk}",
               county=check.county_id)


def _escalate(pk: int, now: dt.datetime) -> Escalation | None:
    with transaction.atomic():
        check = GridCheck.objects.select_related("response__region", "region").filter(pk=pk).first()
        if check is None or check.response.checkin_by > now or check.response.status != Response.Status.ACTIVE:
            return None
        if not claim_once(GridCheck, pk, expect={"status": GridCheck.Status.PENDING, "tier": Tier.VILLAGE},
                          update={"tier": Tier.TOWNSHIP, "escalated_at": now}):
            return None
        audit_record(actor=SWEEP, action="update", obj=check, note="escalated",
                     changes={"tier": [Tier.VILLAGE, Tier.TOWNSHIP],
                              "checkin_by": check.response.checkin_by.isoformat()})
        _tell(check)
    return Escalation("emergency", f"{check.response_id}/{check.region.code}", "checkin", Tier.VILLAGE,
                      Tier.TOWNSHIP)


@sweeper("emergency-checkins")
def sweep_checkins(now: dt.datetime) -> list[Escalation]:
    late = (GridCheck.objects.filter(status=GridCheck.Status.PENDING, tier=Tier.VILLAGE,
                                     response__status=Response.Status.ACTIVE, response__checkin_by__lte=now)
            .order_by("response__checkin_by", "pk").values_list("pk", flat=True))
    return [done for pk in list(late) if (done := _escalate(pk, now)) is not None]


@next_due("emergency-checkins")
def earliest_deadline() -> dt.datetime | None:
    return (GridCheck.objects.filter(status=GridCheck.Status.PENDING, tier=Tier.VILLAGE,
                                     response__status=Response.Status.ACTIVE)
            .aggregate(m=Min("response__checkin_by"))["m"])


def _lapse(pk: int, now: dt.datetime, held: dt.timedelta) -> Escalation | None:
    """One offer past its time, in its own transaction under the centre's lock, taken first as
    every childcare service takes it: the move's conditional update refuses if the family
    enrolled or declined meanwhile."""
    with transaction.atomic():
        application = ChildcareApplication.objects.filter(pk=pk, status=ChildcareApplication.Status.OFFERED).first()
        if application is None or application.offered_at is None or application.offered_at + held > now:
            return None
        lock_centre(application.provider_id)
        try:
            transition(application, ChildcareApplication.Status.DECLINED, actor=SWEEP, move="lapse", at=now,
                       expect={"offered_at": application.offered_at},
                       note=_("The offer lapsed: the place was not taken up within %(n)d days.") % {
                           "n": held.days}, data={"offered_at": application.offered_at.isoformat()})
        except ValidationError:
            return None  # taken up or declined meanwhile, or another sweeper got there first
    return Escalation("childcare-offer", str(pk), "take-up", "offered", "declined")


@sweeper("childcare-offers")
def sweep_offers(now: dt.datetime) -> list[Escalation]:
    """Offers not taken up within HEMEI_CHILDCARE_OFFER_DAYS lapse; the place goes back."""
    held = dt.timedelta(days=settings.HEMEI_CHILDCARE_OFFER_DAYS)
    late = (ChildcareApplication.objects.filter(status=ChildcareApplication.Status.OFFERED,
                                                offered_at__lte=now - held)
            .order_by("offered_at", "pk").values_list("pk", flat=True))
    return [done for pk in list(late) if (done := _lapse(pk, now, held)) is not None]


@next_due("childcare-offers")
def earliest_offer_end() -> dt.datetime | None:
    first = (ChildcareApplication.objects.filter(status=ChildcareApplication.Status.OFFERED)
             .aggregate(m=Min("offered_at"))["m"])
    return first + dt.timedelta(days=settings.HEMEI_CHILDCARE_OFFER_DAYS) if first is not None else None
