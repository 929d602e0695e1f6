"""What a streak counts: UTC days, or ISO weeks stored as their Monday."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from .models import StreakKind

# The inventory item that covers one missed day of a daily streak.
FREEZE_ITEM = "streak_freeze"


def streak_unit(kind: str, instant: datetime) -> date:
    """The UTC day, or the Monday of the ISO week, that `instant` falls in."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime: streaks need timezone-aware instants")
    day = instant.astimezone(UTC).date()
    if kind == StreakKind.WEEKLY:
        return day - timedelta(days=day.weekday())
    return day


def unit_step(kind: str) -> timedelta:
    return timedelta(days=7) if kind == StreakKind.WEEKLY else timedelta(days=1)
