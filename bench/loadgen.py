"""A small asyncio HTTP load generator (aiohttp), run as its own process by the scenarios.

    python bench/loadgen.py CONFIG.json  ->  prints {"requests", "errors", "rps", "p50_ms", ...}

CONFIG: {"base": "http://127.0.0.1:PORT", "clients": 64, "seconds": 15, "warmup": 2,
         "mode": "events" | "get", "path": "/api/v1/events", "headers": [{...}, ...],
         "users": [ids], "batch": 1, "tag": "run1"}
Each client loops: one request, wait for the answer, next (closed loop). `events` posts
`batch` fresh events per request for a random player; `get` fetches `path` with the client's
headers (headers[i % len(headers)]: one player per client).
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from datetime import UTC, datetime
from typing import Any

import aiohttp


def percentile(samples: list[float], p: float) -> float:
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


async def main(config: dict[str, Any]) -> dict[str, Any]:
    base = config["base"]
    clients = int(config["clients"])
    seconds = float(config["seconds"])
    warmup = float(config.get("warmup", 2))
    mode = config["mode"]
    headers = config["headers"]
    users = config.get("users") or [0]
    batch = int(config.get("batch", 1))
    tag = config.get("tag", "lg")
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    counter = 0
    completed = 0  # every answered request, warm-up included (for CPU per request)
    started = time.perf_counter()
    measure_from = started + warmup
    stop_at = measure_from + seconds

    async def client(n: int, session: aiohttp.ClientSession) -> None:
        nonlocal errors, counter, completed
        rng = random.Random(n)
        my_headers = headers[n % len(headers)]
        while True:
            now = time.perf_counter()
            if now >= stop_at:
                return
            if mode == "events":
                events = []
                for _ in range(batch):
                    counter += 1
                    events.append(
                        {
                            "id": f"{tag}-{n}-{counter}",
                            "user_id": rng.choice(users),
                            "action": "post:created",
                            "occurred_at": datetime.now(UTC).isoformat(),
                            "data": {"forum_id": rng.randint(1, 40), "content_length": 150},
                        }
                    )
                request = session.post(
                    base + config["path"], json={"events": events}, headers=my_headers
                )
            else:
                request = session.get(base + config["path"], headers=my_headers)
            t0 = time.perf_counter()
            try:
                async with request as response:
                    await response.read()
                    status = response.status
            except Exception:
                errors += 1
                await asyncio.sleep(0.05)
                continue
            t1 = time.perf_counter()
            completed += 1
            if t0 >= measure_from and t1 <= stop_at:
                latencies.append((t1 - t0) * 1000)
                statuses[status] = statuses.get(status, 0) + 1

    connector = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(client(n, session) for n in range(clients)))
    ok = sum(v for k, v in statuses.items() if 200 <= k < 300)
    return {
        "clients": clients,
        "seconds": seconds,
        "requests": len(latencies),
        "requests_all": completed,
        "ok": ok,
        "statuses": {str(k): v for k, v in statuses.items()},
        "errors": errors,
        "rps": round(len(latencies) / seconds, 1),
        "ok_rps": round(ok / seconds, 1),
        "events_per_s": round(ok * batch / seconds, 1) if mode == "events" else None,
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
    }


if __name__ == "__main__":
    with open(sys.argv[1]) as handle:
        cfg = json.load(handle)
    print(json.dumps(asyncio.run(main(cfg))))
