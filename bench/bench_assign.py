"""Scenario 7, daily rollover: set-based assignment in chunks vs one user at a time (the
baseline), same run, with the peak memory (RSS above the start, sampled every 0.1 s).

BENCH_ASSIGN_USERS players (default 100,000; 1,000,000 with --full) with the demo templates;
measures users/s for `missions_assign_all` and for per-user `missions_assign` on a sample.
"""

from __future__ import annotations

import io
import os
import threading
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from missions.models import ActiveMission, MissionProgress, MissionTemplate, PlayerProfile
from missions.services import missions_assign, missions_assign_all

FULL = os.environ.get("BENCH_FULL") == "1"
USERS = int(os.environ.get("BENCH_ASSIGN_USERS", "1000000" if FULL else "100000"))


def _rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakMemory:
    """Samples this process's resident memory while the block runs."""

    def __enter__(self) -> PeakMemory:
        self.start = self.peak = _rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            self.peak = max(self.peak, _rss_bytes())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())


BASELINE_SAMPLE = int(os.environ.get("BENCH_ASSIGN_BASELINE_SAMPLE", "500"))


def _reset() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"TRUNCATE {MissionProgress._meta.db_table}, {ActiveMission._meta.db_table} CASCADE"
        )


def run() -> dict:
    call_command("seed_demo", players=0, stdout=io.StringIO())
    # The demo templates are the rollover's; the ingestion worlds' bench templates are not.
    MissionTemplate.objects.exclude(key__startswith="bench_").update(is_active=True)
    MissionTemplate.objects.filter(key__startswith="bench_").update(is_active=False)
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
    started, cpu = time.perf_counter(), time.process_time()
    with PeakMemory() as memory:
        created = missions_assign_all(now=now, user_ids=ids, chunk_size=2000)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    value = len(ids) / elapsed
    return {
        "name": "rollover",
        "unit": "users/s",
        "value": round(value),
        "baseline": round(baseline),
        "baseline_is": f"one user per call, {len(sample)} users",
        "ratio": round(value / baseline, 2),
        "users": len(ids),
        "missions_created": created,
        "seconds": round(elapsed, 2),
        # the steadier figure on a shared box: this process's CPU (the rest is Postgres)
        "app_cpu_seconds": round(cpu, 2),
        "seconds_target_1m": 60,
        "peak_memory_mib_above_start": round((memory.peak - memory.start) / 2**20, 1),
        "peak_rss_mib": round(memory.peak / 2**20, 1),
        "memory_target_mib": 1024,
    }
