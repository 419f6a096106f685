"""Read endpoints for the village ledgers (`/api/v1/<ledger>/`): stars, courtyard reviews,
assets, idle assets, projects, contracts, trusteeship, meetings, disclosures and finance.

1. Each ledger is one row of LEDGERS: the registered scope of its model (`hemei.core.scope`,
   the same one its pages and the access matrix use), the fields a reader gets, the order and
   a fixed filter. Outside the scope is 404, never 403.
2. The fields are chosen, never `__all__`: no account columns (who typed it), no phone of a
   contract party, no attendee lists; published disclosure text passes the one PII detector.
3. Lists use cursor pages (newest first by id), 50 a page, `?page_size=` up to 200, and accept
   `?village=<code>` (that village; outside your scope → 404).
Writes stay on the pages, through each app's services and workflows (their moves need the
forms' confirmations); the case and points APIs are the write APIs.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import pagination, serializers, viewsets
from rest_framework.routers import SimpleRouter

from hemei.core.api import StrictPageSize
from hemei.core.pii import redact
from hemei.core.scope import Registration


@dataclass(frozen=True)
class Ledger:
    prefix: str
    model_path: str  # "app.Model"
    fields: tuple[str, ...]
    summary: str
    filters: dict[str, Any] = field(default_factory=dict)
    village_field: str = "village"
    redacted: tuple[str, ...] = ()


LEDGERS: tuple[Ledger, ...] = (
    Ledger("stars/rounds", "stars.StarRound",
           ("id", "village", "year", "stage", "publicity_days", "approved_at", "publicity_from", "publicity_until",
            "awarded_on", "opened_at"), "Star-rating rounds (星级文明户) of your villages"),
    Ledger("stars/ratings", "stars.StarRating",
           ("id", "round", "village", "household", "claimed", "peer", "committee", "final", "excluded",
            "declared_at", "updated_at"), "Star ratings of the households in your scope"),
    Ledger("stars/changes", "stars.StarChange",
           ("id", "village", "household", "star", "kind", "date", "reason", "source", "round", "recorded_at"),
           "挂星/摘星 history of the households in your scope"),
    Ledger("courtyard/reviews", "courtyard.ReviewEvent",
           ("id", "village", "title", "date", "status", "method", "created_at", "opened_at", "closed_at",
            "awarded_at"), "Beautiful-courtyard reviews (美丽庭院) of your villages"),
    Ledger("assets", "assets.Asset",
           ("id", "village", "code", "name", "category", "kind", "location", "latitude", "longitude", "area",
            "unit", "original_value", "net_value", "ownership", "status", "acquired", "created_at"),
           "The collective asset register of your villages"),
    Ledger("assets/idle", "assets.Asset",
           ("id", "village", "code", "name", "category", "kind", "location", "latitude", "longitude", "area",
            "unit", "net_value", "status"), "The idle-asset database (闲置资产) of your area",
           filters={"status": "idle"}),
    Ledger("assets/projects", "assets.RevitalisationProject",
           ("id", "region", "name", "path", "partner", "description", "decision_date", "decision_summary",
            "expected_annual_income", "status", "started_on", "created_at"),
           "\"1+3+N\" revitalisation projects", village_field="region"),
    Ledger("contracts", "contracts.Contract",
           ("id", "village", "number", "kind", "asset", "subject", "area_mu", "party_name", "party_kind", "start",
            "end", "amount", "status", "discussed_on", "township_approved_at", "signed_on", "ended_on", "created_at"),
           "Collective contracts of your villages (the party's phone is never shown)"),
    Ledger("trusteeship/parcels", "contracts.TrustParcel",
           ("id", "village", "household", "code", "area_mu", "location", "crop", "provider", "entrusted_from",
            "entrusted_to", "ended_on", "created_at"), "Land trusteeship parcels in your scope"),
    Ledger("trusteeship/incomes", "contracts.TrustIncome",
           ("id", "village", "household", "year", "yield_income"), "Trusteeship income per household and year"),
    Ledger("meetings", "meetings.Meeting",
           ("id", "region", "kind", "held_at", "place", "eligible", "households_total", "households_present",
            "created_at"), "Village meetings of your villages (attendee lists stay on the pages)",
           village_field="region"),
    Ledger("disclosures", "disclosure.Disclosure",
           ("id", "village", "kind", "title", "period_start", "period_end", "major", "created_at"),
           "三务公开 items of your villages"),
    Ledger("disclosures/published", "disclosure.DisclosureVersion",
           ("id", "disclosure", "village", "number", "title", "body", "status", "published_at", "sequence",
            "prev_hash", "hash"), "Published disclosure versions with their chain fields",
           filters={"status": "published"}, redacted=("body",)),
    Ledger("finance/entries", "disclosure.FinanceEntry",
           ("id", "village", "date", "year", "subject", "direction", "amount", "counterparty", "voucher", "summary",
            "created_at"), "Village finance entries (the books; in your write or read scope)"),
)


class LedgerPagination(StrictPageSize, pagination.CursorPagination):
    ordering = ("-id",)
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def _serializer(ledger: Ledger, model: type[Model]) -> type[serializers.ModelSerializer[Any]]:
    related = {f.name for f in model._meta.concrete_fields if f.is_relation} & set(ledger.fields)
    attrs: dict[str, Any] = {
        # Regions by code (what every other endpoint shows), other relations by id.
        **{name: serializers.CharField(source=f"{name}.code", read_only=True)
           for name in related if name in ("village", "region")},
        "Meta": type("Meta", (), {"model": model, "fields": list(ledger.fields), "read_only_fields": ledger.fields}),
    }
    if ledger.redacted:
        def to_representation(self: Any, obj: Any) -> dict[str, Any]:
            data = dict(serializers.ModelSerializer.to_representation(self, obj))
            for name in ledger.redacted:
                if isinstance(data.get(name), str):
                    data[name] = redact(data[name])
            return data

        attrs["to_representation"] = to_representation
    name = "".join(part.title() for part in ledger.prefix.replace("/", "_").split("_")) + "Serializer"
    return type(name, (serializers.ModelSerializer,), attrs)


def _viewset(ledger: Ledger) -> type[viewsets.ReadOnlyModelViewSet[Any]]:
    from django.apps import apps

    from hemei.core.scope import registration
    from hemei.regions.access import access_region

    model = apps.get_model(ledger.model_path)
    importlib.import_module(f"hemei.{model._meta.app_label}.access")  # where the model registers its scope
    scope: Registration = registration(model)
    serializer = _serializer(ledger, model)
    select = [name for name in ("village", "region") if name in ledger.fields]

    def get_queryset(self: Any) -> QuerySet[Any]:
        qs = scope.queryset(self.request.user).filter(**ledger.filters).select_related(*select)
        code = self.request.query_params.get("village", "")
        if code:
            region = access_region(self.request.user, code)  # 404 outside the scope
            qs = qs.filter(**{f"{ledger.village_field}__path__startswith": region.path})
        return qs.order_by("-id")

    village = OpenApiParameter("village", str, description="A village code: its rows only (outside scope: 404).")
    cls = type(f"{serializer.__name__[:-10]}ViewSet", (viewsets.ReadOnlyModelViewSet,), {
        "serializer_class": serializer, "pagination_class": LedgerPagination, "filter_backends": [],
        "get_queryset": get_queryset, "lookup_value_regex": r"[0-9]+",
        "__doc__": ledger.summary,
    })
    tag = ledger.prefix.split("/")[0]
    return extend_schema_view(
        list=extend_schema(summary=ledger.summary, parameters=[village], tags=[tag]),
        retrieve=extend_schema(summary=f"One row: {ledger.summary.lower()}", tags=[tag]),
    )(cls)


def urls() -> list[Any]:
    router = SimpleRouter()
    for ledger in LEDGERS:
        router.register(ledger.prefix, _viewset(ledger), basename="ledger-" + ledger.prefix.replace("/", "-"))
    return list(router.urls)
