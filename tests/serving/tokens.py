"""An API token for a user, as POST /api/v1/auth/token would issue it."""

from __future__ import annotations

from typing import Any

from rest_framework.authtoken.models import Token


def api_token(user: Any) -> str:
    return str(Token.objects.get_or_create(user=user)[0].key)
