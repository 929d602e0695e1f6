"""Thin Celery tasks of the rewards app: each calls one service (schedule: config/schedule.py)."""

from __future__ import annotations

from celery import shared_task

from missions.tasks import RETRY, instant

from .services import competitive_finalize_due, rewards_auto_grant_unclaimed


@shared_task(name="rewards.auto_grant_unclaimed", **RETRY)
def auto_grant_unclaimed(now: str | None = None) -> int:
    return rewards_auto_grant_unclaimed(now=instant(now))


@shared_task(name="rewards.finalize_competitive", **RETRY)
def finalize_competitive(now: str | None = None) -> dict[str, int]:
    return competitive_finalize_due(now=instant(now)).as_dict()
