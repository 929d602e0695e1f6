"""Server-rendered pages and the health endpoint."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from rewards.levels import xp_for_level
from rewards.selectors import claim_history, player_wallet
from streaks.selectors import player_streaks

from ..cache import player_current_missions
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
    missions = player_current_missions(user_id=user_id, now=now)
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
    cache.set("healthz", "ok", timeout=5)
    return "ok" if cache.get("healthz") == "ok" else "error: read back failed"


# Checks run here, not in the request thread, so a database or Redis that accepts a
# connection and never answers cannot hold the probe: it answers when the deadline passes.
# A hung check keeps its worker until its own connect timeout; later probes queue behind it
# and still answer on time.
_CHECKS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="healthz")


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Database, cache and channel layer, each answered within HEALTHZ_TIMEOUT_SECONDS (503
    otherwise), and the age of beat's heartbeat (stale: "degraded", still 200)."""
    deadline = settings.HEALTHZ_TIMEOUT_SECONDS
    futures = {
        "database": _CHECKS.submit(_check_database),
        "cache": _CHECKS.submit(_check_cache),
        "channel_layer": _CHECKS.submit(_channel_layer_check),
    }
    beat_future = _CHECKS.submit(_beat_check)
    pending: list[Future[Any]] = [*futures.values(), beat_future]
    wait(pending, timeout=deadline)
    checks: dict[str, str] = {}
    for name, future in futures.items():
        if not future.done():
            checks[name] = f"error: no answer within {deadline} s"
        elif future.exception() is not None:  # report, don't raise: this endpoint is for probes
            checks[name] = f"error: {future.exception().__class__.__name__}"
        else:
            checks[name] = future.result()
    healthy = all(value == "ok" for value in checks.values())
    beat = (
        beat_future.result()
        if beat_future.done()
        else {"status": "unknown: no answer", "last_run": None, "age_seconds": None}
    )
    status = "ok" if healthy else "unhealthy"
    if healthy and beat["status"] != "ok" and settings.OPS_EXPECT_BEAT:
        status = "degraded"  # serving works; the lifecycle is late (docs/operations.md)
    return JsonResponse(
        {"status": status, "checks": checks, "beat": beat},
        status=200 if healthy else 503,
    )


def _channel_layer_check() -> str:
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    try:
        layer = get_channel_layer()
        if layer is None:
            return "error: not configured"
        # A group nobody is in: a round trip to the layer's backend that delivers nothing.
        async_to_sync(layer.group_send)("healthz", {"type": "healthz.ping"})
        return "ok"
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"


def _beat_check() -> dict[str, Any]:
    """The age of beat's last heartbeat (ops: beat heartbeat): stale past
    OPS_BEAT_STALE_SECONDS means rollovers, closes and payouts are late."""
    from missions.services.lifecycle import beat_last_run

    try:
        last = beat_last_run()
    except Exception as exc:
        return {
            "status": f"unknown: {exc.__class__.__name__}",
            "last_run": None,
            "age_seconds": None,
        }
    if last is None:
        return {"status": "never", "last_run": None, "age_seconds": None}
    age = int((timezone.now() - last).total_seconds())
    stale = age > int(settings.OPS_BEAT_STALE_SECONDS)
    return {
        "status": "stale" if stale else "ok",
        "last_run": last.isoformat(),
        "age_seconds": age,
    }
