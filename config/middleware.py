"""Serving-layer middleware: the database's refusals as 503/409 on every page, and the body
limits of every HTTP request (an ASGI middleware, in front of Django)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

from missions.errors import database_error_body


class DatabaseUnavailableMiddleware:
    """A page whose database is down, hung (connect or statement timeout, no pooled
    connection in time) or in a deadlock answers 503/409 with Retry-After, not a 500.
    (API views get the same answer from the DRF exception handler.)

    Sync and async: under ASGI a sync-only middleware costs every request a switch from the
    event loop to a thread and back."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self.__acall__(request)
        return self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        return await self.get_response(request)  # type: ignore[no-any-return]

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not isinstance(exc, OperationalError):
            return None
        code, body, retry_after = database_error_body(exc)
        response = JsonResponse(body, status=code)
        response["Retry-After"] = str(retry_after)
        return response


def body_limit(path: str) -> int:
    """The documented limit for a request body on this path (docs/api.md)."""
    from missions.apis import max_body_bytes

    if path.rstrip("/") == "/api/v1/events":
        return max_body_bytes()
    return int(settings.API_MAX_BODY_BYTES)


class BodyLimitASGIMiddleware:
    """Every HTTP body is bounded before the app reads it, and always has a length.

    A declared Content-Length over the limit is answered 413 (JSON) without reading the body.
    A body without a length (chunked) is read here up to the limit and handed on with its
    Content-Length set: Django's ASGI handler reads it, but DRF saw no length and treated it
    as empty."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["path"])
        headers = list(scope.get("headers", []))
        declared = [value for name, value in headers if name.lower() == b"content-length"]
        if declared:
            try:
                length = int(declared[0])
            except ValueError:
                await _send_json(send, 400, _problem("invalid", "Content-Length is not a number"))
                return
            if length > limit:
                await _send_json(send, 413, _too_large(length, limit))
                return
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _send_json(send, 413, _too_large(size, limit, at_least=True))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        headers.append((b"content-length", str(len(body)).encode()))
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return dict(await receive())

        await self.app(dict(scope, headers=headers), replay, send)


def _problem(code: str, detail: str, **errors: list[str]) -> dict[str, Any]:
    body: dict[str, Any] = {"error": code, "detail": detail}
    if errors:
        body["errors"] = errors
    return body


def _too_large(size: int, limit: int, *, at_least: bool = False) -> dict[str, Any]:
    amount = f"over {limit}" if at_least else str(size)
    return _problem(
        "too_large",
        f"the body is {amount} bytes; the limit for this endpoint is {limit}",
        body=["is too large"],
    )


async def _send_json(send: Any, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                # The rest of the body was not read: the connection cannot be reused.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def login_lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """django-axes' answer to a locked-out login: 429 with Retry-After (JSON on the API)."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    detail = f"too many failed logins; try again in {max(1, seconds // 60)} minutes"
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"error": "locked_out", "detail": detail}, status=429)
    else:
        response = HttpResponse(detail.capitalize() + ".", status=429, content_type="text/plain")
    response["Retry-After"] = str(seconds)
    return response
