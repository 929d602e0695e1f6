"""Signal receivers of the streaks app (wired in StreaksConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from missions.models import ActiveMission
from missions.signals import mission_completed

from .services import KIND_FOR_PERIOD, _outbox_window, streaks_credit_pending


@receiver(mission_completed, dispatch_uid="streaks.count_completion")
def count_completion(sender: Any, mission: ActiveMission, **kwargs: Any) -> None:
    """A day counts when the player completes at least one daily mission (a week: weekly).

    Counts this completion and any earlier one of the player not counted yet (the outbox),
    in order; streaks.credit_pending sweeps the ones no later completion picks up."""
    if mission.period_type not in KIND_FOR_PERIOD or mission.completed_at is None:
        return
    streaks_credit_pending(user_id=mission.user_id, since=mission.completed_at - _outbox_window())
