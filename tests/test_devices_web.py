"""Device and alarm pages, the REST API (scoped, in the schema, a fixed number of queries on
the alarm list), the xlsx exports and the signed webhook (each refusal a dead letter)."""

from __future__ import annotations

import io
import json
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from hemei.core.signing import sign
from hemei.devices.credentials import signing_key
from hemei.devices.models import Alarm, DeadLetter, DeviceMessage
from tests.devicekit import make_device, payload, seed_rules, send

R = DeadLetter.Reason


@pytest.fixture
def cameras(world):
    seed_rules()
    home, home_secret = make_device(world.grid_a, "camera", "cam-home")
    away, _ = make_device(world.grid_c, "camera", "cam-away")
    send(home, "event", code="intrusion")
    send(away, "event", code="fire")
    return home, away, home_secret


def _alarm_ids(data):
    return {row["device"] for row in data["results"]}


@pytest.mark.parametrize(("persona", "seen"), [
    ("grid_a", {"cam-home"}), ("grid_b", set()), ("secretary", {"cam-home"}),
    ("township", {"cam-home", "cam-away"}), ("villager", set()), ("outsider", set()),
])
def test_the_alarm_api_follows_the_scope(cameras, world, client, persona, seen):
    client.force_login(world.user(persona))
    assert _alarm_ids(client.get("/api/v1/alarms/").json()) == seen
    devices = client.get("/api/v1/devices/").json()
    assert {row["code"] for row in devices["results"]} == seen
    assert all("secret" not in key and "signing" not in key for row in devices["results"] for key in row)
    away = Alarm.objects.get(device__code="cam-away")
    assert client.get(f"/api/v1/alarms/{away.pk}/").status_code == (200 if "cam-away" in seen else 404)


def test_the_alarm_list_costs_the_same_for_one_alarm_and_for_many(cameras, world, client):
    client.force_login(world.user("township"))
    with CaptureQueriesContext(connection) as few:
        assert client.get("/api/v1/alarms/").status_code == 200
    with CaptureQueriesContext(connection) as few_page:
        assert client.get("/w/alarms/").status_code == 200
    for i in range(8):
        device, _ = make_device(world.grid_b, "camera", f"cam-more-{i}")
        send(device, "event", code="intrusion")
    with CaptureQueriesContext(connection) as many:
        data = client.get("/api/v1/alarms/").json()
    with CaptureQueriesContext(connection) as many_page:
        assert client.get("/w/alarms/").status_code == 200
    assert len(data["results"]) == 10
    assert len(many) == len(few)
    assert len(many_page) == len(few_page)


def test_acknowledge_over_the_api_and_the_page(cameras, world, client):
    home, _away, _secret = cameras
    alarm = Alarm.objects.get(device=home)
    client.force_login(world.user("grid_b"))
    assert client.post(f"/api/v1/alarms/{alarm.pk}/acknowledge/", {}).status_code == 404  # not in scope
    client.force_login(world.user("shop"))
    assert client.post(f"/api/v1/alarms/{alarm.pk}/acknowledge/", {}).status_code == 403  # read-only post
    client.force_login(world.user("grid_a"))
    response = client.post(f"/api/v1/alarms/{alarm.pk}/acknowledge/", {"note": "x" * 501})
    assert response.status_code == 400
    response = client.post(f"/api/v1/alarms/{alarm.pk}/acknowledge/", {"note": "on my way"})
    assert response.status_code == 200 and response.json()["acknowledged_by"] == "grid1"
    assert client.post(f"/api/v1/alarms/{alarm.pk}/acknowledge/", {}).status_code == 400  # not twice
    response = client.post(f"/w/alarms/{alarm.pk}/clear/", {"note": "gone"})
    assert response.status_code == 302
    assert Alarm.objects.get(pk=alarm.pk).state == Alarm.State.CLEARED
    assert client.get(f"/w/alarms/{alarm.pk}/").status_code == 200
    assert client.get(f"/w/devices/{home.pk}/").status_code == 200


