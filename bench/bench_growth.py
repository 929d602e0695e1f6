"""Scenario 4: cost growth. Throughput of 1,000-event batches (new path, and the pre-issue-11
path for comparison) at 1, 5, 15 and 20 missions per player with 10,000 players; and at
15 missions with 10,000 and 100,000 players (1,000,000 with --full).

Writes docs/performance-growth.png (matplotlib) beside the JSON.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bench.bench_ingest import measure
from bench.world import ensure_players

FULL = os.environ.get("BENCH_FULL") == "1"
BATCHES = int(os.environ.get("BENCH_GROWTH_BATCHES", "20" if FULL else "8"))
LEGACY_BATCHES = int(os.environ.get("BENCH_GROWTH_LEGACY_BATCHES", "3"))
MISSION_STEPS = [1, 5, 15, 20]
PLAYER_STEPS = [10_000, 100_000] + ([1_000_000] if FULL else [])
ROOT = Path(__file__).resolve().parent.parent


def plot(by_missions: list[dict[str, Any]], by_players: list[dict[str, Any]]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    xs = [p["missions"] for p in by_missions]
    left.plot(xs, [p["new"]["app_cpu_ms_per_1000"] for p in by_missions], "o-", label="new")
    left.plot(xs, [p["legacy"]["app_cpu_ms_per_1000"] for p in by_missions], "s--",
              label="before issue 11")  # fmt: skip
    left.set_xlabel("missions per player (10,000 players)")
    left.set_ylabel("app CPU ms per 1,000 events")
    left.set_title("Cost vs missions per player")
    left.legend()
    left.grid(alpha=0.3)
    px = [p["players"] for p in by_players]
    right.plot(px, [p["new"]["app_cpu_ms_per_1000"] for p in by_players], "o-", label="new")
    right.set_xscale("log")
    right.set_xlabel("players (15 missions each)")
    right.set_ylabel("app CPU ms per 1,000 events")
    right.set_title("Cost vs players")
    right.set_ylim(bottom=0)
    right.grid(alpha=0.3)
    fig.tight_layout()
    out = ROOT / "docs" / "performance-growth.png"
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return str(out.relative_to(ROOT))


def run() -> dict[str, Any]:
    players = ensure_players(10_000)
    by_missions = []
    for k in MISSION_STEPS:
        by_missions.append(
            {
                "missions": k,
                "new": measure(players, k, BATCHES, seed=40 + k),
                "legacy": measure(players, k, LEGACY_BATCHES, legacy=True, seed=60 + k),
            }
        )
    by_players = []
    for count in PLAYER_STEPS:
        ids = ensure_players(count)
        by_players.append({"players": count, "new": measure(ids, 15, BATCHES, seed=80)})
    first, last = by_missions[0]["new"], by_missions[-1]["new"]
    drop_missions = 1 - last["events_per_s"] / first["events_per_s"]
    small, large = by_players[0]["new"], by_players[-1]["new"]
    drop_players = 1 - large["events_per_s"] / small["events_per_s"]
    legacy_drop = 1 - (
        by_missions[-1]["legacy"]["events_per_s"] / by_missions[0]["legacy"]["events_per_s"]
    )
    return {
        "name": "cost_growth",
        "unit": "% throughput drop from 1 to 20 missions per player",
        "value": round(100 * drop_missions, 1),
        "target": 20,
        "baseline": round(100 * legacy_drop, 1),
        "baseline_is": "the same drop for the pre-issue-11 apply path",
        "drop_pct_players": round(100 * drop_players, 1),
        "players_range": [PLAYER_STEPS[0], PLAYER_STEPS[-1]],
        "cpu_drop_pct_missions": round(
            100 * (1 - first["app_cpu_ms_per_1000"] / last["app_cpu_ms_per_1000"]), 1
        ),
        "by_missions": by_missions,
        "by_players": by_players,
        "plot": plot(by_missions, by_players),
    }
