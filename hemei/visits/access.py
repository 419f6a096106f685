"""Who may read visits, patrols and monitoring records: the staff of the region's subtree
(declared once, read through `hemei.core.scope`)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from hemei.core.scope import register_scoped
from hemei.visits.models import Monitoring, Patrol, Visit

VISITS = register_scoped(Visit, via="region__")
PATROLS = register_scoped(Patrol, via="region__")
MONITORINGS = register_scoped(Monitoring, via="region__")


def access_visits(user: Any) -> QuerySet[Visit]:
    return VISITS.queryset(user)


def access_patrols(user: Any) -> QuerySet[Patrol]:
    return PATROLS.queryset(user)


def access_monitorings(user: Any) -> QuerySet[Monitoring]:
    return MONITORINGS.queryset(user)


def access_visit(user: Any, pk: Any) -> Visit:
    try:
        return access_visits(user).select_related("household__head", "region", "visitor").get(pk=pk)
    except (Visit.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def access_monitoring(user: Any, pk: Any) -> Monitoring:
    try:
        return access_monitorings(user).select_related("household__head", "household__village", "region").get(pk=pk)
    except (Monitoring.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
