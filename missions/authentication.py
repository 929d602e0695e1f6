"""`Authorization: Bearer <service key>` for service endpoints (POST /api/v1/events)."""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from .models import ServiceKey
from .services.service_keys import service_key_authenticate


class ServicePrincipal:
    """request.user for a service: authenticated, but no player and no staff."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, key: ServiceKey) -> None:
        self.key = key
        self.username = f"service:{key.name}"

    def __str__(self) -> str:
        return self.username


class ServiceKeyAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[ServicePrincipal, ServiceKey] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Authorization must be 'Bearer <service key>'.")
        try:
            raw = parts[1].decode()
        except UnicodeDecodeError:
            raise AuthenticationFailed("The service key is not valid text.") from None
        key = service_key_authenticate(raw_key=raw)
        if key is None:
            raise AuthenticationFailed("Unknown or revoked service key.")
        return ServicePrincipal(key), key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class IsService(BasePermission):
    message = "A service key is required: Authorization: Bearer <service key>."

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, ServiceKey)
