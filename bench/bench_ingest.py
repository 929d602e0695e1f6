"""Batched ingestion: events/s for 1,000-event batches vs `missions.track` one event at a time
(the baseline), measured in the same run on the same users and templates.

BENCH_INGEST_BATCHES (default 20) batches over BENCH_INGEST_USERS players (default 1,000; half
already assigned, half first contact measured separately); BENCH_INGEST_BASELINE events sent
one by one (default 500).
"""

from __future__ import annotations

import os
import random
import time

from django.contrib.auth import get_user_model
from django.utils import timezone

import missions
from missions.models import MissionTemplate
from missions.services import missions_assign_all
from missions.services.ingest import events_ingest
from missions.validation import validate_template

BATCHES = int(os.environ.get("BENCH_INGEST_BATCHES", "20"))
USERS = int(os.environ.get("BENCH_INGEST_USERS", "1000"))
BASELINE = int(os.environ.get("BENCH_INGEST_BASELINE", "500"))

TEMPLATES = [
    {
        "key": "bench_posts",
        "type": "count",
        "period_type": "perpetual",
        "requirements": {
            "p": {
                "action": "post:created",
                "target": 1000000,
                "label": "posts",
                "where": {"content_length": {"gte": 100}},
            }
        },
    },
    {
        "key": "bench_forums",
        "type": "unique",
        "period_type": "perpetual",
        "requirements": {
            "f": {"action": "post:created", "target": 1000, "label": "forums", "field": "forum_id"}
        },
    },
    {
        "key": "bench_tips",
        "type": "threshold",
        "period_type": "perpetual",
        "requirements": {
            "t": {"action": "tip:sent", "target": 1000000, "label": "tip", "field": "amount"}
        },
    },
    {
        "key": "bench_days",
        "type": "streak",
        "period_type": "perpetual",
        "requirements": {"d": {"action": "shoutbox:message", "target": 365, "label": "days"}},
    },
    {
        "key": "bench_score",
        "type": "competitive",
        "period_type": "perpetual",
        "requirements": {"s": {"action": "post:created", "target": 1000000, "label": "score"}},
        "metadata": {"reward_tiers": [{"rank_to": 10, "rewards": {"xp": 1}}]},
    },
]


def run() -> dict:
    for raw in TEMPLATES:
        data = {"name": raw["key"], "category": "engagement", "rewards": {"xp": 1}, **raw}
        cleaned = validate_template(data)
        MissionTemplate.objects.update_or_create(key=cleaned["key"], defaults=cleaned)
    User = get_user_model()
    tag = f"{time.time_ns()}"
    users = User.objects.bulk_create([User(username=f"bench-{tag}-{i}") for i in range(USERS)])
    ids = [u.pk for u in users]
    assigned, fresh = ids[: len(ids) // 2], ids[len(ids) // 2 :]
    rng = random.Random(7)

    def one(n: int, i: int) -> dict[str, object]:
        action, data = rng.choice(
            [
                (
                    "post:created",
                    {"content_length": rng.choice([40, 150]), "forum_id": rng.randint(1, 30)},
                ),
                ("tip:sent", {"amount": rng.randint(1, 500)}),
                ("shoutbox:message", {"length": 12}),
            ]
        )
        return {
            "id": f"bench-{tag}-{n}-{i}",
            "user_id": rng.choice(assigned),
            "action": action,
            "occurred_at": timezone.now().isoformat(),
            "data": data,
        }

    missions_assign_all(now=timezone.now(), user_ids=assigned)
    events_ingest(events=[one(-1, i) for i in range(1000)])  # warm caches and connections

    singles = [one(-2, i) for i in range(BASELINE)]
    started = time.perf_counter()
    for e in singles:
        missions.track(e["user_id"], str(e["action"]), e["data"], event_id=str(e["id"]))  # type: ignore[arg-type]
    baseline = BASELINE / (time.perf_counter() - started)

    batches = [[one(n, i) for i in range(1000)] for n in range(BATCHES)]
    started = time.perf_counter()
    accepted = sum(events_ingest(events=events).accepted for events in batches)
    elapsed = time.perf_counter() - started

    first_events = [
        {
            "id": f"bench-{tag}-first-{i}",
            "user_id": user_id,
            "action": "post:created",
            "data": {"content_length": 150, "forum_id": 1},
        }
        for i, user_id in enumerate(fresh[:1000])
    ]
    started = time.perf_counter()
    events_ingest(events=first_events)
    first_ms = (time.perf_counter() - started) * 1000
    value = accepted / elapsed
    return {
        "name": "ingest_batched",
        "unit": "events/s",
        "value": round(value),
        "baseline": round(baseline),
        "baseline_is": f"missions.track one event per call, {BASELINE} events",
        "ratio": round(value / baseline, 2),
        "events": accepted,
        "ms_per_1000_batch": round(elapsed / BATCHES * 1000),
        "first_contact_batch_ms": round(first_ms),
        "first_contact_users": len(first_events),
    }
