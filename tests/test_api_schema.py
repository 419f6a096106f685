"""Schemathesis over the whole OpenAPI schema (/api/schema/), called through the WSGI app with
three tokens — the county administrator (the widest staff scope), a grid worker and a
villager — and every check schemathesis has (no 5xx, status codes, content types, headers and
bodies as documented). Few examples per operation to keep the run short."""

from __future__ import annotations

from typing import Any

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


# Operations whose documented rules refuse some bodies the schema cannot tell from good ones:
# which account must send which field, a reference that must exist in the caller's county, an
# ID number's check digit, a household already in the procedure. Schemathesis's
# positive_data_acceptance takes any 400 for schema-valid data as a bug; for these operations
# (and only these) a 400 is accepted when its `fields` name nothing but the listed body fields,
# the refusal docs/api.md describes. Every other check, and every other status, still applies.
BUSINESS_REFUSALS: dict[str, frozenset[str]] = {
    # Staff must name a region (villagers never do); the category must be active in the county;
    # latitude and longitude come together.
    "POST /api/v1/cases/": frozenset({"region", "category", "lat"}),
    # The item must be one of the household's village's adopted rule items.
    "POST /api/v1/points/entries/": frozenset({"item"}),
    # The ID number's check digit and birth date, and one person one row.
    "POST /api/v1/residents/": frozenset({"id_number"}),
    # One open monitoring record per household (a second persona enters the same household).
    "POST /api/v1/monitoring/": frozenset({"household"}),
    # A problem's category must be an active case category; the visit time not in the future;
    # heavy rigid spending needs its amount; a visit by phone (not present) needs whom and what.
    "POST /api/v1/visits/": frozenset({"problems", "visited_at", "heavy_spending_amount", "phone_contact",
                                       "phone_outcome"}),
}


def _business_refusal(allowed: frozenset[str]):
    """positive_data_acceptance, except that a 400 naming only `allowed` fields passes."""

    def positive_data_acceptance_or_business_refusal(ctx, response, case):
        if response.status_code == 400:
            fields = set(response.json().get("error", {}).get("fields") or {})
            if fields and fields <= allowed:
                return None
        return schemathesis.checks.positive_data_acceptance(ctx, response, case)

    return positive_data_acceptance_or_business_refusal


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
    narrowed: dict[str, Any] = {}
    if (allowed := BUSINESS_REFUSALS.get(case.operation.label)) is not None:
        narrowed = {"excluded_checks": [schemathesis.checks.positive_data_acceptance],
                    "additional_checks": [_business_refusal(allowed)]}
    for persona in PERSONAS:
        token, _ = Token.objects.get_or_create(user=world.user(persona))
        case.call_and_validate(headers={"Authorization": f"Token {token.key}"}, **narrowed)


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
