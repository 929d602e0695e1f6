"""WebSocket auth: the session cookie (AuthMiddleware) or `?token=<API token>` (knox)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.security.websocket import OriginValidator, WebsocketDenier
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.request import split_domain_port, validate_host

from ..token_auth import user_for_token


@database_sync_to_async
def _user_for_token(key: str) -> Any:
    return user_for_token(key) or AnonymousUser()


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


DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin_tuple(scheme: str, host: str, port: int | None) -> tuple[str, str, int]:
    return scheme, host.lower(), port if port is not None else DEFAULT_PORTS.get(scheme, 0)


def origin_allowed(origin: str, *, host_header: str | None, socket_scheme: str) -> bool:
    """The browser's Origin is this site (scheme, host and port of the socket's Host header)
    or one of CSRF_TRUSTED_ORIGINS; its host is one of ALLOWED_HOSTS either way."""
    try:
        parsed = urlsplit(origin)
        port = parsed.port
    except ValueError:
        return False
    if not parsed.scheme or not parsed.hostname:
        return False
    if not validate_host(parsed.hostname, settings.ALLOWED_HOSTS):
        return False
    wanted = _origin_tuple(parsed.scheme, parsed.hostname, port)
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        listed = urlsplit(trusted)
        if listed.hostname and _origin_tuple(listed.scheme, listed.hostname, listed.port) == wanted:
            return True
    if not host_header:
        return False
    host, host_port = split_domain_port(host_header)
    scheme = "https" if socket_scheme == "wss" else "http"
    try:
        same_site = _origin_tuple(scheme, host, int(host_port) if host_port else None)
    except ValueError:
        return False
    return same_site == wanted


class BrowserOriginValidator(OriginValidator):
    """A browser's Origin must be this site, port included (no cross-site socket hijacking
    from another port of the same host either).

    Browsers always send Origin on a WebSocket handshake, so a handshake without one comes
    from a non-browser client (a mobile app with `?token=`): it cannot ride a victim's
    cookie, and Channels' stock validator would refuse it.
    """

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        headers = dict(scope.get("headers", []))
        origin = headers.get(b"origin")
        if origin is not None:
            host = headers.get(b"host")
            allowed = origin_allowed(
                origin.decode("latin1"),
                host_header=host.decode("latin1") if host else None,
                socket_scheme=scope.get("scheme", "ws"),
            )
            if not allowed:
                return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)


def AllowedHostsBrowserOriginValidator(inner: Any) -> BrowserOriginValidator:  # noqa: N802
    return BrowserOriginValidator(inner, settings.ALLOWED_HOSTS)
