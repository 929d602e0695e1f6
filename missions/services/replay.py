"""Replay: rebuild progress and completions from the event log and compare with the store.

The same fold as live ingestion (progress.fold) runs over the log in log order, so a
difference means the stored state did not come from the log (invariant 1). It starts from
zero, or — once old months have left the log (missions/services/event_log.py) — from each
mission's snapshot as of the log's horizon, folding only the events still in the log.
Missions that closed before the horizon are outside retention and skipped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..cache import player_cache_bump
from ..evaluators import MissionRun
from ..models import (
    ActiveMission,
    Event,
    MissionProgress,
    MissionSnapshot,
    MissionType,
    ProgressValue,
)
from ..selectors import format_number
from .ingest import _lock_users
from .progress import fold, run_from
from .snapshots import log_horizon, records, snapshot_apply
from .timezones import schedules_attach

VALUE_TYPES = (MissionType.UNIQUE, MissionType.STREAK)


@dataclass(frozen=True)
class Difference:
    mission_id: int
    user_id: int
    template_key: str
    what: str
    stored: Any
    replayed: Any

    def __str__(self) -> str:
        return (
            f"mission {self.mission_id} ({self.template_key}, user {self.user_id}) "
            f"{self.what}: stored {_shown(self.stored)}, replayed {_shown(self.replayed)}"
        )


def _shown(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(format_number(value))
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


@dataclass
class ReplayReport:
    users: int = 0
    missions: int = 0
    events: int = 0
    differences: list[Difference] = field(default_factory=list)
    fixed: int = 0
    # Once old months left the log: its horizon, the missions started from a snapshot, and
    # those skipped because they closed before the horizon.
    horizon: datetime | None = None
    from_snapshot: int = 0
    outside_retention: int = 0
    # What the checks of the apps above the engine found (streaks, the ledger).
    problems: list[str] = field(default_factory=list)


# Checks the apps above the engine register in their AppConfig.ready (the engine imports
# nothing from them): per-user ones get each chunk's user ids, global ones run once.
USER_CHECKS: list[Callable[[Sequence[int]], list[str]]] = []
GLOBAL_CHECKS: list[Callable[[], list[str]]] = []


def register_replay_check(
    *,
    per_users: Callable[[Sequence[int]], list[str]] | None = None,
    once: Callable[[], list[str]] | None = None,
) -> None:
    if per_users is not None and per_users not in USER_CHECKS:
        USER_CHECKS.append(per_users)
    if once is not None and once not in GLOBAL_CHECKS:
        GLOBAL_CHECKS.append(once)


def _lifecycle_move(mission: ActiveMission, run: MissionRun, now: datetime) -> bool:
    """Whether the stored state is the scheduler's close of a mission the log leaves active:
    expired at period end, a timebound mission failed at its deadline, a competitive one
    ranked and paid (claimed) or not (expired) at period end."""
    if run.state != "active":
        return False
    if mission.state == "expired":
        return True
    grace = timedelta(minutes=int(settings.MISSIONS_LATE_EVENT_GRACE_MINUTES))
    if mission.state == "failed" and run.mission_type == MissionType.TIMEBOUND:
        limit = timedelta(minutes=int(run.metadata.get("time_limit_minutes") or 0))
        ended = mission.period_end is not None and now >= mission.period_end + grace
        return ended or now >= mission.assigned_at + limit + grace
    return (
        mission.state == "claimed"
        and run.mission_type == MissionType.COMPETITIVE
        and mission.period_end is not None
        and now >= mission.period_end + grace
    )


def _compare(
    mission: ActiveMission,
    rows: Sequence[MissionProgress],
    run: MissionRun,
    values: dict[int, set[str]],
    now: datetime,
) -> list[Difference]:
    out: list[Difference] = []

    def diff(what: str, stored: Any, replayed: Any) -> None:
        out.append(
            Difference(mission.pk, mission.user_id, run.template_key, what, stored, replayed)
        )

    # Claimed counts as completed, and the scheduler's closes as active: those moves are
    # not the engine's.
    if _lifecycle_move(mission, run, now):
        stored_state = "active"
    else:
        stored_state = {"claimed": "completed"}.get(mission.state, mission.state)
    if stored_state != run.state:
        diff("state", mission.state, run.state)
    if mission.completed_at != run.completed_at:
        diff("completed_at", mission.completed_at, run.completed_at)
    for row in rows:
        progress = run.progress[row.requirement_key]
        if row.current != progress.current:
            diff(f"{row.requirement_key}.current", row.current, progress.current)
        if row.done_at != progress.done_at:
            diff(f"{row.requirement_key}.done_at", row.done_at, progress.done_at)
        if run.mission_type in VALUE_TYPES and values.get(row.pk, set()) != progress.values:
            diff(
                f"{row.requirement_key}.values",
                sorted(values.get(row.pk, ())),
                sorted(progress.values),
            )
    return out


def _fix(mission: ActiveMission, rows: Sequence[MissionProgress], run: MissionRun) -> None:
    """Overwrite the stored state with the replayed one (claimed/expired states are kept)."""
    if mission.state not in ("claimed", "expired", "failed"):
        mission.state = run.state
    mission.completed_at = run.completed_at
    mission.save(update_fields=["state", "completed_at"])
    player_cache_bump(user_ids=[mission.user_id])
    for row in rows:
        progress = run.progress[row.requirement_key]
        row.current, row.done_at, row.reached_at = (
            progress.current,
            progress.done_at,
            progress.reached_at,
        )
    MissionProgress.objects.bulk_update(rows, ["current", "done_at", "reached_at"])
    if run.mission_type in VALUE_TYPES:
        ProgressValue.objects.filter(progress_id__in=[r.pk for r in rows]).delete()
        ProgressValue.objects.bulk_create(
            [
                ProgressValue(progress_id=p.progress_id, value=value)
                for p in run.progress.values()
                for value in sorted(p.values)
            ]
        )


def replay_users(
    *,
    user_ids: Sequence[int],
    since: datetime | None = None,
    fix: bool = False,
    now: datetime | None = None,
) -> ReplayReport:
    """Replay the missions of these users (those whose period ends after `since`); `now`
    (default: the clock) decides which of the scheduler's closes were due."""
    with transaction.atomic():
        if fix:
            # Hold the users' ingestion locks so no batch lands between replay and fix.
            _lock_users(user_ids)
        return _replay_users(user_ids=user_ids, since=since, fix=fix, now=now or timezone.now())


