"""Structured API errors: {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        return Response(
            {"error": {"code": "invalid", "message": "; ".join(exc.messages), "fields": {}}},
            status=status.HTTP_400_BAD_REQUEST,
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    fields: Any = {}
    message = ""
    if isinstance(data, dict) and "detail" in data:
        message = str(data["detail"])
    elif isinstance(data, dict):
        fields = data
        message = "invalid input"
    else:
        message = str(data)
    code = getattr(exc, "default_code", "error")
    response.data = {"error": {"code": code, "message": message, "fields": fields}}
    return response


class WhoAmISerializer(serializers.Serializer[Any]):
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    regions = serializers.ListField(child=serializers.CharField(), help_text="Codes of the regions you may read.")


@extend_schema(summary="The account behind this token and where it may read", responses={200: WhoAmISerializer})
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def whoami(request: Request) -> Response:
    """What a client checks first (is my token good, which area am I in). It costs what every
    authenticated call costs — token, posts — and nothing else, which makes it the floor the
    case-api benchmark compares the case list with."""
    from hemei.regions.access import scope_for
    from hemei.regions.models import Region

    scope = scope_for(request.user)
    codes = list(Region.objects.filter(path__in=scope.read_paths).order_by("path").values_list("code", flat=True))
    return Response({"username": request.user.get_username(), "roles": sorted(scope.roles), "regions": codes})
