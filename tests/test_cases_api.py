"""Cases REST API (issue 3, APIs): scope, filters, idempotent create, transitions, timeline."""

from __future__ import annotations

import pytest
import time_machine
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from hemei.cases.models import Case, CaseEvent, Category
from hemei.cases.services import case_accept, case_resolve, case_submit
from hemei.cases.sweep import sweep
from tests.conftest import at

pytestmark = pytest.mark.usefixtures("migration_seeds")
URL = "/api/v1/cases/"


def cat(name: str = "环境卫生") -> Category:
    return Category.objects.get(county__isnull=True, name=name)


def api(world, persona: str) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=world.user(persona))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def villager_case(world, title: str = "垃圾没人清") -> Case:
    return case_submit(actor=world.user("villager"), region=world.grid_a, category=cat(), title=title,
                       description="村口垃圾堆了一周", source=Case.Source.VILLAGER, reporter=world.head_a)


def grid_b_case(world) -> Case:
    return case_submit(actor=world.user("grid_b"), region=world.grid_b, category=cat("道路交通"), title="路面塌陷",
                       description="二街路面塌了一个坑", source=Case.Source.PATROL, reporter_name="张志强")


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["number"] for row in response.json()["results"]]


# --- scope ----------------------------------------------------------------------------------


def test_list_and_detail_follow_scope(world):
    a, b = villager_case(world), grid_b_case(world)
    assert set(numbers(api(world, "secretary").get(URL))) == {a.number, b.number}
    assert numbers(api(world, "grid_a").get(URL)) == [a.number]
    assert numbers(api(world, "grid_b").get(URL)) == [b.number]
    assert numbers(api(world, "villager").get(URL)) == [a.number]  # own household only
    assert numbers(api(world, "outsider").get(URL)) == []
    # grid_b cannot read grid_a's case; the outsider cannot read any: 404, never 403.
    assert api(world, "grid_b").get(f"{URL}{a.number}/").status_code == 404
    assert api(world, "outsider").get(f"{URL}{a.number}/").status_code == 404
    assert api(world, "villager").get(f"{URL}{b.number}/").status_code == 404
    assert api(world, "grid_b").get(f"{URL}{a.number}/events/").status_code == 404
    body = api(world, "grid_a").get(f"{URL}{a.number}/").json()
    assert body["number"] == a.number and body["region"] == world.grid_a.code
    assert body["reporter_name"] == "王建国"


def test_anonymous_and_bad_token_are_refused(world):
    villager_case(world)
    assert APIClient().get(URL).status_code in (401, 403)
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token nope")
    response = bad.get(URL)
    assert response.status_code == 401
    assert "error" in response.json()


def test_no_id_numbers_or_phones_anywhere(world):
    case = villager_case(world)
    text = api(world, "county").get(f"{URL}{case.number}/").content.decode()
    listing = api(world, "county").get(URL).content.decode()
    for secret in (world.head_a.id_number, "13800001111", world.head_a.id_number[-6:]):
        assert secret not in text and secret not in listing


def test_filters(world):
    with time_machine.travel(at(2026, 3, 2), tick=False):
        a = villager_case(world)
    with time_machine.travel(at(2026, 3, 10), tick=False):
        b = grid_b_case(world)
        case_accept(actor=world.user("grid_b"), case=b, unit="村委会")
    client = api(world, "township")
    assert numbers(client.get(URL, {"status": "accepted"})) == [b.number]
    assert numbers(client.get(URL, {"category": cat().pk})) == [a.number]
    assert numbers(client.get(URL, {"region": world.grid_b.code})) == [b.number]
    assert set(numbers(client.get(URL, {"region": world.village.code}))) == {a.number, b.number}
    assert numbers(client.get(URL, {"created_after": "2026-03-05T00:00:00+08:00"})) == [b.number]
    assert numbers(client.get(URL, {"created_before": "2026-03-05T00:00:00+08:00"})) == [a.number]
    assert numbers(client.get(URL, {"tier": "township"})) == []
    assert client.get(URL, {"status": "nonsense"}).status_code == 400
    assert client.get(URL, {"created_after": "yesterday"}).status_code == 400
    # A region outside the caller's scope is "not found", not an empty list that confirms it.
    assert api(world, "grid_a").get(URL, {"region": world.grid_b.code}).status_code == 404


