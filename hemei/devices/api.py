"""REST API for devices and alarms: scoped querysets (out of scope → 404), the alarm list in
a fixed number of queries, acknowledge/clear through the same services as the pages. No
secrets, hashes or signing keys ever leave the server."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import pagination, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from hemei.core.api import StrictPageSize
from hemei.core.parsing import BoolFilter, ChoiceFilter
from hemei.devices import services
from hemei.devices.access import access_alarms, access_devices
from hemei.devices.models import Alarm, Device, Kind, Severity


class DeviceSerializer(serializers.ModelSerializer[Device]):
    region = serializers.CharField(source="region.code", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)

    class Meta:
        model = Device
        fields = ["id", "code", "name", "kind", "profile", "region", "region_name", "active", "online",
                  "last_seen_at", "created_at"]
        read_only_fields = fields


class AlarmSerializer(serializers.ModelSerializer[Alarm]):
    device = serializers.CharField(source="device.code", read_only=True)
    device_name = serializers.CharField(source="device.name", read_only=True)
    device_kind = serializers.CharField(source="device.kind", read_only=True)
    region = serializers.CharField(source="region.code", read_only=True)
    acknowledged_by = serializers.CharField(source="acknowledged_by.username", read_only=True, default=None)
    case = serializers.CharField(source="case.number", read_only=True, default=None)

    class Meta:
        model = Alarm
        fields = ["id", "device", "device_name", "device_kind", "region", "code", "severity", "text", "state",
                  "count", "raised_at", "last_at", "cleared_at", "reraised", "flapping", "acknowledged_at",
                  "acknowledged_by", "case"]
        read_only_fields = fields


class AlarmNoteSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class DeviceFilter(django_filters.FilterSet):
    kind = ChoiceFilter(choices=Kind.choices)
    online = BoolFilter()
    region = django_filters.CharFilter(method="in_region", help_text="Region code: that region and below.")

    class Meta:
        model = Device
        fields = ["kind", "online", "region"]

    def in_region(self, qs: QuerySet[Device], _name: str, value: str) -> QuerySet[Device]:
        return qs.filter(region__code__startswith=value[:15])


class AlarmFilter(django_filters.FilterSet):
    state = ChoiceFilter(choices=Alarm.State.choices)
    severity = ChoiceFilter(choices=Severity.choices)
    device = django_filters.CharFilter(field_name="device__code")
    open = BoolFilter(method="is_open", help_text="true: active or acknowledged")

    class Meta:
        model = Alarm
        fields = ["state", "severity", "device", "open"]

    def is_open(self, qs: QuerySet[Alarm], _name: str, value: bool) -> QuerySet[Alarm]:
        return qs.exclude(state=Alarm.State.CLEARED) if value else qs.filter(state=Alarm.State.CLEARED)


class AlarmPagination(StrictPageSize, pagination.CursorPagination):
    """Latest first by an opaque cursor: no COUNT(*), stable while alarms keep arriving."""

    ordering = ("-last_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class DeviceViewSet(viewsets.ReadOnlyModelViewSet[Device]):
    """Devices in your regions."""

    serializer_class = DeviceSerializer
    filterset_class = DeviceFilter

    def get_queryset(self) -> QuerySet[Device]:
        return access_devices(self.request.user).select_related("region").order_by("code")


class AlarmViewSet(viewsets.ReadOnlyModelViewSet[Alarm]):
    """Alarms of the devices in your regions, latest first."""

    serializer_class = AlarmSerializer
    filterset_class = AlarmFilter
    pagination_class = AlarmPagination

    def get_queryset(self) -> QuerySet[Alarm]:
        return access_alarms(self.request.user).select_related("device", "region", "acknowledged_by", "case")

    @extend_schema(summary="Acknowledge: you have seen the alarm and are on it", request=AlarmNoteSerializer,
                   responses={200: AlarmSerializer})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        return self._run(services.alarm_acknowledge)

    @extend_schema(
        summary="Clear: the condition is over", request=AlarmNoteSerializer, responses={200: AlarmSerializer}
    )
    @action(detail=True, methods=["post"])
    def clear(self, request: Request, pk: str | None = None) -> Response:
        return self._run(services.alarm_clear)

    def _run(self, service: Any) -> Response:
        alarm = self.get_object()
        data = AlarmNoteSerializer(data=self.request.data)
        data.is_valid(raise_exception=True)
        alarm = service(actor=self.request.user, alarm=alarm, note=data.validated_data["note"])
        return Response(AlarmSerializer(self.get_queryset().get(pk=alarm.pk)).data)
