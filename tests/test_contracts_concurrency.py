"""Two sweepers or two clerks at once never double-act (PostgreSQL: real row locks)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from hemei.assets.models import Asset
from hemei.contracts import services
from hemei.contracts.models import Contract, ContractEvent
from hemei.contracts.sweep import sweep_contracts
from hemei.core.scope import SYSTEM
from hemei.notify.models import Notification
from tests.conftest import World, at
from tests.test_contracts import decide, draft, idle_asset

D = dt.date


def _race(n: int, fn: Callable[[], Any]) -> tuple[list[Any], list[BaseException]]:
    results: list[Any] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)

    def run() -> None:
        try:
            barrier.wait()
            results.append(fn())
        except BaseException as exc:  # collected for the assertions
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_remind_and_expire_once(world: World) -> None:
    asset = idle_asset(world)
    ending = decide(world, draft(world, asset=asset, end=D(2026, 10, 31), schedule=[]))
    services.contract_sign(actor=SYSTEM, contract=ending, on=D(2025, 12, 20), at=at(2025, 12, 20))
    due = decide(world, draft(world, number="DUE", schedule=[(D(2026, 1, 1), Decimal("50000"))]))
    services.contract_sign(actor=SYSTEM, contract=due, on=D(2025, 12, 20), at=at(2025, 12, 20))
    _results, errors = _race(4, lambda: sweep_contracts(at(2026, 11, 2)))
    assert not errors
    assert Notification.objects.filter(kind="contract_payment_overdue").count() == 1  # one secretary, once
    assert ContractEvent.objects.filter(kind="expired").count() == 1
    assert Contract.objects.get(pk=ending.pk).status == Contract.Status.EXPIRED
    assert Asset.objects.get(pk=asset.pk).status == Asset.Status.IDLE


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_clerks_signing_at_once_sign_once(world: World) -> None:
    asset = idle_asset(world)
    contract = decide(world, draft(world, asset=asset))
    results, errors = _race(
        3, lambda: services.contract_sign(actor=world.user("secretary"), contract=Contract.objects.get(pk=contract.pk),
                                          on=D(2025, 12, 20))
    )
    assert len(results) == 1 and len(errors) == 2
    assert all(isinstance(e, ValidationError) for e in errors)
    assert ContractEvent.objects.filter(contract=contract, kind="signed").count() == 1
    assert Asset.objects.get(pk=asset.pk).status == Asset.Status.LEASED
