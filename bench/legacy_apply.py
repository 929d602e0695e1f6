"""The apply path as it was before issue 11 (kept for the benchmark only).

It loads every active mission of every touched player for every action of the batch as
Django model objects, folds, and writes absolute values back. `make bench` measures it beside
the new path in the same run on the same data; nothing in the product imports this.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.db import connection
from django.db.models import Q

from missions.evaluators import EventRecord, MissionRun, ProgressState
from missions.evaluators.base import ACTIVE
from missions.evaluators.matching import value_key
from missions.models import (
    ActiveMission,
    MissionProgress,
    MissionTemplate,
    MissionType,
    ProgressValue,
)
from missions.services.progress import FoldResult, _announce, fold, run_from


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


def progress_apply(*, events: Sequence[EventRecord]) -> FoldResult:
    if not events:
        return FoldResult(runs={})
    runs, missions = _load_runs(events)
    if not runs:
        return FoldResult(runs={})
    result = fold(runs, events)
    _write(runs.values())
    _announce(runs, missions, result.completed)
    return result
