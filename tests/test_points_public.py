"""What the public sees of the points: the board section with the chain head, the printable
公示 notice, and the ranking by the village's publicity setting."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from hemei.core.models import ChainHead
from hemei.core.scope import SYSTEM
from hemei.disclosure.board import BOARD_SECTIONS, CHAIN_HEADS
from hemei.points import ledger
from hemei.points.models import RuleSet
from hemei.points.testing import Adopted, adopted_rules
from hemei.regions.models import Resident
from tests.conftest import SH, World, at

NOW = dt.datetime(2026, 10, 20, 10, tzinfo=SH)


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def pts(world: World) -> Adopted:
    p = adopted_rules(actor=SYSTEM, village=world.village, held_at=at(2026, 9, 1))
    for key, house, code, day in (("a1", world.house_a, "G2", 2), ("b1", world.house_b, "G1", 3),
                                  ("b2", world.house_b, "J1", 4)):
        when = at(2026, 9, day, 12)
        e = ledger.entry_propose(actor=SYSTEM, household=house, item=p.rule(code), deed_date=when.date(),
                                 idempotency_key=key, at=when)
        ledger.entry_review(actor=SYSTEM, entry=e, approve=True, idempotency_key=f"{key}r", at=when)
    ledger.publicity_sweep(at(2026, 9, 20))
    # One in publicity now (until 2026-10-25).
    e = ledger.entry_propose(actor=SYSTEM, household=world.house_b, item=p.rule("G1"), deed_date=dt.date(2026, 10, 17),
                             idempotency_key="p", at=at(2026, 10, 18))
    ledger.entry_review(actor=SYSTEM, entry=e, approve=True, idempotency_key="pr", at=at(2026, 10, 18))
    return p


def secrets(world: World) -> list[str]:
    return [x for r in Resident.objects.filter(household__village=world.village) for x in (r.id_number, r.phone) if x]


def test_board_section_and_chain_head_are_registered_and_shown(world: World, pts: Adopted, client: Any) -> None:
    assert "points" in BOARD_SECTIONS and "points" in CHAIN_HEADS
    head = ChainHead.objects.get(chain="points", village=world.village)
    page = client.get(f"/v/{world.village.code}/points/").content.decode()
    assert 'id="section-points"' in page and "张志强" in page and "2026-10-25" in page
    assert head.head_hash in page and f"#{head.length}" in page
    assert not any(s in page for s in secrets(world))
    # A village without points rules shows no section.
    assert 'id="summary-points"' in client.get(f"/v/{world.village.code}/").content.decode()
    assert 'id="summary-points"' not in client.get(f"/v/{world.village2.code}/").content.decode()
    assert "张志强" not in client.get(f"/v/{world.village2.code}/points/").content.decode()


def test_print_notice_shows_entries_and_chain_head_but_nothing_personal(
    world: World, pts: Adopted, client: Any
) -> None:
    head = ChainHead.objects.get(chain="points", village=world.village)
    response = client.get(f"/v/{world.village.code}/points/print/")
    page = response.content.decode()
    assert response.status_code == 200 and "@page" not in page  # the A4 rule lives in board.css
    assert "101" in page and "张志强" in page and "G1" in page and "+10" in page and "2026-10-25" in page
    assert head.length == 3 and f" 3 · <span class=\"hash\">{head.head_hash}</span>" in page
    assert not any(s in page for s in secrets(world))
    # Effective entries are not in publicity any more: house A's +20 is not on the notice.
    assert "见义勇为" not in page
    assert client.get(f"/v/{world.village2.code}/points/print/").status_code == 404


def test_ranking_follows_the_villages_setting(world: World, pts: Adopted, client: Any, login: Any) -> None:
    url = f"/v/{world.village.code}/points/ranking/"
    assert client.get(url).status_code == 404  # default: none
    villager = login(world.user("villager"))
    assert "_ranking" not in villager.get("/me/points/").content.decode()
    assert 'class="ranking"' not in villager.get("/me/points/").content.decode()
    assert 'class="ranking"' not in client.get(f"/v/{world.village.code}/points/").content.decode()

    RuleSet.objects.filter(village=world.village).update(ranking="all")
    client.logout()
    page = client.get(url).content.decode()
    # A: 20 (G2), B: 10 + 5 = 15 (its entry in publicity does not count yet).
    assert page.index("王建国") < page.index("张志强") and ">20<" in page and ">15<" in page
    assert not any(s in page for s in secrets(world))

    RuleSet.objects.filter(village=world.village).update(ranking="top", ranking_top_n=1)
    page = client.get(url).content.decode()
    assert "王建国" in page and "张志强" not in page
    villager = login(world.user("villager"))
    mine = villager.get("/me/points/").content.decode()
    assert 'class="ranking"' in mine and "王建国" in mine
