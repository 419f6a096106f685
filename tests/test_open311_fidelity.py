"""Open311 fidelity (issue 11, item 10): the case keeps address_string, lat, long and media_url;
GET answers the description as submitted (masked for the public), with the GeoReport fields;
bounding-box search, the 90-day window, jurisdiction_id; the REST API and the villager's
phone form carry a location too."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from hemei.cases.models import Case, Category
from hemei.cases.services import Location, case_submit

pytestmark = pytest.mark.usefixtures("migration_seeds")
BASE = "/open311/v2"


def cat() -> Category:
    return Category.objects.get(county__isnull=True, name="环境卫生")


def key(world, persona: str = "grid_a") -> str:
    return Token.objects.get_or_create(user=world.user(persona))[0].key


def post(client, world, **fields):
    data = {"api_key": key(world), "service_code": str(cat().pk), "description": "村口路灯不亮",
            "address_id": world.grid_a.code, **fields}
    return client.post(f"{BASE}/requests.json", data)


def test_a_posted_request_keeps_its_geo_fields_and_get_answers_them(world, client):
    response = post(client, world, address_string="西邵村一街口", lat="37.712345", long="112.498765",
                    media_url="https://img.example.cn/lamp.jpg")
    number = json.loads(response.content)[0]["service_request_id"]
    case = Case.objects.get(number=number)
    assert case.description == "村口路灯不亮"  # as submitted, no "地点:" appended
    assert case.address_string == "西邵村一街口"
    assert str(case.lat) == "37.712345" and str(case.long) == "112.498765"
    assert case.media_url == "https://img.example.cn/lamp.jpg"
    [got] = json.loads(client.get(f"{BASE}/requests/{number}.json").content)
    assert got["description"] == "村口路灯不亮"
    assert got["address"] == "西邵村一街口"
    assert (got["lat"], got["long"]) == (37.712, 112.499)  # public: about 100 m
    assert got["media_url"] == "https://img.example.cn/lamp.jpg"
    for field in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert got[field]
    assert "agency_responsible" in got


def test_public_get_masks_personal_data_in_the_address_too(world, client):
    number = json.loads(post(client, world, address_string="找13912345678").content)[0]["service_request_id"]
    [got] = json.loads(client.get(f"{BASE}/requests/{number}.json").content)
    assert "13912345678" not in got["address"] and "139****5678" in got["address"]


@pytest.mark.parametrize("fields", [
    {"lat": "37.7"},
    {"lat": "91", "long": "112"},
    {"lat": "nan", "long": "112"},
    {"media_url": "javascript:alert(1)"},
    {"address_string": "x" * 201},
])
def test_bad_geo_fields_are_400_and_create_nothing(world, client, fields):
    assert post(client, world, **fields).status_code == 400
    assert not Case.objects.exists()


def _case_at(world, lat, lon, title="路灯"):
    return case_submit(actor=world.user("grid_a"), region=world.grid_a, category=cat(), title=title,
                       description=title, source=Case.Source.API, location=Location(lat=lat, long=lon))


def test_search_by_bounding_box(world, client):
    inside = _case_at(world, "37.70", "112.50")
    outside = _case_at(world, "38.90", "112.50")
    _case_at(world, None, None)
    got = json.loads(client.get(f"{BASE}/requests.json", {"bbox": "112.4,37.6,112.6,37.8"}).content)
    assert [r["service_request_id"] for r in got] == [inside.number]
    assert outside.number not in json.dumps(got)


@pytest.mark.parametrize("bbox", ["1,2,3", "a,b,c,d", "112.6,37.6,112.4,37.8", "0,-91,1,1", "inf,1,2,3"])
def test_a_bad_bounding_box_is_400(world, client, bbox):
    response = client.get(f"{BASE}/requests.json", {"bbox": bbox})
    assert response.status_code == 400
    assert json.loads(response.content)[0]["code"] == 400


def test_jurisdiction_id_is_checked(world, client):
    assert client.get(f"{BASE}/requests.json", {"jurisdiction_id": "140110"}).status_code == 200
    assert client.get(f"{BASE}/requests.json", {"jurisdiction_id": "999999"}).status_code == 404


def test_rest_create_carries_a_location_and_warns_about_personal_data(world):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key(world, 'villager')}")
    response = api.post("/api/v1/cases/", {"category": cat().pk, "title": "路灯坏了",
                                           "description": "请打13912345678", "lat": 37.7, "long": 112.5,
                                           "address_string": "村口"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["lat"] == 37.7 and body["long"] == 112.5 and body["address_string"] == "村口"
    assert body["warnings"] and "139****5678" in body["warnings"][0]
    clean = api.post("/api/v1/cases/", {"category": cat().pk, "title": "路灯", "description": "不亮"}, format="json")
    assert clean.json()["warnings"] == []


def test_the_villager_form_sends_a_position_only_when_given(world, client):
    client.force_login(world.user("villager"))
    page = client.get(reverse("my-case-new")).content.decode()
    assert "hemei/position.js" in page and 'name="lat"' in page
    assert "tile" not in page.lower()  # no map tiles from the internet
    client.post(reverse("my-case-new"), {"category": cat().pk, "description": "路灯坏了", "key": "a",
                                         "lat": "37.700001", "long": "112.500002"})
    client.post(reverse("my-case-new"), {"category": cat().pk, "description": "水管坏了", "key": "b",
                                         "lat": "", "long": ""})
    located, plain = Case.objects.order_by("id")
    assert str(located.lat) == "37.700001" and plain.lat is None
    bad = client.post(reverse("my-case-new"), {"category": cat().pk, "description": "x", "key": "c",
                                               "lat": "999", "long": "1"})
    assert bad.status_code == 200 and Case.objects.count() == 2
