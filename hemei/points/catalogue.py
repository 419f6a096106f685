"""The shop's catalogue on pages: change or withdraw a reward, with its photo.

Creating a reward is `shop.reward_create` and restocking `shop.reward_restock` (a stock
movement, so `Reward.stock` stays the sum of its movements). A photo goes through the cases
app's checks (`hemei.cases.photos.clean_photo`: size limit, real image of an allowed type,
re-encoded as JPEG without EXIF) before it is stored.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from hemei.cases.photos import clean_photo
from hemei.core.audit import audit_record
from hemei.core.scope import require_actor
from hemei.points.access import SHOP_ROLES, may
from hemei.points.models import Reward


def reward_photo(upload: Any) -> Any:
    """A checked, re-encoded photo (ContentFile) or None for no upload."""
    if not upload:
        return None
    return clean_photo(upload).content


@transaction.atomic
def reward_update(
    *,
    actor: Any,
    reward: Reward,
    name: str,
    price: int,
    limit_per_period: int | None,
    own_product: bool,
    active: bool,
    photo: Any = None,
    remove_photo: bool = False,
) -> Reward:
    """Change a reward's description, price, limit and whether it is offered. The stock is
    never set here: only stock movements change it."""
    require_actor(actor)
    if not may(actor, reward.village, SHOP_ROLES):
        raise ValidationError(_("Only the shop keeper or the committee manage the shop."), code="scope")
    name = (name or "").strip()[:100]
    if not name or int(price) <= 0:
        raise ValidationError(_("A reward needs a name and a price above zero."))
    if limit_per_period is not None and limit_per_period <= 0:
        raise ValidationError(_("The limit per household must be at least 1."))
    locked = Reward.objects.select_for_update().get(pk=reward.pk)
    values: dict[str, Any] = {
        "name": name,
        "price": int(price),
        "limit_per_period": limit_per_period,
        "own_product": bool(own_product),
        "active": bool(active),
    }
    changes = {k: [getattr(locked, k), v] for k, v in values.items() if getattr(locked, k) != v}
    for key, value in values.items():
        setattr(locked, key, value)
    if photo is not None:
        locked.photo = photo
        changes["photo"] = [None, "new"]
    elif remove_photo and locked.photo:
        locked.photo = ""
        changes["photo"] = ["set", None]
    locked.save(update_fields=[*values, "photo"])
    if changes:
        note = "withdrawn" if changes.get("active") == [True, False] else ""
        audit_record(actor=actor, action="update", obj=locked, note=note, changes=changes)
    return locked
