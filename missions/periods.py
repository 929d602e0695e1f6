"""Period instances: half-open [start, end) intervals in UTC.

daily = UTC day; weekly = ISO week from Monday 00:00 UTC; monthly = calendar month;
special = the template's [starts_at, ends_at); perpetual = [PERPETUAL_START, never).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from .models import PERPETUAL_START, PeriodType

if TYPE_CHECKING:
    from .models import MissionTemplate


@dataclass(frozen=True)
class Period:
    period_type: str
    start: datetime
    end: datetime | None  # None: never ends

    def contains(self, instant: datetime) -> bool:
        return self.start <= instant and (self.end is None or instant < self.end)


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("naive datetime: periods need timezone-aware instants")
    return instant.astimezone(UTC)


def _day_start(instant: datetime) -> datetime:
    return instant.replace(hour=0, minute=0, second=0, microsecond=0)


def period_for(
    period_type: str, instant: datetime, template: MissionTemplate | None = None
) -> Period:
    """The period of `period_type` that contains `instant`."""
    at = _utc(instant)
    if period_type == PeriodType.DAILY:
        start = _day_start(at)
        return Period(period_type, start, start + timedelta(days=1))
    if period_type == PeriodType.WEEKLY:
        # weekday(): Monday=0 … Sunday=6, so a Sunday belongs to the week that began 6 days before.
        start = _day_start(at) - timedelta(days=at.weekday())
        return Period(period_type, start, start + timedelta(days=7))
    if period_type == PeriodType.MONTHLY:
        start = _day_start(at).replace(day=1)
        end = (
            start.replace(year=start.year + 1, month=1)
            if start.month == 12
            else start.replace(month=start.month + 1)
        )
        return Period(period_type, start, end)
    if period_type == PeriodType.SPECIAL:
        if template is None or template.starts_at is None or template.ends_at is None:
            raise ValueError("a special period needs a template with starts_at and ends_at")
        return Period(period_type, _utc(template.starts_at), _utc(template.ends_at))
    if period_type == PeriodType.PERPETUAL:
        return Period(period_type, PERPETUAL_START, None)
    raise ValueError(f"unknown period type {period_type!r}")


def next_reset(period_type: str, instant: datetime) -> datetime | None:
    """When the drawn periods roll over next (None for perpetual)."""
    if period_type in (PeriodType.SPECIAL, PeriodType.PERPETUAL):
        return None
    return period_for(period_type, instant).end