def test_list_queries_do_not_grow(world, django_assert_max_num_queries):
    client = api(world, "county")
    for i in range(3):
        villager_case(world, title=f"问题{i}")
    with django_assert_max_num_queries(8):
        assert len(numbers(client.get(URL))) == 3
    for _ in range(20):
        grid_b_case(world)
    with django_assert_max_num_queries(8):
        assert len(numbers(client.get(URL, {"page_size": 50}))) == 23


def test_list_is_newest_first_by_cursor_pages(world):
    """Cursor pages (no COUNT over a county's cases): 20 a page by default, `next` follows on
    without repeating or skipping a case, even when a new case arrives between pages."""
    cases = [grid_b_case(world) for _ in range(25)]
    client = api(world, "county")
    first = client.get(URL).json()
    assert [r["number"] for r in first["results"]] == [c.number for c in reversed(cases)][:20]
    assert "count" not in first and first["next"]
    grid_b_case(world)  # arrives while the reader is on page one
    second = client.get(first["next"]).json()
    assert [r["number"] for r in second["results"]] == [c.number for c in reversed(cases)][20:]
    row = first["results"][0]
    assert set(row) == {"number", "title", "status", "tier", "category", "region", "source", "accept_by",
                        "resolve_by", "overdue", "rating", "created_at"}
    # Beyond the maximum (100) is refused with the field named, not silently cut.
    refused = client.get(URL, {"page_size": 1000})
    assert refused.status_code == 400
    assert "page_size" in refused.json()["error"]["fields"]
    assert len(client.get(URL, {"page_size": 100}).json()["results"]) == 26  # 26 exist


# --- create and idempotency -----------------------------------------------------------------


def test_villager_creates_in_own_household(world):
    client = api(world, "villager")
    response = client.post(URL, {"category": cat().pk, "title": "路灯坏了", "description": "村口<b>路灯</b>"},
                           format="json")
    assert response.status_code == 201, response.content
    case = Case.objects.get(number=response.json()["number"])
    assert (case.region, case.household, case.reporter, case.source) == (
        world.grid_a, world.house_a, world.head_a, Case.Source.VILLAGER)
    assert response.json()["description"] == "村口<b>路灯</b>"  # JSON: stored as typed, escaped by pages


def test_staff_creates_in_write_scope_only(world):
    body = {"category": cat().pk, "title": "路面塌陷", "description": "二街", "region": world.grid_b.code}
    before = Case.objects.count()
    assert api(world, "grid_a").post(URL, body, format="json").status_code == 404
    assert api(world, "shop").post(URL, body, format="json").status_code in (403, 404)
    assert api(world, "outsider").post(URL, body, format="json").status_code == 404
    assert Case.objects.count() == before
    response = api(world, "grid_b").post(URL, {**body, "reporter_name": "张志强", "source": "phone"}, format="json")
    assert response.status_code == 201
    assert response.json()["source"] == "phone" and response.json()["reporter_name"] == "张志强"


def test_bad_input_creates_nothing(world):
    client = api(world, "township")
    before = Case.objects.count()
    good = {"category": cat().pk, "title": "t", "description": "d", "region": world.grid_a.code}
    for bad in ({**good, "title": "x" * 101}, {**good, "description": "x" * 4001}, {**good, "category": 99999},
                {**good, "region": ""}, {**good, "region": world.township.code}, {**good, "description": " "}):
        response = client.post(URL, bad, format="json")
        assert response.status_code == 400, (bad, response.content)
        assert set(response.json()["error"]) == {"code", "message", "fields"}
    assert Case.objects.count() == before


