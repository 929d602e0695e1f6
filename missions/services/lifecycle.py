"""The mission lifecycle the scheduler drives: close ended periods, fail timebound missions at
their deadline, open special windows, roll over to the new period.

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
)
from ..periods import period_for
from .assignment import missions_assign, missions_assign_all

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
