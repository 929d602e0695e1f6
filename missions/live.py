"""The one way out for live messages: `send_on_commit(user_id, message)`.

Messages go to the group of exactly one user, and only after the surrounding transaction
commits; a rollback sends nothing. Never a broadcast.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

MESSAGE_TYPES = ("mission:progress", "mission:complete", "mission:new")
# Concurrent group sends after a batch: bounded by the channel layer's connection pool.
LIVE_CONCURRENCY = 16


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


def _send_many_now(messages: Sequence[tuple[int, dict[str, Any]]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    by_user: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for user_id, message in messages:
        by_user[user_id].append(message)

    async def send_all() -> None:
        # Bounded: the channel layer's connection pool is finite.
        slots = asyncio.Semaphore(LIVE_CONCURRENCY)

        async def to_user(user_id: int, queue: list[dict[str, Any]]) -> None:
            async with slots:
                for message in queue:  # in order: a user sees progress before completion
                    await layer.group_send(
                        user_group(user_id), {"type": "live.message", "message": message}
                    )

        await asyncio.gather(*(to_user(user_id, queue) for user_id, queue in by_user.items()))

    try:
        async_to_sync(send_all)()
    except Exception:  # a dead channel layer must never undo the committed work
        logger.exception("live messages to %s users failed", len(by_user))


def send_many_on_commit(messages: Iterable[tuple[int, dict[str, Any]]]) -> None:
    """send_on_commit for a whole batch: one loop entry after the commit, not one per message.
    Each message still goes to the group of exactly its own user, in order per user."""
    batch = [(int(user_id), message) for user_id, message in messages]  # a generator: once
    for _, message in batch:
        if message.get("type") not in MESSAGE_TYPES:
            raise ValueError(f"unknown live message type {message.get('type')!r}")
    if batch:
        transaction.on_commit(lambda: _send_many_now(batch))
