"""Rate limits (issue 11, item 4): sign-in, wrong tokens, Open311 POST, case creation and uploads
answer 429 with Retry-After at the real default rates of hemei.core.throttle, per account,
token or address; what was refused changed nothing; and the rest of the suite runs unthrottled."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from hemei.cases.models import Case, Category
from hemei.core import throttle

pytestmark = pytest.mark.usefixtures("migration_seeds")

ATTACKER = "203.0.113.9"
OFFICE = "198.51.100.20"


@pytest.fixture(autouse=True)
def _real_rates(settings):
    settings.HEMEI_RATES_ENABLED = True
    settings.HEMEI_RATES = {}


def limit(scope: str) -> int:
    return throttle.parse_rate(throttle.DEFAULT_RATES[scope])[0]


def cat() -> Category:
    return Category.objects.get(county__isnull=True, name="环境卫生")


def token(world, persona: str) -> str:
    return Token.objects.get_or_create(user=world.user(persona))[0].key


def assert_429(response) -> None:
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 3600


def test_the_rest_of_the_suite_runs_without_limits(settings):
    settings.HEMEI_RATES_ENABLED = False
    assert all(throttle.hit("login_ip", "x") is None for _ in range(limit("login_ip") + 5))


def test_a_rate_setting_overrides_the_default(settings):
    settings.HEMEI_RATES = {"login_ip": "2/min"}
    assert [throttle.hit("login_ip", "y") for _ in range(3)][:2] == [None, None]
    assert throttle.blocked("login_ip", "y") is not None


def test_login_is_limited_per_address_across_names(world, client):
    for n in range(limit("login_ip")):
        response = client.post(reverse("login"), {"login": f"nobody{n}", "password": "x"}, REMOTE_ADDR=ATTACKER)
        assert response.status_code == 401
    response = client.post(reverse("login"), {"login": "secretary", "password": "x"}, REMOTE_ADDR=ATTACKER)
    assert_429(response)
    # The office's address is another counter: the secretary still signs in there.
    ok = client.post(reverse("login"), {"login": "secretary", "password": "Hemei-test-2026"}, REMOTE_ADDR=OFFICE)
    assert ok.status_code == 302


def test_login_is_limited_per_name_across_addresses(world, client):
    for n in range(limit("login_name")):
        client.post(reverse("login"), {"login": "Township", "password": "x"}, REMOTE_ADDR=f"203.0.113.{n + 1}")
    response = client.post(reverse("login"), {"login": "township", "password": "Hemei-test-2026"},
                           REMOTE_ADDR="203.0.113.200")
    assert_429(response)
    assert "_auth_user_id" not in client.session  # even the right password is not checked


def test_wrong_tokens_from_one_address_are_429(world):
    api = APIClient(REMOTE_ADDR=ATTACKER)
    for n in range(limit("token_fail_ip")):
        api.credentials(HTTP_AUTHORIZATION=f"Token {n:040d}")
        assert api.get("/api/v1/whoami/").status_code == 401
    api.credentials(HTTP_AUTHORIZATION=f"Token {token(world, 'grid_a')}")
    response = api.get("/api/v1/whoami/")
    assert_429(response)
    assert response.json()["error"]["code"] == "throttled"
    # Another address with the good token is served.
    other = APIClient(REMOTE_ADDR=OFFICE)
    other.credentials(HTTP_AUTHORIZATION=f"Token {token(world, 'grid_a')}")
    assert other.get("/api/v1/whoami/").status_code == 200


def test_rest_calls_are_limited_per_account(world, settings):
    settings.HEMEI_RATES = {"api_user": "3/min"}
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token(world, 'grid_a')}")
    assert [api.get("/api/v1/whoami/").status_code for _ in range(3)] == [200, 200, 200]
    assert_429(api.get("/api/v1/whoami/"))
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {token(world, 'grid_b')}")
    assert other.get("/api/v1/whoami/").status_code == 200


def test_rest_case_creation_is_limited_per_account(world):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token(world, 'villager')}")
    body = {"category": cat().pk, "title": "路灯坏了", "description": "村口路灯不亮"}
    for _ in range(limit("case_create")):
        assert api.post("/api/v1/cases/", body, format="json").status_code == 201
    response = api.post("/api/v1/cases/", body, format="json")
    assert_429(response)
    assert Case.objects.count() == limit("case_create")
    # Reading is not creating: the list still answers.
    assert api.get("/api/v1/cases/").status_code == 200


def test_bad_open311_keys_from_one_address_are_429(world, client):
    form = {"service_code": str(cat().pk), "description": "垃圾", "address_id": world.grid_a.code}
    for n in range(limit("token_fail_ip")):
        response = client.post("/open311/v2/requests.json", {**form, "api_key": f"bad{n}"}, REMOTE_ADDR=ATTACKER)
        assert response.status_code == 403
    response = client.post("/open311/v2/requests.json", {**form, "api_key": token(world, "grid_a")},
                           REMOTE_ADDR=ATTACKER)
    assert_429(response)
    assert response.json()[0]["code"] == 429
    assert not Case.objects.exists()


def test_open311_case_creation_is_limited_per_account(world, client):
    form = {"service_code": str(cat().pk), "description": "垃圾", "address_id": world.grid_a.code,
            "api_key": token(world, "grid_a")}
    for n in range(limit("case_create")):
        assert client.post("/open311/v2/requests.xml", form, REMOTE_ADDR=f"198.51.100.{n + 1}").status_code == 200
    response = client.post("/open311/v2/requests.xml", form, REMOTE_ADDR=OFFICE)
    assert_429(response)
    assert b"<code>429</code>" in response.content
    assert Case.objects.count() == limit("case_create")


def test_villager_case_form_is_limited(world, client):
    client.force_login(world.user("villager"))
    for n in range(limit("case_create")):
        response = client.post(reverse("my-case-new"), {"category": cat().pk, "description": f"路灯坏了{n}",
                                                        "key": f"k{n}"})
        assert response.status_code == 302
    response = client.post(reverse("my-case-new"), {"category": cat().pk, "description": "又坏了", "key": "last"})
    assert_429(response)
    assert "请" in response.content.decode()  # in Chinese, with what to do
    assert Case.objects.count() == limit("case_create")


def test_uploads_are_limited_per_account(world, client, settings):
    settings.HEMEI_RATES = {"upload": "2/hour"}
    client.force_login(world.user("secretary"))
    url = reverse("roster-import")
    codes = [client.post(url, {"file": io.BytesIO(b"not a workbook")}).status_code for _ in range(3)]
    assert codes[:2] != [429, 429]
    assert codes[2] == 429
