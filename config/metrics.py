"""/metrics for Prometheus only: from METRICS_ALLOWED_ADDRESSES, or with
`Authorization: Bearer <METRICS_BEARER_TOKEN>` when that setting is set."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

from missions.metrics_export import metrics_view


def _address_allowed(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(
        ip in ipaddress.ip_network(network, strict=False)
        for network in settings.METRICS_ALLOWED_ADDRESSES
    )


def _token_allowed(request: HttpRequest) -> bool:
    expected = settings.METRICS_BEARER_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return (
        bool(expected)
        and scheme.lower() == "bearer"
        and hmac.compare_digest(given.strip().encode(), expected.encode())
    )


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if _token_allowed(request) or _address_allowed(request.META.get("REMOTE_ADDR", "")):
        return metrics_view(request)
    return JsonResponse(
        {
            "error": "permission_denied",
            "detail": "metrics are served to METRICS_ALLOWED_ADDRESSES or with "
            "Authorization: Bearer <METRICS_BEARER_TOKEN>",
        },
        status=403,
    )
