"""The committee's rule pages and the shop keeper's catalogue, restocking, statistics and the
ledger export: scopes, refusals that change nothing, figures from known data."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
import time_machine
from django.utils import translation
from openpyxl import load_workbook
from PIL import Image

from hemei.core.models import AuditEntry
from hemei.core.scope import SYSTEM
from hemei.meetings.models import AgendaItem, Meeting
from hemei.meetings.services import agenda_item_decide, meeting_record
from hemei.points import ledger, shop
from hemei.points.models import Entry, Redemption, Reward, RuleItem, RuleSet, RuleVersion, StockMovement
from hemei.points.stats import period_display, shop_stats
from hemei.points.testing import Adopted, adopted_rules
from hemei.regions.models import Role
from hemei.regions.services import resident_create
from tests.conftest import SH, World, at, make_user, new_id

NOW = dt.datetime(2026, 10, 20, 10, tzinfo=SH)


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with time_machine.travel(NOW, tick=False), translation.override("en"):
        yield


@pytest.fixture
def pts(world: World) -> Adopted:
    return adopted_rules(actor=world.user("secretary"), village=world.village, held_at=at(2026, 9, 1))


@pytest.fixture
def other_secretary(world: World) -> Any:
    return make_user("sec2", region=world.village2, role=Role.SECRETARY)


def give(pts: Adopted, household: Any, points_code: str, day: dt.date, key: str) -> Entry:
    when = at(day.year, day.month, day.day, 12)
    e = ledger.entry_propose(actor=SYSTEM, household=household, item=pts.rule(points_code), deed_date=day,
                             idempotency_key=key, at=when)
    ledger.entry_review(actor=SYSTEM, entry=e, approve=True, idempotency_key=f"{key}r", at=when)
    ledger.publicity_sweep(when + dt.timedelta(days=8))
    return Entry.objects.get(pk=e.pk)


# --- rules ---------------------------------------------------------------------------------


def test_committee_drafts_edits_and_tables_a_version_which_the_meeting_adopts(
    world: World, pts: Adopted, login: Any
) -> None:
    client = login(world.user("secretary"))
    page = client.get("/w/points/rules/").content.decode()
    assert "志愿服务" in page and "/w/points/rules/v/" in page
    response = client.post("/w/points/rules/", {"village": world.village.code, "action": "draft", "title": "修订"})
    draft = RuleVersion.objects.get(state=RuleVersion.State.DRAFT)
    assert response.status_code == 302 and draft.items.count() == 6
    g1 = draft.items.get(code="G1")
    fields = {"code": "G1", "kind": "contribution", "description": "志愿服务（每次）", "points": "12",
              "evidence": "照片", "cap_per_period": "36", "proposer": "grid"}
    client.post(f"/w/points/rules/v/{draft.pk}/", {"action": "update", "item": g1.pk,
                                                   **{f"i{g1.pk}-{k}": v for k, v in fields.items()}})
    assert RuleItem.objects.get(pk=g1.pk).points == 12
    # A deduction with positive points is refused, nothing changes.
    bad = fields | {"kind": "deduction"}
    client.post(f"/w/points/rules/v/{draft.pk}/", {"action": "update", "item": g1.pk,
                                                   **{f"i{g1.pk}-{k}": v for k, v in bad.items()}})
    assert RuleItem.objects.get(pk=g1.pk).kind == "contribution"
    client.post(f"/w/points/rules/v/{draft.pk}/", {"action": "remove", "item": draft.items.get(code="K2").pk})
    new = {"code": "G3", "kind": "contribution", "description": "参加环境整治", "points": "5", "proposer": "grid"}
    client.post(f"/w/points/rules/v/{draft.pk}/", {"action": "add", **{f"new-{k}": v for k, v in new.items()}})
    assert sorted(draft.items.values_list("code", flat=True)) == ["G1", "G2", "G3", "J1", "J2", "K1"]
    # The adopted version stays as it was and cannot be edited.
    old_g1 = pts.rule("G1")
    client.post(f"/w/points/rules/v/{pts.version.pk}/", {"action": "remove", "item": old_g1.pk})
    assert RuleItem.objects.filter(pk=old_g1.pk).exists()
    # Tabling: a two-committees meeting may not adopt; a representatives meeting may.
    committees = meeting_record(actor=world.user("secretary"), region=world.village, kind=Meeting.Kind.COMMITTEES,
                                held_at=at(2026, 10, 19))
    client.post(f"/w/points/rules/v/{draft.pk}/", {"action": "table", "meeting": committees.pk})
    assert not AgendaItem.objects.filter(subject_id=str(draft.pk)).exists()
    meeting = meeting_record(actor=world.user("secretary"), region=world.village, kind=Meeting.Kind.REPRESENTATIVES,
                             held_at=at(2026, 10, 19), attendees=30, eligible=40)
    client.post(f"/w/points/rules/v/{draft.pk}/", {"action": "table", "meeting": meeting.pk})
    item = AgendaItem.objects.get(subject_id=str(draft.pk))
    client.post(f"/w/points/rules/v/{draft.pk}/", {"action": "table", "meeting": meeting.pk})
    assert AgendaItem.objects.filter(subject_id=str(draft.pk)).count() == 1  # not twice
    agenda_item_decide(actor=world.user("secretary"), item=item, votes_for=20, votes_against=5, votes_abstain=5,
                       decision="通过")
    draft.refresh_from_db()
    assert draft.state == RuleVersion.State.ADOPTED
    assert RuleVersion.objects.get(pk=pts.version.pk).state == RuleVersion.State.SUPERSEDED
    # History stays readable.
    assert "志愿服务、义务劳动" in client.get(f"/w/points/rules/v/{pts.version.pk}/").content.decode()


def test_settings_are_checked_and_audited(world: World, pts: Adopted, login: Any) -> None:
    client = login(world.user("secretary"))
    data = {"village": world.village.code, "action": "settings", "publicity_days": "5", "redemption_period": "month",
            "after_redemption": "reset", "min_balance_to_redeem": "10", "exclude_absent": "on", "ranking": "top",
            "ranking_top_n": "3"}
    client.post("/w/points/rules/", data | {"publicity_days": "99"})
    assert RuleSet.objects.get().publicity_days == 7
    client.post("/w/points/rules/", data)
    rs = RuleSet.objects.get()
    assert (rs.publicity_days, rs.redemption_period, rs.after_redemption, rs.ranking, rs.ranking_top_n) == (
        5, "month", "reset", "top", 3)
    assert AuditEntry.objects.filter(note="cycle settings", changes__publicity_days=[7, 5]).exists()


def test_rule_pages_are_scoped(world: World, pts: Adopted, login: Any, other_secretary: Any) -> None:
    client = login(other_secretary)
    assert client.get(f"/w/points/rules/?village={world.village.code}").status_code == 404
    assert client.get(f"/w/points/rules/v/{pts.version.pk}/").status_code == 404
    assert client.post("/w/points/rules/", {"village": world.village.code, "action": "draft"}).status_code == 404
    assert not RuleVersion.objects.filter(state=RuleVersion.State.DRAFT).exists()
    for persona in ("grid_a", "shop", "villager"):
        assert login(world.user(persona)).get(f"/w/points/rules/v/{pts.version.pk}/").status_code == 404


# --- shop catalogue ------------------------------------------------------------------------


def jpeg(size: tuple[int, int] = (300, 200)) -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="JPEG")
    out.seek(0)
    out.name = "rice.jpg"
    return out


def test_shop_keeper_creates_edits_restocks_and_withdraws(
    world: World, pts: Adopted, login: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    client = login(world.user("shop"))
    client.post("/w/shop/rewards/", {"village": world.village.code, "name": "大米5斤", "price": "50",
                                     "limit_per_period": "2", "photo": jpeg()})
    reward = Reward.objects.get()
    assert reward.stock == 0 and reward.photo.name.startswith("rewards/")
    assert client.get(f"/shop/rewards/{reward.pk}/photo/")["Content-Type"] == "image/jpeg"
    # Not an image: refused, nothing stored.
    fake = io.BytesIO(b"not a photo")
    fake.name = "x.jpg"
    client.post("/w/shop/rewards/", {"village": world.village.code, "name": "假", "price": "5", "photo": fake})
    assert Reward.objects.count() == 1
    client.post(f"/w/shop/rewards/{reward.pk}/", {"action": "restock", "quantity": "20", "note": "进货", "key": "k1"})
    client.post(f"/w/shop/rewards/{reward.pk}/", {"action": "restock", "quantity": "20", "note": "进货", "key": "k1"})
    reward.refresh_from_db()
    assert reward.stock == 20 and StockMovement.objects.filter(kind="restock").count() == 1  # same key: once
    for bad in ("0", "-5", "x"):
        response = client.post(f"/w/shop/rewards/{reward.pk}/", {"action": "restock", "quantity": bad, "key": bad})
        assert "补货数量至少为 1。" in response.content.decode()  # pages are Chinese: "Restock at least one."
    reward.refresh_from_db()
    assert reward.stock == 20 and StockMovement.objects.count() == 1
    client.post(f"/w/shop/rewards/{reward.pk}/", {"action": "update", "name": "大米10斤", "price": "90"})
    reward.refresh_from_db()
    assert (reward.name, reward.price, reward.active, reward.stock) == ("大米10斤", 90, False, 20)
    assert AuditEntry.objects.filter(object_type="points.reward", note="withdrawn").exists()
    # Withdrawn rewards are not offered to villagers.
    assert "大米10斤" not in login(world.user("villager")).get("/me/shop/").content.decode()


def test_catalogue_is_scoped(world: World, pts: Adopted, login: Any, other_secretary: Any) -> None:
    reward = shop.reward_create(actor=SYSTEM, village=world.village, name="肥皂", price=10)
    client = login(other_secretary)
    assert client.get(f"/w/shop/rewards/?village={world.village.code}").status_code == 404
    assert client.get(f"/w/shop/rewards/{reward.pk}/").status_code == 404
    assert client.post(f"/w/shop/rewards/{reward.pk}/", {"action": "restock", "quantity": "5"}).status_code == 404
    assert login(world.user("grid_a")).get(f"/w/shop/rewards/{reward.pk}/").status_code == 404
    assert Reward.objects.get().stock == 0


# --- statistics and exports ----------------------------------------------------------------


def test_statistics_from_known_redemptions(
    world: World, pts: Adopted, login: Any, django_assert_max_num_queries: Any
) -> None:
    resident_create(actor=SYSTEM, household=world.house_b, name="张小强", id_number=new_id(), relation="child")
    give(pts, world.house_a, "G2", dt.date(2026, 9, 2), "a")  # 20
    give(pts, world.house_b, "G2", dt.date(2026, 9, 2), "b")  # 20
    soap = shop.reward_create(actor=SYSTEM, village=world.village, name="肥皂", price=3)
    oil = shop.reward_create(actor=SYSTEM, village=world.village, name="食用油", price=8)
    for r in (soap, oil):
        shop.reward_restock(actor=SYSTEM, reward=r, quantity=50, idempotency_key=f"s{r.pk}")
    redeem = shop.redemption_create
    redeem(actor=SYSTEM, household=world.house_a, reward=soap, quantity=2, idempotency_key="1", at=at(2026, 9, 20))
    redeem(actor=SYSTEM, household=world.house_a, reward=oil, quantity=1, idempotency_key="2", at=at(2026, 10, 3))
    redeem(actor=SYSTEM, household=world.house_b, reward=oil, quantity=1, idempotency_key="3", at=at(2026, 10, 4))
    cancelled = redeem(actor=SYSTEM, household=world.house_b, reward=soap, quantity=1,
                       channel=Redemption.Channel.PHONE, idempotency_key="4", at=at(2026, 10, 5))
    shop.redemption_cancel(actor=SYSTEM, redemption=cancelled, idempotency_key="5", at=at(2026, 10, 6))
    figures = shop_stats(world.village, by="quarter", year=2026)
    # house_a: 2 living residents; house_b: 2 (head + child).
    assert [(r.period, r.households, r.villagers, r.points, r.redemptions) for r in figures.rows] == [
        ("2026Q3", 1, 2, 6, 1), ("2026Q4", 2, 4, 16, 2)]
    assert (figures.total.households, figures.total.villagers, figures.total.points) == (2, 4, 22)
    assert [(t.name, t.quantity, t.points) for t in figures.top] == [("食用油", 2, 16), ("肥皂", 2, 6)]
    assert [r.period for r in shop_stats(world.village, by="month", year=2026).rows] == ["2026-09", "2026-10"]
    client = login(world.user("secretary"))
    with django_assert_max_num_queries(20):
        page = client.get(f"/w/shop/stats/?village={world.village.code}&by=quarter&year=2026").content.decode()
    # Periods are labelled in the page's language (2026年第4季度), not with the export's key.
    with translation.override("zh-hans"):
        assert period_display("2026Q4") in page and "2026Q4" not in page and "shop-chart-data" in page
    data = client.get(f"/w/shop/stats.xlsx?village={world.village.code}&by=quarter&year=2026").content
    rows = list(load_workbook(io.BytesIO(data)).worksheets[0].iter_rows(values_only=True))
    assert rows[-1] == ("合计", 2, 4, 22, 3)
    assert AuditEntry.objects.filter(action="export", changes__what="points shop statistics").count() == 1
    assert login(world.user("grid_a")).get(f"/w/shop/stats/?village={world.village.code}").status_code == 404
    assert login(world.user("county")).get(f"/w/shop/stats/?village={world.village.code}").status_code == 200


def test_ledger_export_filters_neutralises_and_is_audited(
    world: World, pts: Adopted, login: Any, other_secretary: Any
) -> None:
    give(pts, world.house_a, "G1", dt.date(2026, 9, 2), "a")
    e = ledger.entry_propose(actor=SYSTEM, household=world.house_b, item=pts.rule("G1"), deed_date=dt.date(2026, 10, 2),
                             evidence="=HYPERLINK(\"http://x\")", idempotency_key="b", at=at(2026, 10, 2))
    client = login(world.user("secretary"))
    response = client.get(f"/w/points/ledger.xlsx?village={world.village.code}&from=2026-10&to=2026-10")
    rows = list(load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][1] == "101" and rows[1][14] == "'" + e.evidence
    everything = client.get(f"/w/points/ledger.xlsx?village={world.village.code}").content
    rows = list(load_workbook(io.BytesIO(everything)).worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 3 and rows[1][13] == Entry.objects.get(household=world.house_a).entry_hash
    assert AuditEntry.objects.filter(action="export", changes__what="points ledger").count() == 2
    assert client.get(f"/w/points/ledger.xlsx?village={world.village.code}&from=x").status_code == 400
    assert login(other_secretary).get(f"/w/points/ledger.xlsx?village={world.village.code}").status_code == 404
    assert login(world.user("grid_a")).get(f"/w/points/ledger.xlsx?village={world.village.code}").status_code == 404
    assert AuditEntry.objects.filter(action="export", changes__what="points ledger").count() == 2
