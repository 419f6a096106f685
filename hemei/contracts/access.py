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
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from hemei.contracts.models import Contract, TrustIncome, TrustParcel
from hemei.core.scope import BOOKKEEPING_ROLES, UPPER_LEVEL_ROLES, register_scoped, require_actor, roles_over, scoped
from hemei.core.scope import may as core_may
from hemei.regions.models import Level, Region

# The village's books: the committee and the accountant write them (not COMMITTEE_ROLES,
# which never includes the accountant); township staff and the county review.
CONTRACT_ROLES = BOOKKEEPING_ROLES
TOWNSHIP_REVIEW_ROLES = UPPER_LEVEL_ROLES
REVIEW_ROLES = CONTRACT_ROLES | TOWNSHIP_REVIEW_ROLES

__all__ = ["roles_over"]

# Contracts are the village's books: read at the village and above, never by its grids.
CONTRACTS = register_scoped(Contract, via="village__", actions={"write": CONTRACT_ROLES, "review": REVIEW_ROLES})
PARCELS = register_scoped(TrustParcel, via="village__", households="household_id")
INCOMES = register_scoped(TrustIncome, via="village__", households="household_id")


def may(user: Any, village: Region, roles: frozenset[str]) -> bool:
    """`hemei.core.scope.may` in this app's argument order (village, then roles)."""
    return core_may(user, roles, village)


def require(actor: Any, village: Region, roles: frozenset[str], message: str) -> None:
    """Services: the actor needs one of `roles` over the village (the system actor passes;
    None and anonymous callers are refused with PermissionDenied)."""
    require_actor(actor)
    if not may(actor, village, roles):
        raise ValidationError(message, code="scope")


def access_villages(user: Any) -> QuerySet[Region]:
    """Villages whose contracts the user may read (not a grid worker's: their path is below)."""
    return scoped(Region.objects.filter(level=Level.VILLAGE).order_by("code"), user, "")


def access_village(user: Any, code: str) -> Region:
    village = access_villages(user).filter(code=code).first()
    if village is None:
        raise Http404
    return village


def access_contracts(user: Any) -> QuerySet[Contract]:
    return CONTRACTS.queryset(user)


def access_contract(user: Any, pk: Any) -> Contract:
    try:
        return access_contracts(user).select_related("village", "asset", "meeting_item__meeting").get(pk=pk)
    except (Contract.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def access_parcels(user: Any) -> QuerySet[TrustParcel]:
    return PARCELS.queryset(user)


def access_incomes(user: Any) -> QuerySet[TrustIncome]:
    return INCOMES.queryset(user)


def no_scope_message() -> str:
    return _("You may not change the contracts of this village.")
