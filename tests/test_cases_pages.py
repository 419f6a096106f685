"""Case pages (issue 3): villager 我要反映 / 我的诉求, staff list, detail, board and ledger."""

from __future__ import annotations

import io

import openpyxl
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hemei.cases.models import Case, CaseEvent, Category
from hemei.cases.services import case_accept, case_resolve, case_submit
from hemei.cases.sweep import sweep
from hemei.cases.views import PLAIN_EVENTS
from hemei.core.models import AuditEntry
from hemei.core.scope import SYSTEM
from tests.conftest import at

pytestmark = pytest.mark.usefixtures("migration_seeds")


def cat(name: str = "环境卫生") -> Category:
    return Category.objects.get(county__isnull=True, name=name)


def submit(world, *, reporter=None, title: str = "垃圾没人清") -> Case:
    reporter = reporter or world.head_a
    return case_submit(actor=SYSTEM, region=reporter.region, category=cat(), title=title,
                       description="村口垃圾堆了一周", source=Case.Source.PHONE, reporter=reporter)


def test_villager_home_links_to_report(world, login):
    page = login(world.user("villager")).get(reverse("villager-home")).content.decode()
    assert reverse("my-case-new") in page and reverse("my-cases") in page


@time_machine.travel(at(2026, 3, 2), tick=False)
def test_villager_submits_sees_and_cannot_see_others(world, login):
    client = login(world.user("villager"))
    form = client.get(reverse("my-case-new"))
    assert form.status_code == 200 and "环境卫生" in form.content.decode()
    response = client.post(reverse("my-case-new"), {
        "category": cat().pk, "title": "路灯坏了", "description": "村东路灯不亮"})
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("my-case", args=[case.number])
    assert case.number.startswith("140110-2026-")
    assert (case.household, case.region, case.reporter) == (world.house_a, world.grid_a, world.head_a)
    assert case.source == Case.Source.VILLAGER and case.created_by == world.user("villager")
    response = client.get(response["Location"])
    assert response.status_code == 200, response
    page = response.content.decode()
    assert "路灯坏了" in page and str(PLAIN_EVENTS[CaseEvent.Kind.SUBMITTED]) in page
    assert case.number in client.get(reverse("my-cases")).content.decode()
    other = submit(world, reporter=world.head_b, title="别人的事")
    assert client.get(reverse("my-case", args=[other.number])).status_code == 404
    assert client.post(reverse("my-case-rate", args=[other.number]), {"rating": "satisfied"}).status_code == 404
    assert other.number not in client.get(reverse("my-cases")).content.decode()


def test_villager_bad_input_changes_nothing(world, login):
    client = login(world.user("villager"))
    response = client.post(reverse("my-case-new"), {"category": "", "title": "x", "description": "y"})
    assert response.status_code == 200 and not Case.objects.exists()
    response = client.post(reverse("my-case-new"), {"category": cat().pk, "description": "  "})
    assert response.status_code == 200 and not Case.objects.exists()
    response = client.post(reverse("my-case-new"), {"category": cat().pk, "description": "长" * 4001})
    assert response.status_code == 200 and not Case.objects.exists()
    assert "4000" in response.content.decode()
    # Script in text is escaped on the page.
    client.post(reverse("my-case-new"), {"category": cat().pk, "title": "<script>x</script>", "description": "y"})
    page = client.get(reverse("my-case", args=[Case.objects.get().number])).content.decode()
    assert "<script>x</script>" not in page and "&lt;script&gt;" in page


def test_villager_rates_unsatisfied_reopens(world, login):
    with time_machine.travel(at(2026, 3, 2), tick=False):
        case = submit(world)
        case_accept(actor=world.user("secretary"), case=case, responsible=world.user("grid_a"))
        case_resolve(actor=world.user("grid_a"), case=case, measures="已组织清运")
    with time_machine.travel(at(2026, 3, 3), tick=False):
        client = login(world.user("villager"))
        page = client.get(reverse("my-case", args=[case.number])).content.decode()
        assert 'value="unsatisfied"' in page and "已组织清运" in page
        response = client.post(reverse("my-case-rate", args=[case.number]), {"rating": "unsatisfied"})
        assert response.status_code == 302
        case.refresh_from_db()
        assert case.status == Case.Status.IN_PROGRESS and case.rating == Case.Rating.UNSATISFIED
        assert case.resolve_by > at(2026, 3, 3)
        assert 'value="unsatisfied"' not in client.get(reverse("my-case", args=[case.number])).content.decode()


