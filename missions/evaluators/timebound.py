"""timebound: like count, but only events within `metadata.time_limit_minutes` of assignment
count. A matching event at or after the deadline while the mission is unfinished fails it.

An event that happened before the deadline counts only if it arrived before the deadline
plus the late-event grace: that is when the scheduler fails the unfinished mission
(missions_fail_timebound), so replay and the live store agree on what counted.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from .base import Evaluator, EventRecord, MissionRun
from .matching import requirement_matches


def deadline(run: MissionRun) -> datetime:
    return run.assigned_at + timedelta(minutes=int(run.metadata.get("time_limit_minutes") or 0))


class TimeboundEvaluator(Evaluator):
    type = "timebound"

    def counts(self, run: MissionRun, key: str, event: EventRecord) -> bool:
        end = deadline(run)
        grace = timedelta(minutes=int(settings.MISSIONS_LATE_EVENT_GRACE_MINUTES))
        return run.assigned_at <= event.occurred_at < end and event.received_at < end + grace

    def fails(self, run: MissionRun, event: EventRecord) -> bool:
        return event.occurred_at >= deadline(run) and any(
            requirement_matches(req, event.action, event.data) for req in run.requirements.values()
        )
