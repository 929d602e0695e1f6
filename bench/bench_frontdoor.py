"""The decision data for "apply in the request" vs "the event log as the front door":

- `store_only`: `events_ingest` with the apply step removed (validate, lock, store, commit):
  the ceiling of a request path that only writes the log;
- `apply_only`: the apply step alone over events already in the log, at 1,000 and 5,000
  events per call (what an apply worker could batch when it falls behind).

Same world as scenario 1. Both halves must fit in the box's 2 cores for either design to
sustain a rate: moving the apply out of the request moves its cost, it does not remove it.
"""

from __future__ import annotations

import os
import time
from typing import Any

from django.db import transaction

from bench.bench_ingest import MISSIONS, PLAYERS, prepare, run_batches
from bench.world import EventMaker, ensure_players, percentile
from missions.evaluators import EventRecord
from missions.models import Event
from missions.services import ingest
from missions.services.progress import progress_apply

BATCHES = int(os.environ.get("BENCH_FRONTDOOR_BATCHES", "20"))


def _no_apply(*, events: Any) -> Any:
    from missions.services.progress import FoldResult

    return FoldResult(runs={})


def run() -> dict[str, Any]:
    players = ensure_players(PLAYERS)
    prepare(players, MISSIONS)
    maker = EventMaker(players, seed=51, tag="fd")
    original = ingest.progress_apply
    ingest.progress_apply = _no_apply  # type: ignore[assignment]
    try:
        run_batches([maker.batch() for _ in range(2)])
        store = run_batches([maker.batch() for _ in range(BATCHES)])
    finally:
        ingest.progress_apply = original  # type: ignore[assignment]

    # Apply what was stored, in log order, in chunks of 1,000 then 5,000.
    log = [
        EventRecord(e.pk, e.event_id, e.user_id, e.action, e.occurred_at, e.received_at, e.data)
        for e in Event.objects.order_by("id")
    ]
    applied: dict[str, Any] = {}
    position = 0
    for size in (1000, 5000):
        latencies = []
        cpu = time.process_time()
        started = time.perf_counter()
        count = 0
        end = min(len(log), position + max(size * 3, len(log) // 2))
        while position < end:
            chunk = log[position : position + size]
            position += len(chunk)
            t0 = time.perf_counter()
            with transaction.atomic():
                progress_apply(events=chunk)
            latencies.append((time.perf_counter() - t0) * 1000)
            count += len(chunk)
        elapsed = time.perf_counter() - started
        applied[f"per_{size}"] = {
            "events": count,
            "events_per_s": round(count / elapsed),
            "app_cpu_ms_per_1000": round((time.process_time() - cpu) / count * 1_000_000, 1),
            "call_ms_p50": round(percentile(latencies, 50), 1),
            "call_ms_p99": round(percentile(latencies, 99), 1),
        }
    return {
        "name": "front_door",
        "unit": "events/s (store only: validate, lock, insert, commit)",
        "value": store["events_per_s"],
        "store_only": store,
        "apply_only": applied,
    }
