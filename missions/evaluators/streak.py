"""streak: the longest run of consecutive days (or ISO weeks, `"unit": "week"`) with at
least one matching event — the player's local days and weeks (`ProgressState.schedule`,
labels that stay consecutive across timezone changes); done when a run reaches the target.

Each day (or week's Monday) is a ProgressValue row; the run is recomputed from that set, so
a late event that fills a gap joins two runs. `values` may hold only the days near this
batch's days (progress.py loads no more): the longest run only ever grows, so the new value
is the larger of the stored one and the longest run among the loaded days.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ..models import PeriodType
from ..periods import UTC_SCHEDULE, Schedule
from .base import Evaluator, EventRecord, ProgressState


def period_key(event: EventRecord, unit: str, schedule: Schedule | None = None) -> str:
    """The player's local day (or week's Monday) of the event, ISO-formatted."""
    period_type = PeriodType.WEEKLY if unit == "week" else PeriodType.DAILY
    return (schedule or UTC_SCHEDULE).label(period_type, event.occurred_at).isoformat()


def longest_run(keys: set[str], step_days: int) -> int:
    days = {date.fromisoformat(key) for key in keys}
    best = 0
    step = timedelta(days=step_days)
    for day in days:
        if day - step in days:
            continue  # not the start of a run
        length = 1
        while day + step * length in days:
            length += 1
        best = max(best, length)
    return best


class StreakEvaluator(Evaluator):
    type = "streak"

    def aggregate(
        self, progress: ProgressState, requirement: Mapping[str, Any], event: EventRecord
    ) -> bool:
        unit = str(requirement.get("unit") or "day")
        key = period_key(event, unit, progress.schedule)
        if key in progress.values:
            return False
        progress.values.add(key)
        progress.new_values.add(key)
        run = Decimal(longest_run(progress.values, 7 if unit == "week" else 1))
        if run <= progress.current:
            return False
        progress.current = run
        return True
