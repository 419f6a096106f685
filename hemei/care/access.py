"""Who may read and act on care data (declared once, read through `hemei.core.scope`).

Care data follows the elder's grid: the care workers posted at the village (or township),
the village cadres, township and county staff see it; a grid worker sees their own grid's
elders only; a villager sees none of it here (their own call button and work orders are on
their phone pages). Health values are masked on every page and in the API; a reveal needs
`regions.reveal_personal_data` and writes an audit row (`services.health_reveal`).
"""

from __future__ import annotations

from typing import Any, Final

from django.db.models import QuerySet
from django.http import Http404

from hemei.care.models import (
    Assessment,
    CareAgreement,
    CareVisit,
    DutyShift,
    Elder,
    Institution,
    OperatorRating,
    Reading,
    WorkOrder,
)
from hemei.core.scope import COMMITTEE_ROLES, GRID_ROLES, UPPER_LEVEL_ROLES, register_scoped
from hemei.regions.models import Role

#: Who answers calls and visits: care workers, and the cadres and staff above who stand in.
CARE_ACT_ROLES: Final = frozenset({Role.CARE_WORKER, Role.COUNTY_DISPATCHER}) | COMMITTEE_ROLES | UPPER_LEVEL_ROLES
#: Who keeps the care register (profiles, assessments, agreements, duty roster).
CARE_MANAGE_ROLES: Final = frozenset({Role.CARE_WORKER}) | COMMITTEE_ROLES | UPPER_LEVEL_ROLES
#: Who records a health reading by hand: carers, cadres and the grid's own staff.
CARE_READ_IN_ROLES: Final = CARE_MANAGE_ROLES | GRID_ROLES

ELDERS = register_scoped(Elder, via="region__", actions={"manage": CARE_MANAGE_ROLES, "act": CARE_ACT_ROLES,
                                                           "reading": CARE_READ_IN_ROLES})
ASSESSMENTS = register_scoped(Assessment, via="elder__region__")
AGREEMENTS = register_scoped(CareAgreement, via="elder__region__")
SHIFTS = register_scoped(DutyShift, via="region__", actions={"manage": CARE_MANAGE_ROLES})
ORDERS = register_scoped(WorkOrder, via="region__", actions={"act": CARE_ACT_ROLES})
READINGS = register_scoped(Reading, via="region__")
VISITS = register_scoped(CareVisit, via="region__", actions={"act": CARE_ACT_ROLES})
INSTITUTIONS = register_scoped(Institution, via="region__", village_wide=True,
                               actions={"manage": CARE_MANAGE_ROLES, "rate": UPPER_LEVEL_ROLES})
RATINGS = register_scoped(OperatorRating, via="region__", village_wide=True)


def access_elders(user: Any) -> QuerySet[Elder]:
    return ELDERS.queryset(user)


def access_elder(user: Any, pk: Any) -> Elder:
    try:
        return access_elders(user).select_related("resident__household", "region").get(pk=pk)
    except (Elder.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def access_orders(user: Any) -> QuerySet[WorkOrder]:
    return ORDERS.queryset(user)


def access_order(user: Any, pk: Any) -> WorkOrder:
    try:
        return access_orders(user).select_related("case__category", "case__region", "elder__resident",
                                                  "region").get(pk=pk)
    except (WorkOrder.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def access_visits(user: Any) -> QuerySet[CareVisit]:
    return VISITS.queryset(user)


def access_institutions(user: Any) -> QuerySet[Institution]:
    return INSTITUTIONS.queryset(user)
