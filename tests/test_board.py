"""The public village board /v/<code>/: a summary screen and a paged page per section; no login,
published versions only, no personal data, 404 for unknown places without a stack trace,
registry for other apps, cached under version keys (a write shows at once), constant query
counts per section as data grows."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from hemei.cases.models import Category
from hemei.cases.services import case_submit
from hemei.core.idnumbers import make_id_number
from hemei.core.models import ChainHead
from hemei.disclosure import board, finance, services
from hemei.disclosure.models import DisclosureVersion, Kind
from hemei.disclosure.personal import find_personal_data
from hemei.regions.models import Resident, Role
from tests.conftest import World, make_user


def board_urls(world: World) -> list[str]:
    """The summary, every section's page and the print layout."""
    code = world.village.code
    return [f"/v/{code}/", f"/v/{code}/print/", *(f"/v/{code}/{key}/" for key in board.BOARD_SECTIONS)]


ID = make_id_number("140110", dt.date(1958, 1, 9), 321)
CARD = "6222021234567894"


@pytest.fixture
def supervisor(world: World) -> Any:
    return make_user("supervisor", region=world.village, role=Role.SUPERVISION)


def published(
    world: World, supervisor: Any, *, title: str, body: str, kind: str = Kind.VILLAGE, confirm: bool = False
) -> DisclosureVersion:
    secretary = world.user("secretary")
    version = services.disclosure_create(
        actor=secretary,
        village=world.village,
        kind=kind,
        title=title,
        body=body,
        period_start=dt.date(2026, 7, 1),
        period_end=dt.date(2026, 9, 30),
    )
    services.version_submit(actor=secretary, version=version, confirm=confirm)
    services.version_review(actor=supervisor, version=version, approve=True)
    return services.version_publish(actor=secretary, version=version)


