"""Signal receivers of the streaks app (wired in StreaksConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from missions.models import ActiveMission, PeriodType
from missions.signals import mission_completed

from .models import StreakKind
from .services import streak_record

KIND_FOR_PERIOD = {PeriodType.DAILY: StreakKind.DAILY, PeriodType.WEEKLY: StreakKind.WEEKLY}


@receiver(mission_completed, dispatch_uid="streaks.count_completion")
def count_completion(sender: Any, mission: ActiveMission, **kwargs: Any) -> None:
    """A day counts when the player completes at least one daily mission (a week: weekly)."""
    kind = KIND_FOR_PERIOD.get(mission.period_type)  # type: ignore[call-overload]
    if kind is None or mission.completed_at is None:
        return
    streak_record(user_id=mission.user_id, kind=kind, at=mission.completed_at)
