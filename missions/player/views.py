"""Server-rendered pages and the health endpoint."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import caches
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django_redis.exceptions import ConnectionInterrupted

from config.redis_guard import cache_call_or_raise, layer_call, outage_cause
from rewards.selectors import HISTORY_KINDS, history_rows, ledger_history, player_wallet
from streaks.selectors import player_streaks

from ..cache import player_current_missions
from ..models import ActiveMission, MissionTemplate, MissionType
from ..periods import Schedule, timezone_names
from ..selectors import leaderboard, mission_counts, player_missions
from ..services import missions_assign_for_user
from ..services.lifecycle import beat_last_run
from ..services.timezones import player_timezone_set, player_timezone_state, schedule_for
from .presentation import (
    DONE_STATES,
    PERIOD_LABELS,
    RING_CIRCUMFERENCE,
    STATE_ORDER,
    card_context,
    countdown,
    time_left,
)
from .representations import mission_fields
from .selectors import coming_up, competitive_standing, past_results, player_header

HUB_FILTERS = [("all", "All"), *PERIOD_LABELS.items()]


def _cards(
    missions: list[ActiveMission], now: datetime, schedule: Schedule | None = None
) -> list[dict[str, Any]]:
    cards = []
    for mission in missions:
        card = card_context(
            mission_fields(mission, now=now, schedule=schedule),
            icon=(mission.template.metadata or {}).get("icon"),
            now=now,
        )
        live = mission.period_end is None or mission.period_end > now
        if mission.template.type == MissionType.COMPETITIVE and live:
            card["standing"] = competitive_standing(mission=mission, now=now)
        cards.append(card)
    return cards


def _header_context(
    user_id: int, now: datetime, schedule: Schedule | None = None
) -> dict[str, Any]:
    header = player_header(user_id=user_id, now=now, schedule=schedule)
    header["reset_in"] = countdown(header["next_daily_reset"], now)
    return header


def _render_local(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    zone: str,
    *,
    status: int = 200,
) -> HttpResponse:
    """Render with the player's zone active, so the page's times read in their local time
    (Django converts aware datetimes to the current timezone in templates)."""
    with timezone.override(ZoneInfo(zone)):
        return render(request, template, {**context, "local_zone": zone}, status=status)


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
    # The chosen filter lives in the URL (?period=weekly), so a reload or a shared link keeps it.
    active_filter = request.GET.get("period", "all")
    if active_filter not in {key for key, _, _ in filters}:
        active_filter = "all"
    schedule = schedule_for(user_id)  # the player's local periods, for every countdown
    cards = _cards(missions, now, schedule)
    # Stable sort: within a state the selector's order (shortest period first) stays.
    open_cards = sorted(
        (c for c in cards if c["status"] not in DONE_STATES), key=lambda c: STATE_ORDER[c["status"]]
    )
    done_cards = [c for c in cards if c["status"] in DONE_STATES]
    return _render_local(
        request,
        "missions/hub.html",
        {
            "cards": open_cards,
            "done_cards": done_cards,
            "claimable": sum(1 for c in open_cards if c["status"] == "completed"),
            "header": _header_context(user_id, now, schedule),
            "coming_up": [
                {**entry, "label": PERIOD_LABELS[entry["period_type"]]}
                for entry in coming_up(missions=missions, now=now, schedule=schedule)
            ],
            "counts": counts,
            "filters": filters,
            "active_filter": active_filter,
            "ring_circumference": RING_CIRCUMFERENCE,
            "poll_seconds": settings.MISSIONS_HUB_POLL_SECONDS,
        },
        schedule.zone_at(now),
    )


@login_required
def hub_header(request: HttpRequest) -> HttpResponse:
    """The header as an HTML fragment: the hub's JS swaps it in after a claim."""
    user_id: int = request.user.pk  # type: ignore[assignment]
    context = {"header": _header_context(user_id, timezone.now())}
    return render(request, "missions/_player_header.html", context)


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
    """Every ledger entry of the player with its reason, filterable by kind (the same rows as
    GET /api/v1/history)."""
    user_id: int = request.user.pk  # type: ignore[assignment]
    kind = request.GET.get("kind", "")
    if kind not in HISTORY_KINDS:
        kind = ""
    entries = ledger_history(user_id=user_id, kinds=[kind] if kind else None)
    page = Paginator(entries, 25).get_page(request.GET.get("page"))
    return _render_local(
        request,
        "missions/history.html",
        {
            "page": page,
            "rows": [
                {**row, "period_label": PERIOD_LABELS.get(row["period_type"] or "", "")}
                for row in history_rows(page.object_list)
            ],
            "kind": kind,
            "kinds": list(HISTORY_KINDS.items()),
        },
        schedule_for(user_id).zone_at(timezone.now()),
    )


