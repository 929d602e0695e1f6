"""Emptying the channel layer between tests."""

from __future__ import annotations

from channels.layers import get_channel_layer


async def channel_layer_clear() -> None:
    """Delete the channel layer's messages and groups.

    Not `layer.flush()` on the Redis layer: it also closes every event loop's connection pool
    from the calling loop, and `missions.player.live` keeps a sender loop of its own in this
    process, whose connections cannot be closed from another loop. The test's own loop closes
    its pool when pytest-asyncio closes the loop (channels_redis wraps `loop.close`)."""
    layer = get_channel_layer()
    if not hasattr(layer, "ring_size"):  # the in-memory layer
        await layer.flush()
        return
    await layer.wait_received()
    for index in range(layer.ring_size):
        connection = layer.connection(index)
        keys = await connection.keys(layer.prefix + "*")
        if keys:
            await connection.delete(*keys)
