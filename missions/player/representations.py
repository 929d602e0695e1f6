"""The one JSON shape of a player mission: REST API, `mission:new` pushes and the hub."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import DRAWN_PERIOD_TYPES, ActiveMission
from ..periods import Schedule, next_reset
from ..selectors import mission_percentage, mission_requirements
from ..services.timezones import schedule_for


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string", "format": "decimal"}],
        "description": "An integer, or a decimal string when it has a fraction (never a float).",
    }
)
class ExactNumberField(serializers.Field):
    def to_representation(self, value: Any) -> Any:
        return value


class RequirementProgressSerializer(serializers.Serializer):
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.label
    current = ExactNumberField()
    target = ExactNumberField()
    done = serializers.BooleanField()


class MissionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    category = serializers.CharField()
    type = serializers.CharField()
    period_type = serializers.CharField()
    period_start = serializers.DateTimeField()
    period_end = serializers.DateTimeField(allow_null=True, help_text="Null: never ends.")
    requirements = serializers.DictField(
        child=RequirementProgressSerializer(), help_text="Requirement key → its progress."
    )
    percentage = serializers.IntegerField(min_value=0, max_value=100)
    rewards = serializers.JSONField(help_text="xp, dgt, items, badges, titles (template JSON).")
    status = serializers.ChoiceField(
        choices=["active", "completed", "claimed", "expired", "failed"]
    )
    completed_at = serializers.DateTimeField(allow_null=True)
    claimed_at = serializers.DateTimeField(allow_null=True)
    next_reset = serializers.DateTimeField(
        allow_null=True,
        help_text="When this mission's period type rolls over next (null: special, perpetual).",
    )


def mission_next_reset(
    mission: ActiveMission, now: datetime, schedule: Schedule | None = None
) -> datetime | None:
    """When the player's period of this mission's type rolls over next: a current mission's
    stored end (its period is the player's own, local), else computed from the player's
    schedule (loaded when not given). None for special and perpetual."""
    if mission.period_type not in DRAWN_PERIOD_TYPES:
        return None
    end = mission.period_end
    if end is not None and mission.period_start <= now < end:
        return end
    return next_reset(mission.period_type, now, schedule=schedule or schedule_for(mission.user_id))


def mission_fields(
    mission: ActiveMission, *, now: datetime, schedule: Schedule | None = None
) -> dict[str, Any]:
    """Needs `template` and `progress` loaded (player_missions does both)."""
    template = mission.template
    return {
        "id": mission.pk,
        "key": template.key,
        "name": template.name,
        "description": template.description,
        "category": template.category,
        "type": template.type,
        "period_type": mission.period_type,
        "period_start": mission.period_start,
        "period_end": mission.period_end,
        "requirements": mission_requirements(mission),
        "percentage": mission_percentage(mission),
        "rewards": template.rewards or {},
        "status": mission.state,
        "completed_at": mission.completed_at,
        "claimed_at": mission.claimed_at,
        "next_reset": mission_next_reset(mission, now, schedule),
    }


def mission_json(mission: ActiveMission, *, now: datetime) -> dict[str, Any]:
    """JSON-ready (ISO-8601 datetimes), exactly as GET /api/v1/missions/{id} answers."""
    return dict(MissionSerializer(mission_fields(mission, now=now)).data)


class RewardsSerializer(serializers.Serializer):
    xp = serializers.IntegerField()
    dgt = serializers.CharField(help_text="Decimal string.")
    items = serializers.ListField(child=serializers.DictField(), help_text="[{key, qty}]")
    badges = serializers.ListField(child=serializers.CharField())
    titles = serializers.ListField(child=serializers.CharField())


class BonusSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="speed, streak or perfect.")
    multiplier_xp = serializers.CharField(help_text="Decimal string, e.g. `1.5`.")
    multiplier_dgt = serializers.CharField(help_text="Decimal string, e.g. `1.25`.")
    detail = serializers.JSONField(help_text="Why it applied (e.g. the streak length).")
    explanation = serializers.CharField(
        help_text='For players: "perfect: every monthly mission completed, ×1.25 XP".'
    )


class BalancesSerializer(serializers.Serializer):
    xp = serializers.IntegerField()
    dgt = serializers.CharField(help_text="Decimal string.")
