"""REST API for elders and care work orders: scoped querysets (out of scope → 404), masked
(names as 张*, no health notes, no phones), writes through the same services as the pages."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from hemei.care import services
from hemei.care.access import access_elder, access_elders, access_orders
from hemei.care.models import Elder, Metric, WorkOrder
from hemei.cases.models import Case
from hemei.core.masking import mask_name
from hemei.core.parsing import MAX_ID


class ElderSerializer(serializers.ModelSerializer[Elder]):
    name = serializers.SerializerMethodField(help_text="Masked: the surname and stars.")
    grid = serializers.CharField(source="region.code", read_only=True)

    class Meta:
        model = Elder
        fields = ["id", "name", "grid", "living", "ability_score", "ability_level", "assessed_on", "reassess_on",
                  "visits_per_week", "monitored", "has_call_box"]
        read_only_fields = fields

    def get_name(self, obj: Elder) -> str:
        return mask_name(obj.resident.name)


class OrderSerializer(serializers.ModelSerializer[WorkOrder]):
    number = serializers.CharField(source="case.number", read_only=True)
    status = serializers.ChoiceField(source="case.status", choices=Case.Status.choices, read_only=True)
    tier = serializers.ChoiceField(source="case.tier", choices=Case.Tier.choices, read_only=True)
    category = serializers.CharField(source="case.category.name", read_only=True)
    origin = serializers.ChoiceField(source="case.source", choices=Case.Source.choices, read_only=True,
                                     help_text="device, villager (the phone button), api …")
    accept_by = serializers.DateTimeField(source="case.accept_by", read_only=True)
    accepted_at = serializers.DateTimeField(source="case.accepted_at", read_only=True, allow_null=True)
    resolved_at = serializers.DateTimeField(source="case.resolved_at", read_only=True, allow_null=True)
    rating = serializers.CharField(source="case.rating", read_only=True, allow_null=True)
    grid = serializers.CharField(source="region.code", read_only=True)

    class Meta:
        model = WorkOrder
        fields = ["id", "number", "elder", "grid", "category", "origin", "status", "tier", "step", "respond_by",
                  "accept_by", "accepted_at", "arrived_at", "resolved_at", "rating", "created_at"]
        read_only_fields = fields


class CallSerializer(serializers.Serializer[Any]):
    elder = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    kind = serializers.ChoiceField(choices=sorted(services.CARE_CATEGORIES), default="call")
    key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="",
                                help_text="Idempotency key: the same key for the same elder opens one order.")


class ReadingInSerializer(serializers.Serializer[Any]):
    metric = serializers.ChoiceField(choices=Metric.choices)
    value = serializers.FloatField()
    at = serializers.DateTimeField(required=False)
    key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class ReadingOutSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    metric = serializers.CharField()
    at = serializers.DateTimeField()
    flag = serializers.CharField(help_text='"" in range, "low" or "high"')


class FinishSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(max_length=2000)


class WorkOrderRateSerializer(serializers.Serializer[Any]):
    rating = serializers.ChoiceField(choices=Case.Rating.choices)


def _invalid(exc: ValidationError) -> DRFValidationError:
    return DRFValidationError({"detail": exc.messages})


class ElderViewSet(viewsets.ReadOnlyModelViewSet[Elder]):
    serializer_class = ElderSerializer
    lookup_value_regex = r"[0-9]{1,18}"  # a longer id is no id (and would overflow SQLite's integers)

    def get_queryset(self) -> QuerySet[Elder]:
        return access_elders(self.request.user).select_related("resident", "region").order_by("pk")

    @extend_schema(request=ReadingInSerializer, responses={201: ReadingOutSerializer})
    @action(detail=True, methods=["post"])
    def readings(self, request: Request, pk: str | None = None) -> Response:
        """Record a reading; out of range (after an in-range one) opens a 健康异常 work order."""
        elder = access_elder(request.user, pk)
        data = ReadingInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            reading = services.reading_submit(actor=request.user, elder=elder, metric=values["metric"],
                                              value=values["value"], at=values.get("at"), message_id=values["key"])
        except ValidationError as exc:
            raise _invalid(exc) from exc
        code = status.HTTP_200_OK if getattr(reading, "replayed", False) else status.HTTP_201_CREATED
        return Response({"id": reading.pk, "metric": reading.metric, "at": reading.at, "flag": reading.flag},
                        status=code)


class OrderViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet[WorkOrder]):
    serializer_class = OrderSerializer
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self) -> QuerySet[WorkOrder]:
        qs = access_orders(self.request.user).select_related("case__category", "region")
        state = self.request.query_params.get("status")
        if state in Case.Status.values:
            qs = qs.filter(case__status=state)
        return qs.order_by("-created_at", "-pk")

    def _reply(self, order: WorkOrder, code: int = status.HTTP_200_OK) -> Response:
        return Response(OrderSerializer(self.get_queryset().get(pk=order.pk)).data, status=code)

    @extend_schema(request=CallSerializer, responses={201: OrderSerializer, 200: OrderSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Open a work order for an elder (a call taken by phone, a request entered for them)."""
        data = CallSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        elder = access_elder(request.user, values["elder"])
        try:
            order = services.open_call(elder, actor=request.user, source_ref=values["key"], kind=values["kind"],
                                       source=Case.Source.API)
        except ValidationError as exc:
            raise _invalid(exc) from exc
        replayed = getattr(order, "replayed", False)
        return self._reply(order, status.HTTP_200_OK if replayed else status.HTTP_201_CREATED)

    def _step(self, request: Request, pk: str | None, step: str) -> Response:
        order = self.get_object()
        try:
            if step == "accept":
                services.order_accept(actor=request.user, order=order)
            elif step == "arrive":
                services.order_arrive(actor=request.user, order=order)
            elif step == "finish":
                data = FinishSerializer(data=request.data)
                data.is_valid(raise_exception=True)
                services.order_finish(actor=request.user, order=order, note=data.validated_data["note"])
            else:
                rate = WorkOrderRateSerializer(data=request.data)
                rate.is_valid(raise_exception=True)
                services.order_rate(actor=request.user, order=order, rating=rate.validated_data["rating"])
        except ValidationError as exc:
            raise _invalid(exc) from exc
        return self._reply(order)

    @extend_schema(request=None, responses={200: OrderSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        return self._step(request, pk, "accept")

    @extend_schema(request=None, responses={200: OrderSerializer})
    @action(detail=True, methods=["post"])
    def arrive(self, request: Request, pk: str | None = None) -> Response:
        return self._step(request, pk, "arrive")

    @extend_schema(request=FinishSerializer, responses={200: OrderSerializer})
    @action(detail=True, methods=["post"])
    def finish(self, request: Request, pk: str | None = None) -> Response:
        return self._step(request, pk, "finish")

    @extend_schema(request=WorkOrderRateSerializer, responses={200: OrderSerializer})
    @action(detail=True, methods=["post"])
    def rate(self, request: Request, pk: str | None = None) -> Response:
        return self._step(request, pk, "rate")
