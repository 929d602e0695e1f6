"""`make bench`: run every bench/bench_*.py against Postgres + Redis and print one JSON summary.

Each module has `run() -> dict` that measures its subject and a baseline in the same run and
returns {"name", "unit", "value", "baseline", "ratio", ...}. Not part of `make test`.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Benchmarks measure the production shape: Postgres and Redis, never the SQLite default.
os.environ["DATABASE_URL"] = (
    os.environ.get("BENCH_DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/missions_bench"
)
os.environ["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL") or "redis://127.0.0.1:6379/5"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.django.local")
os.environ.setdefault("DJANGO_DEBUG", "false")
# The bench builds large worlds in single statements (100k players' missions, the backtest's
# event history); on a busy box they outlast the serving timeout of 30 s.
os.environ.setdefault("DATABASE_STATEMENT_TIMEOUT_MS", "900000")


# Scenarios outside issue 11's list (the admin backtest of issue 10, the player-missions cache
# of issue 9): run by name (`make bench BENCH=backtest`) or with --full, not in the quick run.
OPT_IN = {"backtest", "cache"}


def ensure_database() -> None:
    name = os.environ["DATABASE_URL"].rsplit("/", 1)[-1]
    exists = subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname='{name}'",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if exists != "1":
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)


def _row(
    figure: str, value: Any, target: Any, baseline: Any = None, *, higher: bool = True
) -> dict[str, Any]:
    met = None
    if isinstance(value, int | float) and isinstance(target, int | float):
        met = value >= target if higher else value <= target
    ratio = None
    if isinstance(value, int | float) and isinstance(baseline, int | float) and baseline:
        ratio = round(value / baseline, 2) if higher else round(baseline / value, 2)
    return {
        "figure": figure,
        "value": value,
        "target": target,
        "baseline": baseline,
        "ratio_to_baseline": ratio,
        "met": met,
    }


def summarize(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per target of issue 11: figure, value, target, baseline, ratio, met."""
    by = {r["name"]: r for r in results}
    rows = []
    if "ingest_batched" in by:
        r = by["ingest_batched"]
        rows.append(_row("batched ingestion, events/s (15 missions/player)", r["value"],
                         10_000, r["baseline"]))  # fmt: skip
        rows.append(_row("same, ratio to the sketch's design", r["ratio"], 10))
        rows.append(_row("same, vs the pre-issue-11 path (events/s)", r["value"], None,
                         r["legacy"]["events_per_s"]))  # fmt: skip
        half = r["new_at_half_peak"]["batch_ms_p99"]
        rows.append(_row("p99 ms per 1,000-event batch at half the peak", half, 250,
                         higher=False))  # fmt: skip
        rows.append(_row("sketch: increments lost, 8 threads on 20 players (%)",
                         r["sketch_8_threads_20_hot_players"]["lost_pct"], None,
                         higher=False))  # fmt: skip
    if "http" in by:
        r = by["http"]
        single = r["single_event_64_clients"]
        paths = r["single_event_by_request_path"]
        before = paths["full_stack"]
        rows.append(_row("one event per request, 64 clients, requests/s (lean door, the "
                         "default) vs the full middleware stack", single["ok_rps"], 1500,
                         before["ok_rps"]))  # fmt: skip
        rows.append(_row("same, p99 ms", single["p99_ms"], None, before["p99_ms"], higher=False))
        rows.append(_row("same, server CPU ms per request", single["server_cpu_ms_per_request"],
                         None, before["server_cpu_ms_per_request"], higher=False))  # fmt: skip
        grouped = paths["lean_group_commit"]
        rows.append(_row("same with group commit (off by default), requests/s vs the lean door",
                         grouped["ok_rps"], 1500, single["ok_rps"]))  # fmt: skip
        rows.append(_row("same with group commit, server CPU ms per request vs the lean door",
                         grouped["server_cpu_ms_per_request"], None,
                         single["server_cpu_ms_per_request"], higher=False))  # fmt: skip
        batched = r["batched_1000_over_http"]
        rows.append(_row("1,000-event batches over HTTP, events/s", batched["events_per_s"],
                         10_000))  # fmt: skip
        rows.append(_row("missions API p95 ms, 100 clients",
                         r["missions_api_100_clients"]["p95_ms"], 30, higher=False))  # fmt: skip
        rows.append(_row("hub page p95 ms, 100 clients", r["hub_page_100_clients"]["p95_ms"],
                         30, higher=False))  # fmt: skip
    if "track" in by:
        r = by["track"]
        rows.append(_row("track() p99 ms", r["p99_ms"], 5, higher=False))
        rows.append(_row("track() p50 ms", r["p50_ms"], None, higher=False))
    if "websocket" in by:
        r = by["websocket"]
        rows.append(_row(f"WebSocket commit-to-receipt p99 ms, {r['sockets_open']:,} sockets at "
                         f"{r['events_per_s']:,} events/s", r["p99_ms"], 100,
                         higher=False))  # fmt: skip
        rows.append(_row("same, messages lost", r["messages_lost"], 0, higher=False))
    if "cost_growth" in by:
        r = by["cost_growth"]
        rows.append(_row("throughput drop 1 -> 20 missions/player (%)", r["value"], 20,
                         r["baseline"], higher=False))  # fmt: skip
        rows.append(_row(f"throughput drop {r['players_range'][0]:,} -> "
                         f"{r['players_range'][1]:,} players (%)", r["drop_pct_players"], 20,
                         higher=False))  # fmt: skip
    if "rollover" in by:
        r = by["rollover"]
        rows.append(_row(f"daily rollover, {r['users']:,} players, seconds", r["seconds"],
                         60 * r["users"] / 1_000_000, higher=False))  # fmt: skip
        rows.append(_row("rollover peak memory above start, MiB",
                         r["peak_memory_mib_above_start"], 1024, higher=False))  # fmt: skip
        rows.append(_row("rollover, players/s vs one player per call", r["value"], None,
                         r["baseline"]))  # fmt: skip
    if "front_door" in by:
        r = by["front_door"]
        rows.append(_row("store only (front-door ceiling), events/s", r["value"], 10_000))
        rows.append(_row("apply only, 5,000 per call, events/s",
                         r["apply_only"]["per_5000"]["events_per_s"], 10_000))  # fmt: skip
    return rows


