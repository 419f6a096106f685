"""REST API for regions, households and residents: scoped querysets, masked personal data,
writes through the same services as the pages."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import Length, Substr
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from hemei.core.api import error_body, field_errors
from hemei.core.parsing import MAX_ID, StrictBooleanField, parse_id
from hemei.regions import services
from hemei.regions.access import access_households, access_region, access_regions, access_residents, scope_for
from hemei.regions.models import Household, Region, Resident, Tag


class RegionSerializer(serializers.ModelSerializer[Region]):
    # Annotated by RegionViewSet.get_queryset: one query per page, not one per parent.
    parent_code = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Region
        fields = ["id", "code", "name", "level", "parent_code", "valid_from", "valid_to"]


class ResidentSerializer(serializers.ModelSerializer[Resident]):
    """ID numbers and phones are masked unless the caller holds the reveal permission (and then
    only through the audited /reveal/ action, never in lists)."""

    id_number = serializers.CharField(source="id_masked", read_only=True)
    phone = serializers.CharField(source="phone_masked", read_only=True)
    household: serializers.PrimaryKeyRelatedField[Household] = serializers.PrimaryKeyRelatedField(read_only=True)
    tags: serializers.SlugRelatedField[Tag] = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    class Meta:
        model = Resident
        fields = ["id", "household", "name", "name_initials", "id_number", "sex", "birth_date", "phone",
                  "relation", "is_party_member", "tags", "status", "status_date"]


ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


class ResidentCreateSerializer(serializers.Serializer[Any]):
    household = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    name = serializers.CharField(max_length=50)
    id_number = serializers.RegexField(
        r"^([0-9]{17}[0-9Xx]|[0-9]{15})$", max_length=18,
        help_text="18 digits (the last may be X), or a first-generation 15; the check digit and birth date "
        "are checked too (400 on id_number).")
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    relation = serializers.ChoiceField(choices=Resident.Relation.choices, default=Resident.Relation.OTHER)
    is_party_member = StrictBooleanField(default=False)


class ResidentUpdateSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=50, required=False)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    relation = serializers.ChoiceField(choices=Resident.Relation.choices, required=False)
    is_party_member = StrictBooleanField(required=False)


class RevealSerializer(serializers.Serializer[Any]):
    field = serializers.ChoiceField(choices=["id_number", "phone"])


class HouseholdSerializer(serializers.ModelSerializer[Household]):
    grid = serializers.CharField(source="region.code", read_only=True)
    village = serializers.CharField(source="village.code", read_only=True)
    head_name = serializers.CharField(source="head.name", read_only=True, default=None, allow_null=True)
    tags: serializers.SlugRelatedField[Tag] = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    class Meta:
        model = Household
        fields = ["id", "number", "grid", "village", "head", "head_name", "address", "tags", "lives_in_village"]


class HouseholdCreateSerializer(serializers.Serializer[Any]):
    grid = serializers.CharField(max_length=15)
    number = serializers.CharField(max_length=30)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    lives_in_village = StrictBooleanField(default=True)


REGION_FILTERS = [
    OpenApiParameter("region", str, description="Region code: restrict to this region"),
    OpenApiParameter("sub", str, description="1 (default): this region and below; 0: this region only"),
]


def _region_filter(request: Request, qs: QuerySet[Any], field: str = "region") -> QuerySet[Any]:
    code = request.query_params.get("region")
    if not code:
        return qs
    region = access_region(request.user, code)
    if request.query_params.get("sub", "1") == "0":
        return qs.filter(**{field: region})
    return qs.filter(**{f"{field}__path__startswith": region.path})


class RegionViewSet(viewsets.ReadOnlyModelViewSet[Region]):
    serializer_class = RegionSerializer
    lookup_field = "code"
    filterset_fields = ["level"]

    def get_queryset(self) -> QuerySet[Region]:
        parent = Region.objects.filter(
            path=Substr(OuterRef("path"), 1, Length(OuterRef("path")) - Region.steplen)
        ).values("code")[:1]
        return access_regions(self.request.user).annotate(parent_code=Subquery(parent)).order_by("path")


class HouseholdViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet[Household]):
    serializer_class = HouseholdSerializer

    def get_queryset(self) -> QuerySet[Household]:
        qs = access_households(self.request.user).select_related("region", "village", "head").prefetch_related("tags")
        return _region_filter(self.request, qs).order_by("region_id", "number", "pk")

    @extend_schema(parameters=REGION_FILTERS)
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=HouseholdCreateSerializer, responses={201: HouseholdSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = HouseholdCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        grid = access_region(request.user, data.validated_data["grid"], write=True)
        household = services.household_create(
            grid=grid, number=data.validated_data["number"], address=data.validated_data["address"],
            lives_in_village=data.validated_data["lives_in_village"], actor=request.user,
        )
        return Response(HouseholdSerializer(household).data, status=status.HTTP_201_CREATED)


class ResidentViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet[Resident]):
    serializer_class = ResidentSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Resident]:
        qs = access_residents(self.request.user).prefetch_related("tags")
        household = self.request.query_params.get("household")
        if household:
            pk = parse_id(household)
            if pk is None:
                raise DRFValidationError({"household": [_("Choose an entry from the list.")]})
            qs = qs.filter(household_id=pk)
        return _region_filter(self.request, qs).order_by("household_id", "pk")

    @extend_schema(parameters=[*REGION_FILTERS, OpenApiParameter("household", ID_SCHEMA, description="Household id")])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=ResidentCreateSerializer, responses={201: ResidentSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = ResidentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        household = access_households(request.user, write=True).filter(pk=values.pop("household")).first()
        if household is None:
            raise Http404
        try:
            resident = services.resident_create(household=household, actor=request.user, **values)
        except DjangoValidationError as exc:
            # The ID number's check digit or birth date ("id_number"), or already registered.
            named = field_errors(exc, ResidentCreateSerializer, also={"duplicate_id": "id_number"})
            if named:
                raise DRFValidationError(named) from exc
            raise
        return Response(ResidentSerializer(resident).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ResidentUpdateSerializer, responses={200: ResidentSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        pk = str(kwargs["pk"])
        # A non-numeric id is "not found", not a server error (found by schemathesis).
        resident_pk = parse_id(pk)
        resident = access_residents(request.user, write=True).filter(pk=resident_pk).first() if resident_pk else None
        if resident is None:
            raise Http404
        data = ResidentUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        resident = services.resident_update(resident=resident, actor=request.user, request=request,
                                            **data.validated_data)
        return Response(ResidentSerializer(resident).data)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.partial_update(request, *args, **kwargs)

    @extend_schema(request=RevealSerializer, responses={200: RevealSerializer})
    @action(detail=True, methods=["post"])
    def reveal(self, request: Request, pk: str | None = None) -> Response:
        """Return one full ID number or phone (needs the reveal permission; audited)."""
        resident = self.get_object()
        data = RevealSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if not scope_for(request.user).can_reveal:
            return Response(error_body("scope", _("You may not reveal personal data.")),
                            status=status.HTTP_403_FORBIDDEN)
        value = services.personal_data_reveal(user=request.user, resident=resident,
                                              field=data.validated_data["field"], request=request)
        return Response({"field": data.validated_data["field"], "value": value})
