"""The socket's Origin check compares scheme, host and port (issue 8, defect 8: another port
of the same host passed)."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import application
from missions.player.ws_auth import origin_allowed
from tests.factories import UserFactory

from .tokens import api_token


@pytest.mark.parametrize(
    ("origin", "host", "scheme", "allowed"),
    [
        ("http://127.0.0.1:9000", "127.0.0.1:9000", "ws", True),
        ("http://localhost", "localhost", "ws", True),
        ("https://localhost", "localhost:443", "wss", True),
        ("http://127.0.0.1:9001", "127.0.0.1:9000", "ws", False),  # another port
        ("https://127.0.0.1:9000", "127.0.0.1:9000", "ws", False),  # another scheme
        ("http://localhost:9000", "127.0.0.1:9000", "ws", False),  # another host
        ("http://evil.example", "evil.example", "ws", False),  # not in ALLOWED_HOSTS
        ("http://127.0.0.1:8000", None, "ws", True),  # in CSRF_TRUSTED_ORIGINS
        ("http://127.0.0.1:8001", None, "ws", False),
        ("null", "127.0.0.1:9000", "ws", False),
        ("http://127.0.0.1:99999", "127.0.0.1:9000", "ws", False),  # not a port
    ],
)
def test_the_origin_must_match_scheme_host_and_port(
    origin: str, host: str | None, scheme: str, allowed: bool
) -> None:
    assert origin_allowed(origin, host_header=host, socket_scheme=scheme) is allowed


async def _connects(headers: list[tuple[bytes, bytes]], token: str) -> bool:
    communicator = WebsocketCommunicator(application, f"/ws/missions/?token={token}", headers)
    connected, _ = await communicator.connect()
    if connected:
        await communicator.disconnect()
    return bool(connected)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.asyncio
async def test_a_socket_from_another_port_of_the_same_host_is_refused() -> None:
    token = await sync_to_async(lambda: api_token(UserFactory()))()
    host = (b"host", b"127.0.0.1:9000")
    assert await _connects([host, (b"origin", b"http://127.0.0.1:9000")], token)
    assert not await _connects([host, (b"origin", b"http://127.0.0.1:9001")], token)
