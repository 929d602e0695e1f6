"""WebSocket auth: the session cookie (AuthMiddleware) or `?token=<DRF token>`."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.contrib.auth.models import AnonymousUser


@database_sync_to_async
def _user_for_token(key: str) -> Any:
    from rest_framework.authtoken.models import Token

    try:
        token = Token.objects.select_related("user").get(key=key)
    except Token.DoesNotExist:
        return AnonymousUser()
    return token.user if token.user.is_active else AnonymousUser()


class TokenAuthMiddleware:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        query = parse_qs(scope.get("query_string", b"").decode())
        token = (query.get("token") or [None])[0]
        if token:
            scope = dict(scope, user=await _user_for_token(token))
        return await self.inner(scope, receive, send)


def TokenOrSessionAuthMiddlewareStack(inner: Any) -> Any:  # noqa: N802 (Channels naming)
    # The session stack runs first; a ?token= then overrides its (possibly anonymous) user.
    return AuthMiddlewareStack(TokenAuthMiddleware(inner))


class BrowserOriginValidator(OriginValidator):
    """A browser's Origin must be one of ALLOWED_HOSTS (no cross-site socket hijacking).

    Browsers always send Origin on a WebSocket handshake, so a handshake without one comes
    from a non-browser client (a mobile app with `?token=`): it cannot ride a victim's
    cookie, and Channels' stock validator would refuse it.
    """

    def valid_origin(self, parsed_origin: Any) -> bool:
        if parsed_origin is None:
            return True
        return bool(self.validate_origin(parsed_origin))


def AllowedHostsBrowserOriginValidator(inner: Any) -> BrowserOriginValidator:  # noqa: N802
    return BrowserOriginValidator(inner, settings.ALLOWED_HOSTS)
