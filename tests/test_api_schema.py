"""Schemathesis over the whole OpenAPI schema (/api/schema/), called through the WSGI app with
three tokens — the county administrator (the widest staff scope), a grid worker and a
villager — and every check schemathesis has (no 5xx, status codes, content types, headers and
bodies as documented). Few examples per operation to keep the run short."""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.usefixtures("migration_seeds")


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The raw WSGI app fires request_started/finished, whose close_old_connections would close
    the test's connection in the middle of its transaction (PostgreSQL: "the connection is
    closed"). Django's own test client disconnects them the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


# Loaded at collection (pytest-django has set Django up by then); building the schema reads
# no database. The calls themselves run inside each test's database transaction.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


def test_the_schema_names_the_cases_api():
    paths = set(schema.raw_schema["paths"])
    assert {
        "/api/v1/cases/",
        "/api/v1/cases/{number}/",
        "/api/v1/cases/{number}/events/",
        "/api/v1/cases/{number}/accept/",
        "/api/v1/regions/",
    } <= paths


# Known, not yet fixed (issue 11, item 7): business 400s schemathesis takes for valid data (an
# unknown rule item, a visit's problem list), `?created_before=` blank and `?active=null` accepted,
# one response-schema mismatch, and the first findings on the care, devices and indicators
# endpoints (2026-12-02: 16 of 89 operations). These operations are marked xfail; every other one must
# pass every check.
KNOWN_FINDINGS: frozenset[str] = frozenset({
    "GET /api/v1/alarms/",
    "GET /api/v1/cases/",
    "GET /api/v1/dashboard/",
    "GET /api/v1/devices/",
    "GET /api/v1/households/",
    "GET /api/v1/monitoring/",
    "GET /api/v1/points/rewards/",
    "GET /api/v1/residents/",
    "GET /api/v1/visits/",
    "POST /api/v1/cases/",
    "POST /api/v1/dataValueSets/",
    "POST /api/v1/monitoring/",
    "POST /api/v1/points/entries/",
    "POST /api/v1/points/redemptions/",
    "POST /api/v1/residents/",
    "POST /api/v1/visits/",
})


@schema.parametrize()
@settings(
    max_examples=2,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
def test_api_conforms_to_its_schema(case, world):
    label = case.operation.label
    if label in KNOWN_FINDINGS:
        # Not called: a failure raised inside Hypothesis's examples cannot become one xfail.
        pytest.xfail(f"known finding, not yet fixed: {label}")
    for persona in PERSONAS:
        token, _ = Token.objects.get_or_create(user=world.user(persona))
        case.call_and_validate(headers={"Authorization": f"Token {token.key}"})


PERSONAS = ("county", "grid_a", "villager")


def test_every_operation_documents_its_errors():
    for path, operations in schema.raw_schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation.get("responses", {}))
            expected = {"400", "401", "403", "404", "429"} | (set() if method == "get" else {"409"})
            assert expected <= codes, (method, path, expected - codes)


def test_a_nullable_field_is_declared_nullable():
    household = schema.raw_schema["components"]["schemas"]["Household"]["properties"]
    assert household["head_name"].get("nullable") is True
