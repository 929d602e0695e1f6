"""`fold_events` (missions/services/progress.py) on an unsaved template, with answers worked
out by hand: which player and period each event reaches, in what order the outcomes come,
each period's end, and the assignment time the deadlines and the late-event rule start from.
Pure: no database."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from missions.evaluators import EventRecord
from missions.models import MissionTemplate
from missions.services.progress import MissionOutcome, fold_events

from .engine import at, req

_seq = iter(range(1, 10_000))


def record(user_id: int, action: str, when: Any, *, late: timedelta = timedelta()) -> EventRecord:
    return EventRecord(next(_seq), f"e{user_id}-{when}", user_id, action, when, when + late, {})


def template(**fields: Any) -> MissionTemplate:
    data: dict[str, Any] = {"key": "draft", "type": "count", "period_type": "daily", "metadata": {}}
    return MissionTemplate(**{**data, **fields})


def test_one_outcome_per_player_and_period_sorted_by_player_then_period() -> None:
    draft = template(requirements={"p": req(target=2)})
    events = [
        record(2, "post:created", at(0, 9)),  # player 2 first in the log
        record(1, "post:created", at(1, 8)),  # player 1's Tuesday before their Monday
        record(1, "tip:sent", at(0, 9)),  # not an action of the template
        record(1, "post:created", at(0, 10)),
        record(1, "post:created", at(0, 11)),
    ]
    assert fold_events(draft, events) == [
        MissionOutcome(1, at(0), at(1), "completed", at(0, 11), {"p": Decimal(2)}),
        MissionOutcome(1, at(1), at(2), "active", None, {"p": Decimal(1)}),
        MissionOutcome(2, at(0), at(1), "active", None, {"p": Decimal(1)}),
    ]


def test_the_late_event_rule_uses_each_periods_end() -> None:
    draft = template(requirements={"p": req(target=5)})
    events = [
        record(1, "post:created", at(0, 23, 50), late=timedelta(minutes=30)),  # counts
        record(1, "post:created", at(0, 23, 55), late=timedelta(minutes=90)),  # too late
        record(1, "post:created", at(1, 0, 10)),
    ]
    assert fold_events(draft, events) == [
        MissionOutcome(1, at(0), at(1), "active", None, {"p": Decimal(1)}),
        MissionOutcome(1, at(1), at(2), "active", None, {"p": Decimal(1)}),
    ]


def test_a_later_assignment_moves_the_timebound_window_and_the_first_counted_event() -> None:
    draft = template(
        type="timebound",
        requirements={"p": req(target=2)},
        metadata={"time_limit_minutes": 60},
    )
    events = [
        record(1, "post:created", at(0, 1)),  # before the assignment at 02:00: not counted
        record(1, "post:created", at(0, 2, 10)),
        record(1, "post:created", at(0, 2, 50)),  # completes within the hour
        record(2, "post:created", at(0, 2, 30)),
        record(2, "post:created", at(0, 3)),  # at the deadline: fails the mission
    ]
    assert fold_events(draft, events, assigned_at=at(0, 2)) == [
        MissionOutcome(1, at(0), at(1), "completed", at(0, 2, 50), {"p": Decimal(2)}),
        MissionOutcome(2, at(0), at(1), "failed", None, {"p": Decimal(1)}),
    ]


def test_a_special_template_counts_inside_its_window_only() -> None:
    draft = template(
        period_type="special",
        requirements={"p": req(target=3)},
        starts_at=at(2),
        ends_at=at(4),
    )
    events = [
        record(1, "post:created", at(1, 12)),
        record(1, "post:created", at(2, 12)),
        record(1, "post:created", at(3, 12)),
        record(1, "post:created", at(4, 12)),
    ]
    assert fold_events(draft, events) == [
        MissionOutcome(1, at(2), at(4), "active", None, {"p": Decimal(2)}),
    ]


def test_a_special_template_without_its_window_reaches_nobody() -> None:
    draft = template(period_type="special", requirements={"p": req(target=1)})
    assert fold_events(draft, [record(1, "post:created", at(1))]) == []
