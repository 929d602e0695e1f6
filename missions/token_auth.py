"""`Authorization: Token <key>` for players: django-rest-knox tokens (stored hashed, expiring).

Kept apart from the service-key authentication: DRF imports this module while its own views
load (DEFAULT_AUTHENTICATION_CLASSES), so it must not import the engine's services."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from knox.auth import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed


class PlayerTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`: django-rest-knox tokens (hashed, expiring). A key that
    is not text is refused like any wrong key (knox let its UnicodeDecodeError through)."""

    def authenticate_credentials(self, token: bytes) -> tuple[Any, Any]:
        try:
            token.decode("utf-8")
        except UnicodeDecodeError:
            raise AuthenticationFailed("Invalid token.") from None
        return super().authenticate_credentials(token)  # type: ignore[no-any-return]

    def _cleanup_token(self, auth_token: Any) -> bool:
        # Only this token: knox also loads every other token of the user on each request (one
        # more query per API call). The others are deleted when the user gets a new token.
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False


def user_for_token(key: str) -> Any:
    """The active user of an API token, or None (unknown, expired, inactive)."""
    try:
        user, _ = PlayerTokenAuthentication().authenticate_credentials(key.encode())
    except AuthenticationFailed:
        return None
    return user
