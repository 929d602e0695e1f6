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
    """A counter per client and window: the window opens at the client's first request and
    lasts the rate's duration; one atomic increment per request (DRF's SimpleRateThrottle
    reads and rewrites the list of every request's time in the window, a payload that grows
    with the rate). Past the rate: 429 with Retry-After = what is left of the window."""

    num_requests: int  # set from the rate by SimpleRateThrottle.__init__
    duration: int

    def get_rate(self) -> str | None:
        return settings.THROTTLE_RATES.get(self.scope or "")

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        try:
            count = _count_hit(self.cache, key, self.duration)
            if count <= self.num_requests:
                return True
            self._wait = _seconds_left(self.cache, key, self.duration)
        except Exception:  # the cache is down: a throttle must not take the API with it
            logger.warning("throttle %s skipped: the cache is unavailable", self.scope)
            return True
        return False

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)


def _count_hit(cache: Any, key: str, duration: int) -> int:
    """This request's number in its client's window (1 when it opens the window)."""
    try:
        return int(cache.incr(key))  # one round trip while the window is open
    except ValueError:  # no open window
        pass
    if cache.add(key, 1, timeout=duration):
        return 1
    return int(cache.incr(key))  # another request opened it in between


def _seconds_left(cache: Any, key: str, duration: int) -> float:
    ttl = getattr(cache, "ttl", None)  # django-redis; other caches: the whole window
    left = ttl(key) if ttl is not None else None
    return float(left) if isinstance(left, int) and 0 < left <= duration else float(duration)


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
