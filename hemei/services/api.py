"""REST API of the village's services: study-tour slots with their fill and bookings (contacts
masked) with their moves; childcare centres with their occupancy (per centre, township and
county) and applications (names masked; created through the service under an idempotency
key); scoped querysets (out of scope → 404); writes through the same
services as the pages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from hemei.cases.api import ErrorSerializer, api_error
from hemei.core.api import key_header
from hemei.core.idempotency import IdempotencyConflict, created
from hemei.core.masking import mask_name, mask_phone
from hemei.core.parsing import MAX_YEAR, MIN_YEAR, ChoiceFilter, IdFilter, StrictBooleanField, parse_id
from hemei.regions.access import access_households
from hemei.services import childcare, response, selectors, services
from hemei.services.access import (
    SLOTS,
    access_applications,
    access_bookings,
    access_checks,
    access_provider,
    access_providers,
    access_responses,
)
from hemei.services.models import Booking, ChildcareApplication, ChildcareProvider, GridCheck, Slot
from hemei.services.models import Response as EmergencyResponse


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


# --- childcare places (托育) -------------------------------------------------------------------

IDEMPOTENCY_HEADER = "Idempotency-Key"
KEY_REQUIRED = key_header(
    required=True, max_length=100,
    description="Your key for this write (≤ 100 characters). Same key + same payload: the first application "
    "again (200); a different payload under the same key: 409.",
)
CHILDCARE_REFUSED = OpenApiResponse(ErrorSerializer, description="Refused (bad input, centre closed, duplicate)")


def _refused(exc: ValidationError) -> Response:
    message = "; ".join(exc.messages)
    if isinstance(exc, IdempotencyConflict):
        return api_error("idempotency_conflict", message, status.HTTP_409_CONFLICT)
    code = exc.code if isinstance(exc.code, str) else "invalid"
    return api_error(code, message, status.HTTP_400_BAD_REQUEST)


class ProviderSerializer(serializers.ModelSerializer[ChildcareProvider]):
    region_code = serializers.CharField(source="region.code", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)
    phone = serializers.SerializerMethodField(help_text="Masked: 138****1234.")
    free = serializers.IntegerField(read_only=True)
    occupancy = serializers.FloatField(read_only=True, help_text="Children enrolled per place (0–1).")
    waiting = serializers.IntegerField(read_only=True, help_text="Families on the waiting list.")

    class Meta:
        model = ChildcareProvider
        fields = ["id", "name", "region", "region_code", "region_name", "address", "phone", "capacity", "enrolled",
                  "offered", "free", "occupancy", "waiting", "min_age_months", "max_age_months", "active"]
        read_only_fields = fields

    def get_phone(self, obj: ChildcareProvider) -> str:
        return mask_phone(obj.phone)


class AreaOccupancySerializer(serializers.Serializer[Any]):
    level = serializers.CharField()
    code = serializers.CharField()
    name = serializers.CharField()
    providers = serializers.IntegerField()
    places = serializers.IntegerField()
    enrolled = serializers.IntegerField()
    offered = serializers.IntegerField()
    free = serializers.IntegerField()
    waiting = serializers.IntegerField()
    occupancy = serializers.FloatField(help_text="Children enrolled per place (0–1).")


class ChildcareApplicationSerializer(serializers.ModelSerializer[ChildcareApplication]):
    child_name = serializers.SerializerMethodField(help_text="Masked: the surname and stars.")
    child_birth_month = serializers.SerializerMethodField(help_text="YYYY-MM: the birth date is not given out.")
    guardian_name = serializers.SerializerMethodField(help_text="Masked: the surname and stars.")
    guardian_phone = serializers.SerializerMethodField(help_text="Masked: 138****1234.")
    position = serializers.SerializerMethodField(help_text="Place on the waiting list (waiting applications).")

    class Meta:
        model = ChildcareApplication
        fields = ["id", "provider", "household", "child_name", "child_birth_month", "guardian_name",
                  "guardian_phone", "desired_start", "status", "applied_at", "offered_at", "enrolled_on", "left_on",
                  "position"]
        read_only_fields = fields

    def get_child_name(self, obj: ChildcareApplication) -> str:
        return mask_name(obj.child_name)

    def get_child_birth_month(self, obj: ChildcareApplication) -> str:
        return f"{obj.child_birth_date:%Y-%m}"

    def get_guardian_name(self, obj: ChildcareApplication) -> str:
        return mask_name(obj.guardian_name)

    def get_guardian_phone(self, obj: ChildcareApplication) -> str:
        return mask_phone(obj.guardian_phone)

    def get_position(self, obj: ChildcareApplication) -> int | None:
        if obj.status != ChildcareApplication.Status.APPLIED:
            return None
        return childcare.waiting(obj.provider_id).filter(
            Q(applied_at__lt=obj.applied_at) | Q(applied_at=obj.applied_at, pk__lte=obj.pk)).count()


class ApplicationCreateSerializer(serializers.Serializer[Any]):
    provider = serializers.IntegerField(min_value=1)
    child_name = serializers.CharField(max_length=50)
    child_birth_date = serializers.DateField()
    guardian_name = serializers.CharField(max_length=50)
    guardian_phone = serializers.CharField(max_length=20)
    desired_start = serializers.DateField()
    household = serializers.IntegerField(min_value=1, required=False, allow_null=True)


class ProviderViewSet(viewsets.ReadOnlyModelViewSet[ChildcareProvider]):
    """Childcare centres in the reader's scope with their places, occupancy and waiting list."""

    serializer_class = ProviderSerializer
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self) -> QuerySet[ChildcareProvider]:
        return selectors.with_waiting(access_providers(self.request.user).select_related("region")) \
            .order_by("region__path", "name", "pk")

    @extend_schema(responses={200: AreaOccupancySerializer(many=True)})
    @action(detail=False, methods=["get"], pagination_class=None)
    def occupancy(self, request: Request) -> Response:
        """Places, children enrolled and offered, and occupancy per township and per county."""
        townships, counties = selectors.occupancy_by_area(list(self.get_queryset()))
        rows = [{"level": a.region.level, "code": a.region.code, "name": a.region.name, "providers": a.providers,
                 "places": a.places, "enrolled": a.enrolled, "offered": a.offered, "free": a.free,
                 "waiting": a.waiting, "occupancy": round(a.rate, 4)}
                for a in (*townships, *counties) if a.region is not None]
        return Response(AreaOccupancySerializer(rows, many=True).data)


class ChildcareApplicationViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet[ChildcareApplication]):
    """Applications of the centres the reader's posts cover (names and phones masked); a new
    application goes through the same service as the staff form."""

    serializer_class = ChildcareApplicationSerializer
    lookup_value_regex = r"[0-9]{1,18}"
    # JSON only: a form-encoded body cannot say "no household" (null) unambiguously.
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[ChildcareApplication]:
        qs = access_applications(self.request.user)
        state = self.request.query_params.get("status")
        if state in ChildcareApplication.Status.values:
            qs = qs.filter(status=state)
        provider = parse_id(self.request.query_params.get("provider"))
        if provider is not None:
            qs = qs.filter(provider_id=provider)
        return qs.order_by("provider", "applied_at", "pk")

    @extend_schema(request=ApplicationCreateSerializer, parameters=[KEY_REQUIRED],
                   responses={201: ChildcareApplicationSerializer, 200: ChildcareApplicationSerializer,
                              400: CHILDCARE_REFUSED, 409: CHILDCARE_REFUSED})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = (request.headers.get(IDEMPOTENCY_HEADER) or "").strip()
        if not key or len(key) > 100:
            return api_error("key", _("The %(h)s header is required for this write.") % {"h": IDEMPOTENCY_HEADER},
                             status.HTTP_400_BAD_REQUEST, {IDEMPOTENCY_HEADER: ["This header is required."]})
        data = ApplicationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        provider = access_provider(request.user, v.pop("provider"))
        household_pk = v.pop("household", None)
        household = None
        if household_pk is not None:
            household = access_households(request.user).select_related("region").filter(pk=household_pk).first()
            if household is None:
                raise Http404
        try:
            application = childcare.application_create(actor=request.user, provider=provider, household=household,
                                                       idempotency_key=key, **v)
        except ValidationError as exc:
            return _refused(exc)
        body = ChildcareApplicationSerializer(application).data
        return Response(body, status=status.HTTP_201_CREATED if created(application) else status.HTTP_200_OK)


# --- emergency response (应急响应) and the grids' check-ins ----------------------------------------


class EmergencyResponseSerializer(serializers.ModelSerializer[EmergencyResponse]):
    region_code = serializers.CharField(source="region.code", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)

    class Meta:
        model = EmergencyResponse
        fields = ["id", "region_code", "region_name", "hazard", "level", "status", "reason", "checkin_by",
                  "declared_at", "lifted_at"]
        read_only_fields = fields


class GridCheckSerializer(serializers.ModelSerializer[GridCheck]):
    region_code = serializers.CharField(source="region.code", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)

    class Meta:
        model = GridCheck
        fields = ["id", "response", "region_code", "region_name", "status", "households", "reached", "note",
                  "checked_in_at", "tier"]
        read_only_fields = fields


