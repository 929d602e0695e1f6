"""Thin Celery tasks: each calls one service. Their schedule belongs to the operations work."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from .services import missions_expire_abandoned, rewards_auto_grant_unclaimed


@shared_task(name="rewards.auto_grant_unclaimed")
def auto_grant_unclaimed() -> int:
    return rewards_auto_grant_unclaimed(now=timezone.now())


@shared_task(name="rewards.expire_abandoned")
def expire_abandoned() -> int:
    return missions_expire_abandoned(now=timezone.now())
