"""API errors and caching (issue 11, items 7 and 8): JSON errors under /api/ with one code
vocabulary in Chinese, no Python repr in messages; Cache-Control: no-store on pages, API answers
and downloads; the web roster export masked unless asked for, audited either way."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from hemei.core.models import AuditEntry

pytestmark = pytest.mark.usefixtures("migration_seeds")


def api(world, persona: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=world.user(persona))[0].key}")
    return client


@pytest.mark.parametrize("path", ["/api/nothing/", "/api/v1/nothing/", "/api/v1/cases/x/y/z/", "/api/v2/"])
def test_unknown_api_paths_answer_json_not_the_html_page(world, path):
    response = api(world, "grid_a").get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "not_found"


def test_a_case_outside_scope_is_not_found_in_chinese(world):
    response = api(world, "grid_a").get("/api/v1/cases/140110-2026-999999/")
    assert response.status_code == 404
    body = response.json()["error"]
    assert body["code"] == "not_found"  # not "error"
    assert body["message"] == "未找到。"


def test_a_future_visit_time_is_a_plain_message(world):
    response = api(world, "grid_a").post("/api/v1/visits/", {"household": world.house_a.pk,
                                                             "visited_at": "2099-01-01T10:00:00+08:00"}, format="json")
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "invalid"
    assert "ErrorDetail" not in body["message"] and "[" not in body["message"]
    assert body["message"]


def test_field_errors_name_the_field_in_plain_strings(world):
    response = api(world, "villager").post("/api/v1/cases/", {"category": "x"}, format="json")
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "invalid"
    assert set(body["fields"]) >= {"category", "title", "description"}
    assert all(isinstance(m, str) for messages in body["fields"].values() for m in messages)
    assert "ErrorDetail" not in body["message"]


def test_no_write_scope_is_code_scope(world):
    from hemei.cases.models import Case, Category
    from hemei.cases.services import case_submit

    case = case_submit(actor=world.user("villager"), region=world.grid_a,
                       category=Category.objects.get(county__isnull=True, name="环境卫生"), title="垃圾",
                       description="垃圾", source=Case.Source.VILLAGER, reporter=world.head_a)
    response = api(world, "shop").post(f"/api/v1/cases/{case.number}/start/", {}, format="json")
    assert response.status_code in (403, 404)
    if response.status_code == 403:
        assert response.json()["error"]["code"] == "scope"


def test_a_bad_token_is_401_in_the_vocabulary(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token nope")
    response = client.get("/api/v1/cases/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


# --- item 8: caching --------------------------------------------------------------------------


def test_api_answers_pages_and_downloads_are_no_store(world, client):
    assert "no-store" in api(world, "grid_a").get("/api/v1/cases/")["Cache-Control"]
    client.force_login(world.user("secretary"))
    for url in ("/w/", f"/w/households/{world.house_a.pk}/", f"/w/cases/ledger.xlsx?region={world.village.code}",
                f"/w/roster/export/?region={world.village.code}"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
    assert "no-store" in client.get("/open311/v2/requests.json")["Cache-Control"]


def _first_id(data: bytes) -> str:
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    ids = [c for row in rows[1:] for c in row if isinstance(c, str) and len(c) == 18 and c[:6] == "140110"]
    assert ids, rows[:3]
    return ids[0]


def test_the_web_roster_export_is_masked_unless_asked_and_audited(world, client):
    client.force_login(world.user("secretary"))  # holds the reveal permission
    url = f"/w/roster/export/?region={world.village.code}"
    masked = b"".join(client.get(url).streaming_content)
    assert "*" in _first_id(masked)
    revealed = b"".join(client.get(url + "&reveal=1").streaming_content)
    assert "*" not in _first_id(revealed)
    exports = list(AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).order_by("id"))
    assert [e.changes["reveal"] for e in exports] == [False, True]


def test_revealing_the_roster_needs_the_permission(world, client):
    client.force_login(world.user("grid_a"))
    url = f"/w/roster/export/?region={world.grid_a.code}"
    assert client.get(url).status_code == 200
    assert client.get(url + "&reveal=1").status_code == 403
    assert [e.changes["reveal"] for e in AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT)] == [False]
