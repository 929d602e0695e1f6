"""Builders for reward tests: completed missions made directly with the ORM."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from missions.models import ActiveMission, MissionTemplate
from missions.periods import period_for
from tests.factories import ProfileFactory, TemplateFactory

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


def player(username: str | None = None, level: int = 1) -> Any:
    profile = ProfileFactory(level=level, **({"user__username": username} if username else {}))
    return profile.user


def mission(
    user: Any,
    *,
    template: MissionTemplate | None = None,
    state: str = "completed",
    at: datetime = NOW,
    took: timedelta = timedelta(hours=1),
    rewards: dict[str, Any] | None = None,
    period_type: str | None = None,
    **template_fields: Any,
) -> ActiveMission:
    """A mission of `user` in the period containing `at`, completed at `at` after `took`."""
    if template is None:
        template = TemplateFactory(
            rewards=rewards if rewards is not None else {"xp": 100, "dgt": "10"},
            period_type=period_type or "daily",
            **template_fields,
        )
    period = period_for(template.period_type, at, template)
    done = state in ("completed", "claimed")
    return ActiveMission.objects.create(
        template=template,
        user=user,
        period_type=template.period_type,
        period_start=period.start,
        period_end=period.end,
        assigned_at=at - took,
        completed_at=at if done else None,
        state=state,
    )