def test_the_api_is_in_the_schema(client, world):
    client.force_login(world.user("county"))
    schema = client.get("/api/schema/?format=json").json()
    for path in ("/api/v1/devices/", "/api/v1/alarms/", "/api/v1/alarms/{id}/acknowledge/"):
        assert path in schema["paths"], path


def test_the_exports_hold_the_scope(cameras, world, client):
    client.force_login(world.user("secretary"))
    sheet = load_workbook(io.BytesIO(client.get("/w/alarms/ledger.xlsx?state=all").content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][1] == "设备编码" and [r[1] for r in rows[1:]] == ["cam-home"]
    sheet = load_workbook(io.BytesIO(client.get("/w/devices/register.xlsx").content)).active
    assert [r[1] for r in list(sheet.iter_rows(values_only=True))[1:]] == ["cam-home"]


def test_dead_letters_are_for_administrators(world, client, cameras):
    client.force_login(world.user("county"))
    assert client.get("/w/devices/dead-letters/").status_code == 404
    world.user("county").is_staff = True
    world.user("county").save()
    client.force_login(world.user("county"))
    assert client.get("/w/devices/dead-letters/").status_code == 200


def test_a_secretary_registers_a_device_and_sees_its_secret_once(world, client):
    seed_rules()
    client.force_login(world.user("secretary"))
    assert client.get("/w/devices/new/").status_code == 200
    response = client.post("/w/devices/new/", {"region": world.grid_a.code, "kind": "smoke", "code": "smoke-1",
                                               "name": "烟感 1"})
    assert response.status_code == 200 and b"smoke-1" in response.content
    bad = client.post("/w/devices/new/", {"region": world.grid_c.code, "kind": "smoke", "code": "smoke-2",
                                          "name": "x"})
    assert bad.status_code == 200 and b"smoke-2" not in bad.content.split(b'id="secret"')[0][-200:]
    client.force_login(world.user("grid_a"))
    assert client.get("/w/devices/new/").status_code == 404


# --- the webhook ----------------------------------------------------------------------------


def _post(client, code, body, *, key, stamp=None, signature=None):
    stamp = str(int(time.time())) if stamp is None else stamp
    signature = sign(key, stamp, body) if signature is None else signature
    return client.post(f"/hooks/devices/{code}/", body, content_type="application/json",
                       HTTP_X_HEMEI_TIMESTAMP=stamp, HTTP_X_HEMEI_SIGNATURE=signature)


def test_a_signed_webhook_call_raises_an_alarm(cameras, client):
    home, _away, secret = cameras
    body = payload(home, "event", code="straw_burning")
    response = _post(client, home.code, body, key=signing_key(secret))
    assert response.status_code == 202, response.content
    assert Alarm.objects.filter(device=home, code="straw_burning").exists()
    assert DeviceMessage.objects.filter(device=home, channel="http").count() == 1
    assert _post(client, home.code, body, key=signing_key(secret)).status_code == 409  # replay


def test_bad_webhook_calls_are_refused_and_recorded(cameras, client, settings):
    home, _away, secret = cameras
    key = signing_key(secret)
    body = payload(home, "event", code="fire")
    old = str(int(time.time()) - settings.HEMEI_WEBHOOK_WINDOW - 10)
    cases = [
        (_post(client, home.code, body, key="wrong"), 401),
        (_post(client, home.code, body, key=key, stamp=old), 401),
        (_post(client, home.code, body, key=key, stamp="soon"), 401),
        (_post(client, home.code, body + b" ", key=key, signature=sign(key, str(int(time.time())), body)), 401),
        (_post(client, "cam-nobody", body, key=key), 404),
        (_post(client, home.code, b"{broken", key=key), 400),
        (_post(client, home.code, payload("cam-away", "event", code="fire"), key=key), 400),
    ]
    assert [r.status_code for r, _ in cases] == [code for _, code in cases]
    assert all("error" in json.loads(r.content) for r, _ in cases)
    assert DeadLetter.objects.count() == len(cases)
    assert not Alarm.objects.filter(device=home, code="fire").exists()
    assert client.get(f"/hooks/devices/{home.code}/").status_code == 405
