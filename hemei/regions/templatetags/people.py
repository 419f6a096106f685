"""Template helpers for the people pages, so other views need no extra context.

`{% can_manage_posts as flag %}` shows the "People and posts" link in the nav;
`{% villager_account_candidates household residents as ids %}` gives the residents whose
"open a villager account" button the household page shows.
"""

from __future__ import annotations

from collections.abc import Iterable

from django import template

from hemei.accounts.models import User
from hemei.regions.access import assignable_roles
from hemei.regions.access import can_manage_posts as _can_manage_posts
from hemei.regions.models import Household, Post, Resident, Role

register = template.Library()


@register.simple_tag(takes_context=True)
def can_manage_posts(context: template.Context) -> bool:
    request = context.get("request")
    return _can_manage_posts(getattr(request, "user", None))


@register.simple_tag(takes_context=True)
def villager_account_candidates(
    context: template.Context, household: Household, residents: Iterable[Resident]
) -> frozenset[int]:
    """Ids of living residents with a phone, no villager account and no account using that
    phone, when the user may open villager accounts in the household's village (two queries)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if not _can_manage_posts(user):
        return frozenset()
    if Role.VILLAGER not in assignable_roles(user, household.village):
        return frozenset()
    living = [r for r in residents if r.phone and r.status == Resident.Status.LIVING]
    if not living:
        return frozenset()
    with_post = set(Post.objects.current().filter(role=Role.VILLAGER, resident__in=living)
                    .values_list("resident_id", flat=True))
    phones_used = set(User.objects.filter(phone__in={r.phone for r in living}).values_list("phone", flat=True))
    return frozenset(r.pk for r in living if r.pk not in with_post and r.phone not in phones_used)