def test_grid_worker_accepts_starts_resolves(world, login):
    case = submit(world)
    client = login(world.user("grid_a"))
    page = client.get(reverse("case-detail", args=[case.number])).content.decode()
    assert "垃圾没人清" in page and f'value="{world.user("grid_a").pk}"' in page
    url = lambda action: reverse("case-action", args=[case.number, action])  # noqa: E731
    client.post(url("accept"), {"responsible": world.user("grid_a").pk, "unit": "西邵村村委会"})
    case.refresh_from_db()
    assert case.status == Case.Status.ACCEPTED and case.responsible == world.user("grid_a")
    client.post(url("start"))
    case.refresh_from_db()
    assert case.status == Case.Status.IN_PROGRESS
    client.post(url("resolve"), {"measures": "已组织清运"})
    case.refresh_from_db()
    assert case.status == Case.Status.RESOLVED and case.measures == "已组织清运"
    # A transition not in the table changes nothing.
    client.post(url("reject"), {"reason": "重复"})
    case.refresh_from_db()
    assert case.status == Case.Status.RESOLVED
    assert list(case.events.values_list("kind", flat=True)) == ["submitted", "accepted", "started", "resolved"]


def test_responsible_must_be_a_candidate(world, login):
    case = submit(world)
    client = login(world.user("grid_a"))
    client.post(reverse("case-action", args=[case.number, "accept"]), {"responsible": world.user("outsider").pk})
    case.refresh_from_db()
    assert case.status == Case.Status.SUBMITTED


def test_other_grid_gets_404_and_does_not_list_it(world, login):
    case = submit(world)
    client = login(world.user("grid_b"))
    assert client.get(reverse("case-detail", args=[case.number])).status_code == 404
    assert client.post(reverse("case-action", args=[case.number, "accept"]), {"unit": "x"}).status_code == 404
    assert case.number not in client.get(reverse("case-list")).content.decode()
    assert case.number in login(world.user("township")).get(reverse("case-list")).content.decode()
    case.refresh_from_db()
    assert case.status == Case.Status.SUBMITTED


def test_villager_gets_404_on_staff_pages(world, login):
    case = submit(world)
    client = login(world.user("villager"))
    assert client.get(reverse("case-list")).status_code == 404
    assert client.get(reverse("case-detail", args=[case.number])).status_code == 404
    assert client.get(reverse("case-ledger") + f"?region={world.village.code}").status_code == 404


def test_list_filters(world, login):
    a = submit(world, title="甲")
    b = submit(world, reporter=world.head_b, title="乙")
    case_accept(actor=SYSTEM, case=b, unit="村委会")
    client = login(world.user("secretary"))
    page = client.get(reverse("case-list"), {"status": "accepted"}).content.decode()
    assert b.number in page and a.number not in page
    page = client.get(reverse("case-list"), {"region": world.grid_a.code}).content.decode()
    assert a.number in page and b.number not in page
    assert client.get(reverse("case-list"), {"region": world.grid_b.code, "status": "bogus"}).status_code == 200
    assert client.get(reverse("case-list"), {"region": world.village2.code}).status_code == 404


def test_list_query_count_is_flat(world, login):
    client = login(world.user("township"))
    for i in range(3):
        submit(world, title=f"事{i}")
    client.get(reverse("case-list"))
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("case-list")).status_code == 200
    for i in range(12):
        case = submit(world, reporter=world.head_b if i % 2 else world.head_a, title=f"多{i}")
        if i % 3 == 0:
            case_accept(actor=SYSTEM, case=case, responsible=world.user("grid_a"))
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("case-list")).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


