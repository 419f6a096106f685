"""Open311 GeoReport v2 (issue 3, APIs): discovery, services, POST/GET requests, tokens, errors,
json and xml, Chinese in UTF-8; and a real client library against a live server."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
import time_machine
from rest_framework.authtoken.models import Token

from hemei.cases.models import Case, Category
from hemei.cases.services import case_accept, case_reject, case_resolve, case_submit
from hemei.core.scope import SYSTEM
from hemei.regions import services as region_services
from tests.conftest import at

pytestmark = pytest.mark.usefixtures("migration_seeds")
BASE = "/open311/v2"


def cat(name: str = "环境卫生") -> Category:
    return Category.objects.get(county__isnull=True, name=name)


def key(world, persona: str) -> str:
    return Token.objects.get_or_create(user=world.user(persona))[0].key


def xml_of(response) -> ET.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.content)  # noqa: S314 (our own server's answer)


def json_of(response):
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(response.content.decode("utf-8"))


def post(client, world, fmt: str = "json", **fields):
    data = {"api_key": key(world, "grid_a"), "service_code": str(cat().pk), "description": "村口垃圾堆了一周",
            "address_id": world.grid_a.code, **fields}
    return client.post(f"{BASE}/requests.{fmt}", {k: v for k, v in data.items() if v is not None})


def a_case(world, **kw) -> Case:
    return case_submit(actor=world.user("villager"), region=world.grid_a, category=cat(), title="垃圾没人清",
                       description=kw.pop("description", "村口垃圾堆了一周"), source=Case.Source.VILLAGER,
                       reporter=world.head_a, **kw)


# --- discovery and services -----------------------------------------------------------------


def test_discovery_json_and_xml(world, client):
    body = json_of(client.get(f"{BASE}/discovery.json"))
    endpoint = body["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2")
    assert set(endpoint["formats"]) == {"application/json", "text/xml"}
    root = xml_of(client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.iter("format")] == ["application/json", "text/xml"]


def test_services_list_and_definition(world, client):
    services = json_of(client.get(f"{BASE}/services.json"))
    # The villager-facing catalogue: not the eldercare categories, which only a call box or
    # the care page opens (they need an elder and a carer on duty).
    offered = set(Category.objects.filter(county__isnull=True, active=True, self_service=True)
                  .values_list("name", flat=True))
    assert {"紧急呼叫", "生活服务", "健康异常"}.isdisjoint(offered) and "公共设施：路灯" in offered
    assert {s["service_name"] for s in services} == offered
    row = next(s for s in services if s["service_name"] == "环境卫生")
    assert row == {"service_code": str(cat().pk), "service_name": "环境卫生", "description": row["description"],
                   "metadata": False, "type": "realtime", "keywords": "help", "group": row["group"]}
    assert "环境卫生" in row["description"]
    root = xml_of(client.get(f"{BASE}/services.xml", {"jurisdiction_id": "140110"}))
    assert root.tag == "services"
    names = [s.findtext("service_name") for s in root.findall("service")]
    assert "矛盾纠纷" in names and set(names) == offered
    assert root.find("service").findtext("metadata") == "false"
    definition = json_of(client.get(f"{BASE}/services/{cat().pk}.json"))
    assert definition == {"service_code": str(cat().pk), "attributes": []}
    assert xml_of(client.get(f"{BASE}/services/{cat().pk}.xml")).tag == "service_definition"


def test_unknown_service_code_and_jurisdiction(world, client):
    response = client.get(f"{BASE}/services/99999.json")
    assert response.status_code == 404
    assert json_of(response) == [{"code": 404, "description": "service_code 99999 not found"}]
    response = client.get(f"{BASE}/services/abc.xml")
    assert response.status_code == 404
    error = xml_of(response).find("error")
    assert error.findtext("code") == "404" and "abc" in error.findtext("description")
    assert client.get(f"{BASE}/services.json", {"jurisdiction_id": "999999"}).status_code == 404
    # A second county: the jurisdiction must be named.
    region_services.region_create(actor=SYSTEM, name="清徐县", level="county", code="140121")
    response = client.get(f"{BASE}/services.json")
    assert response.status_code == 400 and "jurisdiction_id" in json_of(response)[0]["description"]
    assert client.get(f"{BASE}/services.json", {"jurisdiction_id": "140110"}).status_code == 200


# --- POST requests --------------------------------------------------------------------------


def test_post_creates_a_case_json(world, client):
    response = post(client, world, first_name="建国", last_name="王", phone="13800009999",
                    email="wjg@example.com", address_string="西邵村一街口", lat="37.7", long="112.5")
    assert response.status_code == 200, response.content
    [answer] = json_of(response)
    case = Case.objects.get(number=answer["service_request_id"])
    assert answer["token"] and answer["service_notice"]
    assert case.region == world.grid_a and case.source == Case.Source.API
    assert case.created_by == world.user("grid_a")
    assert case.reporter_name == "王建国"
    assert case.address_string == "西邵村一街口" and case.description == "村口垃圾堆了一周"
    assert (float(case.lat), float(case.long)) == (37.7, 112.5)
    # The phone and e-mail are never stored.
    stored = json.dumps(list(Case.objects.values()), default=str)
    assert "13800009999" not in stored and "wjg@example.com" not in stored
    assert case.events.get().kind == "submitted"
    # The token answers with the same request id.
    token = json_of(client.get(f"{BASE}/tokens/{answer['token']}.json"))
    assert token == [{"service_request_id": case.number, "token": answer["token"]}]
    assert xml_of(client.get(f"{BASE}/tokens/{answer['token']}.xml")).find("request").findtext(
        "service_request_id") == case.number
    assert client.get(f"{BASE}/tokens/nope.json").status_code == 404


def test_post_xml_and_chinese_round_trip(world, client):
    text = "东边的水渠堵了，下雨就漫到路上——请尽快处理！「急」"
    response = post(client, world, fmt="xml", description=text)
    assert response.status_code == 200
    number = xml_of(response).find("request").findtext("service_request_id")
    root = xml_of(client.get(f"{BASE}/requests/{number}.xml"))
    request = root.find("request")
    assert request.findtext("description") == text
    assert request.findtext("service_name") == "环境卫生"
    assert request.findtext("status") == "open"
    [row] = json_of(client.get(f"{BASE}/requests/{number}.json"))
    assert row["description"] == text
    assert text.encode("utf-8") in client.get(f"{BASE}/requests/{number}.json").content  # raw UTF-8, no \\u


def test_post_without_or_with_wrong_key_creates_nothing(world, client):
    before = Case.objects.count()
    response = post(client, world, api_key=None)
    assert response.status_code == 400
    assert json_of(response) == [{"code": 400, "description": "api_key was not provided"}]
    response = post(client, world, fmt="xml", api_key="wrong")
    assert response.status_code == 403
    assert xml_of(response).find("error").findtext("code") == "403"
    inactive = world.user("grid_b")
    inactive_key = key(world, "grid_b")
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    assert post(client, world, api_key=inactive_key, address_id=world.grid_b.code).status_code == 403
    assert Case.objects.count() == before


def test_post_bad_input_creates_nothing(world, client):
    before = Case.objects.count()
    cases = [
        ({"service_code": "99999"}, 404),
        ({"service_code": None}, 400),
        ({"description": None}, 400),
        ({"description": "x" * 4001}, 400),  # the model's limit (the address has its own field now)
        ({"address_id": world.grid_b.code}, 400),  # grid_a's worker may not file in grid B
        ({"address_id": world.township.code}, 400),  # not a village or grid
        ({"address_id": None}, 200),  # the worker's own single grid
        ({"lat": "91", "long": "112"}, 400),
        ({"lat": "37.7"}, 400),
        ({"jurisdiction_id": "999999"}, 404),
    ]
    created = 0
    for fields, status in cases:
        response = post(client, world, **fields)
        assert response.status_code == status, (fields, response.content)
        if status != 200:
            body = json_of(response)
            assert body[0]["code"] == status and body[0]["description"]
        else:
            created += 1
    assert Case.objects.count() == before + created


def test_post_scope_villager_and_township(world, client):
    villager = post(client, world, api_key=key(world, "villager"), address_id=None)
    assert villager.status_code == 200, villager.content
    case = Case.objects.get(number=json_of(villager)[0]["service_request_id"])
    assert (case.region, case.reporter, case.reporter_name) == (world.grid_a, world.head_a, "王建国")
    # A township clerk has no single village/grid: address_id is required, then any in scope.
    assert post(client, world, api_key=key(world, "township"), address_id=None).status_code == 400
    assert post(client, world, api_key=key(world, "township"), address_id=world.grid_c.code).status_code == 200
    assert post(client, world, api_key=key(world, "outsider")).status_code == 400


def test_post_idempotency_key(world, client):
    headers = {"HTTP_IDEMPOTENCY_KEY": "open311-retry-1"}
    form = {"api_key": key(world, "grid_a"), "service_code": str(cat().pk), "description": "路灯不亮",
            "address_id": world.grid_a.code}
    first = client.post(f"{BASE}/requests.json", form, **headers)
    again = client.post(f"{BASE}/requests.json", form, **headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert json_of(first)[0]["service_request_id"] == json_of(again)[0]["service_request_id"]
    assert json_of(again)[0]["token"] == "open311-retry-1"
    conflict = client.post(f"{BASE}/requests.json", {**form, "description": "别的事"}, **headers)
    assert conflict.status_code == 409 and json_of(conflict)[0]["code"] == 409
    assert Case.objects.count() == 1


# --- GET requests ---------------------------------------------------------------------------


def test_get_requests_filters(world, client):
    with time_machine.travel(at(2026, 1, 5), tick=False):
        old = a_case(world)
    with time_machine.travel(at(2026, 5, 6), tick=False):
        recent = a_case(world)
        road = case_submit(actor=world.user("grid_b"), region=world.grid_b, category=cat("道路交通"),
                           title="路面塌陷", description="二街路面塌了", source=Case.Source.PATROL,
                           reporter_name="张志强")
        case_accept(actor=world.user("grid_b"), case=road, unit="村委会")
        case_resolve(actor=world.user("grid_b"), case=road, measures="已修补")
        rejected = a_case(world)
        case_reject(actor=world.user("secretary"), case=rejected, reason="重复")

    def ids(fmt: str = "json", **params):
        response = client.get(f"{BASE}/requests.{fmt}", params)
        assert response.status_code == 200, response.content
        if fmt == "xml":
            return {r.findtext("service_request_id") for r in xml_of(response).findall("request")}
        return {r["service_request_id"] for r in json_of(response)}

    with time_machine.travel(at(2026, 5, 10), tick=False):
        # Default: the last 90 days.
        assert ids() == {recent.number, road.number, rejected.number}
        assert ids("xml") == {recent.number, road.number, rejected.number}
        assert ids(status="open") == {recent.number}
        assert ids(status="closed") == {road.number, rejected.number}
        assert ids(status="open,closed") == {recent.number, road.number, rejected.number}
        assert ids(service_code=str(cat("道路交通").pk)) == {road.number}
        assert ids(service_code=f"{cat().pk},{cat('道路交通').pk}") == {recent.number, road.number,
                                                                       rejected.number}
        assert ids(start_date="2026-01-01T00:00:00+08:00", end_date="2026-01-06T00:00:00Z") == {old.number}
        assert ids(start_date="2026-01-01T00:00:00Z") == {old.number}
        assert ids(start_date="2026-01-06") == set()  # a bare date: Beijing midnight
        # service_request_id overrides the other filters, the date window included.
        assert ids(service_request_id=f"{old.number},{road.number}", status="open") == {old.number, road.number}
        [row] = json_of(client.get(f"{BASE}/requests/{road.number}.json"))
    assert row["status"] == "closed" and row["agency_responsible"] == "村委会"
    assert row["service_code"] == str(cat("道路交通").pk)
    assert row["requested_datetime"] == "2026-05-06T10:00:00+08:00"
    assert row["address_id"] == world.grid_b.code


def test_get_exposes_no_personal_data(world, client):
    case = a_case(world)
    body = client.get(f"{BASE}/requests.json").content.decode() + client.get(
        f"{BASE}/requests/{case.number}.xml").content.decode()
    for secret in ("王建国", world.head_a.id_number, "13800001111", world.house_a.address, "villager"):
        assert secret not in body
    assert case.number in body


@pytest.mark.parametrize("params", [
    {"start_date": "yesterday"},
    {"end_date": "2026-13-01T00:00:00Z"},
    {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},  # > 90 days
    {"start_date": "2026-05-01T00:00:00Z", "end_date": "2026-04-01T00:00:00Z"},  # reversed
    {"status": "pending"},
])
def test_get_bad_parameters(world, client, params):
    response = client.get(f"{BASE}/requests.json", params)
    assert response.status_code == 400
    [error] = json_of(response)
    assert error["code"] == 400 and error["description"]
    response = client.get(f"{BASE}/requests.xml", params)
    assert response.status_code == 400
    assert xml_of(response).find("error").findtext("code") == "400"


def test_unknown_request_and_method(world, client):
    response = client.get(f"{BASE}/requests/140110-2026-999999.json")
    assert response.status_code == 404 and json_of(response)[0]["code"] == 404
    assert client.delete(f"{BASE}/requests.json").status_code == 405
    assert client.get(f"{BASE}/requests.yaml").status_code == 404


def test_get_requests_queries_do_not_grow(world, client, django_assert_max_num_queries):
    for _ in range(3):
        a_case(world)
    with django_assert_max_num_queries(4):
        assert len(json_of(client.get(f"{BASE}/requests.json"))) == 3
    for _ in range(20):
        a_case(world)
    with django_assert_max_num_queries(4):
        assert len(json_of(client.get(f"{BASE}/requests.json"))) == 23


# --- a real client library against a live server --------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_georeport_client_library(live_server, migration_seeds):
    """`georeport` (PyPI) reads services, definitions and requests in json and xml. It has no
    POST method, so the request is created with `requests` (its own HTTP dependency)."""
    georeport = pytest.importorskip("georeport")
    import requests

    from tests.conftest import build_world

    world = build_world()
    root = f"{live_server.url}/open311/v2"
    api_key = Token.objects.get_or_create(user=world.user("grid_a"))[0].key
    created = requests.post(f"{root}/requests.json", timeout=10, data={
        "api_key": api_key, "jurisdiction_id": "140110", "service_code": str(cat().pk),
        "description": "水渠堵了", "address_id": world.grid_a.code, "first_name": "建国", "last_name": "王",
    })
    assert created.status_code == 200, created.text
    number = created.json()[0]["service_request_id"]
    for fmt in ("json", "xml"):
        client = georeport.GeoReport(root, jurisdiction="140110", api_key=api_key, output_format=fmt)
        services = client.get_service_list()
        assert "环境卫生" in {s["service_name"] for s in services}
        definition = client.get_service_definition(str(cat().pk))
        assert definition["service_code"] == str(cat().pk)
        one = client.get_service_request(number)
        assert one["service_request_id"] == number and one["description"] == "水渠堵了"
        assert one["status"] == "open"
        many = client.get_service_requests(service_code=str(cat().pk), status="open")
        many = many if isinstance(many, list) else [many]  # xmltodict: one element is not a list
        assert number in {r["service_request_id"] for r in many}
        with pytest.raises(requests.HTTPError) as failed:
            client.get_service_requests(start_date="not-a-date")
        assert failed.value.response.status_code == 400
