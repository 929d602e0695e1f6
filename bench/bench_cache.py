"""The two-level player-missions cache (missions/cache.py): server time of the hub page and
of GET /api/v1/missions with the cache on vs off (the baseline), same players, same run.

Requests go through the whole Django stack in-process (django.test.Client: middleware,
auth, session, view, template), so the time is server time without the network. Three
read patterns: repeat reads (L1 hits), reads on another process (L2 hits: L1 cleared before
each read) and a read after each write (every read a miss: the cost of the cache). Each
read is paired with the same player's read with the cache off, back to back.

BENCH_CACHE_USERS players (default 30), BENCH_CACHE_ROUNDS reads per player and pattern
(default 3).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.test import Client, override_settings
from django.utils import timezone

import missions
from missions.cache import PLAYER_MISSIONS, version_tokens
from missions.models import MissionTemplate
from missions.services import missions_assign_all
from missions.validation import validate_template

USERS = int(os.environ.get("BENCH_CACHE_USERS", "30"))
ROUNDS = int(os.environ.get("BENCH_CACHE_ROUNDS", "3"))

TEMPLATES = [
    *({"key": f"bench_cache_daily_{i}", "period_type": "daily", "target": 3 + i} for i in range(4)),
    *(
        {"key": f"bench_cache_weekly_{i}", "period_type": "weekly", "target": 10 + i}
        for i in range(3)
    ),
    {"key": "bench_cache_monthly", "period_type": "monthly", "target": 50},
    {"key": "bench_cache_ever", "period_type": "perpetual", "target": 1000},
]


def _templates() -> None:
    for t in TEMPLATES:
        cleaned = validate_template(
            {
                "key": t["key"],
                "name": t["key"].replace("_", " ").title(),
                "description": "A bench mission with a description of a realistic length.",
                "category": "content",
                "type": "count",
                "period_type": t["period_type"],
                "requirements": {
                    "posts": {"action": "post:created", "target": t["target"], "label": "Post"},
                    "tips": {"action": "tip:sent", "target": 2, "label": "Tip"},
                },
                "rewards": {"xp": 50, "dgt": "2.5", "items": [{"key": "streak_freeze", "qty": 1}]},
                "metadata": {"icon": "pen", "difficulty": "easy"},
            }
        )
        MissionTemplate.objects.update_or_create(key=cleaned["key"], defaults=cleaned)


def _paired(
    clients: list[tuple[int, Client]], path: str, before_on: Callable[[int], None]
) -> dict[str, list[float]]:
    """Each player's read with the cache off and on, back to back in a random order, so the
    shared machine's load drift hits both alike. `before_on` sets up the pattern."""
    rng = random.Random(11)
    out: dict[str, list[float]] = {"off": [], "on": []}

    def read(client: Client, enabled: bool) -> float:
        with override_settings(MISSIONS_CACHE=enabled):
            started = time.perf_counter()
            response = client.get(path)
            took = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.status_code
        return took

    for _ in range(ROUNDS):
        for user_id, client in clients:
            pair = {}
            for enabled in rng.sample([False, True], 2):
                before_on(user_id)
                pair[enabled] = read(client, enabled)
            out["off"].append(pair[False])
            out["on"].append(pair[True])
    return out


def _stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 2),
    }


def _catalog() -> dict[str, Any]:
    """What a template-catalog cache could save where the catalog is read (assignment, event
    application): the query vs the version-token round trip an exact L1 hit still needs."""
    query, token = [], []
    for _ in range(200):
        started = time.perf_counter()
        list(MissionTemplate.objects.filter(is_active=True))
        query.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        version_tokens(["templates"])
        token.append((time.perf_counter() - started) * 1000)
    return {
        "templates": MissionTemplate.objects.count(),
        "query": _stats(query),
        "l1_hit_with_version_check": _stats(token),
    }


def run() -> dict[str, Any]:
    _templates()
    User = get_user_model()
    tag = f"{time.time_ns()}"
    users = User.objects.bulk_create(
        [User(username=f"bench-cache-{tag}-{i}") for i in range(USERS)]
    )
    now = timezone.now()
    missions_assign_all(now=now, user_ids=[u.pk for u in users])
    counter = iter(range(10**9))

    def write(user_id: int) -> None:
        missions.track(
            user_id, "post:created", {"content_length": 10}, event_id=f"bc-{tag}-{next(counter)}"
        )

    for u in users:  # some progress on every card
        write(u.pk)
    clients = []
    for u in users:
        client = Client()
        client.force_login(u)  # the login warms the cache (when it is on)
        clients.append((u.pk, client))

    def nothing(_user_id: int) -> None:
        pass

    def other_process(_user_id: int) -> None:
        PLAYER_MISSIONS.clear_local()

    summary: dict[str, Any] = {}
    for path, name in (("/", "hub"), ("/api/v1/missions", "missions_api")):
        for client_pair in clients:  # warm-up: connections, templates, L2
            with override_settings(MISSIONS_CACHE=True):
                client_pair[1].get(path)
        summary[name] = {}
        for pattern, before in (
            ("repeat", nothing),
            ("other_process", other_process),
            ("after_write", write),
        ):
            times = _paired(clients, path, before)
            summary[name][pattern] = {mode: _stats(times[mode]) for mode in ("off", "on")}
            # The median of each pair's difference: robust to the load of a shared machine.
            summary[name][pattern]["on_minus_off_median_ms"] = round(
                statistics.median(
                    on - off for on, off in zip(times["on"], times["off"], strict=True)
                ),
                2,
            )
            print(f"# cache bench: {name} {pattern} done", file=sys.stderr, flush=True)
    summary["template_catalog"] = _catalog()
    hub_off = summary["hub"]["repeat"]["off"]["median_ms"]
    hub_on = summary["hub"]["repeat"]["on"]["median_ms"]
    return {
        "name": "player_missions_cache",
        "unit": "ms median hub server time, repeat reads (cache on)",
        "value": hub_on,
        "baseline": hub_off,
        "baseline_is": "the same reads with MISSIONS_CACHE off",
        "ratio": round(hub_off / hub_on, 2) if hub_on else None,
        "players": USERS,
        "reads_per_pattern_and_mode": USERS * ROUNDS,
        "detail": summary,
    }
