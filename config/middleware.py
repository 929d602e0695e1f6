"""Serving-layer middleware: the database's refusals as 503/409 on every page."""

from __future__ import annotations

from collections.abc import Callable

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

from missions.errors import database_error_body


class DatabaseUnavailableMiddleware:
    """A page whose database is down, hung (connect or statement timeout, no pooled
    connection in time) or in a deadlock answers 503/409 with Retry-After, not a 500.
    (API views get the same answer from the DRF exception handler.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not isinstance(exc, OperationalError):
            return None
        code, body, retry_after = database_error_body(exc)
        response = JsonResponse(body, status=code)
        response["Retry-After"] = str(retry_after)
        return response
