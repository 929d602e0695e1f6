"""Helpers for progress-engine tests: templates through the real validator, events through
the real ingestion service, and readers of the resulting state."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from missions.models import ActiveMission, MissionTemplate
from missions.services import missions_assign
from missions.services.ingest import IngestResult, events_ingest
from missions.validation import validate_template

# Monday 00:00 UTC: the start of an ISO week, a day and (not) a month.
MONDAY = datetime(2026, 11, 23, tzinfo=UTC)
_ids = itertools.count(1)


def at(day: int = 0, hour: int = 0, minute: int = 0) -> datetime:
    return MONDAY + timedelta(days=day, hours=hour, minutes=minute)


def make_template(**fields: Any) -> MissionTemplate:
    data: dict[str, Any] = {
        "key": f"t{next(_ids)}",
        "name": "Test mission",
        "category": "content",
        "type": "count",
        "period_type": "daily",
        "rewards": {"xp": 10},
    }
    data.update(fields)
    return MissionTemplate.objects.create(**validate_template(data))


def req(action: str = "post:created", target: Any = 3, **extra: Any) -> dict[str, Any]:
    return {"action": action, "target": target, "label": f"{action} x{target}", **extra}


def event(
    user_id: int,
    action: str,
    data: dict[str, Any] | None = None,
    *,
    when: datetime,
    event_id: str | None = None,
) -> dict[str, Any]:
    return {
        "id": event_id or f"ev-{next(_ids)}",
        "user_id": user_id,
        "action": action,
        "occurred_at": when.isoformat(),
        "data": data or {},
    }


def send(
    user_id: int,
    action: str,
    data: dict[str, Any] | None = None,
    *,
    when: datetime,
    received: datetime | None = None,
    event_id: str | None = None,
) -> IngestResult:
    """One event, arriving at `received` (default: when it happened)."""
    return events_ingest(
        events=[event(user_id, action, data, when=when, event_id=event_id)],
        now=received or when,
    )


def assign(user_id: int, when: datetime) -> None:
    missions_assign(user_ids=[user_id], now=when)


def mission_of(user_id: int, template: MissionTemplate, when: datetime) -> ActiveMission:
    """The user's mission of `template` whose period contains `when`."""
    from missions.periods import period_for

    period = period_for(template.period_type, when, template)
    return ActiveMission.objects.get(user_id=user_id, template=template, period_start=period.start)


def progress_of(mission: ActiveMission) -> dict[str, Any]:
    from missions.selectors import format_number

    return {p.requirement_key: format_number(p.current) for p in mission.progress.all()}
