"""Open hubs get `mission:new` when the scheduled rollover assigns the new period."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import application
from missions import tasks
from missions.models import ActiveMission
from tests.factories import UserFactory
from tests.layers import channel_layer_clear
from tests.missions.engine import make_template, req
from tests.serving.tokens import api_token

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.asyncio,
]
ORIGIN = (b"origin", b"http://127.0.0.1:8000")


@pytest_asyncio.fixture(autouse=True)
async def _fresh_layer() -> AsyncIterator[None]:
    await channel_layer_clear()
    yield
    await channel_layer_clear()


def setup() -> tuple[Any, Any, str, str]:
    make_template(key="daily_a", name="Daily A", requirements={"p": req(target=1)})
    make_template(key="daily_b", name="Daily B", requirements={"p": req(target=2)})
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    return (
        alice,
        bob,
        api_token(alice),
        api_token(bob),
    )


async def socket(token: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(
        application, f"/ws/missions/?token={token}", headers=[ORIGIN]
    )
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def test_open_sockets_receive_mission_new_at_rollover(settings: Any) -> None:
    settings.MISSIONS_PER_PERIOD = {"daily": 2, "weekly": 0, "monthly": 0}
    alice, bob, alice_token, bob_token = await sync_to_async(setup)()
    day = datetime(2026, 12, 2, tzinfo=UTC)
    await sync_to_async(tasks.rollover)("daily", now=(day - timedelta(days=1)).isoformat())
    alice_ws, bob_ws = await socket(alice_token), await socket(bob_token)

    await sync_to_async(tasks.rollover)("daily", now=day.isoformat())
    for ws, user in ((alice_ws, alice), (bob_ws, bob)):
        got = [await ws.receive_json_from(timeout=5) for _ in range(2)]
        assert {m["type"] for m in got} == {"mission:new"}
        new_ids = await sync_to_async(
            lambda u=user: set(
                ActiveMission.objects.filter(user=u, period_start=day).values_list("pk", flat=True)
            )
        )()
        assert {m["mission"]["id"] for m in got} == new_ids
        assert {m["notification"]["message"] for m in got} == {"Daily A", "Daily B"}
    # A repeat of the rollover assigns nothing and pushes nothing.
    await sync_to_async(tasks.rollover)("daily", now=(day + timedelta(minutes=1)).isoformat())
    assert await alice_ws.receive_nothing(timeout=0.3)
    await alice_ws.disconnect()
    await bob_ws.disconnect()
