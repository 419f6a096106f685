"""Invariants of the asset register for `hemei verify`."""

from __future__ import annotations

from django.db.models import OuterRef, Subquery

from hemei.core.verify import LIMIT, invariant


@invariant("assets-status-history")
def check_status_history() -> list[str]:
    """An asset's status is the `to_state` of its last history row: a status saved by hand
    (not through `asset_status_change`) would leave the two apart."""
    from hemei.assets.models import Asset, AssetStatusChange

    last = AssetStatusChange.objects.filter(asset=OuterRef("pk")).order_by("-at", "-id").values("to_state")[:1]
    rows = Asset.objects.annotate(last=Subquery(last)).only("pk", "status")
    bad = [a.pk for a in rows.iterator(chunk_size=2000) if a.last != a.status]
    return [f"assets whose status differs from their last status change: {bad[:LIMIT]}"] if bad else []
