"""REST API for visits and monitoring: scoped querysets (out of scope → 404), writes through
the same services as the pages, no ID numbers, phones or health details in monitoring lists."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from hemei.cases.models import Category
from hemei.core.api import field_errors
from hemei.core.parsing import MAX_ID, StrictBooleanField, StrictCharField, StrictDecimalField
from hemei.regions.access import access_households, access_region
from hemei.visits import monitoring as mon
from hemei.visits import services
from hemei.visits.access import access_monitorings, access_visits
from hemei.visits.models import Monitoring, Visit


class VisitSerializer(serializers.ModelSerializer[Visit]):
    grid = serializers.CharField(source="region.code", read_only=True)
    household_number = serializers.CharField(source="household.number", read_only=True)
    visitor = serializers.CharField(source="visitor.username", read_only=True, default=None)
    cases = serializers.SerializerMethodField()

    class Meta:
        model = Visit
        fields = [
            "id",
            "household",
            "household_number",
            "grid",
            "visitor",
            "visited_at",
            "present",
            "phone_contact",
            "phone_outcome",
            "health_ok",
            "health_note",
            "housing_safe",
            "housing_note",
            "water_safe",
            "water_note",
            "income_per_capita",
            "heavy_spending",
            "heavy_spending_amount",
            "income_note",
            "schooling_ok",
            "schooling_note",
            "jobs_note",
            "needs",
            "notes",
            "cases",
        ]
        read_only_fields = fields

    def get_cases(self, obj: Visit) -> list[str]:
        return [p.case.number for p in obj.problems.all()]


class ProblemSerializer(serializers.Serializer[Any]):
    category = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    title = StrictCharField(max_length=100)
    description = StrictCharField(max_length=4000)


class VisitCreateSerializer(serializers.Serializer[Any]):
    household = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    visited_at = serializers.DateTimeField(required=False)
    present = StrictBooleanField(default=True)
    phone_contact = StrictCharField(max_length=50, required=False, allow_blank=True, default="")
    phone_outcome = StrictCharField(max_length=1000, required=False, allow_blank=True, default="")
    health_ok = StrictBooleanField(default=True)
    health_note = StrictCharField(max_length=1000, required=False, allow_blank=True, default="")
    housing_safe = StrictBooleanField(default=True)
    housing_note = StrictCharField(max_length=1000, required=False, allow_blank=True, default="")
    water_safe = StrictBooleanField(default=True)
    water_note = StrictCharField(max_length=1000, required=False, allow_blank=True, default="")
    income_per_capita = StrictDecimalField(
        max_digits=12, decimal_places=2, required=False, allow_null=True, min_value=0
    )
    heavy_spending = StrictBooleanField(default=False)
    heavy_spending_amount = StrictDecimalField(
        max_digits=12, decimal_places=2, required=False, allow_null=True, min_value=0
    )
    income_note = StrictCharField(max_length=1000, required=False, allow_blank=True, default="")
    schooling_ok = StrictBooleanField(default=True)
    schooling_note = StrictCharField(max_length=1000, required=False, allow_blank=True, default="")
    jobs_note = StrictCharField(max_length=1000, required=False, allow_blank=True, default="")
    needs = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")
    notes = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")
    problems = ProblemSerializer(many=True, required=False)


class MonitoringSerializer(serializers.ModelSerializer[Monitoring]):
    ref = serializers.CharField(read_only=True)
    # Blank until the village names the kind (an entry may come in without one).
    kind = serializers.ChoiceField(choices=Monitoring.Kind.choices, allow_blank=True, read_only=True)
    grid = serializers.CharField(source="region.code", read_only=True)
    household_number = serializers.CharField(source="household.number", read_only=True)

    class Meta:
        model = Monitoring
        fields = [
            "id",
            "ref",
            "household",
            "household_number",
            "grid",
            "kind",
            "risks",
            "source",
            "department",
            "has_labour",
            "step",
            "step_due",
            "tier",
            "was_overdue",
            "escalated_at",
            "notice_from",
            "notice_until",
            "created_at",
            "decided_at",
            "removed_at",
        ]
        read_only_fields = fields


class MonitoringCreateSerializer(serializers.Serializer[Any]):
    household = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    kind = serializers.ChoiceField(choices=Monitoring.Kind.choices, required=False, allow_blank=True, default="")
    risks = serializers.ListField(
        child=serializers.ChoiceField(choices=Monitoring.Risk.choices), required=False, default=list
    )
    detail = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")
    has_labour = StrictBooleanField(default=True)


def _region_filter(request: Request, qs: QuerySet[Any]) -> QuerySet[Any]:
    code = request.query_params.get("region")
    if not code:
        return qs
    return qs.filter(region__path__startswith=access_region(request.user, code).path)


def _household(request: Request, pk: int) -> Any:
    household = access_households(request.user).select_related("region", "head").filter(pk=pk).first()
    if household is None:
        raise Http404
    if not access_households(request.user, write=True).filter(pk=pk).exists():
        raise PermissionDenied
    return household


class VisitViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet[Visit]):
    serializer_class = VisitSerializer
    # JSON only: a form-encoded body cannot carry the list of problems (each an object), and
    # DRF would read a malformed one as "no problems" and record the visit without them.
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[Visit]:
        qs = access_visits(self.request.user).select_related("household", "region", "visitor")
        return _region_filter(self.request, qs.prefetch_related("problems__case")).order_by("-visited_at", "-pk")

    @extend_schema(parameters=[OpenApiParameter("region", str, description="Region code: this region and below")])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=VisitCreateSerializer, responses={201: VisitSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = VisitCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        household = _household(request, values.pop("household"))
        problems = []
        for p in values.pop("problems", []):
            category = Category.objects.filter(pk=p["category"], active=True).first()
            if category is None:
                raise DRFValidationError({"problems": [_("Unknown category.")]})
            problems.append(services.ProblemInput(category, p["title"], p["description"]))
        try:
            visit = services.visit_record(actor=request.user, household=household, problems=problems, **values)
        except ValidationError as exc:
            raise DRFValidationError(field_errors(exc, VisitCreateSerializer) or {"detail": exc.messages}) from exc
        return Response(VisitSerializer(self.get_queryset().get(pk=visit.pk)).data, status=status.HTTP_201_CREATED)


class MonitoringViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet[Monitoring]):
    serializer_class = MonitoringSerializer

    def get_queryset(self) -> QuerySet[Monitoring]:
        qs = access_monitorings(self.request.user).select_related("household", "region")
        step = self.request.query_params.get("step")
        if step:
            if step not in Monitoring.Step.values:
                raise DRFValidationError({"step": [_("Unknown step.")]})
            qs = qs.filter(step=step)
        return _region_filter(self.request, qs).order_by("-created_at", "-pk")

    @extend_schema(
        parameters=[
            OpenApiParameter("region", str, description="Region code: this region and below"),
            OpenApiParameter("step", str, enum=Monitoring.Step.values),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=MonitoringCreateSerializer, responses={201: MonitoringSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = MonitoringCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        household = _household(request, values.pop("household"))
        try:
            m = mon.monitoring_enter(actor=request.user, household=household, source=Monitoring.Source.STAFF, **values)
        except ValidationError as exc:
            # "duplicate": the household already has an open record.
            named = field_errors(exc, MonitoringCreateSerializer, also={"duplicate": "household"})
            raise DRFValidationError(named or {"detail": exc.messages}) from exc
        return Response(MonitoringSerializer(self.get_queryset().get(pk=m.pk)).data, status=status.HTTP_201_CREATED)
