"""Who may see and do what with contracts and trusteeship (on top of `hemei.regions.access`).

- read: staff posted at the village or above (township, county); grid workers do not see
  contracts. Outside the scope is 404.
- write (create, discuss, table, sign, payments, terminate): the village committee and the
  accountant of the contract's village;
- township review (approve / return): township staff over the village;
- flag and conclude a 清理 review: the committee or the township / county;
- trusteeship: staff read their villages; a villager reads only their own household's parcels.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from hemei.contracts.models import Contract, TrustIncome, TrustParcel
from hemei.core.scope import is_system
from hemei.points.access import roles_over
from hemei.regions.access import scope_for
from hemei.regions.models import Level, Region, Role

COMMITTEE_ROLES = frozenset({Role.SECRETARY, Role.DIRECTOR, Role.COMMITTEE, Role.ACCOUNTANT})
TOWNSHIP_ROLES = frozenset({Role.TOWNSHIP_STAFF, Role.COUNTY_ADMIN})
REVIEW_ROLES = COMMITTEE_ROLES | TOWNSHIP_ROLES


def _user(actor: Any) -> Any:
    return None if is_system(actor) else actor if getattr(actor, "is_authenticated", False) else None


def may(user: Any, village: Region, roles: frozenset[str]) -> bool:
    return bool(roles_over(user, village) & roles)


def require(actor: Any, village: Region, roles: frozenset[str], message: str) -> None:
    """Services: a signed-in actor needs one of `roles` over the village (None = the system:
    demo, sweeper, import command)."""
    if _user(actor) is not None and not may(actor, village, roles):
        raise ValidationError(message, code="scope")


def _village_q(user: Any, prefix: str = "village__") -> Q:
    scope = scope_for(user)
    if scope.everything:
        return Q()
    q = Q(pk__in=[])
    for path in scope.read_paths:
        q |= Q(**{f"{prefix}path__startswith": path})
    return q


def access_villages(user: Any) -> QuerySet[Region]:
    """Villages whose contracts the user may read (not a grid worker's: their path is below)."""
    return Region.objects.filter(_village_q(user, ""), level=Level.VILLAGE).order_by("code")


def access_village(user: Any, code: str) -> Region:
    village = access_villages(user).filter(code=code).first()
    if village is None:
        raise Http404
    return village


def access_contracts(user: Any) -> QuerySet[Contract]:
    return Contract.objects.filter(_village_q(user))


def access_contract(user: Any, pk: Any) -> Contract:
    try:
        return access_contracts(user).select_related("village", "asset", "meeting_item__meeting").get(pk=pk)
    except (Contract.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def access_parcels(user: Any) -> QuerySet[TrustParcel]:
    scope = scope_for(user)
    q = _village_q(user)
    if scope.household_ids:
        q |= Q(household_id__in=scope.household_ids)
    return TrustParcel.objects.filter(q)


def access_incomes(user: Any) -> QuerySet[TrustIncome]:
    scope = scope_for(user)
    q = _village_q(user)
    if scope.household_ids:
        q |= Q(household_id__in=scope.household_ids)
    return TrustIncome.objects.filter(q)


def no_scope_message() -> str:
    return _("You may not change the contracts of this village.")
