"""The log insert alone: `ingest._store` of 1,000-event batches (new ids, then the same
batches again as duplicates), each in its own committed transaction — the statement the
event log's layout (docs/events.md "The log over years") changes, without the rest of the
batch around it.

Besides wall time it reports CPU per 1,000 events of the app process and of the Postgres
backend that ran the statements (read from /proc: the server runs on this machine), which a
shared, loaded box disturbs far less than wall time. Size: BENCH_STORE_BATCHES (30).
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from bench.bench_ingest import PLAYERS
from bench.world import EventMaker, ensure_players, reset_state
from missions.event_validation import CleanEvent
from missions.services import ingest

BATCHES = int(os.environ.get("BENCH_STORE_BATCHES", "30"))
TICK = os.sysconf("SC_CLK_TCK")


def _backend_cpu(pid: int) -> float:
    """Seconds of CPU (user + system) the Postgres backend `pid` has used."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")  # not on this machine
    return (int(fields[11]) + int(fields[12])) / TICK


def _clean(raw: dict[str, Any], index: int) -> CleanEvent:
    return CleanEvent(
        index,
        raw["id"],
        raw["user_id"],
        raw["action"],
        datetime.fromisoformat(raw["occurred_at"]),
        raw["data"],
    )


def _measure(batches: list[list[CleanEvent]]) -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    stored = 0
    db_cpu, cpu = _backend_cpu(pid), time.process_time()
    started = time.perf_counter()
    for batch in batches:
        with transaction.atomic():
            stored += len(ingest._store(batch, ingest.timezone.now()))
    elapsed = time.perf_counter() - started
    cpu, db_cpu = time.process_time() - cpu, _backend_cpu(pid) - db_cpu
    events = sum(len(b) for b in batches)
    return {
        "events": events,
        "stored": stored,
        "events_per_s": round(events / elapsed),
        "app_cpu_ms_per_1000": round(cpu / events * 1_000_000, 1),
        "db_cpu_ms_per_1000": round(db_cpu / events * 1_000_000, 1),
    }


def run() -> dict[str, Any]:
    players = ensure_players(PLAYERS)
    reset_state()
    maker = EventMaker(players, seed=71, tag="st")
    batches = [[_clean(maker.event(), i) for i in range(1000)] for _ in range(BATCHES)]
    fresh = _measure(batches)
    again = _measure(batches)
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = 'missions_event'::regclass")
        layout = "partitioned" if cursor.fetchone()[0] == "p" else "plain"
    return {
        "name": "store",
        "unit": "events/s",
        "value": fresh["events_per_s"],
        "baseline": None,
        "ratio": None,
        "layout": layout,
        "new_ids": fresh,
        "all_duplicates": again,
    }
