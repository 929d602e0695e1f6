"""Mission snapshots: the fold state of each mission as of the end of the newest retired month
of the event log, so replay and its checks still work once old events are gone.

When a month leaves the log (missions/services/event_log.py), `snapshot_fold` folds that
month's events, per chunk of players and in log order, into each touched mission's previous
snapshot (or a fresh start), with the same `fold` as live ingestion and replay. A mission with
no snapshot accepted nothing before the horizon, so replay starts it from zero. Replay then
starts from the snapshot and folds only the events still in the log (received at or after the
horizon) — since a player's arrival times grow with log order, those are exactly the events
after the snapshot.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Max, Q
from django.utils.dateparse import parse_datetime

from ..evaluators import EventRecord, MissionRun
from ..models import ActiveMission, Event, MissionProgress, MissionSnapshot, RetiredPartition
from .progress import fold, run_from
from .timezones import schedules_attach

CHUNK_USERS = 500


def log_horizon() -> datetime | None:
    """Every event received before this instant has left the log (None: nothing has)."""
    return RetiredPartition.objects.aggregate(horizon=Max("range_end"))["horizon"]


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _instant(value: str | None) -> datetime | None:
    return parse_datetime(value) if value else None


def snapshot_of(run: MissionRun, as_of: datetime) -> MissionSnapshot:
    return MissionSnapshot(
        mission_id=run.mission_id,
        as_of=as_of,
        state=run.state,
        completed_at=run.completed_at,
        progress={
            key: {
                "current": str(p.current),
                "done_at": _when(p.done_at),
                "reached_at": _when(p.reached_at),
                "values": sorted(p.values),
            }
            for key, p in run.progress.items()
        },
    )


def snapshot_apply(run: MissionRun, snapshot: MissionSnapshot) -> None:
    """Put a fresh run in the state the snapshot recorded."""
    run.state, run.completed_at = snapshot.state, snapshot.completed_at
    for key, saved in snapshot.progress.items():
        progress = run.progress.get(key)
        if progress is None:
            continue  # a requirement removed from the template since
        progress.current = Decimal(saved["current"])
        progress.done_at = _instant(saved["done_at"])
        progress.reached_at = _instant(saved["reached_at"])
        progress.values = set(saved["values"])


def _untouched(run: MissionRun) -> bool:
    return run.state == "active" and all(
        not p.current and p.done_at is None and p.reached_at is None and not p.values
        for p in run.progress.values()
    )


def runs_for(missions: Sequence[ActiveMission]) -> dict[int, MissionRun]:
    """Fresh runs of these missions, started from their snapshots where they have one."""
    rows: dict[int, list[MissionProgress]] = defaultdict(list)
    for row in MissionProgress.objects.filter(mission_id__in=[m.pk for m in missions]).order_by(
        "id"
    ):
        rows[row.mission_id].append(row)
    runs = {m.pk: run_from(m, rows[m.pk], fresh=True) for m in missions}
    for snapshot in MissionSnapshot.objects.filter(mission_id__in=list(runs)):
        snapshot_apply(runs[snapshot.mission_id], snapshot)
    schedules_attach(runs)  # streak requirements count the players' local days
    return runs


def records(events: Iterable[Event]) -> list[EventRecord]:
    return [
        EventRecord(
            seq=e.pk,
            event_id=e.event_id,
            user_id=e.user_id,
            action=e.action,
            occurred_at=e.occurred_at,
            received_at=e.received_at,
            data=e.data,
        )
        for e in events
    ]


def snapshot_fold(*, start: datetime, end: datetime) -> dict[str, int]:
    """Fold the events received in [start, end) — the leaving month — into the snapshots,
    which are then as of `end`. The caller retires that month in the same transaction."""
    grace = timedelta(minutes=int(settings.MISSIONS_LATE_EVENT_GRACE_MINUTES))
    month = Event.objects.filter(received_at__gte=start, received_at__lt=end)
    users = list(month.values_list("user_id", flat=True).distinct().order_by("user_id"))
    total = {"events": 0, "snapshots": 0}
    for first in range(0, len(users), CHUNK_USERS):
        chunk = users[first : first + CHUNK_USERS]
        events = records(month.filter(user_id__in=chunk).order_by("id"))
        # The missions these events can reach: assigned before they arrived, and not closed
        # (period end plus the late grace) before the month began.
        missions = list(
            ActiveMission.objects.select_related("template")
            .filter(user_id__in=chunk, assigned_at__lt=end)
            .filter(Q(period_end__isnull=True) | Q(period_end__gt=start - grace))
        )
        runs = runs_for(missions)
        fold(runs, events)
        had = set(
            MissionSnapshot.objects.filter(mission_id__in=list(runs)).values_list(
                "mission_id", flat=True
            )
        )
        saved = [
            snapshot_of(run, end)
            for run in runs.values()
            if run.mission_id in had or not _untouched(run)
        ]
        MissionSnapshot.objects.bulk_create(
            saved,
            update_conflicts=True,
            unique_fields=["mission"],
            update_fields=["as_of", "state", "completed_at", "progress"],
        )
        total["events"] += len(events)
        total["snapshots"] += len(saved)
    return total


def snapshots_prune(*, horizon: datetime) -> int:
    """Drop the snapshots of missions closed before the horizon: no retained event can reach
    them, and replay skips them (outside retention)."""
    grace = timedelta(minutes=int(settings.MISSIONS_LATE_EVENT_GRACE_MINUTES))
    deleted, _ = MissionSnapshot.objects.filter(
        mission__period_end__isnull=False, mission__period_end__lte=horizon - grace
    ).delete()
    return deleted
