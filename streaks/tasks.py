"""Thin Celery tasks of the streaks app (schedule: config/schedule.py)."""

from __future__ import annotations

from celery import shared_task

from missions.tasks import RETRY, instant

from .services import streaks_credit_all_pending


@shared_task(name="streaks.credit_pending", **RETRY)
def credit_pending(now: str | None = None) -> int:
    return streaks_credit_all_pending(now=instant(now))
