"""REST API for cases (`/api/v1/cases/`): scoped reads through `hemei.cases.access`, every
write through `hemei.cases.services`, a refused transition is a 409 with a structured error.

Personal data: a case carries no ID number or phone; the reporter's name is shown to staff
and to the reporter's own household (the only cases a villager can read at all).
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, pagination, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from hemei.cases import services
from hemei.cases.access import access_cases, villager_resident
from hemei.cases.models import Case, CaseEvent, Category
from hemei.cases.privacy import masked_fields, text_findings
from hemei.core.api import StrictPageSize, field_errors, key_header
from hemei.core.parsing import MAX_ID, ChoiceFilter, DateTimeFilter, IdFilter, StrictCharField, StrictFloatField
from hemei.core.pii import redact
from hemei.core.throttle import CaseCreateThrottle
from hemei.regions.access import access_region, scope_for

LIST_FIELDS = ("number", "title", "status", "tier", "category_id", "region__code", "source", "accept_by",
               "resolve_by", "overdue_accept", "overdue_resolve", "rating", "created_at")
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_MAX = 64  # Case.idempotency_key max_length


def api_error(code: str, message: str, http_status: int, fields: dict[str, Any] | None = None) -> Response:
    """The same body as hemei.core.api.exception_handler: {"error": {"code", "message", "fields"}}."""
    return Response({"error": {"code": code, "message": message, "fields": fields or {}}}, status=http_status)


ErrorSerializer = inline_serializer(
    "Error",
    fields={
        "error": inline_serializer(
            "ErrorBody",
            fields={
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "fields": serializers.DictField(),
            },
        )
    },
)


# --- serializers ----------------------------------------------------------------------------


# An http(s) link to a named host (at most five labels, 251 characters: within DNS's 253), an
# optional port, then URI characters (a non-ASCII path percent-encoded). Schema and check are
# this one pattern, so what the schema calls a link is what the API takes.
HTTP_URL = (r"^https?://(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,45}[A-Za-z0-9])?\.){1,4}[A-Za-z]{2,63}(?::[0-9]{1,5})?"
            r"(?:[/?#](?:[A-Za-z0-9._~:/?#@!$&'()*+,;=-]|%[0-9A-Fa-f]{2})*)?$")


@extend_schema_field({"oneOf": [{"type": "string", "format": "uri", "maxLength": 500, "pattern": HTTP_URL},
                                {"type": "string", "maxLength": 0}], "default": ""})
class MediaUrlField(StrictCharField):
    """A photo or video link: http(s) to a named host, as docs/api.md says, or blank. (Django's
    URL check would also take ftp:// and refuse some links the schema's "uri" allows.)"""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.append(RegexValidator(HTTP_URL, message=gettext_lazy("Enter an http(s) link.")))


class CaseSerializer(serializers.ModelSerializer[Case]):
    county = serializers.CharField(source="county.code", read_only=True)
    region = serializers.CharField(source="region.code", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)
    responsible = serializers.CharField(source="responsible.username", read_only=True, default=None,
                                        allow_null=True)
    lat = serializers.FloatField(read_only=True, allow_null=True, help_text="WGS 84 degrees, or null.")
    long = serializers.FloatField(read_only=True, allow_null=True, help_text="WGS 84 degrees, or null.")
    media_url = MediaUrlField(read_only=True)  # blank when the case has no link (not a "uri")

    class Meta:
        model = Case
        fields = ["number", "county", "region", "region_name", "category", "category_name", "source", "title",
                  "description", "address_string", "lat", "long", "media_url",
                  "status", "tier", "reporter_name", "responsible", "responsible_unit", "measures",
                  "accept_by", "resolve_by", "overdue_accept", "overdue_resolve", "rating", "created_at",
                  "updated_at", "accepted_at", "resolved_at", "closed_at", "escalated_at"]
        read_only_fields = fields

    def to_representation(self, case: Case) -> dict[str, Any]:
        # Free text in clear only for the author and the handlers (hemei.cases.privacy).
        request = self.context.get("request")
        return masked_fields(getattr(request, "user", None), case, dict(super().to_representation(case)))


class CaseSummarySerializer(serializers.Serializer[Case]):
    """A list row: what a worklist shows. The detail (`GET /cases/{number}/`) has the rest.

    Written out by hand rather than as a ModelSerializer: a list is the hot path (a grid
    worker's phone polls it), and building the dict directly costs a fraction of DRF's
    per-field machinery (bench/case_api.py)."""

    number = serializers.CharField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=Case.Status.choices)
    tier = serializers.ChoiceField(choices=Case.Tier.choices)
    category = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    region = serializers.CharField(help_text="Village or grid code.")
    source = serializers.ChoiceField(choices=Case.Source.choices)  # type: ignore[assignment]  # (see CaseCreateSerializer)
    accept_by = serializers.DateTimeField()
    resolve_by = serializers.DateTimeField()
    overdue = serializers.BooleanField(help_text="Late at some point (frozen flags) — not whether it is late now.")
    rating = serializers.ChoiceField(choices=Case.Rating.choices, allow_null=True)
    created_at = serializers.DateTimeField()

    def to_representation(self, case: Case) -> dict[str, Any]:
        return {
            "number": case.number, "title": redact(case.title), "status": case.status, "tier": case.tier,
            "category": case.category_id, "region": case.region.code, "source": case.source,
            "accept_by": _iso(case.accept_by), "resolve_by": _iso(case.resolve_by),
            "overdue": case.overdue_accept or case.overdue_resolve, "rating": case.rating,
            "created_at": _iso(case.created_at),
        }


