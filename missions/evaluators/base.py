"""The one evaluator interface and the in-memory state it works on.

Live ingestion and replay both fold events into `MissionRun`s with these classes, so there is
one place where events become progress (invariant 1 of SPEC.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

from ..periods import Schedule
from .matching import as_decimal, matches_where

ACTIVE = "active"
COMPLETED = "completed"
FAILED = "failed"


@dataclass(frozen=True, slots=True)
class EventRecord:
    """An event as the engine sees it (stored in the log before it is applied)."""

    seq: int
    event_id: str
    user_id: int
    action: str
    occurred_at: datetime
    received_at: datetime
    data: Mapping[str, Any]


@dataclass(slots=True)
class ProgressState:
    key: str
    action: str
    target: Decimal
    current: Decimal = Decimal(0)
    done_at: datetime | None = None
    reached_at: datetime | None = None
    progress_id: int = 0
    # distinct values (unique) or day/week keys (streak); new_values are not stored yet
    values: set[str] = field(default_factory=set)
    new_values: set[str] = field(default_factory=set)
    changed: bool = False
    # The player's timezone schedule: a streak requirement counts their local days (None: UTC)
    schedule: Schedule | None = None

    @property
    def done(self) -> bool:
        return self.current >= self.target


@dataclass(slots=True)
class MissionRun:
    """One active mission being folded over events."""

    mission_id: int
    user_id: int
    template_key: str
    mission_type: str
    requirements: Mapping[str, Mapping[str, Any]]
    metadata: Mapping[str, Any]
    period_start: datetime
    period_end: datetime | None
    assigned_at: datetime
    state: str
    completed_at: datetime | None
    progress: dict[str, ProgressState]
    state_changed: bool = False
    # The requirement order and, per action, the keys listening to it in that order: computed
    # on the first event (a fold sees thousands of events per run in a backtest).
    order: list[str] | None = field(default=None, repr=False, compare=False)
    listening: dict[str, list[str]] | None = field(default=None, repr=False, compare=False)

    @property
    def all_done(self) -> bool:
        # a loop, not all(<generator>): a fold calls this for every event
        for progress in self.progress.values():
            if progress.current < progress.target:
                return False
        return bool(self.progress)


@dataclass(slots=True)
class Step:
    """What one event did to one mission."""

    changed: list[str] = field(default_factory=list)
    completed: bool = False
    failed: bool = False


class Evaluator:
    """Base evaluator: a requirement's progress is the number of matching events, or the sum
    of their `field`. Subclasses override the hooks below, nothing else."""

    type: ClassVar[str] = ""

    # -- hooks ---------------------------------------------------------------------------
    def counts(self, run: MissionRun, key: str, event: EventRecord) -> bool:
        """Whether this matching event counts for requirement `key` (time windows, order)."""
        return True

    def aggregate(
        self, progress: ProgressState, requirement: Mapping[str, Any], event: EventRecord
    ) -> bool:
        """Fold the event into the requirement; True when `current` moved."""
        name = requirement.get("field")
        amount = Decimal(1) if not name else as_decimal(event.data.get(name))
        if amount is None or amount <= 0:
            return False
        progress.current += amount
        return True

    def fails(self, run: MissionRun, event: EventRecord) -> bool:
        """Whether this event ends the mission as failed."""
        return False

    def completes(self, run: MissionRun) -> bool:
        """Whether the mission is complete now: by default, when every requirement is met."""
        return run.all_done

    # -- the fold ------------------------------------------------------------------------
    def apply(self, run: MissionRun, event: EventRecord, *, late_grace: timedelta) -> Step:
        step = Step()
        if run.state != ACTIVE or not in_period(run, event, late_grace):
            return step
        for key in keys_for(run, event.action):
            requirement = run.requirements[key]
            if not matches_where(requirement.get("where"), event.data):
                continue
            progress = run.progress.get(key)
            if progress is None or not self.counts(run, key, event):
                continue
            was_done = progress.done
            if self.aggregate(progress, requirement, event):
                progress.changed = True
                progress.reached_at = event.occurred_at
                if progress.done and not was_done:
                    progress.done_at = event.occurred_at
                step.changed.append(key)
        if run.state == ACTIVE and self.completes(run):
            run.state, run.completed_at, run.state_changed = COMPLETED, event.occurred_at, True
            step.completed = True
        elif run.state == ACTIVE and self.fails(run, event):
            run.state, run.state_changed = FAILED, True
            step.failed = True
        return step


def in_period(run: MissionRun, event: EventRecord, late_grace: timedelta) -> bool:
    """The late-event rule: the event happened inside the mission's period, arrived no later
    than `late_grace` after the period ended, and arrived after the mission was assigned."""
    if run.assigned_at > event.received_at:
        return False
    if event.occurred_at < run.period_start:
        return False
    if run.period_end is None:
        return True
    return event.occurred_at < run.period_end and event.received_at < run.period_end + late_grace


def ordered_keys(run: MissionRun) -> list[str]:
    """`requirement_order(run)`, computed once per run (the run's requirements never change
    while it is folded)."""
    if run.order is None:
        run.order = requirement_order(run)
    return run.order


def keys_for(run: MissionRun, action: str) -> list[str]:
    """The requirement keys whose action is `action`, in the requirement order: the only ones
    an event of that action can match (`requirement_matches` checks the action first)."""
    if run.listening is None:
        listening: dict[str, list[str]] = {}
        for key in ordered_keys(run):
            listening.setdefault(str(run.requirements[key].get("action")), []).append(key)
        run.listening = listening
    return run.listening.get(action, [])


def requirement_order(run: MissionRun) -> list[str]:
    """Requirement keys in the author's order: `metadata.order` when given (Postgres jsonb does
    not keep object key order), else the stored order."""
    order = run.metadata.get("order")
    keys = list(run.requirements)
    if isinstance(order, list) and sorted(order) == sorted(keys):
        return [str(key) for key in order]
    return keys
