"""The migrations that put star-round steps and points entries under the one workflow
mechanism keep every history row, and the database guard on round steps survives them (on
SQLite a column change rebuilds the table, which drops its triggers)."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from hemei.stars import services
from hemei.stars.checks import check_history_guard
from hemei.stars.models import Stage, StarRoundStep
from tests.conftest import World, at

TABLE = "stars_starroundstep"


def _steps() -> list[tuple[Any, ...]]:
    return list(StarRoundStep.objects.order_by("id").values_list("id", "round_id", "kind", "from_state", "to_state",
                                                                   "actor_id", "note"))


def _refuses(sql: str, params: list[Any]) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError:
        return True
    return False


@pytest.mark.django_db(transaction=True)
def test_round_steps_survive_the_migration_and_stay_guarded(world: World) -> None:
    sec = world.user("secretary")
    with time_machine.travel(at(2026, 5, 10), tick=False):
        rnd = services.round_open(actor=sec, village=world.village, year=2026)
        for stage in (Stage.PEER, Stage.COMMITTEE, Stage.TOWNSHIP):
            services.round_advance(actor=sec, round=rnd, to=stage)
        services.round_township_approve(actor=world.user("township"), round=rnd, note="同意")
        services.round_publicity_start(actor=sec, round=rnd)
    before = _steps()
    assert [s[2:5] for s in before] == [
        ("opened", "", "self"), ("start peer", "self", "peer"), ("start committee", "peer", "committee"),
        ("start township", "committee", "township"), ("approved", "township", "township"),
        ("publicity started", "township", "publicity"),
    ]
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate([("stars", "0002_history_guard")])
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT action, stage, note FROM {TABLE} ORDER BY id")  # noqa: S608
            old = cursor.fetchall()
        assert old == [(s[2], s[4], s[6]) for s in before]  # the old shape, every row
        assert check_history_guard() == []
    finally:
        MigrationExecutor(connection).migrate(leaves)
    assert _steps() == before  # forward again: the same rows, from/to states re-derived
    assert check_history_guard() == []
    first = before[0][0]
    assert _refuses(f"UPDATE {TABLE} SET note = 'x' WHERE id = %s", [first])  # noqa: S608
    if connection.vendor == "postgresql":  # SQLite keeps DELETE open for the test runner
        assert _refuses(f"DELETE FROM {TABLE} WHERE id = %s", [first])  # noqa: S608
    assert StarRoundStep.objects.get(pk=first).note == ""


def _asset_rows() -> list[tuple[Any, ...]]:
    from hemei.assets.models import AssetStatusChange

    return list(AssetStatusChange.objects.order_by("id").values_list("id", "asset_id", "from_state", "to_state",
                                                                      "note", "actor_id", "kind"))


@pytest.mark.django_db(transaction=True)
def test_asset_status_changes_survive_the_migration(world: World) -> None:
    """Asset status changes became the `assets.asset` workflow's events (assets 0003): every
    row keeps its states, reason and actor, back to the old shape and forward again."""
    from decimal import Decimal

    from hemei.assets.services import AssetData, asset_create, asset_status_change

    sec = world.user("secretary")
    asset = asset_create(actor=sec, village=world.village, status="idle",
                         data=AssetData(code="XS-1", name="旧学校", category="non_operating", area=Decimal("10")))
    asset_status_change(asset=asset, status="leased", actor=sec, reason="合同签订")
    asset_status_change(asset=asset, status="idle", actor=sec, reason="合同到期")
    before = _asset_rows()
    assert [r[2:4] for r in before] == [("", "idle"), ("idle", "leased"), ("leased", "idle")]
    assert [r[4] for r in before[1:]] == ["合同签订", "合同到期"]
    assert [r[6] for r in before] == ["registered", "changed", "changed"]
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate([("assets", "0002_photos_history_projects")])
        with connection.cursor() as cursor:
            cursor.execute("SELECT old_status, new_status, reason, actor_id FROM assets_assetstatuschange ORDER BY id")
            old = cursor.fetchall()
        assert old == [(r[2], r[3], r[4], r[5]) for r in before]  # the old shape, every row
    finally:
        MigrationExecutor(connection).migrate(leaves)
    assert _asset_rows() == before  # forward again: the same rows, kinds re-derived
