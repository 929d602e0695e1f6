"""The sketch's per-event design (seed guide §2.1 `updateProgress`), as the baseline.

Per event: load the player's active missions (with their templates, to filter those that
track the action); for each relevant mission HGET the progress from Redis, add, HSET, fetch
the template again (`getTemplate`) for the target, check completion (HGETALL of the hash when
a requirement is met, then mark the mission complete); after all that, persist every update
to the database ("async" in the sketch: here right after, autocommit, one UPDATE each).

It is generous to the sketch: matching uses our `where` filters, every type is a plain
count, no event log is written (so nothing is durable), and no idempotency check is made.
Run from several threads it loses increments (read-then-write), which `lost()` counts.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import psycopg
import redis

from missions.evaluators.matching import requirement_matches


class Sketch:
    def __init__(self, dsn: str, redis_url: str) -> None:
        self.db = psycopg.connect(dsn, autocommit=True)
        self.redis = redis.Redis.from_url(redis_url)

    def close(self) -> None:
        self.db.close()
        self.redis.close()

    def track(self, event: dict[str, Any]) -> int:
        """One event through the sketch's updateProgress; returns missions completed."""
        user_id, action, data = event["user_id"], event["action"], event["data"]
        with self.db.cursor() as cursor:
            # 1. getActiveMissions(userId)
            cursor.execute(
                "SELECT m.id, m.template_id, t.requirements FROM missions_activemission m "
                "JOIN missions_missiontemplate t ON t.id = m.template_id "
                "WHERE m.user_id = %s AND m.state = 'active'",
                [user_id],
            )
            missions = cursor.fetchall()
            # 2. missions that track this action
            relevant = [
                (mission_id, template_id, key)
                for mission_id, template_id, requirements in missions
                for key, requirement in requirements.items()
                if requirement_matches(requirement, action, data)
            ]
            updates = []
            completed = 0
            for mission_id, template_id, key in relevant:
                # 3. updateMissionProgress: HGET, add, HSET (the read-then-write race)
                hash_key = f"sketch:progress:{user_id}:{mission_id}"
                current = int(self.redis.hget(hash_key, key) or 0)
                value = current + 1
                self.redis.hset(hash_key, key, str(value))
                # getTemplate(mission.templateId) for the target
                cursor.execute(
                    "SELECT requirements FROM missions_missiontemplate WHERE id = %s",
                    [template_id],
                )
                requirements = cursor.fetchone()[0]
                target = int(requirements[key]["target"])
                if value >= target:
                    # checkAllRequirements(mission)
                    stored = self.redis.hgetall(hash_key)
                    if all(int(stored.get(k.encode(), 0)) >= int(r["target"])
                           for k, r in requirements.items()):  # fmt: skip
                        cursor.execute(
                            "UPDATE missions_activemission SET completed_at = now() "
                            "WHERE id = %s AND completed_at IS NULL",
                            [mission_id],
                        )
                        completed += cursor.rowcount
                updates.append((mission_id, key, value))
            # 6. persistProgressUpdates(updates)
            for mission_id, key, value in updates:
                cursor.execute(
                    "UPDATE missions_missionprogress SET current = %s "
                    "WHERE mission_id = %s AND requirement_key = %s",
                    [value, mission_id, key],
                )
        return completed


def expected_increments(events: Sequence[dict[str, Any]], dsn: str) -> Counter[tuple[int, str]]:
    """(mission, requirement) -> how many events matched: what a lossless run would count."""
    users = sorted({e["user_id"] for e in events})
    with psycopg.connect(dsn) as db, db.cursor() as cursor:
        cursor.execute(
            "SELECT m.id, m.user_id, t.requirements FROM missions_activemission m "
            "JOIN missions_missiontemplate t ON t.id = m.template_id "
            "WHERE m.user_id = ANY(%s) AND m.state = 'active'",
            [users],
        )
        by_user: dict[int, list[tuple[int, dict[str, Any]]]] = {}
        for mission_id, user_id, requirements in cursor.fetchall():
            by_user.setdefault(user_id, []).append((mission_id, requirements))
    counts: Counter[tuple[int, str]] = Counter()
    for event in events:
        for mission_id, requirements in by_user.get(event["user_id"], ()):
            for key, requirement in requirements.items():
                if requirement_matches(requirement, event["action"], event["data"]):
                    counts[(mission_id, key)] += 1
    return counts


def clear_redis(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter("sketch:progress:*", count=5000):
        client.delete(key)
    client.close()


def run_sketch(
    events: Sequence[dict[str, Any]], *, dsn: str, redis_url: str, threads: int
) -> dict[str, Any]:
    """Feed the events through `threads` sketch workers; events/s and increments lost."""
    clear_redis(redis_url)
    expected = expected_increments(events, dsn)
    queue = list(events)
    lock = threading.Lock()
    position = [0]

    def worker() -> None:
        sketch = Sketch(dsn, redis_url)
        try:
            while True:
                with lock:
                    if position[0] >= len(queue):
                        return
                    event = queue[position[0]]
                    position[0] += 1
                sketch.track(event)
        finally:
            sketch.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    client = redis.Redis.from_url(redis_url)
    lost = 0
    # Read back every hash the run wrote and compare with the lossless counts.
    got: dict[tuple[int, str], int] = {}
    for hash_key in client.scan_iter("sketch:progress:*", count=5000):
        mission_id = int(hash_key.decode().rsplit(":", 1)[1])
        for field, value in client.hgetall(hash_key).items():
            got[(mission_id, field.decode())] = int(value)
    client.close()
    for pair, count in expected.items():
        lost += max(0, count - got.get(pair, 0))
    return {
        "events": len(events),
        "threads": threads,
        "events_per_s": round(len(events) / elapsed, 1),
        "increments_expected": sum(expected.values()),
        "increments_lost": lost,
        "lost_pct": round(100 * lost / max(1, sum(expected.values())), 2),
        "durable": False,
        "seconds": round(elapsed, 2),
    }
