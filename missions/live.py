"""The one way out for live messages: `send_on_commit(user_id, message)`.

Messages go to the group of exactly one user, and only after the surrounding transaction
commits; a rollback sends nothing. Never a broadcast.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

MESSAGE_TYPES = ("mission:progress", "mission:complete", "mission:new")


def user_group(user_id: int) -> str:
    return f"user.{int(user_id)}"


def _send_now(user_id: int, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            user_group(user_id), {"type": "live.message", "message": message}
        )
    except Exception:  # a dead channel layer must never undo the committed work
        logger.exception("live message to user %s failed", user_id)


def send_on_commit(user_id: int, message: dict[str, Any]) -> None:
    if message.get("type") not in MESSAGE_TYPES:
        raise ValueError(f"unknown live message type {message.get('type')!r}")
    transaction.on_commit(lambda: _send_now(user_id, message))
