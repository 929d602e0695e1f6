"""The service API's lean door: POST /api/v1/events through a Django handler of its own.

The events endpoint authenticates with a service key (`Authorization: Bearer`), never with a
session or a cookie, so session, CSRF, user, messages and login-lockout middleware have
nothing to do there; static files are served elsewhere. Under ASGI they still cost every
request: each sync-only middleware (WhiteNoise) and each sync `process_view` (CSRF) is a
switch from the event loop to a thread and back. This handler runs the same Django, URLs
and view (`missions.apis.EventsIngestApi`: service-key auth, throttle, JSON limits and the
same errors) behind `settings.MIDDLEWARE` minus `SERVICE_API_SKIPPED_MIDDLEWARE`, all of it
async, so a request crosses into a thread once, for the view.

`SERVICE_API_LEAN=false` sends these paths through the full stack like every other one.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler

# Exact paths (no trailing slash variant: that one takes the full stack and its redirects).
SERVICE_API_PATHS = frozenset({"/api/v1/events"})
SERVICE_API_SKIPPED_MIDDLEWARE = frozenset(
    {
        "whitenoise.middleware.WhiteNoiseMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "axes.middleware.AxesMiddleware",
    }
)


def service_api_middleware() -> list[str]:
    return [m for m in settings.MIDDLEWARE if m not in SERVICE_API_SKIPPED_MIDDLEWARE]


class _Settings:
    """settings, with MIDDLEWARE replaced (read by BaseHandler.load_middleware only)."""

    def __init__(self, middleware: list[str]) -> None:
        self.MIDDLEWARE = middleware

    def __getattr__(self, name: str) -> Any:
        return getattr(settings, name)


class ServiceApiASGIHandler(ASGIHandler):
    """Django's ASGI handler with the service API's middleware list."""

    def load_middleware(self, is_async: bool = False) -> None:
        # Once, at start-up (ASGIHandler.__init__), before any request is served.
        real = vars(base)["settings"]
        setattr(base, "settings", _Settings(service_api_middleware()))  # noqa: B010
        try:
            super().load_middleware(is_async=is_async)
        finally:
            setattr(base, "settings", real)  # noqa: B010


class ServiceApiRouter:
    """HTTP requests to SERVICE_API_PATHS go to the lean handler, the rest to `app`."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lean = ServiceApiASGIHandler() if settings.SERVICE_API_LEAN else None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if self.lean is not None and scope.get("path") in SERVICE_API_PATHS:
            await self.lean(scope, receive, send)
        else:
            await self.app(scope, receive, send)
