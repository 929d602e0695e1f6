"""Reads for the player layer (API, hub, live pushes) beyond missions/selectors.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet

from rewards.models import CompetitiveStanding
from rewards.selectors import player_balances
from streaks.selectors import player_streaks

from ..models import (
    DRAWN_PERIOD_TYPES,
    ActiveMission,
    MissionProgress,
    MissionTemplate,
    PeriodType,
)
from ..periods import Schedule, next_reset
from ..selectors import format_number, leaderboard
from ..services.timezones import schedule_for


def missions_by_ids(mission_ids: Sequence[int]) -> QuerySet[ActiveMission]:
    """These missions with template and progress loaded: two queries whatever their number."""
    return (
        ActiveMission.objects.filter(pk__in=list(mission_ids))
        .select_related("template")
        .prefetch_related(Prefetch("progress", queryset=MissionProgress.objects.order_by("id")))
        .order_by("pk")
    )


def player_header(
    *, user_id: int, now: datetime, schedule: Schedule | None = None
) -> dict[str, Any]:
    """The hub header's figures: level and progress inside it, XP, DGT, streaks and the next
    daily reset (the player's local midnight); the same numbers as GET /api/v1/me and
    /api/v1/streaks."""
    schedule = schedule or schedule_for(user_id)
    balances = player_balances(user_id=user_id)
    return {
        "wallet": balances,
        "level": balances["level_progress"],
        "streaks": player_streaks(user_id=user_id, now=now, schedule=schedule),
        "next_daily_reset": next_reset(PeriodType.DAILY, now, schedule=schedule),
    }


def coming_up(
    *, missions: Sequence[ActiveMission], now: datetime, schedule: Schedule | None = None
) -> list[dict[str, Any]]:
    """What the player gets next: for each drawn period type that has active templates but of
    which they hold no current mission (the assignment policy held the set back, or they were
    not eligible), when its next set arrives. One query."""
    held = {m.period_type for m in missions}
    offered = set(
        MissionTemplate.objects.filter(is_active=True, period_type__in=DRAWN_PERIOD_TYPES)
        .values_list("period_type", flat=True)
        .distinct()
    )
    out = []
    for period_type in DRAWN_PERIOD_TYPES:
        if period_type in held or period_type not in offered:
            continue
        if not settings.MISSIONS_PER_PERIOD.get(period_type):
            continue
        out.append(
            {"period_type": period_type, "at": next_reset(period_type, now, schedule=schedule)}
        )
    return out


def competitive_standing(*, mission: ActiveMission, now: datetime) -> dict[str, Any]:
    """The player's rank and score on a competitive mission's live leaderboard (rank None
    while unranked). Five queries: only competitive cards ask."""
    board = leaderboard(
        template_key=mission.template.key, now=now, limit=1, around_user_id=mission.user_id
    )
    me = board["me"]
    return {"rank": me["rank"] if me else None, "score": me["score"] if me else 0}


def past_results(
    *, template: MissionTemplate, user_id: int, periods: int = 3, top: int = 10
) -> list[dict[str, Any]]:
    """Final results of the template's last finalised periods, newest first: each period's
    top `top` and, when lower, the player's own row (from the finaliser's standings). Two
    queries."""
    starts = list(
        CompetitiveStanding.objects.filter(template=template)
        .order_by("-period_start")
        .values_list("period_start", flat=True)
        .distinct()[:periods]
    )
    if not starts:
        return []
    rows = (
        CompetitiveStanding.objects.filter(template=template, period_start__in=starts)
        .filter(Q(rank__lte=top) | Q(user_id=user_id))
        .select_related("user")
        .order_by("-period_start", "rank")
    )
    results: dict[datetime, dict[str, Any]] = {}
    for row in rows:
        result = results.setdefault(
            row.period_start,
            {
                "period_start": row.period_start,
                "period_end": row.period_end,
                "players": row.players,
                "entries": [],
            },
        )
        result["entries"].append(
            {
                "rank": row.rank,
                "user_id": row.user_id,
                "username": row.user.get_username(),
                "score": format_number(row.score),
                "rewards": row.rewards,
            }
        )
    return list(results.values())
