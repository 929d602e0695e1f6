"""Applying stored events to mission progress: cost follows the events, not the missions.

`progress_apply` loads, with one raw SQL join and no model objects, only the missions whose
requirements listen to a (player, action) pair of the batch (2 queries; a 3rd fetches just
the `unique` values the batch can collide with and the streak days near its days); folds the
events into them in log order with the evaluators (`fold`, pure); and writes back in at most
3 statements: progress as `current + delta` (count, sum, unique, combo, timebound,
competitive) or `GREATEST(current, value)` (threshold, streak), new values, state changes.

One fold serves everything: live ingestion (here), replay (replay.py, from zero over the log)
and backtests of unsaved templates (`fold_events`). docs/performance.md has the figures.
"""

from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from operator import attrgetter
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from .. import metrics
from ..cache import player_cache_bump
from ..evaluators import EventRecord, MissionRun, ProgressState, Step, evaluator_for
from ..evaluators.base import ACTIVE, COMPLETED, FAILED
from ..evaluators.matching import value_key
from ..evaluators.streak import period_key
from ..models import ActiveMission, MissionProgress, MissionTemplate, MissionType, ProgressValue
from ..periods import period_for
from ..selectors import format_number
from ..signals import live_messages, mission_completed, missions_completed_in_transaction
from .timezones import schedules_for

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
    # (player, action) -> the runs listening to it, with their evaluator's `apply` and type
    index: dict[tuple[int, str], list[tuple[MissionRun, Callable[..., Step], str]]] = {}
    for run in sorted(runs.values(), key=lambda r: r.mission_id):
        entry = (run, evaluator_for(run.mission_type).apply, str(run.mission_type))
        for action in {p.action for p in run.progress.values()}:
            index.setdefault((run.user_id, action), []).append(entry)
    result = FoldResult(runs=runs)
    updates = result.updates
    grace = late_grace()
    for event in sorted(events, key=attrgetter("seq")):
        bucket = index.get((event.user_id, event.action))
        if bucket is None:
            continue
        for run, apply, mission_type in bucket:
            if run.state != ACTIVE:  # apply() would do nothing: a finished run never moves
                continue
            step = apply(run, event, late_grace=grace)
            if step.changed:
                updates[(event.action, mission_type)] += 1
            if step.completed:
                result.completed.append(run.mission_id)
            if step.failed:
                result.failed.append(run.mission_id)
    return result


@dataclass(frozen=True)
class MissionOutcome:
    """What one (player, period) of a template would have reached: `fold_events`' answer."""

    user_id: int
    period_start: datetime
    period_end: datetime | None
    state: str
    completed_at: datetime | None
    progress: dict[str, Decimal]


def fold_events(
    template: MissionTemplate,
    events: Iterable[EventRecord],
    *,
    assigned_at: datetime | None = None,
) -> list[MissionOutcome]:
    """Fold recorded events into a template as if every player who sent one of its actions
    had it assigned at the start of each period (or at `assigned_at`, if later; it matters
    for timebound deadlines and perpetual missions): the admin backtest's engine. Pure — no
    database access, nothing written — so `template` may be unsaved (requirements, metadata,
    type, period_type and, for special templates, starts_at/ends_at are read).

    The same evaluators and `fold` as live ingestion and replay, so a backtest predicts what
    the engine would do. Events are folded in `seq` order; give recorded events their log id.
    Returns one outcome per (player, period instance) that any event reached, ordered by
    player then period.
    """
    requirements = {str(k): v for k, v in (template.requirements or {}).items()}
    actions = {str(r.get("action")) for r in requirements.values()}
    runs: dict[int, MissionRun] = {}
    keys: dict[tuple[int, datetime], int] = {}
    relevant: list[EventRecord] = []
    for event in events:
        if event.action not in actions:
            continue
        try:
            period = period_for(template.period_type, event.occurred_at, template)
        except ValueError:
            continue  # a special template without its window
        pair = (event.user_id, period.start)
        if pair not in keys:
            keys[pair] = len(keys) + 1
            runs[keys[pair]] = MissionRun(
                mission_id=keys[pair],
                user_id=event.user_id,
                template_key=template.key,
                mission_type=template.type,
                requirements=requirements,
                metadata=template.metadata or {},
                period_start=period.start,
                period_end=period.end,
                assigned_at=max(period.start, assigned_at or period.start),
                state=ACTIVE,
                completed_at=None,
                progress={
                    key: ProgressState(
                        key=key,
                        action=str(r.get("action")),
                        target=Decimal(str(r.get("target"))),
                    )
                    for key, r in requirements.items()
                },
            )
        relevant.append(event)
    fold(runs, relevant)
    return sorted(
        (
            MissionOutcome(
                user_id=run.user_id,
                period_start=run.period_start,
                period_end=run.period_end,
                state=run.state,
                completed_at=run.completed_at,
                progress={key: p.current for key, p in run.progress.items()},
            )
            for run in runs.values()
        ),
        key=lambda o: (o.user_id, o.period_start),
    )


