"""Assignment throughput: set-based chunks vs one user at a time (the baseline), same run.

BENCH_ASSIGN_USERS players (default 100,000) with the demo templates; measures
users/s for `missions_assign_all` and for per-user `missions_assign` on a sample.
"""

from __future__ import annotations

import io
import os
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from missions.models import ActiveMission, MissionProgress, PlayerProfile
from missions.services import missions_assign, missions_assign_all

USERS = int(os.environ.get("BENCH_ASSIGN_USERS", "100000"))
BASELINE_SAMPLE = int(os.environ.get("BENCH_ASSIGN_BASELINE_SAMPLE", "500"))


def _reset() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"TRUNCATE {MissionProgress._meta.db_table}, {ActiveMission._meta.db_table} CASCADE"
        )


def run() -> dict:
    call_command("seed_demo", players=0, stdout=io.StringIO())
    User = get_user_model()
    have = User.objects.filter(username__startswith="bench").count()
    if have < USERS:
        batch = [User(username=f"bench{i:07d}") for i in range(have, USERS)]
        User.objects.bulk_create(batch, batch_size=10_000)
    ids = list(
        User.objects.filter(username__startswith="bench")
        .order_by("pk")
        .values_list("pk", flat=True)[:USERS]
    )
    PlayerProfile.objects.filter(user_id__in=ids[: USERS // 2]).update(level=12)
    # Tomorrow, so the demo's own players' missions of today do not interfere.
    now = timezone.now() + timedelta(days=1)

    _reset()
    sample = ids[:BASELINE_SAMPLE]
    started = time.perf_counter()
    for user_id in sample:
        missions_assign(user_ids=[user_id], now=now)
    baseline = len(sample) / (time.perf_counter() - started)

    _reset()
    started = time.perf_counter()
    created = missions_assign_all(now=now, user_ids=ids, chunk_size=2000)
    elapsed = time.perf_counter() - started
    value = len(ids) / elapsed
    return {
        "name": "assign_missions",
        "unit": "users/s",
        "value": round(value),
        "baseline": round(baseline),
        "baseline_is": f"one user per call, {len(sample)} users",
        "ratio": round(value / baseline, 2),
        "users": len(ids),
        "missions_created": created,
        "seconds": round(elapsed, 2),
    }
