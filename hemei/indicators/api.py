"""The indicator API: DHIS2-style data value sets and the dashboard figures.

- `GET /api/v1/dataValueSets/?orgUnit=CODE&period=202611[&children=true][&dataElement=…]`:
  the facts (one number per lowest region, period and element) of the region, or of it and
  every region below it with `children=true`, in the user's scope.
- `POST /api/v1/dataValueSets/` with `{"dataValues": [{"dataElement", "period", "orgUnit",
  "value"}]}`: entered elements only, all-or-nothing through the same service as the form and
  the Excel import (forms are submitted to the township); the answer is an import summary
  like DHIS2's (`status`, `importCount`, `conflicts`), 409 when anything was refused.
- `GET /api/v1/dashboard/?region=CODE&period=…&indicator=…`: what the dashboard page shows.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view, parser_classes
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from hemei.dashboards import figures
from hemei.indicators import catalogue
from hemei.indicators.access import FACTS, access_dashboard_region
from hemei.indicators.periods import PeriodError, parse
from hemei.indicators.services import ValueRow, values_import
from hemei.regions.models import Region

MAX_VALUES = 50_000


class DataValueSerializer(serializers.Serializer[dict[str, Any]]):
    dataElement = serializers.CharField(max_length=40)
    period = serializers.CharField(max_length=7)
    orgUnit = serializers.CharField(max_length=15)
    value = serializers.CharField(max_length=30)


class DataValueSetSerializer(serializers.Serializer[dict[str, Any]]):
    dataValues = serializers.ListField(child=DataValueSerializer(), max_length=MAX_VALUES)


class ImportCountSerializer(serializers.Serializer[dict[str, Any]]):
    imported = serializers.IntegerField()
    ignored = serializers.IntegerField()


class ConflictSerializer(serializers.Serializer[dict[str, Any]]):
    index = serializers.IntegerField(help_text="position in dataValues, from 0")
    object = serializers.CharField()
    value = serializers.CharField(help_text="what was wrong")


class ImportSummarySerializer(serializers.Serializer[dict[str, Any]]):
    status = serializers.ChoiceField(choices=["SUCCESS", "ERROR"])
    importCount = ImportCountSerializer()
    conflicts = ConflictSerializer(many=True)


PARAMS = [
    OpenApiParameter("orgUnit", str, description="region code (a village, township, county …)", required=True),
    OpenApiParameter("period", str, description="202611, 2026Q4 or 2026", required=True),
    OpenApiParameter("children", bool, description="include every region below orgUnit"),
    OpenApiParameter("dataElement", str, many=True, description="only these data elements"),
]


@extend_schema(methods=["GET"], parameters=PARAMS, responses=DataValueSetSerializer,
               summary="Data values (facts) of a region and period")
@extend_schema(methods=["POST"], request=DataValueSetSerializer,
               responses={200: ImportSummarySerializer, 409: ImportSummarySerializer},
               summary="Import entered data values, all-or-nothing")
@api_view(["GET", "POST"])
@parser_classes([JSONParser])  # a list of objects, as DHIS2 takes it: no form-encoded body can carry one
def data_value_sets(request: Request) -> Response:
    if request.method == "POST":
        return _import(request)
    region = access_dashboard_region(request.user, request.query_params.get("orgUnit", "") or "-")
    try:
        period = parse(request.query_params.get("period", ""))
    except PeriodError as exc:
        return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
    qs = FACTS.queryset(request.user).filter(period=period.code)
    if request.query_params.get("children", "").lower() in ("1", "true", "yes"):
        qs = qs.filter(region__path__startswith=region.path)
    else:
        qs = qs.filter(region=region)
    elements = request.query_params.getlist("dataElement")
    if elements:
        qs = qs.filter(element__in=elements)
    rows = qs.select_related("region").order_by("region__code", "element")[:MAX_VALUES]
    return Response({"dataValues": [
        {"dataElement": f.element, "period": f.period, "orgUnit": f.region.code, "value": _text(f.value)}
        for f in rows]})


def _text(value: Any) -> str:
    text = format(value.normalize(), "f")
    return text


def _import(request: Request) -> Response:
    serializer = DataValueSetSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    values = serializer.validated_data["dataValues"]
    rows = [ValueRow(row=i, village=v["orgUnit"], period=v["period"], element=v["dataElement"], value=v["value"])
            for i, v in enumerate(values)]
    try:
        result = values_import(actor=request.user, rows=rows)
    except ValidationError as exc:
        return Response({"detail": exc.messages}, status=status.HTTP_400_BAD_REQUEST)
    conflicts = [{"index": e.row, "object": e.value or e.column, "value": e.message} for e in result.errors]
    body = {"status": "SUCCESS" if result.ok else "ERROR",
            "importCount": {"imported": result.created if result.ok else 0,
                            "ignored": 0 if result.ok else len(rows)},
            "conflicts": conflicts}
    return Response(body, status=status.HTTP_200_OK if result.ok else status.HTTP_409_CONFLICT)


class FigureSerializer(serializers.Serializer[Any]):
    indicator = serializers.CharField()
    name = serializers.CharField()
    unit = serializers.CharField()
    value = serializers.FloatField(allow_null=True)
    previous = serializers.FloatField(allow_null=True)
    numerator = serializers.FloatField()
    denominator = serializers.FloatField(allow_null=True)
    target = serializers.FloatField(allow_null=True)


class ChildSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    name = serializers.CharField()
    value = serializers.FloatField(allow_null=True)


class DashboardSerializer(serializers.Serializer[Any]):
    region = serializers.CharField()
    name = serializers.CharField()
    period = serializers.CharField()
    indicator = serializers.CharField()
    key = FigureSerializer(many=True)
    children = ChildSerializer(many=True)
    trend = ChildSerializer(many=True)
    programmes = serializers.ListField(child=serializers.DictField())


def _figure(f: figures.Figure) -> dict[str, Any]:
    def num(v: Any) -> float | None:
        return None if v is None else float(v)

    return {"indicator": f.indicator.code, "name": str(f.indicator.name), "unit": str(f.indicator.unit),
            "value": num(f.value), "previous": num(f.previous), "numerator": float(f.numerator),
            "denominator": num(f.denominator), "target": num(f.indicator.target)}


@extend_schema(parameters=[OpenApiParameter("region", str), OpenApiParameter("period", str),
                           OpenApiParameter("indicator", str, enum=list(catalogue.INDICATORS))],
               responses=DashboardSerializer, summary="The dashboard of a region")
@api_view(["GET"])
def dashboard(request: Request) -> Response:
    region: Region = access_dashboard_region(request.user, request.query_params.get("region", ""))
    period = figures.chosen_period(request.query_params.get("period", ""))
    code = request.query_params.get("indicator")
    if code is not None and code not in catalogue.INDICATORS:
        # Not the default board in silence: the client asked for a figure that does not exist.
        raise DRFValidationError({"indicator": [_("Unknown indicator.")]})
    indicator = catalogue.INDICATORS[code or "case_on_time"]
    board = figures.dashboard(region, period, indicator)
    return Response({
        "region": region.code, "name": region.name, "period": period.code, "indicator": indicator.code,
        "key": [_figure(f) for f in board.key],
        "children": [{"code": r.code, "name": r.name, "value": None if f.value is None else float(f.value)}
                     for r, f in board.children],
        "trend": [{"code": p.code, "name": p.label, "value": None if f.value is None else float(f.value)}
                  for p, f in board.trend],
        "programmes": board.programmes,
    })
