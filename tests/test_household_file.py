"""一户一档 (issue 15): the household page is the household's whole file, printable as a PDF,
and its history reads as sentences."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.urls import reverse

from hemei.cases.models import Case, Category
from hemei.cases.services import case_submit
from hemei.core.audit import audit_record
from hemei.core.household_file import SECTIONS, household_file
from hemei.core.models import AuditEntry
from hemei.core.plain import audit_sentence, change_sentences
from hemei.points.ledger import entry_propose
from hemei.points.testing import adopted_rules
from hemei.regions import services as region_services
from hemei.visits.services import visit_record
from tests.conftest import at

pytestmark = pytest.mark.usefixtures("migration_seeds")


def test_sections_registered_by_the_apps():
    assert {"cases", "visits", "monitoring", "points", "stars", "courtyard", "trusteeship"} <= set(SECTIONS)


def test_the_file_gathers_cases_visits_and_points(world, client):
    case = case_submit(actor=world.user("villager"), region=world.grid_a,
                       category=Category.objects.get(county__isnull=True, name="公共设施：路灯"),
                       title="路灯不亮", description="村口路灯不亮", source=Case.Source.VILLAGER,
                       reporter=world.head_a, household=world.house_a)
    visit_record(actor=world.user("grid_a"), household=world.house_a)
    rules = adopted_rules(actor=world.user("secretary"), village=world.village, held_at=at(2026, 9, 1))
    entry_propose(actor=world.user("grid_a"), household=world.house_a, item=rules.rule("J1"),
                  deed_date=dt.date.today(), idempotency_key=uuid.uuid4().hex)
    sections = {s.key: s for s in household_file(world.user("grid_a"), world.house_a)}
    assert [c.text for c in sections["cases"].rows[0]][:2] == [case.number, "路灯不亮"]
    assert len(sections["visits"].rows) == 1
    assert sections["points"].rows[0][2].text == "+5"
    assert "monitoring" not in sections  # never monitored: no empty heading
    client.force_login(world.user("grid_a"))
    body = client.get(reverse("household-detail", args=[world.house_a.pk])).content.decode()
    for heading in ("诉求", "走访", "积分", "星级文明户", "历史记录"):
        assert heading in body
    assert reverse("case-detail", args=[case.number]) in body


def test_another_households_rows_never_show(world):
    case_submit(actor=world.user("secretary"), region=world.grid_b,
                category=Category.objects.get(county__isnull=True, name="其他"), title="二网格的事",
                description="二网格", source=Case.Source.PHONE, household=world.house_b)
    sections = {s.key: s for s in household_file(world.user("secretary"), world.house_a)}
    assert sections["cases"].rows == []


def test_history_in_plain_words_with_local_time(world, client):
    region_services.resident_update(resident=world.head_a, actor=world.user("secretary"), relation="spouse")
    client.force_login(world.user("secretary"))
    body = client.get(reverse("household-detail", args=[world.house_a.pk])).content.decode()
    assert "secretary 修改了居民“王建国”：与户主关系 由 户主 改为 配偶。" in body
    assert "{'" not in body and "regions.resident" not in body


def test_audit_changes_render_as_sentences(world):
    entry = audit_record(actor=world.user("secretary"), action=AuditEntry.Action.UPDATE,
                         object_type="cases.case", object_id="1", object_repr="140110-2026-000001 路灯不亮",
                         changes={"status": ["resolved", "closed"], "rating": [None, "satisfied"],
                                  "accepted_at": ["2026-12-02T06:30:00+00:00", None]})
    assert audit_sentence(entry) == (
        "secretary 修改了诉求“140110-2026-000001 路灯不亮”：状态 由 已办结 改为 已关闭；群众评价 设为 满意；"
        "已受理 已清空（原为 2026-12-02 14:30）。")
    reveal = audit_record(actor=world.user("grid_a"), action=AuditEntry.Action.REVEAL, obj=world.head_a,
                          changes={"field": "phone"})
    assert audit_sentence(reveal) == "grid1 查看了完整个人信息：居民“王建国”：字段：手机号。"
    login = audit_record(actor=world.user("grid_a"), action=AuditEntry.Action.LOGIN, object_type="accounts.user",
                         object_id="1", object_repr="grid1")
    assert audit_sentence(login) == "grid1 登录。"
    assert change_sentences("no.such", {"x": [1, True]}) == ["x 由 1 改为 是"]


def test_audit_log_page_shows_sentences_not_data(world, client):
    region_services.resident_update(resident=world.head_a, actor=world.user("secretary"), relation="spouse")
    client.force_login(world.user("county"))
    body = client.get(reverse("audit-log")).content.decode()
    assert "与户主关系 由 户主 改为 配偶" in body and "[&#x27;head&#x27;" not in body


def test_household_file_pdf_has_the_file_and_masks_personal_data(world, client):
    client.force_login(world.user("secretary"))
    response = client.get(reverse("household-pdf", args=[world.house_a.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    client.force_login(world.user("grid_b"))  # another grid: not found, as the page
    assert client.get(reverse("household-pdf", args=[world.house_a.pk])).status_code == 404
    client.force_login(world.user("villager"))
    assert client.get(reverse("household-pdf", args=[world.house_a.pk])).status_code == 404
