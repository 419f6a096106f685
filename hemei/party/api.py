"""/api/v1/party/…: organisations, sessions and attendance in the caller's scope (read-only;
writes go through the pages, which call the same services). Out of scope is 404; member
names are masked (张*), no ID numbers or phones."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from rest_framework import serializers, viewsets

from hemei.core.masking import mask_name
from hemei.core.parsing import ChoiceFilter, IdFilter
from hemei.party.access import access_attendance, access_branches, access_sessions
from hemei.party.models import Attendance, Branch, Session, SessionKind


class BranchSerializer(serializers.ModelSerializer[Branch]):
    region = serializers.CharField(source="region.code", read_only=True)

    class Meta:
        model = Branch
        fields = ["id", "name", "kind", "region", "parent", "secretary_name", "founded_on"]
        read_only_fields = fields


class SessionSerializer(serializers.ModelSerializer[Session]):
    class Meta:
        model = Session
        fields = ["id", "branch", "kind", "title", "planned_at", "place", "status", "held_at", "hours"]
        read_only_fields = fields


class AttendanceSerializer(serializers.ModelSerializer[Attendance]):
    name = serializers.SerializerMethodField(help_text="Masked: the surname and stars.")
    grid = serializers.CharField(source="region.code", read_only=True)

    class Meta:
        model = Attendance
        fields = ["id", "session", "member", "name", "grid", "status", "how", "at"]
        read_only_fields = fields

    def get_name(self, obj: Attendance) -> str:
        return mask_name(obj.member.resident.name)


class SessionFilter(filters.FilterSet):
    branch = IdFilter(field_name="branch_id")
    kind = ChoiceFilter(choices=SessionKind.choices)
    status = ChoiceFilter(choices=Session.Status.choices)

    class Meta:
        model = Session
        fields = ["branch", "kind", "status"]


class AttendanceFilter(filters.FilterSet):
    session = IdFilter(field_name="session_id")
    member = IdFilter(field_name="member_id")

    class Meta:
        model = Attendance
        fields = ["session", "member"]


class BranchViewSet(viewsets.ReadOnlyModelViewSet[Branch]):
    serializer_class = BranchSerializer

    def get_queryset(self) -> QuerySet[Branch]:
        return access_branches(self.request.user).order_by("pk")


class SessionViewSet(viewsets.ReadOnlyModelViewSet[Session]):
    serializer_class = SessionSerializer
    filterset_class = SessionFilter

    def get_queryset(self) -> QuerySet[Session]:
        return access_sessions(self.request.user).order_by("-planned_at", "-pk")


class AttendanceViewSet(viewsets.ReadOnlyModelViewSet[Attendance]):
    serializer_class = AttendanceSerializer
    filterset_class = AttendanceFilter

    def get_queryset(self) -> QuerySet[Attendance]:
        qs: Any = access_attendance(self.request.user).select_related("region", "member__resident")
        return qs.order_by("pk")