def test_ledger_xlsx(world, login):
    with time_machine.travel(at(2026, 3, 2), tick=False):
        submit(world, title="=HYPERLINK(\"http://x\")")
        submit(world, reporter=world.head_b, title="路灯坏了")
        submit(world, reporter=world.head_c, title="别村的事")
    with time_machine.travel(at(2026, 3, 2, 12), tick=False):
        client = login(world.user("secretary"))
        response = client.get(reverse("case-ledger"), {"region": world.village.code, "from": "2026-03-01",
                                                       "to": "2026-03-31"})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("序号", "编号", "来源", "户主/反映人", "问题", "责任人", "办结时限", "解决措施", "状态",
                       "是否超期", "群众评价")
    assert len(rows) == 3  # two cases of 西邵村; 东邵村's is not in the region
    problems = [r[4] for r in rows[1:]]
    assert problems[0].startswith("'=HYPERLINK") and problems[1].startswith("路灯坏了")
    assert rows[1][1].startswith("140110-2026-") and rows[1][3] == "王建国" and rows[2][3] == "张志强"
    assert [r[0] for r in rows[1:]] == [1, 2] and rows[1][9] == "否"
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).get()
    assert entry.changes["rows"] == 2 and entry.actor == world.user("secretary")
    # Outside the period: headers only; later, the open cases are overdue.
    client = login(world.user("secretary"))
    later = client.get(reverse("case-ledger"), {"region": world.village.code})
    assert [r[9] for r in list(openpyxl.load_workbook(io.BytesIO(later.content)).active.iter_rows(
        values_only=True))[1:]] == ["是", "是"]
    empty = client.get(reverse("case-ledger"), {"region": world.village.code, "from": "2026-04-01"})
    assert len(list(openpyxl.load_workbook(io.BytesIO(empty.content)).active.iter_rows())) == 1
    # A region outside read scope is a 404 and writes no audit row.
    grid_b = login(world.user("grid_b"))
    assert grid_b.get(reverse("case-ledger"), {"region": world.grid_a.code}).status_code == 404
    assert AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).count() == 3


def test_board_lists_escalated_case(world, login):
    with time_machine.travel(at(2026, 3, 2), tick=False):
        late = submit(world, title="没人管")
        fine = submit(world, reporter=world.head_b, title="刚报的")
    with time_machine.travel(at(2026, 3, 2, 12), tick=False):
        page = login(world.user("township")).get(reverse("case-board")).content.decode()
    assert late.number not in page
    escalated = sweep(now=at(2026, 3, 2, 18))
    assert {e.ref for e in escalated} == {late.number, fine.number}
    case_accept(actor=SYSTEM, case=fine, unit="村委会")  # accepted late: still escalated, still open
    with time_machine.travel(at(2026, 3, 3, 10), tick=False):
        page = login(world.user("township")).get(reverse("case-board")).content.decode()
        assert late.number in page and fine.number in page
        assert "16" in page  # 16 hours since the escalation at 18:00
        assert late.number not in login(world.user("grid_b")).get(reverse("case-board")).content.decode()
    late.refresh_from_db()
    assert late.tier == Case.Tier.TOWNSHIP


def test_case_forms_drop_malformed_fields_without_a_500(world, login):
    case, main = submit(world), submit(world, title="又一堆垃圾")
    client = login(world.user("grid_a"))
    merge = reverse("case-action", args=[case.number, "merge"])
    for into in (main.number + "\x00", "\x00", "x" * 5000):
        assert client.post(merge, {"into": into}).status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.SUBMITTED
    assert client.post(merge, {"into": f" {main.number} "}).status_code == 302  # the number is trimmed
    case.refresh_from_db()
    assert case.status == Case.Status.MERGED and case.merged_into == main
    # The staff form takes a household id only; anything else is not found.
    for household in ("abc", "²", "9" * 30):
        assert client.get(reverse("case-new") + f"?household={household}").status_code == 404
        assert client.post(reverse("case-new"), {"household": household}).status_code == 404


@time_machine.travel(at(2026, 3, 2), tick=False)
def test_villager_form_keeps_a_long_key_and_a_resend_files_one_case(world, login):
    client = login(world.user("villager"))
    sent = {"category": cat().pk, "title": "路灯坏了", "description": "村东路灯不亮", "key": "k" * 5000}
    first, again = client.post(reverse("my-case-new"), sent), client.post(reverse("my-case-new"), sent)
    case = Case.objects.get()
    assert first["Location"] == again["Location"] == reverse("my-case", args=[case.number])
    # A NUL in the title drops it: the title is taken from the description.
    client.post(reverse("my-case-new"), {**sent, "key": "other", "title": "坏\x00了"})
    assert Case.objects.exclude(pk=case.pk).get().title == "村东路灯不亮"
