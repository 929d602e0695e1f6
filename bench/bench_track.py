"""Scenario 3: in-process `missions.track()` latency, one event per call, on the scenario-1
world (BENCH_TRACK_CALLS calls, default 500)."""

from __future__ import annotations

import os
import time
from typing import Any

import missions
from bench.bench_ingest import MISSIONS, PLAYERS, prepare
from bench.world import EventMaker, ensure_players, percentile

CALLS = int(os.environ.get("BENCH_TRACK_CALLS", "500"))


def run() -> dict[str, Any]:
    players = ensure_players(PLAYERS)
    prepare(players, MISSIONS)
    maker = EventMaker(players, seed=31, tag="track")
    for _ in range(20):  # warm connections and caches
        e = maker.event()
        missions.track(e["user_id"], e["action"], e["data"], event_id=e["id"])
    latencies = []
    cpu = time.process_time()
    for _ in range(CALLS):
        e = maker.event()
        t0 = time.perf_counter()
        missions.track(e["user_id"], e["action"], e["data"], event_id=e["id"])
        latencies.append((time.perf_counter() - t0) * 1000)
    cpu = time.process_time() - cpu
    return {
        "name": "track",
        "unit": "ms p99",
        "value": round(percentile(latencies, 99), 1),
        "target": 5,
        "calls": CALLS,
        "p50_ms": round(percentile(latencies, 50), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "app_cpu_ms_per_call": round(cpu / CALLS * 1000, 2),
    }