@dataclass(frozen=True)
class TemplateInfo:
    """What the fold and the live messages need of a template (no model object)."""

    key: str
    type: str
    name: str
    category: str
    requirements: Mapping[str, Mapping[str, Any]]
    metadata: Mapping[str, Any]
    rewards: Mapping[str, Any]


# The load: only the missions whose progress rows listen to a (player, action) pair of the
# batch, with all of their rows (completion needs every requirement), as plain tuples.
TOUCHED_SQL = """
SELECT m.id, m.user_id, m.template_id, m.period_start, m.period_end, m.assigned_at,
       q.id, q.requirement_key, q.action, q.current, q.target, q.done_at, q.reached_at
FROM missions_activemission m
JOIN missions_missionprogress q ON q.mission_id = m.id
WHERE m.id IN (
        SELECT p.mission_id
        FROM (SELECT DISTINCT u, a FROM unnest(%s::bigint[], %s::text[]) AS x(u, a)) AS pairs
        JOIN missions_missionprogress p ON p.user_id = pairs.u AND p.action = pairs.a
      )
  AND m.state = 'active' AND m.period_start <= %s
  AND (m.period_end IS NULL OR m.period_end > %s)
ORDER BY m.id, q.id
"""

# Unique values the batch can collide with, and streak days near the batch's days.
VALUES_SQL = """
SELECT v.progress_id, v.value
FROM missions_progressvalue v
JOIN unnest(%s::bigint[], %s::text[]) AS w(id, value)
  ON v.progress_id = w.id AND v.value = w.value
UNION ALL
SELECT v.progress_id, v.value
FROM missions_progressvalue v
JOIN unnest(%s::bigint[], %s::text[], %s::text[]) AS d(id, lo, hi)
  ON v.progress_id = d.id AND v.value BETWEEN d.lo AND d.hi
"""


