"""Signal receivers of the engine (wired in MissionsConfig.ready); the live pushes are the
player surface's (missions/player/receivers.py)."""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import task_failure
from django.contrib.auth.signals import user_logged_in
from django.core.signals import got_request_exception
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from . import metrics
from .cache import player_cache_warm
from .catalog import catalog_invalidate
from .models import ActionType
from .signals import track_event

logger = logging.getLogger(__name__)


@receiver(track_event, dispatch_uid="missions.track_event")
def on_track_event(sender: Any, **kwargs: Any) -> None:
    from .services.ingest import track

    track(
        kwargs["user"],
        kwargs["action"],
        kwargs.get("data"),
        event_id=kwargs.get("event_id"),
        occurred_at=kwargs.get("occurred_at"),
    )


@receiver(post_save, sender=ActionType, dispatch_uid="missions.catalog_saved")
@receiver(post_delete, sender=ActionType, dispatch_uid="missions.catalog_deleted")
def on_catalog_change(sender: Any, **kwargs: Any) -> None:
    catalog_invalidate()


@receiver(got_request_exception, dispatch_uid="missions.count_request_exception")
def count_request_exception(sender: Any, **kwargs: Any) -> None:
    """A request that ended in a 500: the server's fault, whatever the view."""
    metrics.error_recorded("unhandled_exception", "critical")


@task_failure.connect(dispatch_uid="missions.count_task_failure")
def count_task_failure(sender: Any = None, **kwargs: Any) -> None:
    metrics.error_recorded("task_failed", "error")


def warm_player(user_id: int) -> None:
    """The sketch's warmUserCache: load the player's current missions into the cache, so the
    first hub or API read after a login is served from it (unless that read assigns new
    missions first). A failure never fails the login."""
    try:
        player_cache_warm(user_id=user_id, now=timezone.now())
    except Exception:
        logger.warning("warming the cache of user %s failed", user_id, exc_info=True)
        metrics.error_recorded("cache_warm_failed", "warning")


@receiver(user_logged_in, dispatch_uid="missions.warm_at_login")
def warm_at_login(sender: Any, user: Any, **kwargs: Any) -> None:
    warm_player(int(user.pk))
