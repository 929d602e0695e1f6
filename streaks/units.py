"""What a streak counts: the player's local days, or local ISO weeks stored as their Monday.

A unit is the label of the player's daily (weekly) period containing the instant
(missions.periods.Schedule.label): their local date, kept consecutive across timezone
changes, so a change never breaks a streak, skips a day or counts one day twice.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from missions.models import PeriodType
from missions.periods import UTC_SCHEDULE, Schedule

from .models import StreakKind

# The inventory item that covers one missed day of a daily streak.
FREEZE_ITEM = "streak_freeze"


def streak_unit(kind: str, instant: datetime, schedule: Schedule | None = None) -> date:
    """The player's local day, or the Monday of their local ISO week, that `instant` is in
    (`schedule` None: UTC)."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime: streaks need timezone-aware instants")
    period_type = PeriodType.WEEKLY if kind == StreakKind.WEEKLY else PeriodType.DAILY
    return (schedule or UTC_SCHEDULE).label(period_type, instant)


def unit_step(kind: str) -> timedelta:
    return timedelta(days=7) if kind == StreakKind.WEEKLY else timedelta(days=1)
