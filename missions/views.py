"""Server-rendered pages and the health endpoint."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from .selectors import mission_counts, mission_percentage, mission_requirements, player_missions
from .services import missions_assign_for_user


@login_required
def hub(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    user_id: int = request.user.pk  # type: ignore[assignment]  # login_required: never None
    missions_assign_for_user(user_id=user_id, now=now)
    missions = list(player_missions(user_id=user_id, now=now))
    cards = [
        {
            "mission": mission,
            "requirements": mission_requirements(mission),
            "percentage": mission_percentage(mission),
        }
        for mission in missions
    ]
    return render(
        request,
        "missions/hub.html",
        {"cards": cards, "counts": mission_counts(missions), "now": now},
    )


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    healthy = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # report, don't raise: this endpoint is for probes
        checks["database"] = f"error: {exc.__class__.__name__}"
        healthy = False
    try:
        cache.set("healthz", "ok", timeout=5)
        checks["cache"] = "ok" if cache.get("healthz") == "ok" else "error: read back failed"
    except Exception as exc:
        checks["cache"] = f"error: {exc.__class__.__name__}"
        healthy = False
    return JsonResponse(
        {"status": "ok" if healthy else "unhealthy", "checks": checks},
        status=200 if healthy else 503,
    )
