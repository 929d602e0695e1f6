"""DRF throttles of the API: rates are the THROTTLE_RATES setting (read on each request, so
tests and operators can change them), counted in the cache. 429 + Retry-After when over."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from .models import ServiceKey

logger = logging.getLogger(__name__)


class _SettingsRateThrottle(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        return settings.THROTTLE_RATES.get(self.scope or "")

    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception:  # the cache is down: a throttle must not take the API with it
            logger.warning("throttle %s skipped: the cache is unavailable", self.scope)
            return True


class AuthTokenThrottle(_SettingsRateThrottle):
    """POST /api/v1/auth/token, per client address (password guessing)."""

    scope = "auth_token"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class ClaimThrottle(_SettingsRateThrottle):
    """POST /api/v1/missions/{id}/claim, per player."""

    scope = "claim"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class IngestThrottle(_SettingsRateThrottle):
    """POST /api/v1/events, per service key."""

    scope = "ingest"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not isinstance(request.auth, ServiceKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
