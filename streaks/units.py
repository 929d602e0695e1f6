"""What a streak counts: the player's local days, or local ISO weeks stored as their Monday.

A unit is the label of the player's daily (weekly) period containing the instant
(missions.periods.Schedule.label): their local date. A timezone change never breaks a
streak or counts one day twice: the dates a change east jumps over belong to no period and
are never "missed" (`missed_units`), and a date a change west repeats is labelled as the
next one.
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
    return (schedule or UTC_SCHEDULE).label(_period_type(kind), instant)


def unit_step(kind: str) -> timedelta:
    return timedelta(days=7) if kind == StreakKind.WEEKLY else timedelta(days=1)


def _period_type(kind: str) -> str:
    return PeriodType.WEEKLY if kind == StreakKind.WEEKLY else PeriodType.DAILY


def missed_units(kind: str, last: date, unit: date, schedule: Schedule | None = None) -> list[date]:
    """The player's days (weeks) strictly between `last` and `unit` — those a streak missed;
    dates a timezone change skipped are not among them."""
    step = unit_step(kind)
    between = [last + step * n for n in range(1, (unit - last) // step)]
    if schedule is None or not between:
        return between
    skipped = schedule.skipped_labels(_period_type(kind))
    return [day for day in between if day not in skipped]
