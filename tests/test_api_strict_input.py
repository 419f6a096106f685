"""What schemathesis found over the whole schema (tests/test_api_schema.py, the 16 operations
once marked as known findings), each as a plain test: a filter or body the schema calls invalid
is a 400 naming the field, and nothing is written; a valid one still works; an answer matches
its schema (a blank choice, a blank link)."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from hemei.cases.models import Case, Category
from hemei.devices.models import Kind
from hemei.devices.services import device_register
from hemei.regions.models import Resident
from hemei.visits.models import Monitoring, Visit

pytestmark = pytest.mark.usefixtures("migration_seeds")


def api(world: Any, persona: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=world.user(persona))[0].key}")
    return client


def refused(response: Any, field: str) -> None:
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"], error


# --- filters: a value the schema's type has no room for is a 400, not "no filter" ----------------


@pytest.mark.parametrize(("path", "query", "field"), [
    ("/api/v1/alarms/", "page_size=null", "page_size"),
    ("/api/v1/alarms/", "page_size=5&page_size=5", "page_size"),
    ("/api/v1/alarms/", "open=null", "open"),
    ("/api/v1/devices/", "online=null", "online"),
    ("/api/v1/devices/", "online=yes", "online"),
    ("/api/v1/devices/", "online=1", "online"),
    ("/api/v1/devices/", "kind=", "kind"),
    ("/api/v1/points/rewards/", "active=null", "active"),
    ("/api/v1/cases/", "created_before=", "created_before"),
    ("/api/v1/cases/", "created_after=%20", "created_after"),
    ("/api/v1/cases/", "status=", "status"),
    ("/api/v1/cases/", "category=", "category"),
    ("/api/v1/dashboard/", "indicator=AAA", "indicator"),
    ("/api/v1/dashboard/", "indicator=", "indicator"),
    ("/api/v1/visits/", "page=", "page"),
    ("/api/v1/residents/", "page=%20", "page"),
])
def test_an_unreadable_filter_is_a_400_naming_it(world, path, query, field):
    refused(api(world, "county").get(f"{path}?{query}"), field)


@pytest.mark.parametrize(("path", "query"), [
    ("/api/v1/alarms/", "page_size=5&open=true"),
    ("/api/v1/devices/", "online=false"),
    ("/api/v1/devices/", "online=TRUE"),
    ("/api/v1/points/rewards/", "active=true"),
    ("/api/v1/cases/", "created_before=2026-05-01T00:00:00%2B08:00&status=submitted"),
    ("/api/v1/cases/", "region="),  # a code: blank is no filter, as the schema's string allows
    ("/api/v1/dashboard/", "indicator=case_on_time"),
    ("/api/v1/dashboard/", ""),
    ("/api/v1/visits/", "page=1"),
])
def test_a_readable_or_absent_filter_still_answers(world, path, query):
    assert api(world, "county").get(f"{path}?{query}").status_code == 200


def test_a_yes_no_filter_filters(world):
    device_register(actor=world.user("county"), region=world.grid_a, kind=Kind.SMOKE, code="D-ON", name="烟感")
    client = api(world, "county")
    assert [d["code"] for d in client.get("/api/v1/devices/?online=true").json()["results"]] == ["D-ON"]
    assert client.get("/api/v1/devices/?online=false").json()["results"] == []


# --- bodies: the types the schema says, and nothing written when refused ------------------------


def test_a_case_body_refuses_what_its_schema_refuses(world):
    client = api(world, "grid_a")
    category = Category.objects.filter(active=True, county__isnull=True).first()
    assert category is not None
    good = {"category": category.pk, "title": "路灯坏了", "description": "村口路灯不亮", "region": world.grid_a.code}
    for bad, field in [
        ({"long": False, "lat": 0.0}, "long"),            # DRF would read false as 0.0
        ({"lat": "37.5", "long": 112.5}, "lat"),          # a text is no JSON number
        ({"reporter_name": 0}, "reporter_name"),          # DRF would write 0 as "0"
        ({"title": 12}, "title"),
        ({"media_url": "ftp://example.com/a.jpg"}, "media_url"),
        ({"media_url": "http://0?a"}, "media_url"),
        ({"lat": 37.5}, "lat"),                           # latitude and longitude go together
    ]:
        refused(client.post("/api/v1/cases/", {**good, **bad}, format="json"), field)
    assert Case.objects.count() == 0
    ok = client.post("/api/v1/cases/", {**good, "media_url": "https://img.example.com/a%E8%B7%AF.jpg?x=1"},
                     format="json")
    assert ok.status_code == 201, ok.content
    assert ok.json()["media_url"] == "https://img.example.com/a%E8%B7%AF.jpg?x=1"


def test_a_form_encoded_case_may_send_null_coordinates_as_text(world):
    category = Category.objects.filter(active=True, county__isnull=True).first()
    assert category is not None
    response = api(world, "grid_a").post("/api/v1/cases/", {
        "category": category.pk, "title": "路灯坏了", "description": "村口路灯不亮", "region": world.grid_a.code,
        "lat": "null", "long": "null"})
    assert response.status_code == 201, response.content
    assert (response.json()["lat"], response.json()["long"], response.json()["media_url"]) == (None, None, "")


def test_a_visit_body_refuses_what_its_schema_refuses(world):
    client = api(world, "grid_a")
    house = world.house_a.pk
    for bad, field in [
        ({"problems": [{"category": 1, "title": "漏雨", "description": 0}]}, "problems"),
        ({"heavy_spending": True, "heavy_spending_amount": 5000}, "heavy_spending_amount"),  # a number, not text
        ({"heavy_spending": True}, "heavy_spending_amount"),  # heavy spending needs its amount
        ({"present": 0}, "present"),
        ({"needs": 1}, "needs"),
        ({"visited_at": "2099-01-01T10:00:00+08:00"}, "visited_at"),
        ({"present": False}, "phone_contact"),
        ({"problems": [{"category": 2**62, "title": "漏雨", "description": "屋顶"}]}, "problems"),
    ]:
        refused(client.post("/api/v1/visits/", {"household": house, **bad}, format="json"), field)
    assert Visit.objects.count() == 0 and Case.objects.count() == 0
    ok = client.post("/api/v1/visits/", {"household": house, "heavy_spending": True,
                                          "heavy_spending_amount": "5000"}, format="json")
    assert ok.status_code == 201, ok.content


def test_a_visit_with_problems_is_json_only(world):
    # A form body cannot carry the list of problems: DRF read a malformed one as "no problems".
    response = api(world, "grid_a").post("/api/v1/visits/", {
        "household": world.house_a.pk, "problems": "漏雨"}, format="multipart")
    assert response.status_code == 415
    assert Visit.objects.count() == 0


def test_a_data_value_set_is_json_only(world):
    response = api(world, "county").post("/api/v1/dataValueSets/", {"dataValues": '[{"value": "1"}]'},
                                         format="multipart")
    assert response.status_code == 415


def test_a_monitoring_body_refuses_a_number_for_yes_no(world):
    client = api(world, "grid_a")
    refused(client.post("/api/v1/monitoring/", {"household": world.house_a.pk, "has_labour": 0}, format="json"),
            "has_labour")
    refused(client.post("/api/v1/monitoring/", {"household": world.house_a.pk, "has_labour": "0"}), "has_labour")
    assert Monitoring.objects.count() == 0
    # Left out of a form, the yes/no takes its default (true), not "unticked".
    entered = client.post("/api/v1/monitoring/", {"household": world.house_a.pk})
    assert entered.status_code == 201, entered.content
    assert entered.json()["has_labour"] is True and entered.json()["kind"] == ""
    again = client.post("/api/v1/monitoring/", {"household": world.house_a.pk}, format="json")
    refused(again, "household")
    assert Monitoring.objects.count() == 1


def test_a_resident_with_a_bad_id_number_names_the_field(world):
    client = api(world, "grid_a")
    before = Resident.objects.count()
    for number in ["0", "11010519491231002Y", "110105194912310021"]:  # too short, bad letter, bad check digit
        refused(client.post("/api/v1/residents/", {"household": world.house_a.pk, "name": "赵六",
                                                   "id_number": number}, format="json"), "id_number")
    taken = world.head_a.id_number
    refused(client.post("/api/v1/residents/", {"household": world.house_a.pk, "name": "赵六", "id_number": taken},
                        format="json"), "id_number")
    assert Resident.objects.count() == before


# --- the schema says what the API does ------------------------------------------------------------


@pytest.fixture(scope="module")
def raw_schema() -> dict[str, Any]:
    from drf_spectacular.generators import SchemaGenerator

    return dict(SchemaGenerator().get_schema(request=None, public=True))


def _parameter(raw_schema: dict[str, Any], path: str, method: str, name: str) -> dict[str, Any]:
    return next(p for p in raw_schema["paths"][path][method]["parameters"] if p["name"] == name)


def test_the_schema_says_what_the_views_take(raw_schema):
    required_key = _parameter(raw_schema, "/api/v1/points/entries/", "post", "Idempotency-Key")
    assert required_key["required"] and required_key["schema"]["minLength"] == 1
    assert required_key["schema"]["pattern"] == r"\S" and required_key["schema"]["maxLength"] == 100
    assert _parameter(raw_schema, "/api/v1/cases/", "post", "Idempotency-Key")["schema"]["maxLength"] == 64
    assert _parameter(raw_schema, "/api/v1/residents/", "get", "household")["schema"]["minimum"] == 1
    assert _parameter(raw_schema, "/api/v1/alarms/", "get", "page_size")["schema"]["maximum"] == 200
    assert _parameter(raw_schema, "/api/v1/devices/", "get", "online")["schema"] == {"type": "boolean"}
    assert set(raw_schema["paths"]["/api/v1/visits/"]["post"]["requestBody"]["content"]) == {"application/json"}
    assert set(raw_schema["paths"]["/api/v1/dataValueSets/"]["post"]["requestBody"]["content"]) == {
        "application/json"}
    kind = raw_schema["components"]["schemas"]["Monitoring"]["properties"]["kind"]
    assert {"$ref": "#/components/schemas/BlankEnum"} in kind["oneOf"]
    media = raw_schema["components"]["schemas"]["Case"]["properties"]["media_url"]
    assert {"type": "string", "maxLength": 0} in media["oneOf"]
