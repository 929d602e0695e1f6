from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from config.redis_guard import STALE_CONNECTION, UNAVAILABLE, LayerUnavailable, layer_call

from .. import metrics
from .live import (
    PRESENCE_REFRESH_SECONDS,
    presence_join,
    presence_leave,
    presence_refresh,
    user_group,
)

logger = logging.getLogger(__name__)

# Close codes of /ws/missions/ (docs/api.md). 4401: not logged in (the handshake is refused).
# 4503: live updates are unavailable for now (the channel layer's Redis does not answer);
# the socket is accepted and closed at once so the browser sees the code, and the hub polls
# the API until a new socket stays open.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_LIVE_UNAVAILABLE = 4503


class MissionConsumer(AsyncJsonWebsocketConsumer):
    """`/ws/missions/`: one group per user; the client only listens."""

    group: str | None = None
    user_id: int | None = None
    heartbeat: asyncio.Task[None] | None = None
    layer_down = False
    _layer_receive: Any = None

    # Channels reads messages for this socket from the layer in a loop beside the client's;
    # a dead Redis makes that read raise, which would crash the socket (a 500 during the
    # handshake). The loop goes through this property instead, which turns the failure into
    # one `layer.unavailable` message and then waits for the socket to close.
    @property
    def channel_receive(self) -> Any:
        return self._guarded_layer_receive

    @channel_receive.setter
    def channel_receive(self, receive: Any) -> None:
        self._layer_receive = receive

    async def _guarded_layer_receive(self) -> dict[str, Any]:
        if self.layer_down:
            await asyncio.Event().wait()  # nothing more comes from a dead layer
        try:
            try:
                return dict(await self._layer_receive())
            except STALE_CONNECTION:  # a connection to a Redis since restarted: once more
                return dict(await self._layer_receive())
        except UNAVAILABLE as exc:
            self.layer_down = True
            return {"type": "layer.unavailable", "error": f"{type(exc).__name__}: {exc}"}

    async def layer_unavailable(self, event: dict[str, Any]) -> None:
        if self.user_id is not None:  # accepted: live updates stop here; the hub polls
            await self.close(code=CLOSE_LIVE_UNAVAILABLE)
        # else connect() sees layer_down and refuses the socket

    counted = False  # in the open-sockets gauge

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        group = user_group(int(user.pk))
        try:
            # Tried even when the receive already failed: the breaker counts the outage.
            await layer_call(
                self.channel_layer, lambda: self.channel_layer.group_add(group, self.channel_name)
            )
            if self.layer_down:
                raise LayerUnavailable("the channel layer's receive failed")
        except LayerUnavailable as exc:
            # The outage is logged once by the breaker; each refused socket only at debug.
            logger.debug("socket of user %s refused: %s", user.pk, exc)
            await self.accept()
            await self.close(code=CLOSE_LIVE_UNAVAILABLE)
            return
        self.group = group
        if not await sync_to_async(presence_join)(int(user.pk)):
            # Without presence its pushes would be skipped once Redis answers again.
            logger.debug("socket of user %s refused: presence not recorded", user.pk)
            await self.accept()
            await self.close(code=CLOSE_LIVE_UNAVAILABLE)
            return
        self.user_id = int(user.pk)
        self.heartbeat = asyncio.create_task(self._stay_present(self.user_id))
        await self.accept()
        self.counted = True
        metrics.socket_opened()

    async def _stay_present(self, user_id: int) -> None:
        while True:
            await asyncio.sleep(PRESENCE_REFRESH_SECONDS)
            await sync_to_async(presence_refresh)(user_id)

    async def disconnect(self, code: int) -> None:
        if self.counted:
            self.counted = False
            metrics.socket_closed()
        if self.heartbeat:
            self.heartbeat.cancel()
        if self.user_id is not None:
            await sync_to_async(presence_leave)(self.user_id)
        if self.group:
            group = self.group
            # On an outage the group entry expires on its own (channels-redis group_expiry).
            with contextlib.suppress(LayerUnavailable):
                await layer_call(
                    self.channel_layer,
                    lambda: self.channel_layer.group_discard(group, self.channel_name),
                )

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def live_message(self, event: dict[str, Any]) -> None:
        await self.send_json(event["message"])

    async def live_messages(self, event: dict[str, Any]) -> None:
        """A batch's messages for this user, in order, one frame each."""
        for message in event["messages"]:
            await self.send_json(message)
