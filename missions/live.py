"""The one way out for live messages: `send_on_commit(user_id, message)`.

Messages go to the group of exactly one user, and only after the surrounding transaction
commits; a rollback sends nothing. Never a broadcast. `send_many_on_commit` is the same for
a batch (e.g. a rollover assigning thousands of missions): one hop into the event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

MESSAGE_TYPES = ("mission:progress", "mission:complete", "mission:new")

Outgoing = tuple[int, dict[str, Any]]


def user_group(user_id: int) -> str:
    return f"user.{int(user_id)}"


def _check(message: dict[str, Any]) -> None:
    if message.get("type") not in MESSAGE_TYPES:
        raise ValueError(f"unknown live message type {message.get('type')!r}")


async def _group_send_all(layer: Any, outgoing: list[Outgoing]) -> None:
    for user_id, message in outgoing:
        try:
            await layer.group_send(
                user_group(user_id), {"type": "live.message", "message": message}
            )
        except Exception:  # a dead channel layer must never undo the committed work
            logger.exception("live message to user %s failed", user_id)


def _send_now(outgoing: list[Outgoing]) -> None:
    layer = get_channel_layer()
    if layer is None or not outgoing:
        return
    try:
        async_to_sync(_group_send_all)(layer, outgoing)
    except Exception:
        logger.exception("live messages to %d users failed", len(outgoing))


def send_on_commit(user_id: int, message: dict[str, Any]) -> None:
    _check(message)
    outgoing = [(int(user_id), message)]
    transaction.on_commit(lambda: _send_now(outgoing))


def send_many_on_commit(outgoing: Iterable[Outgoing]) -> None:
    batch = [(int(user_id), message) for user_id, message in outgoing]
    for _, message in batch:
        _check(message)
    transaction.on_commit(lambda: _send_now(batch))
