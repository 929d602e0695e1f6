from __future__ import annotations

import asyncio
from typing import Any

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .live import (
    PRESENCE_REFRESH_SECONDS,
    presence_join,
    presence_leave,
    presence_refresh,
    user_group,
)


class MissionConsumer(AsyncJsonWebsocketConsumer):
    """`/ws/missions/`: one group per user; the client only listens."""

    group: str | None = None
    user_id: int | None = None
    heartbeat: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.user_id = int(user.pk)
        self.group = user_group(self.user_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await sync_to_async(presence_join)(self.user_id)
        self.heartbeat = asyncio.create_task(self._stay_present(self.user_id))
        await self.accept()

    async def _stay_present(self, user_id: int) -> None:
        while True:
            await asyncio.sleep(PRESENCE_REFRESH_SECONDS)
            await sync_to_async(presence_refresh)(user_id)

    async def disconnect(self, code: int) -> None:
        if self.heartbeat:
            self.heartbeat.cancel()
        if self.user_id is not None:
            await sync_to_async(presence_leave)(self.user_id)
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def live_message(self, event: dict[str, Any]) -> None:
        await self.send_json(event["message"])
