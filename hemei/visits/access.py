"""Who may read visits, patrols and monitoring records (scope is data: region path prefixes)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from hemei.regions.access import _path_q, scope_for
from hemei.visits.models import Monitoring, Patrol, Visit


def _staff_q(user: Any, prefix: str) -> Q | None:
    """None: everything; otherwise the read subtrees (an empty Q-match for non-staff)."""
    scope = scope_for(user)
    if scope.everything:
        return None
    return _path_q(scope.read_paths, prefix) if scope.read_paths else Q(pk__in=[])


def access_visits(user: Any) -> QuerySet[Visit]:
    q = _staff_q(user, "region__")
    return Visit.objects.all() if q is None else Visit.objects.filter(q)


def access_patrols(user: Any) -> QuerySet[Patrol]:
    q = _staff_q(user, "region__")
    return Patrol.objects.all() if q is None else Patrol.objects.filter(q)


def access_monitorings(user: Any) -> QuerySet[Monitoring]:
    q = _staff_q(user, "region__")
    return Monitoring.objects.all() if q is None else Monitoring.objects.filter(q)


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
