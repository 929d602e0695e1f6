"""The mission lifecycle the scheduler drives: close ended periods, fail timebound missions at
their deadline, open special windows, roll over to the new period — each player at their own
local midnight (`missions_rollover_local`).

Every function is idempotent and safe to run twice, late, or on several workers at once:
state moves are conditional UPDATEs (`... WHERE state = 'active'`), which Postgres re-checks
after waiting for a row lock, so a mission completed meanwhile by a batch is never expired;
assignment is idempotent by itself (missions_assign), and a finished job leaves a
LifecycleRun row so a repeat skips the work.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.db.models import Q
from django.utils.dateparse import parse_datetime

from .. import metrics
from ..cache import player_cache_bump_all
from ..models import (
    ActiveMission,
    LifecycleRun,
    MissionState,
    MissionTemplate,
    MissionType,
    PeriodType,
    PlayerProfile,
)
from ..periods import period_for
from .assignment import missions_assign, missions_assign_all
from .timezones import rollover_due_at, schedules_for

logger = logging.getLogger(__name__)

# Namespace of the session advisory locks that keep two workers off the same job.
JOB_LOCK_NAMESPACE = 7_202


def _late_grace() -> timedelta:
    return timedelta(minutes=int(settings.MISSIONS_LATE_EVENT_GRACE_MINUTES))


@dataclass
class CloseReport:
    abandoned: int = 0  # state expired: the period ended before completion
    failed: int = 0  # timebound: the time limit (or the period) ran out

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def missions_close_ended(*, now: datetime) -> CloseReport:
    """Close every period that ended (plus the late-event grace) before `now`.

    Unfinished missions become `expired` (the "abandoned" of analytics), unfinished timebound
    missions `failed`. Competitive missions are left to the finaliser (rewards app), which
    ranks and pays them.
    """
    # Conditions on the mission row itself (no join): Postgres re-checks them after waiting
    # for a row lock, so two concurrent closes never both count a mission.
    by_type: dict[str, list[int]] = {MissionType.TIMEBOUND: [], MissionType.COMPETITIVE: []}
    for pk, mission_type in MissionTemplate.objects.filter(type__in=list(by_type)).values_list(
        "pk", "type"
    ):
        by_type[mission_type].append(pk)
    ended = ActiveMission.objects.filter(
        state=MissionState.ACTIVE, period_end__isnull=False, period_end__lte=now - _late_grace()
    )
    failed = ended.filter(template_id__in=by_type[MissionType.TIMEBOUND]).update(
        state=MissionState.FAILED
    )
    abandoned = ended.exclude(
        template_id__in=by_type[MissionType.TIMEBOUND] + by_type[MissionType.COMPETITIVE]
    ).update(state=MissionState.EXPIRED)
    if failed or abandoned:
        player_cache_bump_all()  # a bulk state change: every cached mission list is old
    return CloseReport(abandoned=abandoned, failed=failed)


def missions_fail_timebound(*, now: datetime) -> int:
    """Fail timebound missions whose time limit ran out (plus the late-event grace, the
    time an event that happened before the deadline may still take to arrive)."""
    failed = 0
    for template in MissionTemplate.objects.filter(type=MissionType.TIMEBOUND):
        limit = timedelta(minutes=int((template.metadata or {}).get("time_limit_minutes") or 0))
        failed += ActiveMission.objects.filter(
            template=template,
            state=MissionState.ACTIVE,
            assigned_at__lte=now - limit - _late_grace(),
        ).update(state=MissionState.FAILED)
    if failed:
        player_cache_bump_all()
    return failed


def _lock_id(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big", signed=True)


@contextlib.contextmanager
def job_lock(key: str) -> Iterator[bool]:
    """A session advisory lock for one job key; yields False when another worker holds it.

    Session-level (not transaction-level) because the job commits chunk by chunk; a worker
    that dies drops its connection and so its lock."""
    if connection.vendor != "postgresql":
        yield True  # SQLite (make run) has a single writer and runs tasks inline
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [JOB_LOCK_NAMESPACE, _lock_id(key)])
        got = bool(cursor.fetchone()[0])
    try:
        yield got
    finally:
        if got:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_unlock(%s, %s)", [JOB_LOCK_NAMESPACE, _lock_id(key)]
                )


def _run_once(key: str, job: str, now: datetime, work: Any) -> dict[str, Any]:
    """Run `work()` unless `key` already finished; returns the job's result (or a skip)."""
    if LifecycleRun.objects.filter(key=key, finished_at__isnull=False).exists():
        return {"skipped": "already done"}
    with job_lock(key) as got:
        if not got:
            return {"skipped": "running on another worker"}
        # Re-check under the lock: the other worker may have finished in between.
        if LifecycleRun.objects.filter(key=key, finished_at__isnull=False).exists():
            return {"skipped": "already done"}
        LifecycleRun.objects.update_or_create(
            key=key, defaults={"job": job, "started_at": now, "finished_at": None, "result": {}}
        )
        result = work()
        LifecycleRun.objects.filter(key=key).update(finished_at=now, result=result)
        return dict(result)


def missions_rollover(*, period_type: str, now: datetime) -> dict[str, Any]:
    """The scheduled rollover of `period_type` at the start of its period: close what has
    ended, then assign the new period to every active player, set-based and chunked.

    Assignment sends `missions_assigned`, whose receiver pushes `mission:new` to the players
    with an open hub. Lazy assignment on first access still covers a late or missing run.
    """
    if period_type not in (PeriodType.DAILY, PeriodType.WEEKLY, PeriodType.MONTHLY):
        raise ValueError(f"no rollover for period type {period_type!r}")
    period = period_for(period_type, now)
    key = f"rollover:{period_type}:{period.start:%Y-%m-%d}"

    def work() -> dict[str, Any]:
        # Observed only when the rollover runs: the catch-up sweep's skips are not runs.
        metrics.beat_run_observed(f"rollover_{period_type}", due_at=period.start, started_at=now)
        with metrics.reset_timer(period_type):
            closed = missions_close_ended(now=now)
            assigned = missions_assign_all(now=now)
        logger.info("%s: %s closed, %s missions assigned", key, closed.as_dict(), assigned)
        return {**closed.as_dict(), "assigned": assigned}

    return _run_once(key, "rollover", now, work)