def _templates(ids: Iterable[int]) -> dict[int, TemplateInfo]:
    """A handful of templates serve thousands of missions: one small query, JSON decoded once."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, key, type, name, category, requirements, metadata, rewards "
            "FROM missions_missiontemplate WHERE id = ANY(%s)",
            [sorted(ids)],
        )
        rows = cursor.fetchall()
    decode = _json_decoder()
    return {
        row[0]: TemplateInfo(
            key=row[1],
            type=row[2],
            name=row[3],
            category=row[4],
            requirements=decode(row[5]) or {},
            metadata=decode(row[6]) or {},
            rewards=decode(row[7]) or {},
        )
        for row in rows
    }


def _json_decoder() -> Callable[[Any], Any]:
    # Postgres hands jsonb over decoded; SQLite hands the text.
    return lambda value: json.loads(value) if isinstance(value, str) else value


def _touched_rows(events: Sequence[EventRecord]) -> list[tuple[Any, ...]]:
    pairs = sorted({(e.user_id, e.action) for e in events})
    earliest = min(e.occurred_at for e in events)
    latest = max(e.occurred_at for e in events)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                TOUCHED_SQL,
                [[u for u, _ in pairs], [a for _, a in pairs], latest, earliest],
            )
            return cursor.fetchall()
    return _touched_rows_portable(pairs, earliest, latest)


def _touched_rows_portable(
    pairs: list[tuple[int, str]], earliest: datetime, latest: datetime
) -> list[tuple[Any, ...]]:
    """The same rows through the ORM, for SQLite (the embedded dev default)."""
    wanted = Q()
    for user_id, action in pairs:
        wanted |= Q(user_id=user_id, action=action)
    touching = MissionProgress.objects.filter(wanted).values("mission_id")
    return list(
        MissionProgress.objects.filter(
            mission__in=ActiveMission.objects.filter(
                Q(period_end__isnull=True) | Q(period_end__gt=earliest),
                id__in=touching,
                state=ACTIVE,
                period_start__lte=latest,
            )
        )
        .order_by("mission_id", "id")
        .values_list(
            "mission_id",
            "mission__user_id",
            "mission__template_id",
            "mission__period_start",
            "mission__period_end",
            "mission__assigned_at",
            "id",
            "requirement_key",
            "action",
            "current",
            "target",
            "done_at",
            "reached_at",
        )
    )


def _load_runs(events: Sequence[EventRecord]) -> tuple[dict[int, MissionRun], dict[int, int]]:
    """Runs for every mission the events can touch: 2 queries (3 with unique or streak
    requirements), whatever the batch size or the number of missions a player has.

    Returns the runs and mission id -> template id."""
    rows = _touched_rows(events)
    if not rows:
        return {}, {}
    templates = _templates({row[2] for row in rows})
    runs: dict[int, MissionRun] = {}
    template_of: dict[int, int] = {}
    for (
        mission_id,
        user_id,
        template_id,
        period_start,
        period_end,
        assigned_at,
        progress_id,
        key,
        action,
        current,
        target,
        done_at,
        reached_at,
    ) in rows:
        run = runs.get(mission_id)
        if run is None:
            template = templates[template_id]
            template_of[mission_id] = template_id
            run = runs[mission_id] = MissionRun(
                mission_id=mission_id,
                user_id=user_id,
                template_key=template.key,
                mission_type=template.type,
                requirements=template.requirements,
                metadata=template.metadata,
                period_start=period_start,
                period_end=period_end,
                assigned_at=assigned_at,
                state=ACTIVE,
                completed_at=None,
                progress={},
            )
        run.progress[key] = ProgressState(
            key=key,
            action=action,
            target=target,
            current=current,
            done_at=done_at,
            reached_at=reached_at,
            progress_id=progress_id,
        )
    for run in runs.values():
        if len(run.progress) != len(run.requirements):
            # A requirement added to the template after assignment has no row: ignore it.
            run.requirements = {k: v for k, v in run.requirements.items() if k in run.progress}
    _load_values(runs, events)
    return runs, template_of


def _load_values(runs: dict[int, MissionRun], events: Sequence[EventRecord]) -> None:
    """Only the stored values the batch can meet: for `unique`, this batch's values of the
    field; for `streak`, the days within (current + 1) periods of this batch's days (a run
    through a new day extends at most `current` periods each way over stored days)."""
    by_pair: dict[tuple[int, str], list[EventRecord]] = defaultdict(list)
    by_user: dict[int, int] = defaultdict(int)
    for event in events:
        by_pair[(event.user_id, event.action)].append(event)
        by_user[event.user_id] += 1
    # A streak requirement counts the player's local days: their schedules, one query, only
    # when a batch touches one.
    streak_users = [
        run.user_id
        for run in runs.values()
        if run.mission_type == MissionType.STREAK and by_user.get(run.user_id)
    ]
    schedules = schedules_for(streak_users) if streak_users else {}
    unique_ids: list[int] = []
    unique_values: list[str] = []
    streak_ids: list[int] = []
    streak_lo: list[str] = []
    streak_hi: list[str] = []
    rows: dict[int, ProgressState] = {}
    for run in runs.values():
        if run.mission_type not in VALUE_TYPES:
            continue
        for progress in run.progress.values():
            requirement = run.requirements.get(progress.key) or {}
            touching = by_pair.get((run.user_id, progress.action), ())
            if not touching:
                continue
            rows[progress.progress_id] = progress
            if run.mission_type == MissionType.UNIQUE:
                name = str(requirement.get("field"))
                for value in {value_key(e.data.get(name)) for e in touching} - {None}:
                    unique_ids.append(progress.progress_id)
                    unique_values.append(str(value))
            else:
                unit = str(requirement.get("unit") or "day")
                step = timedelta(days=7 if unit == "week" else 1)
                progress.schedule = schedules[run.user_id]
                days = [
                    date.fromisoformat(period_key(e, unit, progress.schedule)) for e in touching
                ]
                reach = step * (int(progress.current) + 1)
                streak_ids.append(progress.progress_id)
                streak_lo.append((min(days) - reach).isoformat())
                streak_hi.append((max(days) + reach).isoformat())
    if not rows:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                VALUES_SQL, [unique_ids, unique_values, streak_ids, streak_lo, streak_hi]
            )
            found = cursor.fetchall()
    else:
        wanted = Q(pk__in=[])
        for progress_id, value in zip(unique_ids, unique_values, strict=True):
            wanted |= Q(progress_id=progress_id, value=value)
        for progress_id, lo, hi in zip(streak_ids, streak_lo, streak_hi, strict=True):
            wanted |= Q(progress_id=progress_id, value__gte=lo, value__lte=hi)
        found = list(ProgressValue.objects.filter(wanted).values_list("progress_id", "value"))
    for progress_id, value in found:
        rows[progress_id].values.add(value)


# Types whose `current` only grows by what the events add: written as `current + delta`.
# threshold and streak are maxima: written with GREATEST. Either way a write never needs
# the value read before it, so it stays right even if another writer got there first.
MAXIMUM_TYPES = (MissionType.THRESHOLD, MissionType.STREAK)


def _write(runs: Iterable[MissionRun], before: dict[int, Decimal]) -> list[int]:
    """Write changed progress, new values and state changes: at most 3 statements.

    Returns the missions this write completed (a mission the scheduler closed meanwhile is
    not completed: the state change is conditional on `active`)."""
    runs = list(runs)
    changed = [(r, p) for r in runs for p in r.progress.values() if p.changed]
    moved = [r for r in runs if r.state_changed]
    new_values = [
        (p.progress_id, value)
        for r in runs
        for p in r.progress.values()
        for value in sorted(p.new_values)
    ]
    if connection.vendor != "postgresql":
        return _write_portable(runs, [p for _, p in changed])
    completed: list[int] = []
    with connection.cursor() as cursor:
        if changed:
            cursor.execute(
                """
                UPDATE missions_missionprogress AS p
                SET current = CASE WHEN v.maximum THEN GREATEST(p.current, v.delta)
                                   ELSE p.current + v.delta END,
                    done_at = COALESCE(p.done_at, v.done_at),
                    reached_at = COALESCE(v.reached_at, p.reached_at)
                FROM unnest(%s::bigint[], %s::numeric[], %s::bool[], %s::timestamptz[],
                            %s::timestamptz[]) AS v(id, delta, maximum, done_at, reached_at)
                WHERE p.id = v.id
                """,
                [
                    [p.progress_id for _, p in changed],
                    [
                        p.current
                        if r.mission_type in MAXIMUM_TYPES
                        else p.current - before[p.progress_id]
                        for r, p in changed
                    ],
                    [r.mission_type in MAXIMUM_TYPES for r, _ in changed],
                    [p.done_at for _, p in changed],
                    [p.reached_at for _, p in changed],
                ],
            )
        if moved:
            cursor.execute(
                """
                UPDATE missions_activemission AS m
                SET state = v.state, completed_at = v.completed_at
                FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[])
                     AS v(id, state, completed_at)
                WHERE m.id = v.id AND m.state = 'active'
                RETURNING m.id, m.state
                """,
                [
                    [r.mission_id for r in moved],
                    [r.state for r in moved],
                    [r.completed_at for r in moved],
                ],
            )
            completed = sorted(i for i, state in cursor.fetchall() if state == COMPLETED)
        if new_values:
            cursor.execute(
                """
                INSERT INTO missions_progressvalue (progress_id, value)
                SELECT * FROM unnest(%s::bigint[], %s::text[])
                ON CONFLICT DO NOTHING
                """,
                [[i for i, _ in new_values], [v for _, v in new_values]],
            )
    return completed


def _write_portable(runs: list[MissionRun], changed: list[ProgressState]) -> list[int]:
    """The same writes through the ORM, for SQLite (the embedded dev default; one writer, so
    absolute values are the same as deltas)."""
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
    return sorted(r.mission_id for r in runs if r.state_changed and r.state == COMPLETED)


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
        outbox.append(
            (
                mission.user_id,
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
    runs, _ = _load_runs(events)
    if not runs:
        return FoldResult(runs={})
    before = {p.progress_id: p.current for r in runs.values() for p in r.progress.values()}
    result = fold(runs, events)
    result.completed = _write(runs.values(), before)
    # The receivers (rewards, streaks) and metrics get model objects: one query, only for
    # completions.
    missions = (
        ActiveMission.objects.select_related("template").in_bulk(result.completed)
        if result.completed
        else {}
    )
    _announce(runs, missions, result.completed)
    _record(result, missions)
    return result


__all__ = [
    "COMPLETION_ANIMATIONS",
    "FAILED",
    "FoldResult",
    "MissionOutcome",
    "fold",
    "fold_events",
    "progress_apply",
    "run_from",
]
