"""Reads of the missions app."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Case, F, Prefetch, Q, QuerySet, Value, When, Window
from django.db.models.functions import RowNumber

from .models import ActiveMission, MissionProgress, MissionType, PeriodType

# Shortest period first, as the hub's filters read: daily, weekly, monthly, special, perpetual.
PERIOD_ORDER = Case(
    *(When(period_type=value, then=Value(i)) for i, value in enumerate(PeriodType.values)),
    default=Value(len(PeriodType.values)),
)


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
        .order_by(PERIOD_ORDER, "-period_start", "template__key")
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
    # A competitive requirement's current is the player's score: it is not capped at the
    # target (the qualifying score), as the live push shows it too.
    capped = mission.template.type != MissionType.COMPETITIVE
    out: dict[str, dict[str, Any]] = {}
    for progress in mission.progress.all():
        current = min(progress.current, progress.target) if capped else progress.current
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


def leaderboard(
    *,
    template_key: str,
    now: datetime,
    limit: int = 10,
    around_user_id: int | None = None,
) -> dict[str, Any]:
    """The live ranking of a competitive template's current period.

    Order: score (descending), then who reached that score first (`reached_at`, the
    occurred_at of their last scoring event), then user id — so ranks are never shared.
    One score per player: the validator gives a competitive template exactly one requirement,
    and only that requirement's rows are ranked (a template saved before that rule ranks its
    first requirement by name). Two queries, plus three when `around_user_id` is given.
    """
    from .models import MissionTemplate
    from .periods import period_for

    template = MissionTemplate.objects.filter(key=template_key).first()
    if template is None:
        from .errors import NotFound

        raise NotFound(f"no mission template {template_key!r}")
    period = period_for(template.period_type, now, template)
    score_key = min(template.requirements or {"": None})
    scored = MissionProgress.objects.filter(
        mission__template=template,
        requirement_key=score_key,
        mission__period_start=period.start,
        mission__state__in=["active", "completed", "claimed"],
        current__gt=0,
    )
    ranked = scored.annotate(
        rank=Window(
            RowNumber(),
            order_by=[F("current").desc(), F("reached_at").asc(), F("user_id").asc()],
        )
    ).values("rank", "user_id", "user__username", "current")

    def entry(row: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "rank": row["rank"],
            "user_id": row["user_id"],
            "username": row["user__username"],
            "score": format_number(row["current"]),
        }

    out: dict[str, Any] = {
        "template_key": template.key,
        "name": template.name,
        "period_start": period.start,
        "period_end": period.end,
        "entries": [entry(row) for row in ranked.order_by("rank")[:limit]],
        "me": None,
        "around": [],
    }
    if around_user_id is not None:
        # A plain filter on user_id would be applied before the window and rank them alone.
        mine = scored.filter(user_id=around_user_id).values("current", "reached_at").first()
        if mine is not None:
            c, r = mine["current"], mine["reached_at"]
            rank = (
                1
                + scored.filter(
                    Q(current__gt=c)
                    | Q(current=c, reached_at__lt=r)
                    | Q(current=c, reached_at=r, user_id__lt=around_user_id)
                ).count()
            )
            out["around"] = [
                entry(row)
                for row in ranked.filter(rank__gte=rank - 2, rank__lte=rank + 2).order_by("rank")
            ]
            out["me"] = next((e for e in out["around"] if e["user_id"] == around_user_id), None)
    return out
