"""Scenario 5: WebSocket commit-to-receipt latency with many open sockets.

The real ASGI server (uvicorn, BENCH_WORKERS workers) with the Redis channel layer serves
`/ws/missions/`; `bench/wsclient.py`, its own asyncio process, opens BENCH_WS_SOCKETS sockets
(one player each, `?token=` knox tokens) and stamps every `mission:progress` message it
receives. This process is the producer, as a forum calling `events_ingest` in-process would
be: BENCH_WS_RATE events/s for BENCH_WS_SECONDS, in ticks of BENCH_WS_TICK_MS, each player of
a socket in turn. The producer stamps the commit of each tick (a `transaction.on_commit`
registered before the engine's, so it runs first, right after COMMIT) and collects the
messages the tick sends (the `live_messages` signal). Each message is identified by (player,
mission, requirement, current) — `current` grows with every change, so the key is unique —
and its latency is its receipt minus its commit, both on this machine's wall clock.

Defaults: 1,000 sockets at 1,000 events/s for 15 s (60 s with --full).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from knox.models import AuthToken

from bench.bench_ingest import MISSIONS, PLAYERS, prepare
from bench.server import PYTHON, ROOT, asgi_server
from bench.world import EventMaker, ensure_players, percentile
from missions.models import ActiveMission
from missions.services.ingest import events_ingest
from missions.signals import live_messages

FULL = os.environ.get("BENCH_FULL") == "1"
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
SOCKETS = int(os.environ.get("BENCH_WS_SOCKETS", "1000"))
RATE = float(os.environ.get("BENCH_WS_RATE", "1000"))
SECONDS = float(os.environ.get("BENCH_WS_SECONDS", "60" if FULL else "15"))
TICK_MS = float(os.environ.get("BENCH_WS_TICK_MS", "50"))
DRAIN_SECONDS = 5.0

Key = tuple[int, int, str, str]


def _key(user_id: int, message: dict[str, Any]) -> Key:
    return (int(user_id), int(message["missionId"]), str(message["requirement"]),
            str(message["current"]))  # fmt: skip


def tokens_for(user_ids: list[int]) -> list[list[Any]]:
    from django.contrib.auth import get_user_model

    AuthToken.objects.filter(user_id__in=user_ids).delete()
    users = get_user_model().objects.filter(pk__in=user_ids).order_by("pk")
    return [[user.pk, AuthToken.objects.create(user=user)[1]] for user in users]


def produce(
    users: list[int], rate: float, seconds: float, tick_ms: float
) -> tuple[dict[Key, float], dict[str, Any]]:
    """Ingest `rate` events/s for `seconds`; the commit time of every progress message."""
    maker = EventMaker(users, seed=53, tag="ws")
    per_tick = max(1, round(rate * tick_ms / 1000))
    tick = per_tick / rate
    captured: list[Key] = []
    committed: dict[Key, float] = {}
    # Commit to "the producer's group_sends returned" (the push is done in the commit hooks,
    # before events_ingest returns): the producer's share of commit-to-receipt.
    sending: list[float] = []

    def capture(sender: Any, messages: list[tuple[int, dict[str, Any]]], **kwargs: Any) -> None:
        captured.extend(_key(u, m) for u, m in messages if m.get("type") == "mission:progress")

    live_messages.connect(capture, sender=ActiveMission, weak=False, dispatch_uid="bench-ws")
    events = 0
    behind = 0
    next_user = 0
    cpu = time.process_time()
    started = time.perf_counter()
    try:
        n = 0
        while time.perf_counter() - started < seconds:
            delay = started + n * tick - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            else:
                behind += 1
            batch = []
            now = datetime.now(UTC)
            for _ in range(per_tick):
                batch.append(maker.event(when=now, user_id=users[next_user % len(users)]))
                next_user += 1
            captured.clear()
            stamp: list[float] = []
            with transaction.atomic():
                transaction.on_commit(lambda stamp=stamp: stamp.append(time.time()))
                events += events_ingest(events=batch).accepted
            if captured:
                sending.append((time.time() - stamp[0]) * 1000)
            for key in captured:
                committed[key] = stamp[0]
            n += 1
    finally:
        live_messages.disconnect(sender=ActiveMission, dispatch_uid="bench-ws")
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    return committed, {
        "events": events,
        "events_per_s": round(events / elapsed, 1),
        "ticks": n,
        "ticks_late": behind,
        "events_per_tick": per_tick,
        "producer_app_cpu_ms_per_1000": round(cpu / max(1, events) * 1_000_000, 1),
        "commit_to_sent_ms_p50": round(percentile(sending, 50), 1),
        "commit_to_sent_ms_p99": round(percentile(sending, 99), 1),
    }


def run() -> dict[str, Any]:
    players = ensure_players(max(PLAYERS, SOCKETS))
    prepare(players, MISSIONS)
    users = players[:SOCKETS]
    sockets = tokens_for(users)
    with asgi_server(WORKERS) as base:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump(
                {
                    "url": base.replace("http://", "ws://") + "/ws/missions/",
                    "sockets": sockets,
                    "seconds": SECONDS + DRAIN_SECONDS,
                },
                handle,
            )
            config = handle.name
        opening = time.perf_counter()
        client = subprocess.Popen(
            [PYTHON, str(ROOT / "bench" / "wsclient.py"), config],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert client.stdout is not None
            ready = client.stdout.readline().split()
            if not ready or ready[0] != "READY":
                raise RuntimeError(f"the WebSocket client did not start: {ready}")
            open_seconds = time.perf_counter() - opening
            committed, production = produce(users, RATE, SECONDS, TICK_MS)
            out, _ = client.communicate(timeout=SECONDS + DRAIN_SECONDS + 120)
        finally:
            if client.poll() is None:
                client.kill()
                client.wait()
            os.unlink(config)
    received = json.loads(out.strip().splitlines()[-1])
    latencies = []
    seen = set()
    for user_id, mission_id, requirement, current, at in received.pop("receipts"):
        key = (int(user_id), int(mission_id), str(requirement), str(current))
        if key in committed and key not in seen:
            seen.add(key)
            latencies.append((at - committed[key]) * 1000)
    lost = len(committed) - len(seen)
    p99 = round(percentile(latencies, 99), 1)
    return {
        "name": "websocket",
        "unit": "ms p99 commit-to-receipt",
        "value": p99,
        "target": 100,
        "workers": WORKERS,
        "sockets_asked": SOCKETS,
        "sockets_open": received["opened"],
        "sockets_failed": received["failed"],
        "socket_failures": received["failures"],
        "sockets_closed_early": received["closed_early"],
        "close_codes": received["close_codes"],
        "seconds_to_open_all": round(open_seconds, 1),
        "rate_asked": RATE,
        **production,
        "messages_committed": len(committed),
        "messages_received": len(seen),
        "messages_lost": lost,
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": p99,
        "max_ms": round(max(latencies), 1) if latencies else None,
    }
