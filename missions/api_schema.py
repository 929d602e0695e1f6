"""OpenAPI pieces shared by every endpoint: the one error shape and its documented responses."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """The one error body of the whole API (missions.errors.api_exception_handler)."""

    error = serializers.CharField(help_text="Machine-readable code, e.g. `not_found`.")
    detail = serializers.CharField(help_text="Human-readable message naming the problem.")
    errors = serializers.DictField(  # type: ignore[assignment]  # the body's key, not .errors
        required=False, help_text="Field → list of problems, for input errors."
    )


_ERRORS: dict[int, tuple[str, str, str]] = {
    400: (
        "invalid",
        "period: must be one of daily, weekly, monthly, special, perpetual",
        "Bad input",
    ),
    401: ("not_authenticated", "Authentication credentials were not provided.", "No credentials"),
    403: ("permission_denied", "CSRF Failed: CSRF token missing.", "Forbidden"),
    404: ("not_found", "No mission 123 for this player.", "Not found (or not yours)"),
    409: ("already_claimed", "mission 123: already claimed", "Conflict"),
    413: (
        "too_large",
        "the body is 2000000 bytes; the limit for this endpoint is 1048576",
        "Body over the endpoint's limit",
    ),
    429: (
        "throttled",
        "Request was throttled. Expected available in 12 seconds.",
        "Too many requests (throttle or failed-login lockout); see Retry-After",
    ),
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    out: dict[int, OpenApiResponse] = {}
    for code in codes:
        error, detail, description = _ERRORS[code]
        example: dict[str, Any] = {"error": error, "detail": detail}
        out[code] = OpenApiResponse(
            response=ErrorSerializer,
            description=description,
            examples=[OpenApiExample(error, value=example, response_only=True)],
        )
    return out


class ServiceKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents `Authorization: Bearer <service key>` (POST /api/v1/events)."""

    target_class = "missions.authentication.ServiceKeyAuthentication"
    name = "serviceKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A service key from `manage.py create_service_key NAME` or the admin.",
        }


class PlayerTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents `Authorization: Token <key>` (django-rest-knox, hashed and expiring)."""

    target_class = "missions.token_auth.PlayerTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>` from POST /api/v1/auth/token; it expires after "
            "API_TOKEN_TTL_HOURS (default 30 days).",
        }
