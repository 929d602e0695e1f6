"""Domain errors of every app, and the one DRF handler that maps them to HTTP status."""

from __future__ import annotations

import logging
from typing import Any

from django.db import OperationalError
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler


class DomainError(Exception):
    status_code: int = status.HTTP_400_BAD_REQUEST
    code = "invalid"

    def __init__(self, message: str, *, errors: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class ValidationFailed(DomainError):
    """Input that names the field and the problem in `errors`."""


class TemplateInvalid(ValidationFailed):
    code = "template_invalid"


class NotFound(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"


class Conflict(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "conflict"


logger = logging.getLogger(__name__)


def _is_retryable_conflict(exc: BaseException) -> bool:
    """A deadlock or serialization failure: Postgres rolled the transaction back and the
    same request sent again will go through."""
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) in ("40001", "40P01")


def database_error_body(exc: OperationalError) -> tuple[int, dict[str, str], int]:
    """(status, body, Retry-After seconds) for a database that refused or did not answer."""
    if _is_retryable_conflict(exc):
        logger.warning("retryable database conflict: %s", exc)
        return (
            status.HTTP_409_CONFLICT,
            {
                "error": "conflict_retry",
                "detail": "a concurrent request wrote the same rows; nothing was saved, send "
                "the same request again",
            },
            1,
        )
    logger.error("database unavailable: %s", exc)
    return (
        status.HTTP_503_SERVICE_UNAVAILABLE,
        {
            "error": "database_unavailable",
            "detail": "the database did not answer in time; nothing was saved, retry later",
        },
        5,
    )


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, OperationalError):
        code, problem, retry_after = database_error_body(exc)
        return Response(problem, status=code, headers={"Retry-After": str(retry_after)})
    if isinstance(exc, DomainError):
        body: dict[str, Any] = {"error": exc.code, "detail": exc.message}
        if exc.errors:
            body["errors"] = exc.errors
        return Response(body, status=exc.status_code)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ValidationError):
        errors = (
            response.data
            if isinstance(response.data, dict)
            else {"non_field_errors": response.data}
        )
        response.data = {"error": "invalid", "detail": _first_problem(errors), "errors": errors}
    elif isinstance(response.data, dict) and "detail" in response.data:
        detail = response.data["detail"]
        response.data = {"error": getattr(detail, "code", "error"), "detail": str(detail)}
    return response


def _first_problem(errors: Any, path: str = "") -> str:
    """`period: "x" is not a valid choice.` — the detail names the field and the problem."""
    if isinstance(errors, dict) and errors:
        key, value = next(iter(errors.items()))
        field = "" if key == "non_field_errors" else str(key)
        return _first_problem(value, f"{path}.{field}" if path and field else path or field)
    if isinstance(errors, list) and errors:
        return _first_problem(errors[0], path)
    return f"{path}: {errors}" if path else str(errors)
