"""Server-rendered pages and the health endpoint."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from .models import ActiveMission, PlayerProfile
from .player_selectors import player_mission_history
from .presentation import RING_CIRCUMFERENCE, card_context
from .representations import mission_fields
from .selectors import mission_counts, player_missions
from .services import missions_assign_for_user

HUB_FILTERS = [
    ("all", "All"),
    ("daily", "Daily"),
    ("weekly", "Weekly"),
    ("monthly", "Monthly"),
    ("special", "Special"),
    ("perpetual", "Ongoing"),
]


def _cards(missions: list[ActiveMission], now: datetime) -> list[dict[str, Any]]:
    return [
        card_context(
            mission_fields(mission, now=now),
            icon=(mission.template.metadata or {}).get("icon"),
            now=now,
        )
        for mission in missions
    ]


@login_required
def hub(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    user_id: int = request.user.pk  # type: ignore[assignment]  # login_required: never None
    missions_assign_for_user(user_id=user_id, now=now)
    missions = list(player_missions(user_id=user_id, now=now))
    counts = mission_counts(missions)
    filters = [
        (key, label, counts.get(key, 0))
        for key, label in HUB_FILTERS
        if key != "perpetual" or counts.get("perpetual")
    ]
    return render(
        request,
        "missions/hub.html",
        {
            "cards": _cards(missions, now),
            "counts": counts,
            "filters": filters,
            "ring_circumference": RING_CIRCUMFERENCE,
        },
    )


@login_required
def hub_card(request: HttpRequest, mission_id: int) -> HttpResponse:
    """One card as an HTML fragment: the hub's JS swaps it in on `mission:new`, completion
    and claim, so the cards have one renderer (this template)."""
    now = timezone.now()
    user_id: int = request.user.pk  # type: ignore[assignment]
    mission = (
        player_missions(user_id=user_id, now=now, current_only=False).filter(pk=mission_id).first()
    )
    if mission is None:
        raise Http404("No such mission for this player.")
    return render(request, "missions/_card.html", {"card": _cards([mission], now)[0]})


@login_required
def history(request: HttpRequest) -> HttpResponse:
    user_id: int = request.user.pk  # type: ignore[assignment]
    page = Paginator(player_mission_history(user_id=user_id), 25).get_page(request.GET.get("page"))
    return render(request, "missions/history.html", {"page": page})


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user_id: int = request.user.pk  # type: ignore[assignment]
    level = PlayerProfile.objects.filter(user_id=user_id).values_list("level", flat=True).first()
    return render(request, "missions/profile.html", {"level": level or 1})


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
