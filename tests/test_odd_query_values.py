"""Every list filter of every page and API, fed odd values, answers without a 500: a value that
cannot be read is ignored or refused with a 4xx (`hemei.core.parsing`). Run as a county user,
who may see everything, and as an anonymous visitor.

The table lists the GET parameters each view reads (``request.GET`` / ``query_params`` in its
code); the API's django-filter parameters are added from the filter sets themselves, so a new
filter there is fed odd values without editing this file."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client

from hemei.cases.api import CaseFilter
from hemei.points.api import AccountFilter, EntryFilter, RedemptionFilter, RewardFilter

ODD = ["²", "99999999999999999999", "9223372036854775808", "-1.79e308", "", "NaN", "2026-13-45"]

# Path → the GET parameters its view reads. {v} is a village code, {g} a grid code.
PAGES: dict[str, tuple[str, ...]] = {
    "/w/": ("region", "from", "to"),
    "/w/households/": ("region", "sub", "q", "page"),
    "/w/audit/": ("from", "to", "action", "actor", "object", "page"),
    "/w/people/": ("region", "role", "state", "q", "page"),
    "/w/roster/import/": ("region",),
    "/w/roster/export/": ("region", "sub"),
    "/w/cases/": ("region", "status", "category", "overdue", "tier", "page"),
    "/w/cases/board/": ("region", "category", "tier"),
    "/w/cases/stats/": ("region", "from", "to"),
    "/w/cases/new/": ("household",),
    "/w/cases/ledger.xlsx": ("region", "from", "to"),
    "/w/meetings/": ("region", "kind", "page"),
    "/w/meetings/new/": ("region",),
    "/w/disclosure/": ("kind", "village", "page"),
    "/w/disclosure/schedule/": ("village",),
    "/w/finance/": ("village", "year", "page"),
    "/w/finance/export.xlsx": ("village", "year"),
    "/w/finance/statement/": ("village", "month"),
    "/w/finance/import/": ("village",),
    "/inbox/": ("page",),
    "/w/visits/": ("household", "region", "from", "to", "page"),
    "/w/visits/new/": ("household",),
    "/w/visits/coverage/": ("region", "date"),
    "/w/visits/ledger.xlsx": ("region", "from", "to"),
    "/w/patrols/": ("region", "page"),
    "/w/monitoring/": ("region", "step", "overdue", "page"),
    "/w/monitoring/ledger.xlsx": ("region", "step"),
    "/w/points/propose/": ("village", "q"),
    "/w/points/review/": ("grid", "month"),
    "/w/shop/counter/": ("village", "q", "household"),
    "/w/points/rules/": ("village",),
    "/w/points/ledger.xlsx": ("village", "from", "to"),
    "/w/shop/rewards/": ("village",),
    "/w/shop/stats/": ("village", "by", "year"),
    "/w/shop/stats.xlsx": ("village", "by", "year"),
    "/w/stars/": ("village", "grid", "count"),
    "/w/stars/coverage/": ("region",),
    "/w/courtyard/": ("village",),
    "/w/assets/": ("village", "category", "status", "q", "area_min", "area_max", "page"),
    "/w/assets/idle/": ("village", "category", "status", "q", "area_min", "area_max"),
    "/w/assets/import/": ("village",),
    "/w/assets/export/": ("village",),
    "/w/assets/projects/": ("region", "year"),
    "/w/contracts/": ("village", "status", "flagged", "expiring", "overdue", "awaiting"),
    "/w/contracts/new/": ("village",),
    "/w/contracts/import/": ("village",),
    "/w/contracts/export.xlsx": ("village",),
    "/w/trusteeship/": ("village", "year", "format"),
    "/w/trusteeship/income/": ("village", "year"),
    "/w/trusteeship/income/new/": ("village", "year"),
    "/w/trusteeship/parcels/": ("village", "grid", "crop", "provider", "status", "q"),
    "/w/trusteeship/parcels/new/": ("village", "find"),
    "/w/trusteeship/export.xlsx": ("village",),
    "/v/{v}/": ("kind",),
    "/v/{v}/disclosures/": ("kind", "year", "page"),
    "/v/{v}/stars/": ("page",),
    "/v/{v}/meetings/": ("page",),
    "/v/{v}/points/ranking/": ("period",),
    "/open311/v2/services.json": ("jurisdiction_id",),
    "/open311/v2/requests.json": ("jurisdiction_id", "service_code", "status", "start_date", "end_date",
                                  "service_request_id"),
    "/api/v1/regions/": ("region", "sub", "level", "page"),
    "/api/v1/households/": ("region", "sub", "page"),
    "/api/v1/residents/": ("household", "region", "sub", "page"),
    "/api/v1/visits/": ("region", "page"),
    "/api/v1/monitoring/": ("region", "step", "page"),
}
FILTERSETS = {
    "/api/v1/cases/": CaseFilter,
    "/api/v1/points/accounts/": AccountFilter,
    "/api/v1/points/entries/": EntryFilter,
    "/api/v1/points/rewards/": RewardFilter,
    "/api/v1/points/redemptions/": RedemptionFilter,
}
# Values inside the path itself.
PATHS = ("/open311/v2/services/{x}.json", "/open311/v2/requests/{x}.json", "/v/{x}/", "/v/{x}/meetings/",
         "/v/{x}/disclosures/")


def _targets() -> dict[str, tuple[str, ...]]:
    targets = dict(PAGES)
    for path, filterset in FILTERSETS.items():
        targets[path] = (*filterset.base_filters, "page")
    return targets


def _fails(client: Client, path: str, params: dict[str, str]) -> str | None:
    try:
        response = client.get(path, params)
    except Exception as exc:  # the test client re-raises what the view raised
        return f"{path} {params}: {type(exc).__name__}: {exc}"
    if response.status_code >= 500:
        return f"{path} {params}: {response.status_code}"
    return None


def _sweep(client: Client, world: Any) -> list[str]:
    failures: list[str] = []
    jurisdiction = {"jurisdiction_id": world.county.code}
    for template, names in _targets().items():
        path = template.format(v=world.village.code, g=world.grid_a.code)
        base = jurisdiction if path.startswith("/open311/") else {}
        for name in names:
            for value in ODD:
                failure = _fails(client, path, {**base, name: value})
                if failure:
                    failures.append(failure)
    for template in PATHS:
        for value in ODD:
            if value:
                failure = _fails(client, template.format(x=quote(value)), jurisdiction)
                if failure:
                    failures.append(failure)
    return failures


@pytest.mark.parametrize("persona", ["county", "anonymous"])
def test_no_list_filter_answers_500(world: Any, persona: str) -> None:
    client = Client()
    if persona != "anonymous":
        client.force_login(world.user(persona))
    failures = _sweep(client, world)
    assert not failures, "\n".join(failures)


def test_the_table_covers_the_filter_sets() -> None:
    # A filter set without parameters would mean the introspection above broke.
    assert all(f.base_filters for f in FILTERSETS.values())
