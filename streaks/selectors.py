"""Reads of the streaks app."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from missions.periods import Schedule
from missions.services.timezones import schedule_for
from rewards.services.inventory import inventory_available

from .models import Streak, StreakBreak, StreakKind
from .multipliers import streak_multiplier
from .units import FREEZE_ITEM, missed_units, streak_unit


def effective_current(
    streak: Streak | None, *, today: date, freezes: int = 0, schedule: Schedule | None = None
) -> int:
    """The streak's current run if it can still continue now, else 0. `today` is the
    streak's unit now (streaks/units.py: the local day, or the local week's Monday).

    Alive = the last counted day is today or yesterday, or the days missed since can
    all be covered by the freezes the player holds (they are spent at the next completion).
    Weekly streaks: the same in ISO weeks, without freezes.
    """
    if streak is None or streak.last_completed is None:
        return 0
    if today <= streak.last_completed:
        return streak.current
    missed = len(missed_units(streak.kind, streak.last_completed, today, schedule))
    if streak.kind == StreakKind.WEEKLY:
        return streak.current if missed <= 0 else 0
    return streak.current if missed <= freezes else 0


def daily_streak_for_bonus(*, user_id: int, now: datetime) -> int:
    """The daily streak value the claim's streak multiplier uses."""
    streak = Streak.objects.filter(user_id=user_id, kind=StreakKind.DAILY).first()
    if streak is None:
        return 0
    freezes = inventory_available(user_id=user_id, item_key=FREEZE_ITEM)
    schedule = schedule_for(user_id)
    today = streak_unit("daily", now, schedule)
    return effective_current(streak, today=today, freezes=freezes, schedule=schedule)


def player_streaks(
    *,
    user_id: int,
    now: datetime | None = None,
    recent_breaks: int = 5,
    schedule: Schedule | None = None,
) -> dict[str, Any]:
    """Daily and weekly streaks for the API/hub: current (stored run), alive (still
    continuable today), best, last completed, multiplier, freezes, recent breaks."""
    now = now or timezone.now()
    freezes = inventory_available(user_id=user_id, item_key=FREEZE_ITEM)
    streaks = {s.kind: s for s in Streak.objects.filter(user_id=user_id)}
    breaks: dict[str, list[dict[str, Any]]] = {k: [] for k in StreakKind.values}
    for kind in StreakKind.values:
        streak = streaks.get(kind)
        if streak is None:
            continue
        breaks[kind] = [
            {
                "missed_from": b.missed_from.isoformat(),
                "length": b.length,
                "restored": b.restored_at is not None,
            }
            for b in StreakBreak.objects.filter(streak=streak)[:recent_breaks]
        ]
    out: dict[str, Any] = {}
    schedule = schedule or schedule_for(user_id)
    for kind in StreakKind.values:
        streak = streaks.get(kind)
        alive = effective_current(
            streak,
            today=streak_unit(kind, now, schedule),
            freezes=freezes if kind == StreakKind.DAILY else 0,
            schedule=schedule,
        )
        out[kind] = {
            "current": streak.current if streak else 0,
            "alive": alive > 0,
            "best": streak.best if streak else 0,
            "last_completed": (
                streak.last_completed.isoformat() if streak and streak.last_completed else None
            ),
            "multiplier": str(streak_multiplier(alive)) if kind == StreakKind.DAILY else "1",
            "freezes_available": freezes if kind == StreakKind.DAILY else 0,
            "recent_breaks": breaks[kind],
        }
    return out


def daily_streaks_by_user(*, user_ids: Sequence[int]) -> Iterable[tuple[int, int]]:
    """(user_id, current daily streak) as stored: assignment's `daily_streak` prerequisite
    source (registered in StreaksConfig.ready)."""
    return Streak.objects.filter(user_id__in=user_ids, kind="daily").values_list(
        "user_id", "current"
    )
