"""Server-rendered pages and the health endpoint."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, wait
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django_redis.exceptions import ConnectionInterrupted

from config.redis_guard import cache_call_or_raise, outage_cause
from rewards.levels import xp_for_level
from rewards.selectors import claim_history, player_wallet
from streaks.selectors import player_streaks

from ..models import ActiveMission
from ..selectors import mission_counts, player_missions
from ..services import missions_assign_for_user
from .presentation import RING_CIRCUMFERENCE, card_context
from .representations import mission_fields

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
            "streaks": player_streaks(user_id=user_id, now=now),
            "counts": counts,
            "filters": filters,
            "ring_circumference": RING_CIRCUMFERENCE,
            "poll_seconds": settings.MISSIONS_HUB_POLL_SECONDS,
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


def xp_progress(level: int, xp: int, next_level_xp: int | None) -> int:
    """How far (0–100) the player is from this level's XP to the next one's."""
    if next_level_xp is None:
        return 100
    floor = xp_for_level(level)
    span = max(1, next_level_xp - floor)
    return max(0, min(100, (xp - floor) * 100 // span))


@login_required
def history(request: HttpRequest) -> HttpResponse:
    """The player's payouts with their bonuses (the same rows as GET /api/v1/history)."""
    user_id: int = request.user.pk  # type: ignore[assignment]
    page = Paginator(claim_history(user_id=user_id), 25).get_page(request.GET.get("page"))
    return render(request, "missions/history.html", {"page": page})


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user_id: int = request.user.pk  # type: ignore[assignment]
    wallet = player_wallet(user_id=user_id)
    return render(
        request,
        "missions/profile.html",
        {
            "wallet": wallet,
            "xp_bar": xp_progress(wallet["level"], wallet["xp"], wallet["next_level_xp"]),
            "streaks": player_streaks(user_id=user_id, now=timezone.now()),
        },
    )


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    finally:
        connection.close()  # this worker thread's connection goes back to the pool


def _check_cache() -> str:
    # The raising calls: the cache itself reads an outage as a miss (config/redis_guard.py).
    try:
        cache_call_or_raise("set", "healthz", "ok", timeout=5)
        value = cache_call_or_raise("get", "healthz")
    except ConnectionInterrupted as exc:
        return f"error: {outage_cause(exc)}"
    return "ok" if value == "ok" else "error: read back failed"


# Checks run here, not in the request thread, so a database or Redis that accepts a
# connection and never answers cannot hold the probe: it answers when the deadline passes.
# A hung check keeps its worker until its own connect timeout; later probes queue behind it
# and still answer on time.
_CHECKS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="healthz")


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Database and cache, each answered within HEALTHZ_TIMEOUT_SECONDS (503 otherwise)."""
    deadline = settings.HEALTHZ_TIMEOUT_SECONDS
    futures = {"database": _CHECKS.submit(_check_database), "cache": _CHECKS.submit(_check_cache)}
    wait(futures.values(), timeout=deadline)
    checks: dict[str, str] = {}
    for name, future in futures.items():
        if not future.done():
            checks[name] = f"error: no answer within {deadline} s"
        elif future.exception() is not None:  # report, don't raise: this endpoint is for probes
            checks[name] = f"error: {future.exception().__class__.__name__}"
        else:
            checks[name] = future.result()
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unhealthy", "checks": checks},
        status=200 if healthy else 503,
    )
