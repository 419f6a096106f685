"""REST API of the village's services: study-tour slots with their fill and bookings (contacts
masked) with their moves; scoped querysets (out of scope → 404); writes through the same
services as the pages."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from hemei.core.masking import mask_name, mask_phone
from hemei.services import services
from hemei.services.access import SLOTS, access_bookings
from hemei.services.models import Booking, Slot


class SlotSerializer(serializers.ModelSerializer[Slot]):
    venue_name = serializers.CharField(source="venue.name", read_only=True)
    free = serializers.IntegerField(read_only=True)

    class Meta:
        model = Slot
        fields = ["id", "venue", "venue_name", "starts_at", "ends_at", "capacity", "booked", "free"]
        read_only_fields = fields


class BookingSerializer(serializers.ModelSerializer[Booking]):
    contact_name = serializers.SerializerMethodField(help_text="Masked: the surname and stars.")
    contact_phone = serializers.SerializerMethodField(help_text="Masked: 138****1234.")

    class Meta:
        model = Booking
        fields = ["id", "ref", "slot", "group_kind", "organisation", "group_size", "contact_name", "contact_phone",
                  "status", "created_at"]
        read_only_fields = fields

    def get_contact_name(self, obj: Booking) -> str:
        return mask_name(obj.contact_name)

    def get_contact_phone(self, obj: Booking) -> str:
        return mask_phone(obj.contact_phone)


class CancelSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=300)


class SlotViewSet(viewsets.ReadOnlyModelViewSet[Slot]):
    serializer_class = SlotSerializer
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self) -> QuerySet[Slot]:
        return SLOTS.queryset(self.request.user).select_related("venue").order_by("starts_at", "pk")


class BookingViewSet(viewsets.ReadOnlyModelViewSet[Booking]):
    serializer_class = BookingSerializer
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self) -> QuerySet[Booking]:
        qs = access_bookings(self.request.user).select_related("slot__venue", "region")
        state = self.request.query_params.get("status")
        if state in Booking.Status.values:
            qs = qs.filter(status=state)
        return qs.order_by("-created_at", "-pk")

    def _reply(self, booking: Booking) -> Response:
        return Response(BookingSerializer(self.get_queryset().get(pk=booking.pk)).data)

    @extend_schema(request=None, responses={200: BookingSerializer})
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        booking = self.get_object()
        try:
            services.booking_confirm(actor=request.user, booking=booking)
        except ValidationError as exc:
            raise DRFValidationError({"detail": exc.messages}) from exc
        return self._reply(booking)

    @extend_schema(request=CancelSerializer, responses={200: BookingSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        booking = self.get_object()
        data = CancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.booking_cancel(actor=request.user, booking=booking, reason=data.validated_data["reason"])
        except ValidationError as exc:
            raise DRFValidationError({"detail": exc.messages}) from exc
        return self._reply(booking)
