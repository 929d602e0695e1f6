"""The default action catalog (SPEC.md). Stored as data; this is the seed and the fallback."""

from __future__ import annotations

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


def action_catalog() -> dict[str, dict[str, str]]:
    """The action catalog in force: action -> {data field: type}.

    The progress engine keeps the catalog as admin-editable data; until it is stored, the
    defaults above are the catalog.
    """
    return DEFAULT_ACTIONS