class TimezoneForm(forms.Form):
    timezone = forms.ChoiceField(
        label="Timezone",
        help_text="Your days start at its local midnight, from the end of the current day on.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["timezone"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(name, name) for name in sorted(timezone_names())]


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """The player's profile; POST sets their timezone (a bad name re-renders with a 400)."""
    user_id: int = request.user.pk  # type: ignore[assignment]
    now = timezone.now()
    status = 200
    if request.method == "POST":
        form = TimezoneForm(request.POST)
        if form.is_valid():
            player_timezone_set(user_id=user_id, timezone=form.cleaned_data["timezone"], now=now)
            return redirect("profile")
        status = 400
    else:
        form = TimezoneForm(
            initial={"timezone": player_timezone_state(user_id=user_id, now=now)["timezone"]}
        )
    wallet = player_wallet(user_id=user_id)
    tz = player_timezone_state(user_id=user_id, now=now)
    return _render_local(
        request,
        "missions/profile.html",
        {
            "header": {"level": wallet["level_progress"]},
            "wallet": wallet,
            "streaks": player_streaks(user_id=user_id, now=now),
            "tz": tz,
            "tz_form": form,
        },
        str(tz["current_timezone"]),
        status=status,
    )


@login_required
def leaderboard_page(request: HttpRequest, template_key: str) -> HttpResponse:
    """A competitive mission's live ranking (top 20, my rank, the players around me) and the
    final results of its past periods."""
    now = timezone.now()
    user_id: int = request.user.pk  # type: ignore[assignment]
    template = MissionTemplate.objects.filter(
        key=template_key, type=MissionType.COMPETITIVE
    ).first()
    if template is None:
        raise Http404("No competitive mission with this key.")
    board = leaderboard(template_key=template_key, now=now, limit=20, around_user_id=user_id)
    top_ids = {entry["user_id"] for entry in board["entries"]}
    return render(
        request,
        "missions/leaderboard.html",
        {
            "template": template,
            "board": board,
            "period_label": PERIOD_LABELS.get(template.period_type, template.period_type),
            "ends_in": time_left(board["period_end"], now),
            # The players around me, unless they are all in the top already.
            "around": [e for e in board["around"] if e["user_id"] not in top_ids],
            "past": past_results(template=template, user_id=user_id),
            "tiers": (template.metadata or {}).get("reward_tiers") or [],
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
_CHECKS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="healthz")


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Database, cache and channel layer, each answered within HEALTHZ_TIMEOUT_SECONDS (503
    otherwise), and the age of beat's heartbeat (stale: "degraded", still 200)."""
    deadline = settings.HEALTHZ_TIMEOUT_SECONDS
    # Build the cache and channel-layer clients here, before any thread uses them: no I/O,
    # but their first build imports redis, and two threads importing it at once deadlock.
    layer = get_channel_layer()
    caches["default"]
    futures = {
        "database": _CHECKS.submit(_check_database),
        "cache": _CHECKS.submit(_check_cache),
        "channel_layer": _CHECKS.submit(_channel_layer_check, layer),
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


def _channel_layer_check(layer: Any) -> str:
    if layer is None:
        return "error: not configured"

    # A group nobody is in: a round trip to the layer's backend that delivers nothing,
    # bounded by the layer's timeout and breaker (a hung Redis must not hold the thread).
    async def ping() -> None:
        await layer_call(layer, lambda: layer.group_send("healthz", {"type": "healthz.ping"}))

    try:
        async_to_sync(ping)()
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"
    return "ok"


def _beat_check() -> dict[str, Any]:
    """The age of beat's last heartbeat (ops: beat heartbeat): stale past
    OPS_BEAT_STALE_SECONDS means rollovers, closes and payouts are late."""
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