def _replay_users(
    *, user_ids: Sequence[int], since: datetime | None, fix: bool, now: datetime
) -> ReplayReport:
    report = ReplayReport(users=len(user_ids), horizon=log_horizon())
    missions_qs = ActiveMission.objects.select_related("template").filter(user_id__in=user_ids)
    if since is not None:
        missions_qs = missions_qs.filter(Q(period_end__isnull=True) | Q(period_end__gt=since))
    events_qs = Event.objects.filter(user_id__in=user_ids)
    if report.horizon is not None:
        grace = timedelta(minutes=int(settings.MISSIONS_LATE_EVENT_GRACE_MINUTES))
        retained = Q(period_end__isnull=True) | Q(period_end__gt=report.horizon - grace)
        report.outside_retention = missions_qs.exclude(retained).count()
        missions_qs = missions_qs.filter(retained)
        events_qs = events_qs.filter(received_at__gte=report.horizon)
    missions = list(missions_qs.order_by("id"))
    if not missions:
        return report
    rows_by_mission: dict[int, list[MissionProgress]] = defaultdict(list)
    for row in MissionProgress.objects.filter(mission_id__in=[m.pk for m in missions]).order_by(
        "id"
    ):
        rows_by_mission[row.mission_id].append(row)
    runs = {m.pk: run_from(m, rows_by_mission[m.pk], fresh=True) for m in missions}
    if report.horizon is not None:
        for snapshot in MissionSnapshot.objects.filter(mission_id__in=list(runs)):
            snapshot_apply(runs[snapshot.mission_id], snapshot)
            report.from_snapshot += 1
    schedules_attach(runs)  # streak requirements count the players' local days
    earliest = min(m.period_start for m in missions)
    events = records(events_qs.filter(occurred_at__gte=earliest).order_by("id"))
    report.missions, report.events = len(missions), len(events)
    fold(runs, events)
    values: dict[int, set[str]] = defaultdict(set)
    for progress_id, value in ProgressValue.objects.filter(
        progress__mission_id__in=[m.pk for m in missions if m.template.type in VALUE_TYPES]
    ).values_list("progress_id", "value"):
        values[progress_id].add(value)
    for mission in missions:
        found = _compare(mission, rows_by_mission[mission.pk], runs[mission.pk], values, now)
        report.differences += found
        if found and fix:
            _fix(mission, rows_by_mission[mission.pk], runs[mission.pk])
            report.fixed += 1
    for check in USER_CHECKS:
        report.problems += check(user_ids)
    return report


def replay_events(
    *,
    user_ids: Iterable[int] | None = None,
    since: datetime | None = None,
    fix: bool = False,
    chunk_size: int = 200,
    on_chunk: Callable[[int], None] | None = None,
    now: datetime | None = None,
) -> ReplayReport:
    """Replay every user with missions (or the given ones), chunk by chunk."""
    if user_ids is None:
        user_ids = (
            ActiveMission.objects.values_list("user_id", flat=True).distinct().order_by("user_id")
        )
    ids = list(user_ids)
    total = ReplayReport()
    for start in range(0, len(ids), chunk_size):
        chunk = ids[start : start + chunk_size]
        part = replay_users(user_ids=chunk, since=since, fix=fix, now=now)
        total.users += len(chunk)
        total.missions += part.missions
        total.events += part.events
        total.differences += part.differences
        total.fixed += part.fixed
        total.horizon = part.horizon
        total.from_snapshot += part.from_snapshot
        total.outside_retention += part.outside_retention
        total.problems += part.problems
        if on_chunk:
            on_chunk(len(chunk))
    for check in GLOBAL_CHECKS:
        total.problems += check()
    return total
