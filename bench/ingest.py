"""First measurement of batched ingestion: events/s for 1,000-event batches.

Usage (against your DATABASE_URL / REDIS_URL; it creates its own users and templates and
leaves them behind, so point it at a scratch database):

    .venv/bin/python bench/ingest.py [--batches 20] [--users 500]

The formal `make bench` is its own issue; this is a quick, honest number.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.django.local")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.utils import timezone  # noqa: E402

from missions.models import MissionTemplate  # noqa: E402
from missions.services import missions_assign_all  # noqa: E402
from missions.services.ingest import events_ingest  # noqa: E402
from missions.validation import validate_template  # noqa: E402

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--users", type=int, default=1000, help="half steady, half new")
    args = parser.parse_args()
    for raw in TEMPLATES:
        data = {"name": raw["key"], "category": "engagement", "rewards": {"xp": 1}, **raw}
        cleaned = validate_template(data)
        MissionTemplate.objects.update_or_create(key=cleaned["key"], defaults=cleaned)
    User = get_user_model()
    run = f"{time.time_ns()}"
    users = User.objects.bulk_create([User(username=f"bench-{run}-{i}") for i in range(args.users)])
    ids = [u.pk for u in users]
    assigned, fresh = ids[: len(ids) // 2], ids[len(ids) // 2 :]
    rng = random.Random(7)

    def batch(n: int) -> list[dict[str, object]]:
        now = timezone.now()
        out: list[dict[str, object]] = []
        for i in range(1000):
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
            out.append(
                {
                    "id": f"bench-{run}-{n}-{i}",
                    "user_id": rng.choice(assigned),
                    "action": action,
                    "occurred_at": now.isoformat(),
                    "data": data,
                }
            )
        return out

    # Steady state: every user already has their missions (first contact, which assigns
    # lazily inside the batch, is measured separately below).
    missions_assign_all(now=timezone.now(), user_ids=assigned)
    events_ingest(events=batch(-1))  # warm caches and connections
    batches = [batch(n) for n in range(args.batches)]
    started = time.perf_counter()
    accepted = 0
    for events in batches:
        accepted += events_ingest(events=events).accepted
    elapsed = time.perf_counter() - started
    first_started = time.perf_counter()
    first = events_ingest(
        events=[
            {
                "id": f"bench-{run}-first-{i}",
                "user_id": user_id,
                "action": "post:created",
                "data": {"content_length": 150, "forum_id": 1},
            }
            for i, user_id in enumerate(fresh[:1000])
        ]
    )
    first_elapsed = time.perf_counter() - first_started
    print(
        f"first contact: {first.accepted} events for {min(1000, len(fresh))} unassigned users "
        f"(lazy assignment in the batch): {first_elapsed * 1000:.0f} ms"
    )
    print(
        f"{accepted} events in {args.batches} batches of 1,000 over {len(assigned)} users: "
        f"{elapsed:.2f}s, {accepted / elapsed:,.0f} events/s "
        f"({elapsed / args.batches * 1000:.0f} ms per batch)"
    )


if __name__ == "__main__":
    main()
