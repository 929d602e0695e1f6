"""Demo history: the events that drive a mission to a share of its target.

seed_demo sends them through the real ingestion path so the hub opens with missions in
progress and completed; tests use them to drive every demo mission type to completion.
Event ids are deterministic, so sending them again changes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from ..catalog import action_catalog
from ..evaluators.matching import as_decimal
from ..evaluators.timebound import deadline
from ..models import ActiveMission, MissionType
from ..services.progress import run_from


def _satisfying(
    where: Mapping[str, Mapping[str, Any]], fields: Mapping[str, str]
) -> dict[str, Any]:
    """Data that passes a requirement's `where` filter."""
    data: dict[str, Any] = {}
    for name, condition in (where or {}).items():
        kind = fields.get(name, "str")
        for op, operand in condition.items():
            if op in ("eq", "gte", "lte"):
                value: Any = operand
            elif op == "in":
                value = operand[0]
            elif op == "gt":
                value = int(Decimal(str(operand))) + 1
            elif op == "lt":
                value = max(0, int(Decimal(str(operand))) - 1)
            elif op == "ne":
                value = "other" if kind == "str" else (as_decimal(operand) or 0) + 1
            else:  # contains
                value = f"demo {operand}"
            if kind == "int" and not isinstance(value, bool):
                value = int(value)
            elif kind == "number" and not isinstance(value, int | str):
                value = str(value)
            data[name] = value
    return data


def _instants(mission: ActiveMission, now: datetime, count: int) -> list[datetime]:
    """`count` increasing instants inside the mission's counting window, at or before now."""
    start = max(mission.period_start, mission.assigned_at, now - timedelta(minutes=30))
    if mission.template.type == MissionType.TIMEBOUND:
        start = mission.assigned_at
    step = timedelta(seconds=1)
    return [min(now, start + step * i) for i in range(count)]


def events_for(
    mission: ActiveMission, *, now: datetime, share: float = 1.0
) -> list[dict[str, Any]]:
    """Events that bring `mission` to `share` of each target (1.0 completes it)."""
    template = mission.template
    catalog = action_catalog()
    run = run_from(mission, mission.progress.all(), fresh=True)
    from ..evaluators.base import requirement_order

    out: list[dict[str, Any]] = []
    for key in requirement_order(run):
        requirement = template.requirements[key]
        action = requirement["action"]
        fields = catalog.get(action, {})
        base = _satisfying(requirement.get("where") or {}, fields)
        target = Decimal(str(requirement["target"]))
        goal = target * Decimal(str(share))
        field = requirement.get("field")
        payloads: list[dict[str, Any]] = []
        if template.type == MissionType.THRESHOLD or (field and template.type != "unique"):
            amount = goal if goal == goal.to_integral_value() else goal.quantize(Decimal("0.01"))
            value: Any = int(amount) if fields.get(field) == "int" else str(amount)
            payloads = [{**base, field: value}] if amount > 0 else []
        elif template.type == MissionType.UNIQUE:
            kind = fields.get(field, "int")
            payloads = [
                {**base, field: (i + 1 if kind in ("int", "number") else f"demo-{i + 1}")}
                for i in range(math.ceil(goal))
            ]
        else:
            payloads = [dict(base) for _ in range(math.ceil(goal))]
        if template.type == MissionType.STREAK:
            days = 7 if requirement.get("unit") == "week" else 1
            instants = [
                now - timedelta(days=days * (len(payloads) - 1 - i)) for i in range(len(payloads))
            ]
        else:
            instants = _instants(mission, now, len(payloads))
            if (
                template.type == MissionType.TIMEBOUND
                and instants
                and instants[-1] >= deadline(run)
            ):
                instants = []
        for i, (payload, instant) in enumerate(zip(payloads, instants, strict=False)):
            out.append(
                {
                    "id": f"demo-{mission.pk}-{key}-{i}",
                    "user_id": mission.user_id,
                    "action": action,
                    "occurred_at": instant.isoformat(),
                    "data": payload,
                }
            )
    return out
