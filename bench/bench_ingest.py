"""Scenario 1: batched ingestion, 1,000-event batches, 15 missions per player.

Three designs on the same world and the same events, in the same run:
- `new`: `events_ingest` as shipped (missions/services/progress.py);
- `legacy`: the apply path before issue 11 (bench/legacy_apply.py), through the same
  `events_ingest` (validation, log insert and locks are shared);
- `sketch`: the seed guide's per-event design (bench/sketch.py), one thread for its speed and
  8 threads to count what it loses under concurrency.

Sizes: BENCH_PLAYERS (10,000), BENCH_MISSIONS (15), BENCH_BATCHES (30; 100 with --full).
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache

from bench import legacy_apply
from bench.sketch import run_sketch
from bench.world import (
    EventMaker,
    assign,
    ensure_players,
    ensure_templates,
    percentile,
    reset_state,
)
from missions.periods import UTC_SCHEDULE
from missions.services import ingest
from missions.services.assignment import _assigned_cache_key, assigned_window
from missions.services.templates import templates_version

FULL = os.environ.get("BENCH_FULL") == "1"
PLAYERS = int(os.environ.get("BENCH_PLAYERS", "10000"))
MISSIONS = int(os.environ.get("BENCH_MISSIONS", "15"))
BATCHES = int(os.environ.get("BENCH_BATCHES", "100" if FULL else "30"))
SKETCH_EVENTS = int(os.environ.get("BENCH_SKETCH_EVENTS", "6000" if FULL else "2000"))


def prepare(players: list[int], missions: int) -> int:
    """A fresh world: no events, every player with `missions` missions, assignment cached."""
    reset_state()
    rows = assign(players, ensure_templates(), missions)
    version = templates_version()
    # The bench players live in UTC: remember their assignment until the next UTC midnight.
    window = assigned_window(UTC_SCHEDULE, datetime.now(UTC))
    cache.set_many({_assigned_cache_key(p, version): window for p in players}, timeout=3600)
    return rows


def run_batches(batches: list[list[dict[str, Any]]], pace: float | None = None) -> dict[str, Any]:
    """Ingest the batches one after the other (or one every `pace` seconds)."""
    latencies = []
    accepted = 0
    cpu = time.process_time()
    started = time.perf_counter()
    for n, events in enumerate(batches):
        if pace is not None:
            delay = started + n * pace - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        t0 = time.perf_counter()
        accepted += ingest.events_ingest(events=events).accepted
        latencies.append((time.perf_counter() - t0) * 1000)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    return {
        "events": accepted,
        "events_per_s": round(accepted / elapsed),
        # CPU of this (the app) process only: steadier than wall time on a shared box.
        "app_cpu_ms_per_1000": round(cpu / max(1, accepted) * 1_000_000, 1),
        "batch_ms_p50": round(percentile(latencies, 50), 1),
        "batch_ms_p95": round(percentile(latencies, 95), 1),
        "batch_ms_p99": round(percentile(latencies, 99), 1),
        "batch_ms_max": round(max(latencies), 1),
    }


def measure(
    players: list[int], missions: int, batches: int, *, legacy: bool = False, seed: int = 11
) -> dict[str, Any]:
    prepare(players, missions)
    maker = EventMaker(players, seed=seed, tag=f"b{seed}")
    original = ingest.progress_apply
    if legacy:
        ingest.progress_apply = legacy_apply.progress_apply  # type: ignore[assignment]
    try:
        run_batches([maker.batch() for _ in range(2)])  # warm caches and plans
        return run_batches([maker.batch() for _ in range(batches)])
    finally:
        ingest.progress_apply = original  # type: ignore[assignment]


def run() -> dict[str, Any]:
    players = ensure_players(PLAYERS)
    dsn = settings.DATABASES["default"]
    conninfo = (
        f"host={dsn['HOST']} port={dsn['PORT'] or 5432} dbname={dsn['NAME']} "
        f"user={dsn['USER']} password={dsn['PASSWORD'] or ''}"
    )
    redis_url = os.environ["REDIS_URL"]

    new = measure(players, MISSIONS, BATCHES)
    # p99 at half the peak rate (the target's condition).
    prepare(players, MISSIONS)
    maker = EventMaker(players, seed=12, tag="half")
    run_batches([maker.batch() for _ in range(2)])
    half = run_batches(
        [maker.batch() for _ in range(BATCHES)], pace=2 * 1000 / max(1, new["events_per_s"])
    )
    legacy = measure(players, MISSIONS, max(5, BATCHES // 3), legacy=True)

    prepare(players, MISSIONS)
    sketch_events = EventMaker(players, seed=13, tag="sk").batch(SKETCH_EVENTS)
    sketch_one = run_sketch(sketch_events, dsn=conninfo, redis_url=redis_url, threads=1)
    # The sketch never writes what it reads from, so one world serves its three runs.
    sketch_many = run_sketch(sketch_events, dsn=conninfo, redis_url=redis_url, threads=8)
    # Concurrency on the same players (a burst of reactions to one post): its losses.
    hot_events = EventMaker(players[:20], seed=14, tag="hot").batch(SKETCH_EVENTS // 2)
    sketch_hot = run_sketch(hot_events, dsn=conninfo, redis_url=redis_url, threads=8)
    baseline = max(sketch_one["events_per_s"], sketch_many["events_per_s"])
    return {
        "name": "ingest_batched",
        "unit": "events/s",
        "value": new["events_per_s"],
        "target": 10_000,
        "baseline": baseline,
        "baseline_is": "the sketch's per-event design (best of 1 and 8 threads)",
        "ratio": round(new["events_per_s"] / baseline, 2),
        "players": PLAYERS,
        "missions_per_player": MISSIONS,
        "new": new,
        "new_at_half_peak": half,
        "p99_target_ms": 250,
        "legacy": legacy,
        "ratio_to_legacy": round(new["events_per_s"] / max(1, legacy["events_per_s"]), 2),
        "sketch_1_thread": sketch_one,
        "sketch_8_threads": sketch_many,
        "sketch_8_threads_20_hot_players": sketch_hot,
    }
