"""Signal receivers of the engine (wired in MissionsConfig.ready); the live pushes are the
player surface's (missions/player/receivers.py)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .catalog import catalog_invalidate
from .models import ActionType
from .signals import track_event


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
