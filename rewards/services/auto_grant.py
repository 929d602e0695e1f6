"""Period-end housekeeping: auto-grant unclaimed rewards after the grace time.

Idempotent and safe to run from several workers at once; scheduled by Celery beat
(config/schedule.py). Closing abandoned missions is the engine's
(missions/services/lifecycle.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from missions.models import ActiveMission, MissionState

from .claims import mission_auto_grant


def rewards_auto_grant_unclaimed(*, now: datetime, batch_size: int = 500) -> int:
    """Grant completed-but-unclaimed missions whose grace time has passed; returns how many.

    Each mission is paid in its own transaction through the same path as a claim (row lock,
    same bonuses, one grant), so a claim racing with this job still pays once. Does nothing
    if settings.MISSIONS_AUTO_GRANT_UNCLAIMED is off (the rewards are then forfeited).
    """
    if not settings.MISSIONS_AUTO_GRANT_UNCLAIMED:
        return 0
    cutoff = now - timedelta(hours=int(settings.MISSIONS_CLAIM_GRACE_HOURS))
    granted = 0
    last_id = 0
    while True:
        ids = list(
            ActiveMission.objects.filter(
                state=MissionState.COMPLETED, period_end__lte=cutoff, pk__gt=last_id
            )
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return granted
        for mission_id in ids:
            if mission_auto_grant(mission_id=mission_id, now=now) is not None:
                granted += 1
        last_id = ids[-1]
