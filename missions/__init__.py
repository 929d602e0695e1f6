"""Missions: templates, assignment, the progress engine and the player-facing reads.

`missions.track(...)` is the in-process door for events (a lazy wrapper, so importing the
package never touches models before the app registry is ready).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


def track(
    user: Any,
    action: str,
    data: dict[str, Any] | None = None,
    *,
    event_id: str | None = None,
    occurred_at: datetime | None = None,
) -> str:
    """Record that `user` (a User or a user id) did `action`; returns "accepted" or
    "duplicate" and raises missions.errors.ValidationFailed for a bad event."""
    from .services.ingest import track as _track

    return _track(user, action, data, event_id=event_id, occurred_at=occurred_at)


__all__ = ["track"]
