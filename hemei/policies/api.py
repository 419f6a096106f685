"""REST API of policy matching: the catalogue (read), a household's eligibility (scoped read:
each policy in force with every condition, the household's value and whether it passed) and
applications (scoped list, record, grant, refuse). Writes go through the same services as the
pages; outside the scope is 404."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from hemei.core.api import error_body
from hemei.core.idempotency import IdempotencyConflict, created
from hemei.core.parsing import MAX_ID, parse_date
from hemei.policies import selectors, services
from hemei.policies.access import access_applications, access_policies, access_policy
from hemei.policies.eligibility import describe
from hemei.policies.models import Application, Policy, PolicyVersion
from hemei.regions.access import access_household
from hemei.regions.models import Resident


class VersionSerializer(serializers.ModelSerializer[PolicyVersion]):
    rules = serializers.SerializerMethodField(help_text="The conditions in words.")

    class Meta:
        model = PolicyVersion
        fields = ["id", "label", "effective_from", "effective_to", "benefit", "basis", "conditions", "rules"]
        read_only_fields = fields

    def get_rules(self, obj: PolicyVersion) -> list[str]:
        return describe(obj.conditions)


class PolicySerializer(serializers.ModelSerializer[Policy]):
    area = serializers.CharField(source="region.code", read_only=True)
    versions = VersionSerializer(many=True, read_only=True)

    class Meta:
        model = Policy
        fields = ["id", "code", "name", "issuer", "area", "summary", "benefit", "how_to_apply", "active", "versions"]
        read_only_fields = fields


class CheckSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(source="field", help_text="The whitelisted field, e.g. member.age.")
    title = serializers.CharField(source="label", help_text="The field in words.")
    op = serializers.CharField()
    expected = serializers.CharField()
    actual = serializers.CharField()
    passed = serializers.BooleanField()
    text = serializers.CharField()


class MemberOutcomeSerializer(serializers.Serializer[Any]):
    member = serializers.IntegerField(source="member.id")
    name = serializers.CharField(source="member.name")
    qualifies = serializers.BooleanField()
    checks = CheckSerializer(many=True)


class MatchSerializer(serializers.Serializer[Any]):
    policy = serializers.IntegerField(source="policy.pk")
    code = serializers.CharField(source="policy.code")
    name = serializers.CharField(source="policy.name")
    version = serializers.CharField(source="version.label")
    qualifies = serializers.BooleanField()
    applied = serializers.BooleanField()
    checks = CheckSerializer(many=True, source="outcome.checks")
    members = MemberOutcomeSerializer(many=True, source="outcome.members")


class PolicyApplicationSerializer(serializers.ModelSerializer[Application]):
    policy_code = serializers.CharField(source="policy.code", read_only=True)
    version_label = serializers.CharField(source="version.label", read_only=True)
    grid = serializers.CharField(source="region.code", read_only=True)

    class Meta:
        model = Application
        fields = ["id", "household", "member", "policy", "policy_code", "version", "version_label", "grid",
                  "status", "applied_on", "note", "reason", "decided_at", "created_at"]
        read_only_fields = fields


class ApplyInSerializer(serializers.Serializer[Any]):
    household = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    policy = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    member = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False,
                                      help_text="The member who applies, for a per-person policy.")
    applied_on = serializers.DateField(required=False, help_text="Default today.")
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    key = serializers.CharField(max_length=64, help_text="Idempotency key: the same key records one application.")


class DecisionSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


def _invalid(exc: ValidationError) -> DRFValidationError:
    return DRFValidationError({"detail": exc.messages})


class PolicyViewSet(viewsets.ReadOnlyModelViewSet[Policy]):
    serializer_class = PolicySerializer
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self) -> QuerySet[Policy]:
        return (access_policies(self.request.user).select_related("region").prefetch_related("versions")
                .order_by("region__path", "code", "pk"))

    @extend_schema(parameters=[OpenApiParameter("on", str, description="YYYY-MM-DD (default today)")],
                   responses={200: MatchSerializer(many=True)})
    @action(detail=False, methods=["get"], url_path=r"households/(?P<household>[0-9]{1,18})/eligibility")
    def eligibility(self, request: Request, household: str = "") -> Response:
        """Each policy in force for the household, whether it qualifies and why."""
        found = access_household(request.user, int(household))
        raw = request.query_params.get("on")
        on = parse_date(raw) if raw else selectors.today()
        if on is None:
            raise DRFValidationError({"on": ["Give the day as YYYY-MM-DD."]})
        matches = selectors.household_matches(request.user, found, on)
        return Response(MatchSerializer(matches, many=True).data)


class PolicyApplicationViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet[Application]):
    serializer_class = PolicyApplicationSerializer
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self) -> QuerySet[Application]:
        qs = access_applications(self.request.user).select_related("policy", "version", "region")
        state = self.request.query_params.get("status")
        if state in Application.Status.values:
            qs = qs.filter(status=state)
        return qs.order_by("-created_at", "-pk")

    def _reply(self, app: Application, code: int = status.HTTP_200_OK) -> Response:
        return Response(PolicyApplicationSerializer(self.get_queryset().get(pk=app.pk)).data, status=code)

    @extend_schema(request=ApplyInSerializer,
                   responses={201: PolicyApplicationSerializer, 200: PolicyApplicationSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Record that a household (or member) applied; 200 for a replay of the same key."""
        data = ApplyInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        household = access_household(request.user, values["household"])
        policy = access_policy(request.user, values["policy"])
        member = None
        if values.get("member"):
            member = Resident.objects.filter(pk=values["member"], household=household).first()
            if member is None:
                raise DRFValidationError({"member": ["The member does not live in this household."]})
        try:
            app = services.application_record(actor=request.user, household=household, policy=policy, member=member,
                                              applied_on=values.get("applied_on"), note=values["note"],
                                              idempotency_key=values["key"])
        except IdempotencyConflict as exc:
            return Response(error_body("conflict", "; ".join(exc.messages)), status=status.HTTP_409_CONFLICT)
        except ValidationError as exc:
            raise _invalid(exc) from exc
        return self._reply(app, status.HTTP_201_CREATED if created(app) else status.HTTP_200_OK)

    @extend_schema(request=DecisionSerializer, responses={200: PolicyApplicationSerializer})
    @action(detail=True, methods=["post"])
    def grant(self, request: Request, pk: str | None = None) -> Response:
        app = self.get_object()
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.application_grant(actor=request.user, application=app, reason=data.validated_data["reason"])
        except ValidationError as exc:
            raise _invalid(exc) from exc
        return self._reply(app)

    @extend_schema(request=DecisionSerializer, responses={200: PolicyApplicationSerializer})
    @action(detail=True, methods=["post"])
    def refuse(self, request: Request, pk: str | None = None) -> Response:
        app = self.get_object()
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.application_refuse(actor=request.user, application=app, reason=data.validated_data["reason"])
        except ValidationError as exc:
            raise _invalid(exc) from exc
        return self._reply(app)
