"""Applying stored events to mission progress, set-based.

`progress_apply` loads every mission a batch can touch in a fixed number of queries, folds
the events into them in log order with the evaluators (missions/evaluators/), and writes the
changes back in a fixed number of queries. Replay (replay.py) runs the same fold from zero.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from .. import metrics
from ..cache import player_cache_bump
from ..evaluators import EventRecord, MissionRun, ProgressState, evaluator_for
from ..evaluators.base import ACTIVE, FAILED
from ..evaluators.matching import value_key
from ..models import ActiveMission, MissionProgress, MissionTemplate, MissionType, ProgressValue
from ..selectors import format_number
from ..signals import live_messages, mission_completed, missions_completed_in_transaction

logger = logging.getLogger(__name__)

# The celebration the hub plays per category (the sketch's getCompletionAnimation).
COMPLETION_ANIMATIONS = {
    "participation": "confetti",
    "social": "hearts",
    "trading": "coins",
    "content": "sparkles",
    "engagement": "fireworks",
    "achievement": "trophy",
    "special_event": "snowfall",
    "vip_exclusive": "crown",
}
VALUE_TYPES = (MissionType.UNIQUE, MissionType.STREAK)


def late_grace() -> timedelta:
    return timedelta(minutes=settings.MISSIONS_LATE_EVENT_GRACE_MINUTES)


@dataclass
class FoldResult:
    runs: dict[int, MissionRun]
    completed: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    # (action, mission type) -> events that moved a mission's progress (for the metrics)
    updates: Counter[tuple[str, str]] = field(default_factory=Counter)


def run_from(
    mission: ActiveMission, progress: Iterable[MissionProgress], *, fresh: bool
) -> MissionRun:
    """An in-memory run of a stored mission; `fresh` starts from zero (replay)."""
    template = mission.template
    states = {}
    for row in progress:
        states[row.requirement_key] = ProgressState(
            key=row.requirement_key,
            action=row.action,
            target=row.target,
            current=Decimal(0) if fresh else row.current,
            done_at=None if fresh else row.done_at,
            reached_at=None if fresh else row.reached_at,
            progress_id=row.pk,
        )
    return MissionRun(
        mission_id=mission.pk,
        user_id=mission.user_id,
        template_key=template.key,
        mission_type=template.type,
        requirements={k: v for k, v in (template.requirements or {}).items() if k in states},
        metadata=template.metadata or {},
        period_start=mission.period_start,
        period_end=mission.period_end,
        assigned_at=mission.assigned_at,
        state=ACTIVE if fresh else mission.state,
        completed_at=None if fresh else mission.completed_at,
        progress=states,
    )


def fold(runs: dict[int, MissionRun], events: Sequence[EventRecord]) -> FoldResult:
    """Apply events in log order (`seq`) to the runs. Pure: no database access."""
    index: dict[tuple[int, str], list[MissionRun]] = defaultdict(list)
    for run in runs.values():
        for action in {p.action for p in run.progress.values()}:
            index[(run.user_id, action)].append(run)
    for bucket in index.values():
        bucket.sort(key=lambda r: r.mission_id)
    result = FoldResult(runs=runs)
    grace = late_grace()
    for event in sorted(events, key=lambda e: e.seq):
        for run in index.get((event.user_id, event.action), ()):
            step = evaluator_for(run.mission_type).apply(run, event, late_grace=grace)
            if step.changed:
                result.updates[(event.action, str(run.mission_type))] += 1
            if step.completed:
                result.completed.append(run.mission_id)
            if step.failed:
                result.failed.append(run.mission_id)
    return result


def _load_runs(
    events: Sequence[EventRecord],
) -> tuple[dict[int, MissionRun], dict[int, ActiveMission]]:
    """Lock and load every mission the events can touch: 3 queries whatever the batch size."""
    user_ids = sorted({e.user_id for e in events})
    actions = sorted({e.action for e in events})
    earliest = min(e.occurred_at for e in events)
    latest = max(e.occurred_at for e in events)
    touching = MissionProgress.objects.filter(user_id__in=user_ids, action__in=actions).values(
        "mission_id"
    )
    missions = list(
        ActiveMission.objects.select_for_update(of=("self",))
        .filter(state=ACTIVE, user_id__in=user_ids, id__in=touching)
        .filter(period_start__lte=latest)
        .filter(Q(period_end__isnull=True) | Q(period_end__gt=earliest))
        .order_by("id")
    )
    if not missions:
        return {}, {}
    # A handful of templates serve thousands of missions: decode their JSON once.
    templates = MissionTemplate.objects.in_bulk({m.template_id for m in missions})
    for mission in missions:
        mission.template = templates[mission.template_id]
    by_mission: dict[int, list[MissionProgress]] = defaultdict(list)
    for row in MissionProgress.objects.filter(mission_id__in=[m.pk for m in missions]).order_by(
        "id"
    ):
        by_mission[row.mission_id].append(row)
    runs = {m.pk: run_from(m, by_mission[m.pk], fresh=False) for m in missions}
    # Streaks need their whole (small) set of days; unique requirements only need to know
    # whether this batch's values were seen before, so only those are loaded.
    streak_rows = {
        p.progress_id: p
        for r in runs.values()
        if r.mission_type == MissionType.STREAK
        for p in r.progress.values()
    }
    unique_rows = {
        p.progress_id: p
        for r in runs.values()
        if r.mission_type == MissionType.UNIQUE
        for p in r.progress.values()
    }
    if streak_rows or unique_rows:
        fields = {
            str(req.get("field"))
            for r in runs.values()
            if r.mission_type == MissionType.UNIQUE
            for req in r.requirements.values()
        }
        candidates = {
            key
            for e in events
            for name in fields
            if (key := value_key(e.data.get(name))) is not None
        }
        wanted = Q(progress_id__in=list(streak_rows)) | Q(
            progress_id__in=list(unique_rows), value__in=sorted(candidates)
        )
        rows = {**streak_rows, **unique_rows}
        for progress_id, value in ProgressValue.objects.filter(wanted).values_list(
            "progress_id", "value"
        ):
            rows[progress_id].values.add(value)
    return runs, {m.pk: m for m in missions}


def _write(runs: Iterable[MissionRun]) -> None:
    """Write changed progress, new values and state changes: at most 3 queries."""
    runs = list(runs)
    changed = [p for r in runs for p in r.progress.values() if p.changed]
    if connection.vendor != "postgresql":
        _write_portable(runs, changed)
        return
    with connection.cursor() as cursor:
        if changed:
            cursor.execute(
                """
                UPDATE missions_missionprogress AS p
                SET current = v.current, done_at = v.done_at, reached_at = v.reached_at
                FROM unnest(%s::bigint[], %s::numeric[], %s::timestamptz[], %s::timestamptz[])
                     AS v(id, current, done_at, reached_at)
                WHERE p.id = v.id
                """,
                [
                    [p.progress_id for p in changed],
                    [p.current for p in changed],
                    [p.done_at for p in changed],
                    [p.reached_at for p in changed],
                ],
            )
        moved = [r for r in runs if r.state_changed]
        if moved:
            cursor.execute(
                """
                UPDATE missions_activemission AS m
                SET state = v.state, completed_at = v.completed_at
                FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[])
                     AS v(id, state, completed_at)
                WHERE m.id = v.id
                """,
                [
                    [r.mission_id for r in moved],
                    [r.state for r in moved],
                    [r.completed_at for r in moved],
                ],
            )
    new_values = [
        ProgressValue(progress_id=p.progress_id, value=value)
        for r in runs
        for p in r.progress.values()
        for value in sorted(p.new_values)
    ]
    if new_values:
        ProgressValue.objects.bulk_create(new_values, ignore_conflicts=True)


def _write_portable(runs: list[MissionRun], changed: list[ProgressState]) -> None:
    """The same writes through the ORM, for SQLite (the embedded dev default)."""
    MissionProgress.objects.bulk_update(
        [
            MissionProgress(
                pk=p.progress_id, current=p.current, done_at=p.done_at, reached_at=p.reached_at
            )
            for p in changed
        ],
        ["current", "done_at", "reached_at"],
    )
    ActiveMission.objects.bulk_update(
        [
            ActiveMission(pk=r.mission_id, state=r.state, completed_at=r.completed_at)
            for r in runs
            if r.state_changed
        ],
        ["state", "completed_at"],
    )
    new_values = [
        ProgressValue(progress_id=p.progress_id, value=value)
        for r in runs
        for p in r.progress.values()
        for value in sorted(p.new_values)
    ]
    ProgressValue.objects.bulk_create(new_values, ignore_conflicts=True)


def _percentage(progress: ProgressState) -> int:
    if progress.target <= 0:
        return 100
    return int(min(Decimal(1), progress.current / progress.target) * 100)


def _announce(
    runs: dict[int, MissionRun], missions: dict[int, ActiveMission], completed: list[int]
) -> None:
    """Live messages and the mission_completed signal, all after the commit."""
    outbox: list[tuple[int, dict[str, Any]]] = []
    for run in runs.values():
        for progress in run.progress.values():
            if not progress.changed:
                continue
            shown = (
                progress.current
                if run.mission_type == MissionType.COMPETITIVE
                else min(progress.current, progress.target)
            )
            outbox.append(
                (
                    run.user_id,
                    {
                        "type": "mission:progress",
                        "missionId": run.mission_id,
                        "requirement": progress.key,
                        "current": format_number(shown),
                        "target": format_number(progress.target),
                        "percentage": _percentage(progress),
                    },
                )
            )
    for mission_id in completed:
        mission = missions[mission_id]
        run = runs[mission_id]
        mission.state, mission.completed_at = run.state, run.completed_at
        outbox.append(
            (
                run.user_id,
                {
                    "type": "mission:complete",
                    "missionId": mission.pk,
                    "name": mission.template.name,
                    "rewards": mission.template.rewards,
                    "animation": COMPLETION_ANIMATIONS.get(mission.template.category, "confetti"),
                },
            )
        )
    live_messages.send(sender=ActiveMission, messages=outbox)
    if completed:
        missions_completed_in_transaction.send(
            sender=ActiveMission, missions=[missions[mission_id] for mission_id in completed]
        )
    for mission_id in completed:
        transaction.on_commit(_completed_sender(missions[mission_id]))


def _record(result: FoldResult, missions: dict[int, ActiveMission]) -> None:
    """One metrics call and one cache-version bump per batch, after the commit."""
    player_cache_bump(
        user_ids={
            r.user_id
            for r in result.runs.values()
            if r.state_changed or any(p.changed for p in r.progress.values())
        }
    )
    updates = dict(result.updates)
    completions = Counter(
        (m.template.category, m.template.type, m.period_type)
        for m in (missions[mission_id] for mission_id in result.completed)
    )
    if updates or completions:
        transaction.on_commit(
            lambda: metrics.progress_recorded(updates=updates, completions=completions)
        )


def _completed_sender(mission: ActiveMission) -> Callable[[], None]:
    def send() -> None:
        # The events and the completion are committed: a failing receiver must not turn the
        # sender's accepted batch into an error, nor stop the other receivers.
        for receiver, result in mission_completed.send_robust(
            sender=ActiveMission, mission=mission
        ):
            if isinstance(result, Exception):
                logger.error(
                    "mission_completed receiver %r failed for mission %s",
                    receiver,
                    mission.pk,
                    exc_info=result,
                )
                metrics.error_recorded("receiver_failed", "error")

    return send


def progress_apply(*, events: Sequence[EventRecord]) -> FoldResult:
    """Apply freshly stored events. Call inside the transaction that stored them, holding the
    users' ingestion locks (ingest.py), so events of one user are applied in log order."""
    if not events:
        return FoldResult(runs={})
    runs, missions = _load_runs(events)
    if not runs:
        return FoldResult(runs={})
    result = fold(runs, events)
    _write(runs.values())
    _announce(runs, missions, result.completed)
    _record(result, missions)
    return result


__all__ = ["COMPLETION_ANIMATIONS", "FAILED", "FoldResult", "fold", "progress_apply", "run_from"]