class CheckInSerializer(serializers.Serializer[Any]):
    reached = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
                                    allow_empty=True, max_length=5000,
                                    help_text="Ids of the grid's listed households that were reached.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000,
                                 help_text="Required when a listed household was not reached: why.")


class EmergencyResponseFilter(django_filters.FilterSet):
    status = ChoiceFilter(choices=EmergencyResponse.Status.choices)

    class Meta:
        model = EmergencyResponse
        fields = ["status"]


class EmergencyResponseViewSet(viewsets.ReadOnlyModelViewSet[EmergencyResponse]):
    """Responses in force or lifted for an area the user covers, or with a grid of theirs."""

    serializer_class = EmergencyResponseSerializer
    filterset_class = EmergencyResponseFilter
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self) -> QuerySet[EmergencyResponse]:
        return access_responses(self.request.user).select_related("region").order_by("-declared_at", "-pk")


class GridCheckFilter(django_filters.FilterSet):
    response = IdFilter(field_name="response_id", help_text="Only this response's grids.")
    status = ChoiceFilter(choices=GridCheck.Status.choices)

    class Meta:
        model = GridCheck
        fields = ["response", "status"]


class GridCheckViewSet(viewsets.ReadOnlyModelViewSet[GridCheck]):
    """The grids' check-ins the user covers; a grid's staff check theirs in with `check_in`."""

    serializer_class = GridCheckSerializer
    filterset_class = GridCheckFilter
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self) -> QuerySet[GridCheck]:
        return access_checks(self.request.user).select_related("region").order_by("response_id", "region__code", "pk")

    @extend_schema(request=CheckInSerializer, responses={200: GridCheckSerializer, 400: ErrorSerializer})
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request: Request, pk: str | None = None) -> Response:
        check = self.get_object()
        data = CheckInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            response.grid_check_in(actor=request.user, check=check, reached=data.validated_data["reached"],
                                   note=data.validated_data.get("note", ""))
        except ValidationError as exc:
            return _refused(exc)
        return Response(GridCheckSerializer(self.get_queryset().get(pk=check.pk)).data)


# --- the 专精特新 self-check ---------------------------------------------------------------------


def _amount(maximum: int = 100_000_000, **kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal(0), max_value=Decimal(maximum),
                                    coerce_to_string=False,
                                    **kwargs)


class SmeFactsSerializer(serializers.Serializer[Any]):
    """The page's form (`SmeCheckForm`) as JSON: amounts in 万元, shares in %."""

    tech_sme_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
    innovative_certificate = StrictBooleanField(required=False, default=False)
    years_in_niche = serializers.IntegerField(min_value=0, max_value=200)
    revenue = _amount()
    revenue_before = _amount()
    equity_financing = _amount()
    main_business_share = _amount(100)
    debt_ratio = _amount(1000)
    rd_last = _amount()
    rd_before = _amount()
    own_ip_class1 = serializers.IntegerField(min_value=0, max_value=100000)
    bought_ip_class1 = serializers.IntegerField(min_value=0, max_value=100000, required=False)


class SmeCheckViewSet(viewsets.ViewSet):
    """POST a company's figures (the fields of the page's form; amounts in 万元, shares in %):
    each rule of the year's set, passed or failed, with every condition explained. Nothing is
    stored."""

    parser_classes = [JSONParser]  # decimals as JSON numbers or strings, not form fields

    @extend_schema(
        request=SmeFactsSerializer,
        parameters=[OpenApiParameter("year", {"type": "integer", "minimum": MIN_YEAR, "maximum": MAX_YEAR},
                                     description="The rule set's year (default: the latest).")],
        responses={200: {"type": "object"}, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def create(self, request: Request) -> Response:
        from hemei.core.parsing import parse_year
        from hemei.services import sme

        raw = request.query_params.get("year")
        year = parse_year(raw) if raw is not None else max(sme.RULESETS)
        if year is None:
            return api_error("invalid", _("The year is a number such as 2026."), status.HTTP_400_BAD_REQUEST)
        if year not in sme.RULESETS:
            return api_error("not_found", _("No rules for that year."), status.HTTP_404_NOT_FOUND)
        facts = SmeFactsSerializer(data=request.data)
        facts.is_valid(raise_exception=True)
        results = sme.evaluate(sme.ruleset(year), dict(facts.validated_data))
        return Response({
            "year": year, "eligible": all(r.passed for r in results),
            "rules": [{"code": r.rule.code, "text": r.rule.text, "passed": r.passed, "note": r.note,
                       "conditions": [{"field": c.condition.field, "passed": c.passed, "explanation": c.explanation}
                                      for c in r.conditions]} for r in results],
        })
