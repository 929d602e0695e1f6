"""The event log over years: `event_log_maintain`, run by beat (`missions.event_log_maintain`).

On Postgres the log is partitioned by month of arrival (missions/event_partitions.py). Each run:

1. creates this month's partition and MISSIONS_EVENT_PARTITIONS_AHEAD more, plus one for
   every month waiting in the default partition (moving those rows in);
2. retires, oldest first, every month that ended before the retention cutoff (the start of
   this month minus MISSIONS_EVENT_RETENTION_MONTHS): in one transaction it folds the month's
   events into the mission snapshots (missions/services/snapshots.py), detaches the partition,
   drops it (unless MISSIONS_EVENT_KEEP_DETACHED), deletes the month's dedupe keys and
   records a RetiredPartition row — so snapshots, keys and the log never disagree;
3. drops the snapshots of missions that closed before the new horizon.

Idempotent and safe to run twice or on two workers at once: one session advisory lock per
run (a second run finds it taken and returns), and every DDL step checks the catalog first.
DDL waits at most a few seconds for its table lock (ingestion holds row-exclusive locks in
short transactions), then gives up until the next run instead of queueing the batches behind
it. SQLite (`make run`) keeps one plain table: nothing to do.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction

from .. import event_partitions as parts
from ..models import EventKey, RetiredPartition
from .lifecycle import job_lock
from .snapshots import log_horizon, snapshot_fold, snapshots_prune

logger = logging.getLogger(__name__)

LOCK_TIMEOUT = "5s"


@dataclass
class MaintainReport:
    created: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    events_retired: int = 0
    snapshots: int = 0
    keys_pruned: int = 0
    snapshots_pruned: int = 0
    skipped: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def retention_cutoff(now: datetime) -> datetime | None:
    """Months that ended at or before this instant leave the log (None: keep every month)."""
    months = int(settings.MISSIONS_EVENT_RETENTION_MONTHS)
    if months <= 0:
        return None
    return parts.add_months(parts.month_start(now), -months)


def event_log_maintain(*, now: datetime) -> MaintainReport:
    report = MaintainReport()
    if connection.vendor != "postgresql":
        report.skipped = "not Postgres: the log is one plain table"
        return report
    with job_lock("event_log_maintain") as got:
        if not got:
            report.skipped = "another run holds the lock"
            return report
        with connection.cursor() as cursor:
            if not parts.is_partitioned(cursor):
                report.skipped = "the log is not partitioned"
                return report
        _create_ahead(now, report)
        cutoff = retention_cutoff(now)
        if cutoff is not None:
            _retire_before(cutoff, now, report)
    return report


def _create_ahead(now: datetime, report: MaintainReport) -> None:
    this_month = parts.month_start(now)
    horizon = log_horizon()
    with connection.cursor() as cursor:
        months = set(parts.default_months(cursor))
    late = sorted(m for m in months if horizon is not None and m < horizon)
    if late:
        # Rows older than the horizon can only come from a clock far behind; folding them now
        # would put them after newer snapshots. They stay in the default partition.
        logger.warning("event log: rows of %s wait in the default partition", late)
    months -= set(late)
    months |= {
        parts.add_months(this_month, n)
        for n in range(int(settings.MISSIONS_EVENT_PARTITIONS_AHEAD) + 1)
    }
    for month in sorted(months):
        partition = parts.Partition.for_month(month)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            if parts.create(cursor, partition):
                report.created.append(partition.name)


def _retire_before(cutoff: datetime, now: datetime, report: MaintainReport) -> None:
    with connection.cursor() as cursor:
        leaving = [p for p in parts.attached(cursor) if p.end <= cutoff]
    drop = not settings.MISSIONS_EVENT_KEEP_DETACHED
    for partition in leaving:  # oldest first: each snapshot builds on the previous one
        with transaction.atomic():
            folded = snapshot_fold(start=partition.start, end=partition.end)
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                if not parts.detach(cursor, partition, drop=drop):
                    transaction.set_rollback(True)  # gone meanwhile: keep no snapshot of it
                    continue
            keys, _ = EventKey.objects.filter(received_at__lt=partition.end).delete()
            RetiredPartition.objects.update_or_create(
                name=partition.name,
                defaults={
                    "range_start": partition.start,
                    "range_end": partition.end,
                    "retired_at": now,
                    "events": folded["events"],
                    "snapshots": folded["snapshots"],
                    "dropped": drop,
                },
            )
            report.retired.append(partition.name)
            report.events_retired += folded["events"]
            report.snapshots += folded["snapshots"]
            report.keys_pruned += keys
    if report.retired:
        horizon = log_horizon()
        if horizon is not None:
            report.snapshots_pruned = snapshots_prune(horizon=horizon)