def _iso(moment: Any) -> str | None:
    # The same text DRF's DateTimeField writes (ISO 8601 in the site's time zone).
    return timezone.localtime(moment).isoformat() if moment is not None else None


class CasePagination(StrictPageSize, pagination.CursorPagination):
    """Newest first, by an opaque cursor: no COUNT(*) over a county's million cases, and a
    page stays stable while new cases arrive (page numbers would shift under the reader)."""

    ordering = ("-created_at", "-id")
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


class CaseCreateSerializer(serializers.Serializer[Any]):
    category = serializers.IntegerField(min_value=1, max_value=MAX_ID,
                                        help_text="Category id (GET /open311/v2/services.json lists them).")
    title = StrictCharField(max_length=100)
    description = StrictCharField(max_length=services.TEXT_LIMIT)
    region = StrictCharField(
        max_length=15, required=False, allow_blank=True, default="",
        help_text="Village or grid code (staff: required, in your write scope; villagers: your household's grid).",
    )
    # A field named like Field.source: fine at run time, the stubs see a clash.
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=[Case.Source.API, Case.Source.PHONE, Case.Source.VISIT, Case.Source.PATROL], default=Case.Source.API,
        help_text="Staff only; a villager's case is always source=villager.",
    )
    reporter_name = StrictCharField(max_length=50, required=False, allow_blank=True, default="")
    address_string = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    lat = StrictFloatField(min_value=-90, max_value=90, required=False, allow_null=True, default=None)
    long = StrictFloatField(min_value=-180, max_value=180, required=False, allow_null=True, default=None)
    media_url = MediaUrlField(max_length=500, required=False, allow_blank=True, default="")


class CaseCreatedSerializer(CaseSerializer):
    warnings = serializers.ListField(
        child=serializers.CharField(), read_only=True,
        help_text="Personal data found in the title or description (masked), as the case forms warn: "
                  "the text is kept as written for you and the handlers and masked for everyone else.")

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "warnings"]
        read_only_fields = fields


class AcceptSerializer(serializers.Serializer[Any]):
    unit = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    responsible = serializers.CharField(max_length=150, required=False, allow_blank=True, default="",
                                        help_text="Username of a staff member posted at, above or below the region.")


class NoteSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(max_length=services.TEXT_LIMIT, required=False, allow_blank=True, default="")


class ResolveSerializer(serializers.Serializer[Any]):
    measures = serializers.CharField(max_length=services.TEXT_LIMIT)


class RejectSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=services.TEXT_LIMIT)


class RateSerializer(serializers.Serializer[Any]):
    rating = serializers.ChoiceField(choices=Case.Rating.choices)
    note = serializers.CharField(max_length=services.TEXT_LIMIT, required=False, allow_blank=True, default="")


class CaseEventSerializer(serializers.ModelSerializer[CaseEvent]):
    # Plain strings: the same choice set as Case.status, blank when an event changes none
    # (an enum here would be a second schema name for the case status choices).
    from_status = serializers.CharField(read_only=True, help_text="Case status before the event, or blank.")
    to_status = serializers.CharField(read_only=True, help_text="Case status after the event, or blank.")
    class Meta:
        model = CaseEvent
        fields = ["kind", "at", "from_status", "to_status", "note"]
        read_only_fields = fields


# --- filters --------------------------------------------------------------------------------