def missions_rollover_due(*, now: datetime) -> dict[str, Any]:
    """Run each period type's rollover unless this period's already finished: a rollover
    missed at midnight (beat or every worker down, a worker killed mid-run) happens at the
    next sweep instead of waiting a whole period. Three cheap lookups when all are done."""
    return {
        str(period_type): missions_rollover(period_type=period_type, now=now)
        for period_type in (PeriodType.DAILY, PeriodType.WEEKLY, PeriodType.MONTHLY)
    }


def missions_rollover_local(*, now: datetime, chunk_size: int = 2000) -> dict[str, Any]:
    """The scheduled rollover (every 15 minutes, config/schedule.py): every active player
    whose drawn periods ended — their local midnight passed — gets the new periods' missions.

    Set-based per timezone group: the due players are read by one indexed query on
    `PlayerProfile.rollover_at` (null: never rolled over), ordered by zone, assigned chunk by
    chunk (a fixed number of queries per chunk), and each chunk's next `rollover_at` is
    written with one UPDATE per distinct instant (one per UTC offset in the chunk). Players
    sharing an offset share their midnight, so each offset's batch runs at the first run
    after it (at :00, :15, :30 and :45, every offset's midnight). Idempotent: assignment is;
    a late run takes everyone due since; a concurrent run waits for nothing (the advisory
    lock makes it skip) and a crash mid-way leaves the rest due for the next run."""
    with job_lock("rollover:local") as got:
        if not got:
            return {"skipped": "running on another worker"}
        due = (
            get_user_model()
            .objects.filter(is_active=True)
            .filter(
                Q(profile__isnull=True)
                | Q(profile__rollover_at__isnull=True)
                | Q(profile__rollover_at__lte=now)
            )
            .order_by("profile__timezone", "pk")
            .values_list("pk", "profile__rollover_at")
        )
        rows = list(due)
        if not rows:
            return {"players": 0, "assigned": 0, "offsets": {}}
        oldest = min((at for _, at in rows if at is not None), default=None)
        metrics.beat_run_observed("rollover_daily", due_at=oldest, started_at=now)
        closed = missions_close_ended(now=now)
        assigned = 0
        offsets: dict[str, int] = {}
        with metrics.reset_timer(PeriodType.DAILY):
            for first in range(0, len(rows), chunk_size):
                chunk = [pk for pk, _ in rows[first : first + chunk_size]]
                assigned += len(missions_assign(user_ids=chunk, now=now, bulk=True))
                by_instant: dict[datetime, list[int]] = {}
                memo: dict[str, tuple[datetime, str]] = {}  # players sharing a schedule
                for user_id, schedule in schedules_for(chunk).items():
                    if schedule.key not in memo:
                        memo[schedule.key] = (
                            rollover_due_at(schedule, now),
                            _offset_label(schedule.zone_at(now), now),
                        )
                    instant, offset = memo[schedule.key]
                    by_instant.setdefault(instant, []).append(user_id)
                    offsets[offset] = offsets.get(offset, 0) + 1
                for instant, user_ids in by_instant.items():
                    PlayerProfile.objects.filter(user_id__in=user_ids).update(rollover_at=instant)
        result = {
            "players": len(rows),
            "assigned": assigned,
            "offsets": offsets,
            **closed.as_dict(),
        }
        logger.info("local rollover at %s: %s", now.isoformat(), result)
        return result


def _offset_label(zone: str, now: datetime) -> str:
    """'+09:00' for Asia/Tokyo: the batch a player's midnight belongs to."""
    offset = now.astimezone(ZoneInfo(zone)).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def missions_open_special_windows(*, now: datetime, chunk_size: int = 2000) -> dict[str, Any]:
    """Assign every special template whose window is open now to every eligible player, once
    per window (a player who already visited today gets it now, not after a cache expiry)."""
    opened: dict[str, Any] = {}
    window = Q(starts_at__lte=now, ends_at__gt=now)
    for template in MissionTemplate.objects.filter(
        window, is_active=True, period_type=PeriodType.SPECIAL
    ).order_by("key"):
        assert template.starts_at is not None  # the filter above
        key = f"special:{template.pk}:{template.starts_at.isoformat()}"

        def work(template: MissionTemplate = template) -> dict[str, Any]:
            users = (
                get_user_model()
                .objects.filter(is_active=True)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            ids = list(users)
            assigned = 0
            for start in range(0, len(ids), chunk_size):
                assigned += len(
                    missions_assign(
                        user_ids=ids[start : start + chunk_size], now=now, templates=[template]
                    )
                )
            return {"template": template.key, "assigned": assigned}

        opened[template.key] = _run_once(key, "special_open", now, work)
    return opened


BEAT_HEARTBEAT_KEY = "missions:beat:last_run"


def beat_heartbeat(*, now: datetime) -> None:
    """Record that beat sent (and a worker ran) the heartbeat task: /healthz reads its age."""
    cache.set(BEAT_HEARTBEAT_KEY, now.isoformat(), timeout=None)
    metrics.beat_run_observed("heartbeat", due_at=None, started_at=now)


def beat_last_run() -> datetime | None:
    raw = cache.get(BEAT_HEARTBEAT_KEY)
    return parse_datetime(raw) if raw else None
