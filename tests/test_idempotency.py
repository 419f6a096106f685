"""The one idempotency mechanism (`hemei.core.idempotency`): the same key and payload give the
same result, another payload is a conflict, and of many concurrent replays only the call that
created the row is told "created" (issue 12: 5–7 of 20 concurrent replays answered 201)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from hemei.core.idempotency import IdempotencyConflict, created, remembered
from hemei.core.models import AuditEntry, IdempotencyKey
from hemei.points.models import Redemption
from hemei.points.testing import adopted_rules
from tests.conftest import World, at
from tests.test_points_shop import credit, reward


def audited_write(actor: Any, key: str, name: str) -> tuple[list[AuditEntry], bool]:
    """A small write through the mechanism: one audit row."""

    def write() -> list[AuditEntry]:
        return [AuditEntry.objects.create(action="create", object_repr=name)]

    with transaction.atomic():
        return remembered(actor=actor, key=key, operation="test.write", payload={"name": name}, model=AuditEntry,
                          write=write)


def test_same_key_same_payload_replays_and_another_payload_conflicts(world: World) -> None:
    actor = world.user("secretary")
    [first], replayed = audited_write(actor, "k1", "a")
    assert not replayed and created(first)
    [again], replayed = audited_write(actor, "k1", "a")
    assert replayed and again.pk == first.pk and not created(again)
    rows = AuditEntry.objects.count()
    with pytest.raises(IdempotencyConflict) as exc:
        audited_write(actor, "k1", "b")
    assert exc.value.code == "conflict" and AuditEntry.objects.count() == rows
    # Keys are per account: another user's "k1" is a new write.
    [other], replayed = audited_write(world.user("county"), "k1", "b")
    assert not replayed and other.pk != first.pk
    assert IdempotencyKey.objects.filter(key="k1").count() == 2


def test_a_key_is_required_and_bounded(world: World) -> None:
    for key in ("  ", "x" * 101):
        with pytest.raises(ValidationError) as exc:
            audited_write(world.user("secretary"), key, "a")
        assert exc.value.code == "key"
    assert not IdempotencyKey.objects.exists()


def test_a_failed_write_leaves_no_key(world: World) -> None:
    def write() -> list[AuditEntry]:
        raise ValidationError("refused")

    with pytest.raises(ValidationError), transaction.atomic():
        remembered(actor=world.user("secretary"), key="k", operation="test.write", payload={}, model=AuditEntry,
                   write=write)
    assert not IdempotencyKey.objects.exists()
    _rows, replayed = audited_write(world.user("secretary"), "k", "a")
    assert not replayed


def test_case_submissions_use_the_same_keys(world: World) -> None:
    from hemei.cases.models import Case, Category
    from hemei.cases.services import case_submit

    def submit(title: str) -> Case:
        category = Category.objects.get(county__isnull=True, name="环境卫生")
        return case_submit(actor=world.user("grid_a"), region=world.grid_a, category=category, title=title,
                           description="村口垃圾堆了一周", source=Case.Source.VISIT, idempotency_key="c1")

    first = submit("垃圾没人清")
    assert created(first) and not first.replayed
    again = submit("垃圾没人清")
    assert again.pk == first.pk and again.replayed
    key = IdempotencyKey.objects.get(key="c1")
    owner = f"user:{world.user('grid_a').pk}"
    assert (key.operation, key.result_ids, key.owner) == ("cases.submit", [first.pk], owner)
    with pytest.raises(IdempotencyConflict):
        submit("路灯坏了")
    assert Case.objects.count() == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_of_twenty_concurrent_replays_one_creates_and_only_it_answers_201(world: World) -> None:
    pts = adopted_rules(actor=world.user("secretary"), village=world.village, held_at=at(2026, 9, 1))
    credit(world, pts, times=3)  # 30 points
    r = reward(world, price=10, stock=5)
    token, _ = Token.objects.get_or_create(user=world.user("shop"))
    body = {"household": world.house_a.pk, "reward": r.pk, "quantity": 1}
    statuses: list[int] = []
    ids: list[int] = []
    barrier = threading.Barrier(20)

    def replay() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        try:
            barrier.wait()
            response = client.post("/api/v1/points/redemptions/", body, format="json",
                                   headers={"Idempotency-Key": "same-redemption"})
            statuses.append(response.status_code)
            ids.append(response.json().get("id", 0))
        finally:
            connection.close()

    threads = [threading.Thread(target=replay) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Redemption.objects.count() == 1
    assert sorted(statuses) == [200] * 19 + [201], statuses
    assert set(ids) == {Redemption.objects.get().pk}
    assert IdempotencyKey.objects.filter(key="same-redemption").count() == 1
