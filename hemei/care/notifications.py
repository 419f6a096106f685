"""Who hears about a care work order: the carers on duty at once (inbox and SMS), the
care-centre lead when the carer's minutes pass. Texts never carry health data or phones;
the elder is named masked (张*)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from hemei.care.models import Institution, WorkOrder
from hemei.core.masking import mask_name
from hemei.notify.services import EMAIL, INBOX, SMS, notify
from hemei.regions.models import Post, Region, Role

URGENT = (INBOX, EMAIL, SMS)


def _prefixes(region: Region) -> list[str]:
    step = Region.steplen
    return [region.path[:i] for i in range(step, len(region.path) + 1, step)]


def area_carers(region: Region) -> Any:
    """The care workers posted at the region or above it (nobody on duty: all of them)."""
    posts = Post.objects.current().filter(role=Role.CARE_WORKER, region__path__in=_prefixes(region))
    return get_user_model().objects.filter(pk__in=posts.values("user_id"), is_active=True)


def leads_for(region: Region) -> Any:
    """The leads of the care centres of the elder's village or township; without one, the
    village secretary and director."""
    leads = Institution.objects.filter(region__path__in=_prefixes(region), lead__isnull=False).values("lead_id")
    users = get_user_model().objects.filter(pk__in=leads, is_active=True)
    if users.exists():
        return users
    posts = Post.objects.current().filter(role__in=(Role.SECRETARY, Role.DIRECTOR), region__path__in=_prefixes(region))
    return get_user_model().objects.filter(pk__in=posts.values("user_id"), is_active=True)


def _where(order: WorkOrder) -> str:
    return f"{order.region.name} · {mask_name(order.elder.resident.name)}"


def tell_on_duty(order: WorkOrder, carers: list[Any]) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        notify(
            recipients=carers or area_carers(order.region), kind="care_call",
            title=_("Care call: %(what)s") % {"what": order.case.title},
            body=_("%(where)s. Take it on by %(time)s.")
            % {"where": _where(order), "time": f"{timezone.localtime(order.respond_by):%H:%M}"},
            link=reverse("care-order", args=[order.pk]), ref=order.case.number, county=order.county_id,
            channels=URGENT,
        )


def tell_lead(order: WorkOrder) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        notify(
            recipients=leads_for(order.region), kind="care_escalated",
            title=_("Care call not taken on: %(n)s") % {"n": order.case.number},
            body=_("%(where)s. Nobody took it on in time; please act by %(time)s.")
            % {"where": _where(order), "time": f"{timezone.localtime(order.case.accept_by):%H:%M}"},
            link=reverse("care-order", args=[order.pk]), ref=order.case.number, county=order.county_id,
            channels=URGENT,
        )


def tell_missed_visit(visit: Any) -> None:
    """The township staff over the elder's grid (and the village cadres) hear of a missed visit."""
    posts = Post.objects.current().filter(
        role__in=(Role.TOWNSHIP_STAFF, Role.SECRETARY, Role.DIRECTOR), region__path__in=_prefixes(visit.region))
    with translation.override(settings.LANGUAGE_CODE):
        notify(
            recipients=get_user_model().objects.filter(pk__in=posts.values("user_id"), is_active=True),
            kind="care_visit_missed",
            title=_("Home visit missed: %(day)s") % {"day": visit.due_on.isoformat()},
            body=_("%(region)s: an elder's planned home visit was not made.") % {"region": visit.region.name},
            link=reverse("care-visits"), ref=f"visit-{visit.pk}", county=visit.county_id,
        )
