"""Structured API errors: {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found
from django.views.defaults import server_error as django_server_error
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

# DRF's own codes → the vocabulary of docs/api.md (one word per kind of refusal).
CODES = {
    "parse_error": "invalid",
    "permission_denied": "scope",
    "error": "invalid",
}


def _text(value: Any) -> str:
    """An error detail as text: never the repr of a list of ErrorDetail."""
    if isinstance(value, list | tuple):
        return "; ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_text(v)}" for k, v in value.items())
    return str(value)


def _fields(value: Any) -> Any:
    """Field errors as plain strings, nested like the request body."""
    if isinstance(value, dict):
        return {str(k): _fields(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_fields(v) for v in value]
    return str(value)


def _body(data: Any) -> tuple[str, Any]:
    if isinstance(data, dict) and set(data) <= {"detail", "non_field_errors"}:
        return _text(data.get("detail") or data.get("non_field_errors") or ""), {}
    if isinstance(data, dict):
        fields = _fields({k: v for k, v in data.items() if k not in ("detail", "non_field_errors")})
        first = next(iter(fields.items()))
        general = _text(data.get("detail") or data.get("non_field_errors") or "")
        return general or f"{first[0]}: {_text(first[1])}", fields
    return _text(data), {}


def error_body(code: str, message: str, fields: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every API refusal as {"error": {"code", "message", "fields"}}: the code from the table in
    docs/api.md, the message in the request's language (Chinese unless chosen otherwise)."""
    if isinstance(exc, DjangoValidationError):
        return Response(error_body("invalid", "; ".join(exc.messages)), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    message, fields = _body(response.data)
    code = getattr(exc, "default_code", "invalid")
    response.data = error_body(CODES.get(code, code), message or _("Invalid input."), fields)
    return response


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 404 handler: JSON under /api/ (a client never gets the HTML page), HTML elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("not_found", str(exceptions.NotFound.default_detail)), status=404,
                            json_dumps_params={"ensure_ascii": False})
    return page_not_found(request, exception or Http404())


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("server_error", _("A server error occurred.")), status=500,
                            json_dumps_params={"ensure_ascii": False})
    return django_server_error(request)


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


# --- the schema: every refusal documented ---------------------------------------------------

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["code", "message", "fields"],
        "properties": {
            "code": {"type": "string", "description": "One word of the table in docs/api.md (not_found, invalid…)."},
            "message": {"type": "string", "description": "In the request's language (Chinese by default)."},
            "fields": {"type": "object", "additionalProperties": True,
                       "description": "Field name → its errors, for 400."},
        },
    }},
}
ERROR_RESPONSES = {
    "400": "Bad input: a body field, a filter or a header (`invalid`, `key`)",
    "401": "No token, or a wrong, locked or disabled account's token",
    "403": "You may read this but not do this (`scope`)",
    "404": "Unknown, or outside your scope (`not_found`)",
    "409": "Not possible now: transition, conflict, idempotency_conflict, state, balance, stock, limit, cap",
    "429": "Too many requests (`throttled`); see the Retry-After header",
}
WRITE_ONLY = {"409"}


def error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular post-processing hook: every operation lists the error answers it can give
    (the common ones, each with the one error body); what a view declares itself is kept."""
    result.setdefault("components", {}).setdefault("schemas", {})["ApiError"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/ApiError"}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for code, description in ERROR_RESPONSES.items():
                if code in WRITE_ONLY and method in ("get", "head"):
                    continue
                response = operation["responses"].setdefault(code, {"description": description})
                response.setdefault("content", {"application/json": {"schema": ref}})
                if code == "429":
                    response.setdefault("headers", {"Retry-After": {
                        "schema": {"type": "integer"}, "description": "Seconds to wait before trying again."}})
    return result


def field_errors(exc: DjangoValidationError, serializer: type[serializers.Serializer[Any]],
                 also: dict[str, str] | None = None) -> dict[str, list[str]] | None:
    """A service's refusal as the body's `fields`, when it is a rule about one field: its code
    is that field's name in `serializer`, or `also` maps the code to one (`{"duplicate":
    "household"}`). None for a rule about the request as a whole."""
    code = exc.code if isinstance(exc.code, str) else ""
    name = (also or {}).get(code) or (code if code in serializer._declared_fields else None)
    return {name: list(exc.messages)} if name else None


IDEMPOTENCY_HEADER = "Idempotency-Key"


def key_header(*, required: bool, max_length: int, description: str) -> OpenApiParameter:
    """The Idempotency-Key header as a write documents it, matching how the views read it (the
    value trimmed, then at most `max_length` characters): required, it must hold something but
    blanks; optional, blank is the same as absent."""
    schema: dict[str, Any] = {"type": "string", "maxLength": max_length}
    if required:
        schema.update(minLength=1, pattern=r"\S")
    return OpenApiParameter(IDEMPOTENCY_HEADER, schema, OpenApiParameter.HEADER, required=required,
                            description=description)


class StrictPageSize:
    """Cursor pagination mixin: a `page_size` that is not a whole number from 1 to the maximum
    is a 400 (DRF would quietly use the default), as the schema says."""

    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Any) -> int | None:
        raw = request.query_params.getlist(self.page_size_query_param)
        if not raw:
            return self.page_size  # type: ignore[attr-defined]
        try:
            size = int(raw[-1])
        except ValueError:
            size = 0
        if len(raw) > 1 or not 1 <= size <= self.max_page_size:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [_("A whole number from 1 to %(n)d.") % {"n": self.max_page_size}]})
        return size

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        params: list[dict[str, Any]] = super().get_schema_operation_parameters(view)  # type: ignore[misc]
        for p in params:
            if p.get("name") == self.page_size_query_param:
                p["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return params
