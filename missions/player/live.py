"""The one way out for live messages: `send_on_commit(user_id, message)`.

Messages go to the group of exactly one user, and only after the surrounding transaction
commits; a rollback sends nothing. Never a broadcast.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections import defaultdict
from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import transaction

from config.redis_guard import (
    LayerUnavailable,
    cache_call_or_raise,
    cache_get_many_or_raise,
    layer_call,
)

from .. import metrics

logger = logging.getLogger(__name__)

MESSAGE_TYPES = ("mission:progress", "mission:complete", "mission:new")
# Presence: how many sockets each user has open, in the cache. A rollover for 100,000
# players must not push 900,000 messages nobody listens to. Each socket refreshes its user's
# entry while open; a crashed server's sockets stop counting after PRESENCE_SECONDS.
PRESENCE_SECONDS = 15 * 60
PRESENCE_REFRESH_SECONDS = 5 * 60
# Concurrent group sends after a batch: bounded by the channel layer's connection pool.
LIVE_CONCURRENCY = 16


def user_group(user_id: int) -> str:
    return f"user.{int(user_id)}"


def _presence_key(user_id: int) -> str:
    return f"missions:online:{int(user_id)}"


def presence_join(user_id: int) -> bool:
    """Count one more socket of this user; False when the cache did not answer (then the
    socket is refused: a presence that Redis lost would later read as "not looking")."""
    key = _presence_key(user_id)
    try:
        cache_call_or_raise("add", key, 0, PRESENCE_SECONDS)
        cache_call_or_raise("incr", key)
        cache_call_or_raise("touch", key, PRESENCE_SECONDS)
    except Exception:  # logged once per outage by the breaker
        return False
    return True


def presence_refresh(user_id: int) -> None:
    with contextlib.suppress(Exception):
        if not cache.touch(_presence_key(user_id), PRESENCE_SECONDS):
            presence_join(user_id)  # expired while the socket stayed open


def presence_leave(user_id: int) -> None:
    key = _presence_key(user_id)
    try:
        left = cache.decr(key)  # None when the cache is down (a miss)
        if left is not None and left <= 0:
            cache.delete(key)
    except ValueError:
        pass  # already expired
    except Exception:
        logger.warning("presence of user %s not cleared", user_id, exc_info=True)


def online_user_ids(user_ids: Iterable[int]) -> set[int]:
    """Which of these users have a socket open. When presence cannot be read (cache down),
    all of them: a message too many is harmless, a lost one is not."""
    wanted = {int(u) for u in user_ids}
    if not wanted:
        return set()
    try:
        found = cache_get_many_or_raise([_presence_key(u) for u in wanted])
    except Exception:
        return wanted
    return {u for u in wanted if (found.get(_presence_key(u)) or 0) > 0}


# One event loop per process for the sends of sync code that runs outside an ASGI server's
# threads (a Celery worker, a forum process calling track(), a management command).
# async_to_sync would start a new loop per call there, and the Redis channel layer keeps its
# connections per loop: every batch opened fresh connections to Redis. This loop keeps them.
_sender_lock = threading.Lock()
_sender: tuple[int, asyncio.AbstractEventLoop] | None = None


def _sender_loop() -> asyncio.AbstractEventLoop:
    global _sender
    with _sender_lock:
        if _sender is None or _sender[0] != os.getpid() or _sender[1].is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="live-sender", daemon=True).start()
            _sender = (os.getpid(), loop)
        return _sender[1]


def _run(layer: Any, make: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run the sends and wait for them. In a sync thread of an ASGI server, on the server's
    loop (async_to_sync finds it); elsewhere on this process's sender loop, for the Redis
    layer (the in-memory layer's queues belong to the loop of its consumers)."""
    in_server = getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) == os.getpid()
    if in_server or not hasattr(layer, "hosts"):
        async_to_sync(make)()
    else:
        asyncio.run_coroutine_threadsafe(make(), _sender_loop()).result()


def _send_now(user_id: int, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None or not online_user_ids([user_id]):
        return

    async def send() -> None:
        await layer_call(
            layer,
            lambda: layer.group_send(
                user_group(user_id), {"type": "live.message", "message": message}
            ),
        )

    try:
        _run(layer, send)
    except LayerUnavailable:
        pass  # logged once by the breaker; the hub resyncs from the API when it reconnects
    except Exception:  # a dead channel layer must never undo the committed work
        logger.exception("live message to user %s failed", user_id)
        metrics.error_recorded("live_send_failed", "warning")


def send_on_commit(user_id: int, message: dict[str, Any]) -> None:
    if message.get("type") not in MESSAGE_TYPES:
        raise ValueError(f"unknown live message type {message.get('type')!r}")
    transaction.on_commit(lambda: _send_now(user_id, message))


def _send_many_now(messages: Sequence[tuple[int, dict[str, Any]]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    online = online_user_ids(user_id for user_id, _ in messages)
    by_user: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for user_id, message in messages:
        if user_id in online:
            by_user[user_id].append(message)
    if not by_user:
        return

    async def send_all() -> None:
        # Bounded: the channel layer's connection pool is finite.
        slots = asyncio.Semaphore(LIVE_CONCURRENCY)

        async def to_user(user_id: int, queue: list[dict[str, Any]]) -> None:
            # One layer message per user and batch (each group_send is four Redis round
            # trips); the socket sends its messages one by one, in order: a user sees
            # progress before completion.
            async with slots:
                with contextlib.suppress(LayerUnavailable):
                    await layer_call(
                        layer,
                        lambda: layer.group_send(
                            user_group(user_id), {"type": "live.messages", "messages": queue}
                        ),
                    )

        await asyncio.gather(*(to_user(user_id, queue) for user_id, queue in by_user.items()))

    try:
        _run(layer, send_all)
    except LayerUnavailable:
        pass  # logged once by the breaker; the hub resyncs from the API when it reconnects
    except Exception:  # a dead channel layer must never undo the committed work
        logger.exception("live messages to %s users failed", len(by_user))
        metrics.error_recorded("live_send_failed", "warning")


def send_many_on_commit(messages: Iterable[tuple[int, dict[str, Any]]]) -> None:
    """send_on_commit for a whole batch: one loop entry after the commit, not one per message.
    Each message still goes to the group of exactly its own user, in order per user."""
    batch = [(int(user_id), message) for user_id, message in messages]  # a generator: once
    for _, message in batch:
        if message.get("type") not in MESSAGE_TYPES:
            raise ValueError(f"unknown live message type {message.get('type')!r}")
    if batch:
        transaction.on_commit(lambda: _send_many_now(batch))