def main() -> None:
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    args = sys.argv[1:]
    if "--full" in args:
        os.environ["BENCH_FULL"] = "1"
    only = {a for a in args if not a.startswith("--")}
    full = os.environ.get("BENCH_FULL") == "1"
    results = []
    run_started = time.perf_counter()
    for path in sorted((ROOT / "bench").glob("bench_*.py")):
        name = path.stem.removeprefix("bench_")
        if only and name not in only:
            continue
        if not only and not full and name in OPT_IN:
            continue
        module = importlib.import_module(f"bench.{path.stem}")
        started = time.perf_counter()
        try:
            result = module.run()
        except Exception as exc:  # one failing scenario must not lose the others' figures
            traceback.print_exc()
            result = {"name": path.stem, "unit": "error", "value": None,
                      "error": f"{type(exc).__name__}: {exc}"}  # fmt: skip
            from django.db import connection

            connection.close()
        result["seconds_total"] = round(time.perf_counter() - started, 2)
        print(
            f"# {result['name']}: {result['value']} {result['unit']} (ratio {result.get('ratio')})",
            file=sys.stderr,
        )
        results.append(result)
    summary = {
        "full": full,
        "seconds_total_run": round(time.perf_counter() - run_started, 1),
        "skipped_opt_in": [] if only or full else sorted(OPT_IN),
        "load_average_at_end": os.getloadavg(),
        "summary": summarize(results),
        "benchmarks": results,
    }
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    name = time.strftime("%Y%m%dT%H%M%S") + ("-" + "-".join(sorted(only)) if only else "")
    (out / f"{name}.json").write_text(json.dumps(summary, indent=2, default=str))
    print(json.dumps(summary, indent=2, default=str))


if __name__ == "__main__":
    main()