def test_idempotency_key(world):
    client = api(world, "villager")
    body = {"category": cat().pk, "title": "路灯坏了", "description": "村口路灯不亮"}
    first = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["number"] == again.json()["number"]
    assert Case.objects.count() == 1
    conflict = client.post(URL, {**body, "description": "别的事"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "idempotency_conflict"
    # Another account with the same key is another submission.
    other = api(world, "grid_a").post(URL, {**body, "region": world.grid_a.code}, format="json",
                                      HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 201
    assert client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="x" * 65).status_code == 400
    assert Case.objects.count() == 2
    assert CaseEvent.objects.filter(kind="submitted").count() == 2


# --- transitions and the timeline -----------------------------------------------------------


def test_workflow_through_the_api(world):
    case = villager_case(world)
    staff, villager = api(world, "grid_a"), api(world, "villager")
    url = f"{URL}{case.number}/"
    response = staff.post(url + "accept/", {"unit": "村委会", "responsible": "grid1"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "accepted" and response.json()["responsible"] == "grid1"
    assert staff.post(url + "start/", {"note": "今天去看"}, format="json").json()["status"] == "in_progress"
    assert staff.post(url + "resolve/", {"measures": "已清运"}, format="json").json()["status"] == "resolved"
    # Staff do not rate; the reporter's household does.
    assert staff.post(url + "rate/", {"rating": "satisfied"}, format="json").status_code == 404
    response = villager.post(url + "rate/", {"rating": "satisfied"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "closed"
    events = villager.get(url + "events/").json()
    assert [e["kind"] for e in events] == ["submitted", "accepted", "started", "resolved", "rated"]
    assert events[1]["from_status"] == "submitted" and events[1]["to_status"] == "accepted"
    assert events[3]["note"] == "已清运"
    assert set(events[0]) == {"kind", "at", "from_status", "to_status", "note"}


def test_transition_not_allowed_is_409_and_changes_nothing(world):
    case = villager_case(world)
    staff = api(world, "grid_a")
    url = f"{URL}{case.number}/"
    response = staff.post(url + "start/", {}, format="json")  # submitted → in progress: not allowed
    assert response.status_code == 409, response.content
    assert response.json()["error"]["code"] == "transition"
    assert staff.post(url + "reject/", {"reason": "不属于本村"}, format="json").status_code == 200
    response = staff.post(url + "resolve/", {"measures": "x"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "transition" and response.json()["error"]["message"]
    assert api(world, "villager").post(url + "rate/", {"rating": "satisfied"}, format="json").status_code == 409
    case.refresh_from_db()
    assert case.status == "rejected"
    assert list(case.events.values_list("kind", flat=True)) == ["submitted", "rejected"]


def test_actions_need_write_scope(world):
    case = villager_case(world)
    url = f"{URL}{case.number}/accept/"
    assert api(world, "grid_b").post(url, {"unit": "x"}, format="json").status_code == 404
    assert api(world, "villager").post(url, {"unit": "x"}, format="json").status_code == 404
    assert api(world, "shop").post(url, {"unit": "x"}, format="json").status_code == 403  # reads, may not write
    assert api(world, "secretary").post(url, {"responsible": "nobody"}, format="json").status_code == 400
    assert api(world, "villager").post(f"{URL}{case.number}/rate/", {"rating": "meh"},
                                       format="json").status_code == 400
    case.refresh_from_db()
    assert case.status == "submitted"


def test_escalation_and_unsatisfied_rating_show_in_events(world):
    with time_machine.travel(at(2026, 3, 2, 9), tick=False):
        case = villager_case(world)
    with time_machine.travel(at(2026, 3, 5, 9), tick=False):
        sweep()
    with time_machine.travel(at(2026, 3, 5, 10), tick=False):
        case_accept(actor=world.user("secretary"), case=case, unit="村委会")
        case_resolve(actor=world.user("secretary"), case=case, measures="已清运")
        assert api(world, "villager").post(f"{URL}{case.number}/rate/", {"rating": "unsatisfied", "note": "还有"},
                                           format="json").json()["status"] == "in_progress"
    kinds = [e["kind"] for e in api(world, "township").get(f"{URL}{case.number}/events/").json()]
    assert kinds[0] == "submitted" and "escalated" in kinds
    assert kinds[-3:] == ["accepted", "resolved", "reopened"]
