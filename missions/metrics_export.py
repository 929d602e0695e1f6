"""`GET /metrics`: django-prometheus's metrics and ours, from every process of this host.

With PROMETHEUS_MULTIPROC_DIR set, the counters of all processes (web workers, Celery
workers) are read from their files there and summed, so any process answers for all;
without it (`make run`, one process) the process's own registry is exported.
`active_missions_count` is counted in the database at scrape time.
"""

from __future__ import annotations

import logging
import os
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


def metrics_text() -> bytes:
    if multiprocess_mode():
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
