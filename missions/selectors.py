"""Reads of the missions app."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet

from .models import ActiveMission, MissionProgress, PeriodType


def player_missions(
    *,
    user_id: int,
    now: datetime,
    period_type: str | None = None,
    states: list[str] | None = None,
    current_only: bool = True,
) -> QuerySet[ActiveMission]:
    """The player's missions, with template and progress loaded (no N+1)."""
    qs = (
        ActiveMission.objects.filter(user_id=user_id)
        .select_related("template")
        .prefetch_related(Prefetch("progress", queryset=MissionProgress.objects.order_by("id")))
        .order_by("period_type", "-period_start", "template__key")
    )
    if current_only:
        # Current periods, plus completed-but-unclaimed ones still in their grace time.
        grace = now - timedelta(hours=settings.MISSIONS_CLAIM_GRACE_HOURS)
        qs = qs.filter(
            Q(period_end__isnull=True)
            | Q(period_end__gt=now)
            | Q(state="completed", period_end__gt=grace)
        ).filter(period_start__lte=now)
    if period_type:
        qs = qs.filter(period_type=period_type)
    if states:
        qs = qs.filter(state__in=states)
    return qs


def format_number(value: Decimal) -> int | str:
    """3.00000000 → 3; 10.50000000 → "10.5" (decimals stay strings, never floats)."""
    normalized = value.normalize()
    if normalized == normalized.to_integral_value():
        return int(normalized)
    return format(normalized, "f")


def mission_requirements(mission: ActiveMission) -> dict[str, dict[str, Any]]:
    requirements = mission.template.requirements or {}
    out: dict[str, dict[str, Any]] = {}
    for progress in mission.progress.all():
        current = min(progress.current, progress.target)
        out[progress.requirement_key] = {
            "label": requirements.get(progress.requirement_key, {}).get(
                "label", progress.requirement_key
            ),
            "current": format_number(current),
            "target": format_number(progress.target),
            "done": progress.done,
        }
    return out


def mission_percentage(mission: ActiveMission) -> int:
    """Mean of the requirements' fractions, 0–100, rounded down."""
    rows = list(mission.progress.all())
    if not rows:
        return 0
    total = sum(min(Decimal(1), p.current / p.target) for p in rows if p.target > 0)
    return int(total * 100 / len(rows))


def mission_counts(missions: list[ActiveMission]) -> dict[str, int]:
    counts = {"all": len(missions)}
    for period_type in PeriodType.values:
        counts[period_type] = sum(1 for m in missions if m.period_type == period_type)
    return counts
