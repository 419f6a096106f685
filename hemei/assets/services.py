"""Every write to collective assets (ARCHITECTURE rule 1: one writer per state change)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from hemei.assets.models import Asset
from hemei.core.audit import audit_record
from hemei.core.models import AuditEntry


@transaction.atomic
def asset_status_change(*, asset: Asset, status: str, actor: Any, reason: str = "") -> Asset:
    """Move an asset to another status (a lease signed → 出租, a lease ended → 闲置).

    Other apps (contracts, revitalisation) call this rather than saving the field, so every
    change has one audit row. Re-reads the row under a lock: two contracts signed at once for
    the same asset must not both see it idle.
    """
    if status not in Asset.Status.values:
        raise ValueError(f"unknown asset status {status!r}")
    locked = Asset.objects.select_for_update().get(pk=asset.pk)
    old = locked.status
    if old == status:
        return locked
    locked.status = status
    locked.save(update_fields=["status"])
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, obj=locked, changes={"status": [old, status]},
                 note=reason)
    asset.status = status
    return locked
