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


def set_timezone(user: Any, timezone: str) -> str:
    """Set the player's IANA timezone (the host platform's door; `user` is a User or a user
    id); returns the zone. It takes effect from the player's next day; raises
    missions.errors.ValidationFailed (field `timezone`) for a name that is not IANA."""
    from .services.timezones import player_timezone_set

    user_id = int(getattr(user, "pk", user))
    return player_timezone_set(user_id=user_id, timezone=timezone).timezone


__all__ = ["set_timezone", "track"]
