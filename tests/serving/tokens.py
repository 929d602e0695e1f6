"""An API token for a user, as POST /api/v1/auth/token issues it (django-rest-knox)."""

from __future__ import annotations

from typing import Any

from knox.models import AuthToken


def api_token(user: Any) -> str:
    return str(AuthToken.objects.create(user=user)[1])
