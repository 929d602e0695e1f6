"""`GET /metrics`: django-prometheus's metrics and ours, from every process of this host.

With PROMETHEUS_MULTIPROC_DIR set, the counters of all processes (web workers, Celery
workers) are read from their files there and summed, so any process answers for all;
without it (`make run`, one process) the process's own registry is exported.
`active_missions_count` is counted in the database at scrape time.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator

import prometheus_client
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from .metrics import ACTIVE_MISSIONS_NAME, error_recorded

logger = logging.getLogger(__name__)


class DatabaseCollector(Collector):
    """Gauges that are facts of the database rather than of one process."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from .models import ActiveMission, MissionState

        try:
            count = ActiveMission.objects.filter(state=MissionState.ACTIVE).count()
        except Exception:  # a scrape must still show the process metrics when the DB is down
            logger.warning("active_missions_count: database unavailable", exc_info=True)
            error_recorded("metrics_database_unavailable", "warning")
            return
        yield GaugeMetricFamily(
            ACTIVE_MISSIONS_NAME, "Current number of active missions", value=count
        )


_database = CollectorRegistry(auto_describe=False)
_database.register(DatabaseCollector())


def multiprocess_mode() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


_LIVE_GAUGE_FILE = re.compile(r"^gauge_live[a-z]+_(\d+)\.db$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, another user's
    try:  # a killed child its parent has not reaped yet is a zombie: dead all the same
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def reap_dead_processes(path: str) -> list[int]:
    """Drop the live-gauge files of processes that are gone, so a crashed server's open
    sockets stop counting (`livesum`). A process that exits cleanly is the same case: no
    ASGI server here calls mark_process_dead itself. The directory is per host, so a pid
    names a process of this host. Returns the pids reaped."""
    dead = set()
    for name in os.listdir(path):
        match = _LIVE_GAUGE_FILE.match(name)
        if match and not _alive(int(match.group(1))):
            dead.add(int(match.group(1)))
    for pid in sorted(dead):
        multiprocess.mark_process_dead(pid, path)
    return sorted(dead)


def metrics_text() -> bytes:
    if multiprocess_mode():
        reap_dead_processes(os.environ["PROMETHEUS_MULTIPROC_DIR"])
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = prometheus_client.REGISTRY
    return prometheus_client.generate_latest(registry) + prometheus_client.generate_latest(
        _database
    )


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(metrics_text(), content_type=prometheus_client.CONTENT_TYPE_LATEST)
