"""Prometheus metrics of the mission system: the sketch's names, labels and buckets, plus ours.

Every metric of the project is defined here, in the engine's lowest layer, so the engine,
rewards, the player surface and the operations tasks all record through one module and
none imports another app for it (CONVENTIONS item 9).

Recording rules:
- Counters move *after the commit*, where the thing really happened: callers pass the
  counts of a whole batch to one function registered with `transaction.on_commit` (one call
  per batch, never one per event), so a rolled-back batch counts nothing.
- Several processes (uvicorn workers, ASGI nodes on one host, Celery workers) share one
  view through prometheus_client's multiprocess mode: set PROMETHEUS_MULTIPROC_DIR to an
  empty directory before any process starts (docs/operations.md, "Metrics").
- `active_missions_count` is read from the database when /metrics is scraped
  (missions/metrics_export.py): a fact of the database, the same whichever process answers.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

# `*_created` samples exist only in single-process mode; without them `make run` (one
# process) and a multiprocess deployment export the same series.
disable_created_metrics()

# -- the sketch's metrics (server/src/domains/missions/monitoring/mission-metrics.ts) ------

PROGRESS_UPDATES = Counter(
    "mission_progress_updates_total",
    "Total mission progress updates (one per event that moved one mission's progress)",
    ["action", "mission_type"],
)
PROGRESS_LATENCY = Histogram(
    "mission_progress_latency_ms",
    "Mission progress update latency: from receiving an event batch to its progress commit",
    buckets=[10, 25, 50, 100, 250, 500, 1000],
)
MISSIONS_COMPLETED = Counter(
    "missions_completed_total",
    "Total missions completed",
    ["category", "type", "period"],
)
REWARDS_DISTRIBUTED = Counter(
    "mission_rewards_distributed_total",
    "Total rewards distributed: XP points, DGT amount, item quantity, badges, titles",
    ["reward_type"],
)
ACTIVE_MISSIONS_NAME = "active_missions_count"  # a gauge read at scrape time (metrics_export)
# The sketch gives no buckets here, so prom-client's defaults (0.005 … 10, made for seconds)
# would have put every reset of a millisecond metric into +Inf: these are milliseconds.
RESET_DURATION = Histogram(
    "mission_reset_duration_ms",
    "Mission reset job duration",
    ["period_type"],
    buckets=[10, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 900000],
)
ERRORS = Counter(
    "mission_system_errors_total",
    "Mission system errors",
    ["error_type", "severity"],
)

# -- beyond the sketch -------------------------------------------------------------------

EVENTS = Counter(
    "mission_events_total",
    "Events received by ingestion, by result: accepted, duplicate, rejected",
    ["result"],
)
CLAIMS = Counter(
    "mission_claims_total",
    "Claims and auto-grants, by source (claim, auto_grant) and result (granted or the error code)",
    ["source", "result"],
)
SOCKET_CONNECTIONS = Counter(
    "mission_socket_connections_total",
    "WebSocket connections accepted on /ws/missions/",
)
SOCKETS_OPEN = Gauge(
    "mission_socket_connections_open",
    "WebSocket connections open now (summed over live processes)",
    multiprocess_mode="livesum",
)
BEAT_LAG = Histogram(
    "mission_beat_lag_seconds",
    "How late a scheduled task started after its due time",
    ["task"],
    buckets=[1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200],
)
BEAT_LAST_RUN = Gauge(
    "mission_beat_last_run_timestamp_seconds",
    "Unix time at which each scheduled task last ran",
    ["task"],
    multiprocess_mode="max",
)
CACHE_LOOKUPS = Counter(
    "mission_cache_lookups_total",
    "Two-level cache lookups by cache and where they were answered: l1, l2 or miss",
    ["cache", "result"],
)

REDIS_BREAKER = Counter(
    "mission_redis_breaker_total",
    "Redis calls through the circuit breakers (config/redis_guard.py), by use (cache, "
    "channel_layer) and event: failed (reached Redis and failed), refused (failed at once, "
    "breaker open), opened (an outage starts), reopened (a trial call failed), closed",
    ["use", "event"],
)

SEVERITIES = ("warning", "error", "critical")
REDIS_BREAKER_EVENTS = ("failed", "refused", "opened", "reopened", "closed")


# -- recording helpers (call them after the commit: `transaction.on_commit(lambda: ...)`) --


def ingest_recorded(*, accepted: int, duplicates: int, rejected: int, started: float) -> None:
    """One ingestion call (a batch or one `track`) committed; `started` is its perf_counter()."""
    if accepted:
        EVENTS.labels("accepted").inc(accepted)
    if duplicates:
        EVENTS.labels("duplicate").inc(duplicates)
    if rejected:
        EVENTS.labels("rejected").inc(rejected)
    if accepted:
        PROGRESS_LATENCY.observe((time.perf_counter() - started) * 1000)


def progress_recorded(
    *,
    updates: Mapping[tuple[str, str], int],
    completions: Mapping[tuple[str, str, str], int],
) -> None:
    """A batch's progress committed: updates by (action, mission type) and completions by
    (category, type, period type)."""
    for (action, mission_type), n in updates.items():
        PROGRESS_UPDATES.labels(action, mission_type).inc(n)
    for (category, mission_type, period), n in completions.items():
        MISSIONS_COMPLETED.labels(category, mission_type, period).inc(n)


def rewards_recorded(
    *, xp: int, dgt: Decimal, items: int, badges: int = 0, titles: int = 0
) -> None:
    """One grant committed (a float for Prometheus; the ledger holds the exact amounts)."""
    for reward_type, amount in (
        ("xp", xp),
        ("dgt", float(dgt)),
        ("items", items),
        ("badges", badges),
        ("titles", titles),
    ):
        if amount:
            REWARDS_DISTRIBUTED.labels(reward_type).inc(amount)


def claim_recorded(*, source: str, result: str) -> None:
    CLAIMS.labels(source, result).inc()


def error_recorded(error_type: str, severity: str = "error") -> None:
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {SEVERITIES}, got {severity!r}")
    ERRORS.labels(error_type, severity).inc()


def socket_opened() -> None:
    SOCKET_CONNECTIONS.inc()
    SOCKETS_OPEN.inc()


def socket_closed() -> None:
    SOCKETS_OPEN.dec()


def cache_lookup(cache: str, result: str) -> None:
    CACHE_LOOKUPS.labels(cache, result).inc()


def redis_breaker_event(use: str, event: str) -> None:
    """One call or state change of a Redis circuit breaker (config/redis_guard.py)."""
    if event not in REDIS_BREAKER_EVENTS:
        raise ValueError(f"event must be one of {REDIS_BREAKER_EVENTS}, got {event!r}")
    REDIS_BREAKER.labels(use, event).inc()


# -- for the scheduled tasks (rollover and friends) ----------------------------------------


def reset_observed(period_type: str, duration_ms: float) -> None:
    RESET_DURATION.labels(period_type).observe(duration_ms)


@contextmanager
def reset_timer(period_type: str) -> Iterator[None]:
    """Times a reset (rollover) of `period_type` into mission_reset_duration_ms; a reset that
    raises is not observed (it counts in mission_system_errors_total instead)."""
    started = time.perf_counter()
    yield
    reset_observed(period_type, (time.perf_counter() - started) * 1000)


def beat_run_observed(task: str, *, due_at: datetime | None, started_at: datetime) -> None:
    """A scheduled task started: its lag behind `due_at` (None: unknown, only the run is
    recorded) and its last-run time."""
    if due_at is not None:
        BEAT_LAG.labels(task).observe(max(0.0, (started_at - due_at).total_seconds()))
    BEAT_LAST_RUN.labels(task).set(started_at.timestamp())
