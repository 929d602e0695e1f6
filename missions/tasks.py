"""Thin Celery tasks of the engine: take ids (or an ISO instant), call one service.

`now` is optional everywhere: the scheduler omits it (the worker's clock), tests and
`make simulate` pass it to drive time. Every task is safe to run twice, late or
concurrently (see missions/services/lifecycle.py). The schedule: config/schedule.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .services import event_log, lifecycle

RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 10,
}


def instant(now: str | None) -> datetime:
    if not now:
        return timezone.now()
    parsed = parse_datetime(now)
    if parsed is None or parsed.tzinfo is None:
        raise ValueError(f"now={now!r} is not an ISO-8601 instant with a timezone")
    return parsed


@shared_task(name="missions.rollover", **RETRY)
def rollover(period_type: str, now: str | None = None) -> dict[str, Any]:
    return lifecycle.missions_rollover(period_type=period_type, now=instant(now))


@shared_task(name="missions.rollover_local", **RETRY)
def rollover_local(now: str | None = None) -> dict[str, Any]:
    return lifecycle.missions_rollover_local(now=instant(now))


@shared_task(name="missions.rollover_due", **RETRY)
def rollover_due(now: str | None = None) -> dict[str, Any]:
    return lifecycle.missions_rollover_due(now=instant(now))


@shared_task(name="missions.close_ended", **RETRY)
def close_ended(now: str | None = None) -> dict[str, int]:
    return lifecycle.missions_close_ended(now=instant(now)).as_dict()


@shared_task(name="missions.fail_timebound", **RETRY)
def fail_timebound(now: str | None = None) -> int:
    return lifecycle.missions_fail_timebound(now=instant(now))


@shared_task(name="missions.open_special_windows", **RETRY)
def open_special_windows(now: str | None = None) -> dict[str, Any]:
    return lifecycle.missions_open_special_windows(now=instant(now))


@shared_task(name="missions.beat_heartbeat")
def beat_heartbeat(now: str | None = None) -> None:
    lifecycle.beat_heartbeat(now=instant(now))


@shared_task(name="missions.event_log_maintain", **RETRY)
def event_log_maintain(now: str | None = None) -> dict[str, object]:
    return event_log.event_log_maintain(now=instant(now)).as_dict()