class CaseFilter(django_filters.FilterSet):
    status = ChoiceFilter(choices=Case.Status.choices)
    tier = ChoiceFilter(choices=Case.Tier.choices)
    category = IdFilter(field_name="category_id")
    region = django_filters.CharFilter(method="filter_region", help_text="Region code: this region and below.")
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = DateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Case
        fields = ["status", "tier", "category", "region", "created_after", "created_before"]

    def filter_region(self, qs: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        # access_region answers 404 for a region outside the caller's scope (no leak).
        region = access_region(self.request.user if self.request else None, value)
        return qs.filter(region__path__startswith=region.path)


# --- views ----------------------------------------------------------------------------------




CASE_404 = OpenApiResponse(ErrorSerializer, description="Not found or outside your scope")
CASE_409 = OpenApiResponse(ErrorSerializer, description="Transition not allowed from the current status")


@extend_schema_view(
    list=extend_schema(summary="Cases in your scope, newest first (cursor pages)",
                       responses={200: CaseSummarySerializer(many=True)}),
    retrieve=extend_schema(summary="One case by its public number", responses={200: CaseSerializer, 404: CASE_404}),
)
class CaseViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet[Case]):
    serializer_class = CaseSerializer
    filterset_class = CaseFilter
    pagination_class = CasePagination
    lookup_field = "number"
    lookup_value_regex = r"[0-9A-Za-z-]+"

    def filter_queryset(self, queryset: QuerySet[Case]) -> QuerySet[Case]:  # type: ignore[override]
        # django-filter builds a form on every call even with nothing to filter; the plain
        # worklist (no query parameters) is the call a phone makes most.
        if not set(self.request.query_params) & set(CaseFilter.base_filters):
            return queryset
        return super().filter_queryset(queryset)

    def get_throttles(self) -> list[Any]:
        throttles = list(super().get_throttles())
        if self.action == "create":
            throttles.append(CaseCreateThrottle())
        return throttles

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        return CaseSummarySerializer if self.action == "list" else super().get_serializer_class()

    def get_queryset(self) -> QuerySet[Case]:
        qs = access_cases(self.request.user)
        if self.action == "list":
            return qs.select_related("region").only(*LIST_FIELDS).order_by("-created_at", "-id")
        return qs.select_related("county", "region", "category", "responsible").order_by("-created_at", "-id")

    def _case(self) -> Case:
        case = access_cases(self.request.user).select_related("category", "region", "county").filter(
            number=self.kwargs["number"]).first()
        if case is None:
            raise Http404
        return case

    def _writable_case(self) -> Case:
        """Staff with write scope over the case's region; anyone else who can read it gets 403."""
        case = self._case()
        if not scope_for(self.request.user).covers_path(case.region.path, write=True):
            if not scope_for(self.request.user).is_staff_scope:
                raise Http404
            raise PermissionDenied(_("You may read this case but not change it."))
        return case

    def _run(self, fn: Any, **kwargs: Any) -> Response:
        try:
            case = fn(actor=self.request.user, **kwargs)
        except ValidationError as exc:
            if exc.code in ("transition", "conflict"):
                return api_error(exc.code, "; ".join(exc.messages), status.HTTP_409_CONFLICT)
            return api_error("invalid", "; ".join(exc.messages), status.HTTP_400_BAD_REQUEST)
        return Response(CaseSerializer(self._reload(case), context=self.get_serializer_context()).data)

    def _reload(self, case: Case) -> Case:
        return Case.objects.select_related("county", "region", "category", "responsible").get(pk=case.pk)

    @extend_schema(
        summary="Submit a case",
        request=CaseCreateSerializer,
        parameters=[key_header(required=False, max_length=IDEMPOTENCY_MAX,
                               description="Same account + same key: the case already created is returned "
                                           "(200); a different payload under the same key: 409.")],
        responses={201: CaseCreatedSerializer, 200: CaseCreatedSerializer, 400: ErrorSerializer, 404: CASE_404,
                   409: OpenApiResponse(ErrorSerializer, description="Idempotency key reused with another payload")},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = CaseCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        key = (request.headers.get(IDEMPOTENCY_HEADER) or "").strip()
        if len(key) > IDEMPOTENCY_MAX:
            return api_error("invalid", too_long_key(),
                             status.HTTP_400_BAD_REQUEST)
        scope = scope_for(request.user)
        submit: dict[str, Any] = {"title": v["title"], "description": v["description"]}
        if v["region"] or scope.is_staff_scope:
            if not v["region"]:
                return api_error("invalid", _("region is required."), status.HTTP_400_BAD_REQUEST,
                                 {"region": ["This field is required."]})
            submit.update(region=access_region(request.user, v["region"], write=True), source=v["source"],
                          reporter_name=v["reporter_name"])
        else:
            resident = villager_resident(request.user)
            if resident is None:
                raise Http404
            submit.update(region=resident.household.region, household=resident.household, reporter=resident,
                          source=Case.Source.VILLAGER)
        county = submit["region"].county_ancestor()
        category = Category.objects.filter(pk=v["category"], active=True).filter(
            Q(county__isnull=True) | Q(county_id=getattr(county, "pk", None))).first()
        if category is None:
            return api_error("invalid", _("Unknown category."), status.HTTP_400_BAD_REQUEST,
                             {"category": [_("Unknown category.")]})
        submit["category"] = category
        submit["location"] = services.Location(address_string=v["address_string"], lat=v["lat"], long=v["long"],
                                               media_url=v["media_url"])
        try:
            case = services.case_submit(actor=request.user, idempotency_key=key, **submit)
        except ValidationError as exc:
            if exc.code == "conflict":  # the key was used before for another payload
                return api_error("idempotency_conflict", "; ".join(exc.messages), status.HTTP_409_CONFLICT)
            # A rule about one field of the body (lat/long go together) names it.
            return api_error("invalid", "; ".join(exc.messages), status.HTTP_400_BAD_REQUEST,
                             field_errors(exc, CaseCreateSerializer))
        # A replay (same account, key and payload) answers 200 with the case made the first time.
        code = status.HTTP_200_OK if getattr(case, "replayed", False) else status.HTTP_201_CREATED
        body = dict(CaseSerializer(self._reload(case), context=self.get_serializer_context()).data)
        body["warnings"] = [f.label() for f in text_findings(v["title"], v["description"])]
        return Response(body, status=code)

    @extend_schema(summary="Accept: a responsible person or unit takes the case on", request=AcceptSerializer,
                   responses={200: CaseSerializer, 400: ErrorSerializer, 403: ErrorSerializer, 404: CASE_404,
                              409: CASE_409})
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, number: str | None = None) -> Response:
        case = self._writable_case()
        data = AcceptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        responsible = None
        if data.validated_data["responsible"]:
            from hemei.cases.views import _responsible_candidates

            responsible = _responsible_candidates(case.region).filter(
                username=data.validated_data["responsible"]).first()
            if responsible is None:
                return api_error("invalid", _("Unknown responsible person for this region."),
                                 status.HTTP_400_BAD_REQUEST, {"responsible": ["Unknown user."]})
        return self._run(services.case_accept, case=case, responsible=responsible, unit=data.validated_data["unit"])

    @extend_schema(summary="Start work", request=NoteSerializer,
                   responses={200: CaseSerializer, 400: ErrorSerializer, 403: ErrorSerializer, 404: CASE_404,
                              409: CASE_409})
    @action(detail=True, methods=["post"])
    def start(self, request: Request, number: str | None = None) -> Response:
        case = self._writable_case()
        data = NoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if case.status == Case.Status.RESOLVED:
            # resolved → in progress is the reopening by an unsatisfied rating, not a staff step.
            return api_error("transition", _("A resolved case is reopened only by the reporter's rating."),
                             status.HTTP_409_CONFLICT)
        return self._run(services.case_start, case=case, note=data.validated_data["note"])

    @extend_schema(summary="Resolve with the measures taken", request=ResolveSerializer,
                   responses={200: CaseSerializer, 400: ErrorSerializer, 403: ErrorSerializer, 404: CASE_404,
                              409: CASE_409})
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, number: str | None = None) -> Response:
        case = self._writable_case()
        data = ResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._run(services.case_resolve, case=case, measures=data.validated_data["measures"])

    @extend_schema(summary="Reject with a reason", request=RejectSerializer,
                   responses={200: CaseSerializer, 400: ErrorSerializer, 403: ErrorSerializer, 404: CASE_404,
                              409: CASE_409})
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, number: str | None = None) -> Response:
        case = self._writable_case()
        data = RejectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._run(services.case_reject, case=case, reason=data.validated_data["reason"])

    @extend_schema(summary="Rate the result (the reporter's household only)", request=RateSerializer,
                   responses={200: CaseSerializer, 400: ErrorSerializer, 404: CASE_404, 409: CASE_409})
    @action(detail=True, methods=["post"])
    def rate(self, request: Request, number: str | None = None) -> Response:
        # Only the reporter's household rates (as on the "我的诉求" page); staff who can read the
        # case get a 404 here like anyone else outside that household.
        households = scope_for(request.user).household_ids
        case = access_cases(request.user).select_related("category", "region", "county").filter(
            number=number, reporter__household_id__in=households).first()
        if case is None:
            raise Http404
        data = RateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._run(services.case_rate, case=case, rating=data.validated_data["rating"],
                         note=data.validated_data["note"])

    @extend_schema(summary="The case's timeline", responses={200: CaseEventSerializer(many=True), 404: CASE_404})
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def events(self, request: Request, number: str | None = None) -> Response:
        case = self._case()
        events = CaseEvent.objects.filter(case=case).order_by("at", "id")
        return Response(CaseEventSerializer(events, many=True).data)


def too_long_key() -> str:
    return _("%(h)s is longer than %(n)d characters.") % {"h": IDEMPOTENCY_HEADER, "n": IDEMPOTENCY_MAX}
