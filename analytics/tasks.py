"""Thin Celery task: refresh the recent rollups (scheduled in config/schedule.py)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .services import analytics_refresh_recent


@shared_task(name="analytics.refresh_rollups")
def refresh_rollups() -> int:
    return analytics_refresh_recent(now=timezone.now(), days=settings.ANALYTICS_REFRESH_DAYS)
