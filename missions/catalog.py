"""The action catalog: which actions exist and the types of their data fields.

Kept as data (`ActionType`, admin-editable, seeded from DEFAULT_ACTIONS by a migration) and
cached; an admin change invalidates the cache (missions/receivers.py).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache

# field type names: "int" (whole number), "number" (int or decimal), "str", "bool"
DEFAULT_ACTIONS: dict[str, dict[str, str]] = {
    "post:created": {
        "post_id": "int",
        "thread_id": "int",
        "forum_id": "int",
        "content_length": "int",
        "has_media": "bool",
    },
    "thread:created": {"thread_id": "int", "forum_id": "int"},
    "reaction:added": {"post_id": "int", "reaction": "str", "to_user_id": "int"},
    "user:followed": {"to_user_id": "int"},
    "tip:sent": {"amount": "number", "to_user_id": "int"},
    "rain:created": {"amount": "number", "recipients": "int"},
    "shop:purchase": {"item_id": "int", "price": "number"},
    "dgt:transferred": {"amount": "number", "to_user_id": "int"},
    "shoutbox:message": {"length": "int"},
    "achievement:unlocked": {"achievement_key": "str"},
}

FIELD_TYPES = ("int", "number", "str", "bool")
NUMERIC_TYPES = ("int", "number")
CACHE_KEY = "missions:action-catalog:v1"
CACHE_SECONDS = 300


@dataclass(frozen=True)
class ActionDef:
    fields: dict[str, str]
    required: tuple[str, ...] = field(default_factory=tuple)


def action_definitions(*, prefetched: Any = None) -> dict[str, ActionDef]:
    """action -> ActionDef, from the cache or the database (one query on a miss).

    `prefetched`: the cache entry when the caller read it already (with other keys in one
    round trip); None reads it here."""
    cached = prefetched
    if cached is None:
        try:
            cached = cache.get(CACHE_KEY)
        except Exception:  # Redis down: the database is the catalog, the cache a shortcut
            cached = None
    if cached is None:
        from .models import ActionType

        cached = {
            row.action: {"fields": dict(row.fields or {}), "required": list(row.required or [])}
            for row in ActionType.objects.all()
        }
        with contextlib.suppress(Exception):
            cache.set(CACHE_KEY, cached, CACHE_SECONDS)
    return {
        action: ActionDef(fields=entry["fields"], required=tuple(entry["required"]))
        for action, entry in cached.items()
    }


def action_catalog() -> dict[str, dict[str, str]]:
    """The action catalog in force: action -> {data field: type}."""
    return {action: definition.fields for action, definition in action_definitions().items()}


def catalog_invalidate() -> None:
    cache.delete(CACHE_KEY)
