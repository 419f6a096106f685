"""Two clerks (or one double-clicking) at once record a batch of services once, and a parcel
edit racing a service never leaves a service larger than its parcel (PostgreSQL row locks)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from hemei.contracts import trust
from hemei.contracts.models import TrustParcel, TrustService
from hemei.core.scope import SYSTEM
from tests.conftest import World
from tests.test_contracts_concurrency import _race

D = dt.date


def _parcel(world: World, area: str) -> TrustParcel:
    return trust.parcel_register(actor=SYSTEM, household=world.house_a, area_mu=Decimal(area), provider="合作社",
                                 entrusted_from=D(2026, 1, 1), entrusted_to=D(2027, 12, 31))


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_double_submit_at_once_records_once(world: World) -> None:
    parcels = [_parcel(world, "5.00"), _parcel(world, "2.50")]
    sec = world.user("secretary")

    def submit() -> tuple[list[TrustService], bool]:
        return trust.services_batch(actor=sec, village=world.village, parcels=parcels, kind="spraying",
                                    on=D(2026, 7, 1), fee_per_mu="15.00", idempotency_key="same-form")

    results, errors = _race(3, submit)
    assert not errors
    assert TrustService.objects.count() == 2
    assert sorted(replayed for _rows, replayed in results) == [False, True, True]
    assert {tuple(sorted(s.pk for s in rows)) for rows, _r in results} == {
        tuple(sorted(TrustService.objects.values_list("pk", flat=True)))}


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_shrinking_a_parcel_races_a_service(world: World) -> None:
    parcel = _parcel(world, "5.00")

    def shrink() -> object:
        return trust.parcel_update(actor=SYSTEM, parcel=parcel, area_mu="2.00")

    def serve() -> object:
        return trust.service_record(actor=SYSTEM, parcel=parcel, kind="spraying", on=D(2026, 7, 1), area_mu="4.00",
                                    fee="60.00")

    flip = iter([shrink, serve])
    _results, errors = _race(2, lambda: next(flip)())
    parcel.refresh_from_db()
    services = list(TrustService.objects.filter(parcel=parcel))
    # exactly one wins: either the parcel shrank and the 4 亩 service was refused, or the
    # service went in and the area froze
    assert len(errors) == 1 and isinstance(errors[0], ValidationError)
    assert all(s.area_mu <= parcel.area_mu for s in services)
    assert (parcel.area_mu, len(services)) in {(Decimal("2.00"), 0), (Decimal("5.00"), 1)}