def test_anyone_reads_the_board_without_login(world: World, supervisor: Any, client: Any) -> None:
    published(world, supervisor, title="第三季度村务公开", body="修缮村道 1.2 公里。")
    services.disclosure_create(
        actor=world.user("secretary"),
        village=world.village,
        kind=Kind.PARTY,
        title="尚未审核的草稿",
        body="草稿",
        period_start=dt.date(2026, 7, 1),
        period_end=dt.date(2026, 9, 30),
    )
    response = client.get(f"/v/{world.village.code}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "第三季度村务公开" in html and 'id="summary-disclosures"' in html  # the latest title, no body
    assert "尚未审核的草稿" not in html and "修缮村道" not in html
    head = ChainHead.objects.get(chain="disclosure", village=world.village).head_hash
    assert head in html
    assert 'name="viewport"' in html and "board/board.css" in html
    page = client.get(f"/v/{world.village.code}/disclosures/").content.decode()
    assert "第三季度村务公开" in page and "修缮村道" in page and "尚未审核的草稿" not in page
    assert client.get(f"/v/{world.village.code}/disclosures/?kind=party").status_code == 200
    assert "修缮村道" in client.get(f"/v/{world.village.code}/disclosures/?year=2026").content.decode()
    assert "修缮村道" not in client.get(f"/v/{world.village.code}/disclosures/?year=2025").content.decode()


@pytest.mark.parametrize("code", ["999999999999", "140110101201001", "140110101", "<script>", "x" * 40])
def test_unknown_or_non_village_codes_are_404_without_a_stack_trace(world: World, client: Any, code: str) -> None:
    response = client.get(f"/v/{code}/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Traceback" not in html and 'File "' not in html and "<script>" not in html
    assert client.get(f"/v/{code}/print/").status_code == 404
    assert client.get(f"/v/{code}/disclosures/").status_code == 404


@pytest.mark.parametrize("path", ["nothing/", "disclosures/?page=0", "disclosures/?page=x", "stars/?page=501"])
def test_unknown_sections_and_pages_are_404(world: World, client: Any, path: str) -> None:
    assert client.get(f"/v/{world.village.code}/{path}").status_code == 404


def test_earlier_versions_stay_visible_after_a_correction(world: World, supervisor: Any, client: Any) -> None:
    first = published(world, supervisor, title="低保名单公示", body="第一版：共 12 户。")
    secretary = world.user("secretary")
    second = services.correction_start(
        actor=secretary, disclosure=first.disclosure, reason="漏报一户", body="第二版：共 13 户。"
    )
    services.version_submit(actor=secretary, version=second)
    services.version_review(actor=supervisor, version=second, approve=True)
    services.version_publish(actor=secretary, version=second)
    html = client.get(f"/v/{world.village.code}/disclosures/").content.decode()
    assert html.index("第二版：共 13 户。") < html.index("第一版：共 12 户。")
    assert "漏报一户" in html


def test_the_board_never_shows_id_numbers_phones_bank_cards(
    world: World, supervisor: Any, client: Any, migration_seeds: None
) -> None:
    # The author confirmed the warning; the board still masks every number it finds.
    published(
        world,
        supervisor,
        title=f"救助公示 {ID}",
        body=f"户主身份证 {ID}，电话 13912345678，卡号 {CARD}。",
        confirm=True,
    )
    category = Category.objects.filter(county__isnull=True).first()
    assert category is not None
    case_submit(
        actor=world.user("villager"),
        region=world.grid_a,
        category=category,
        title="王建国家门口漏水",
        description=f"联系 13800001111，身份证 {world.head_a.id_number}，心脏病需照顾",
        source="villager",
        household=world.house_a,
        reporter=world.head_a,
    )
    html = "".join(client.get(url).content.decode() for url in board_urls(world))
    assert find_personal_data(re.sub(r"<[^>]+>", " ", html)) == []
    for secret in [
        ID,
        "13912345678",
        CARD,
        "13800001111",
        "心脏病",
        "王建国家门口漏水",
        *Resident.objects.values_list("id_number", flat=True),
        *Resident.objects.exclude(phone="").values_list("phone", flat=True),
    ]:
        assert secret not in html
    assert "139****5678" in html and "<b>1</b>" in html  # the case counts as one submitted


def test_the_board_shows_the_finance_chart_and_case_figures(world: World, client: Any) -> None:
    accountant = make_user("accountant", region=world.village, role=Role.ACCOUNTANT)
    for year, amount in ((2019, "237000"), (2026, "1949000")):
        finance.annual_income_set(actor=accountant, village=world.village, year=year, amount=Decimal(amount))
    html = client.get(f"/v/{world.village.code}/finance/").content.decode()
    assert "194.9" in client.get(f"/v/{world.village.code}/").content.decode()
    assert 'data-chart="board-income"' in html and '"value": 194.9' in html and "2019: 23.7" in html
    assert "vendor/echarts.min.js" in html and "hemei/charts.js" in html


def test_other_apps_register_sections_and_chain_heads(world: World, client: Any, monkeypatch: Any) -> None:
    monkeypatch.setitem(
        board.BOARD_SECTIONS,
        "demo",
        board.BoardSection(
            "demo", "积分公示", "board/_rows.html", 10,
            lambda village, query: {"rows": [f"{village.name} 第一户 120 分"]},
            summary=lambda village: [board.Figure(120, "分")],
        ),
    )
    monkeypatch.setitem(
        board.BOARD_SECTIONS, "empty",
        board.BoardSection("empty", "空的", "board/_rows.html", 20, lambda village, query: None),
    )
    monkeypatch.setitem(board.CHAIN_HEADS, "points", lambda village: board.ChainHead("积分台账", 7, "ab" * 32))
    html = client.get(f"/v/{world.village.code}/").content.decode()
    assert "积分台账" in html and "ab" * 32 in html and 'id="summary-demo"' in html
    assert 'id="summary-empty"' not in html and f"/v/{world.village.code}/empty/" in html  # in the menu only
    page = client.get(f"/v/{world.village.code}/demo/").content.decode()
    assert 'id="section-demo"' in page and "西邵村 第一户 120 分" in page
    assert "西邵村 第一户 120 分" not in client.get(f"/v/{world.village.code}/empty/").content.decode()


def test_attachments_are_public_only_when_published(world: World, supervisor: Any, client: Any) -> None:
    secretary = world.user("secretary")
    version = services.disclosure_create(
        actor=secretary,
        village=world.village,
        kind=Kind.VILLAGE,
        title="附件",
        body="见附件",
        period_start=dt.date(2026, 7, 1),
        period_end=dt.date(2026, 9, 30),
    )
    attachment = services.attachment_add(
        actor=secretary, version=version, upload=SimpleUploadedFile("账.pdf", b"%PDF-1.4 public")
    )
    url = f"/v/{world.village.code}/files/{attachment.pk}/"
    assert client.get(url).status_code == 404
    services.version_submit(actor=secretary, version=version)
    services.version_review(actor=supervisor, version=version, approve=True)
    services.version_publish(actor=secretary, version=version)
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF-")
    assert client.get(f"/v/{world.village2.code}/files/{attachment.pk}/").status_code == 404


def test_the_printable_notice_board(world: World, supervisor: Any, client: Any) -> None:
    published(world, supervisor, title="第三季度党务公开", body="发展党员一名。", kind=Kind.PARTY)
    html = client.get(f"/v/{world.village.code}/print/").content.decode()
    assert "第三季度党务公开" in html and 'class="notice"' in html and "board/board.css" in html
