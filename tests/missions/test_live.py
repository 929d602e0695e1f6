"""The socket and `send_on_commit` against the real Redis channel layer and the real ASGI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

import missions
from config.asgi import application
from missions.player.live import send_many_on_commit, send_on_commit
from missions.services import missions_assign
from tests.factories import TemplateFactory, UserFactory
from tests.layers import channel_layer_clear
from tests.serving.tokens import api_token

# serialized_rollback: the flush after each test restores what migrations put in the database
# (the engine's action catalog), so later tests find it.
pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.asyncio,
]

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


def progress(mission_id: int, current: int = 1) -> dict[str, Any]:
    return {
        "type": "mission:progress",
        "missionId": mission_id,
        "requirement": "posts",
        "current": current,
        "target": 3,
        "percentage": current * 100 // 3,
    }


@pytest_asyncio.fixture(autouse=True)
async def _fresh_layer() -> AsyncIterator[None]:
    await channel_layer_clear()
    yield
    await channel_layer_clear()


@pytest.fixture
def alice() -> Any:
    return UserFactory(username="alice")


@pytest.fixture
def bob() -> Any:
    return UserFactory(username="bob")


def token_for(user: Any) -> str:
    return api_token(user)


async def connect(
    *, token: str | None = None, cookie: str | None = None, origin: bool = True
) -> WebsocketCommunicator:
    headers = [ORIGIN] if origin else []
    if cookie:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    path = f"/ws/missions/?token={token}" if token else "/ws/missions/"
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect()
    assert connected, "socket refused"
    return communicator


async def refused(path: str, headers: list[tuple[bytes, bytes]]) -> bool:
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect()
    if connected:
        await communicator.disconnect()
    return not connected


async def test_a_progress_message_reaches_its_player_after_commit_and_no_one_else(
    alice: Any, bob: Any
) -> None:
    alice_ws = await connect(token=await sync_to_async(token_for)(alice))
    bob_ws = await connect(token=await sync_to_async(token_for)(bob))

    def in_a_transaction() -> None:
        with transaction.atomic():
            send_on_commit(alice.pk, progress(7))
            # Inside the transaction: nothing has left yet.
            assert async_to_sync(alice_ws.receive_nothing)(timeout=0.2)

    await sync_to_async(in_a_transaction)()
    assert await alice_ws.receive_json_from(timeout=3) == progress(7)
    assert await bob_ws.receive_nothing(timeout=0.3)
    await alice_ws.disconnect()
    await bob_ws.disconnect()


async def test_nothing_is_sent_when_the_transaction_rolls_back(alice: Any) -> None:
    ws = await connect(token=await sync_to_async(token_for)(alice))

    def rolled_back() -> None:
        with pytest.raises(RuntimeError), transaction.atomic():
            send_on_commit(alice.pk, progress(7))
            raise RuntimeError("boom")

    await sync_to_async(rolled_back)()
    assert await ws.receive_nothing(timeout=0.5)
    await ws.disconnect()


async def test_a_batch_goes_to_each_own_player(alice: Any, bob: Any) -> None:
    alice_ws = await connect(token=await sync_to_async(token_for)(alice))
    bob_ws = await connect(token=await sync_to_async(token_for)(bob))

    def batch() -> None:
        with transaction.atomic():
            send_many_on_commit([(alice.pk, progress(1)), (bob.pk, progress(2, current=2))])

    await sync_to_async(batch)()
    assert await alice_ws.receive_json_from(timeout=3) == progress(1)
    assert await bob_ws.receive_json_from(timeout=3) == progress(2, current=2)
    assert await alice_ws.receive_nothing(timeout=0.2)
    await alice_ws.disconnect()
    await bob_ws.disconnect()


async def test_every_tab_of_a_player_gets_the_message(alice: Any) -> None:
    key = await sync_to_async(token_for)(alice)
    tabs = [await connect(token=key), await connect(token=key)]
    await sync_to_async(send_on_commit)(alice.pk, progress(3))
    for tab in tabs:
        assert (await tab.receive_json_from(timeout=3))["missionId"] == 3
        await tab.disconnect()


async def test_the_session_cookie_authenticates_the_browser(alice: Any) -> None:
    def login() -> str:
        client = Client()
        client.force_login(alice)
        return client.cookies["sessionid"].value

    ws = await connect(cookie=await sync_to_async(login)())
    await sync_to_async(send_on_commit)(alice.pk, progress(5))
    assert (await ws.receive_json_from(timeout=3))["missionId"] == 5
    await ws.disconnect()


async def test_a_mobile_client_without_origin_connects_with_its_token(alice: Any) -> None:
    ws = await connect(token=await sync_to_async(token_for)(alice), origin=False)
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from(timeout=3) == {"type": "pong"}
    await ws.disconnect()


async def test_it_refuses_anonymous_bad_tokens_and_foreign_origins(alice: Any) -> None:
    key = await sync_to_async(token_for)(alice)
    assert await refused("/ws/missions/", [ORIGIN])
    assert await refused("/ws/missions/?token=not-a-token", [ORIGIN])
    assert await refused(f"/ws/missions/?token={key}", [(b"origin", b"https://evil.example")])


async def test_a_bad_token_does_not_fall_back_to_the_session(alice: Any) -> None:
    def login() -> str:
        client = Client()
        client.force_login(alice)
        return client.cookies["sessionid"].value

    cookie = await sync_to_async(login)()
    headers = [ORIGIN, (b"cookie", f"sessionid={cookie}".encode())]
    assert await refused("/ws/missions/?token=wrong", headers)


async def test_new_missions_are_pushed_to_their_own_player_only(alice: Any, bob: Any) -> None:
    await sync_to_async(TemplateFactory)(
        key="daily_post", name="Daily Post", metadata={"icon": "pen"}
    )
    alice_ws = await connect(token=await sync_to_async(token_for)(alice))
    bob_ws = await connect(token=await sync_to_async(token_for)(bob))

    created = await sync_to_async(missions_assign)(user_ids=[alice.pk], now=timezone.now())
    message = await alice_ws.receive_json_from(timeout=3)
    assert message["type"] == "mission:new"
    assert message["notification"] == {
        "title": "New Mission Available!",
        "message": "Daily Post",
        "icon": "pen",
    }
    assert message["mission"]["id"] == created[0].pk
    # The pushed mission is exactly what the API answers for it (one shape everywhere).
    api = APIClient()
    await sync_to_async(api.force_authenticate)(alice)
    fetched = await sync_to_async(api.get)(f"/api/v1/missions/{created[0].pk}")
    assert message["mission"] == fetched.json()
    assert await bob_ws.receive_nothing(timeout=0.3)
    await alice_ws.disconnect()
    await bob_ws.disconnect()


async def test_it_refuses_an_unknown_message_type() -> None:
    with pytest.raises(ValueError, match="unknown live message type"):
        send_on_commit(1, {"type": "chat:message"})


def _apply(mission: dict[str, Any], message: dict[str, Any]) -> None:
    """What a client (the hub's JS) does with a message, on the API's mission JSON."""
    if message["type"] == "mission:progress":
        requirement = mission["requirements"][message["requirement"]]
        requirement["current"] = message["current"]
        requirement["done"] = Decimal(str(message["current"])) >= Decimal(str(message["target"]))
        fractions = [
            min(Decimal(1), Decimal(str(r["current"])) / Decimal(str(r["target"])))
            for r in mission["requirements"].values()
        ]
        mission["percentage"] = int(sum(fractions) * 100 / len(fractions))
    elif message["type"] == "mission:complete":
        mission["status"] = "completed"


async def test_applying_the_pushed_messages_to_the_old_state_gives_the_fresh_state(
    alice: Any,
) -> None:
    """Zulip's rule for live events: old state + events == a fresh fetch."""
    await sync_to_async(TemplateFactory)(
        key="combo_live",
        name="Combo Live",
        type="combo",
        requirements={
            "posts": {"action": "post:created", "target": 2, "label": "Post twice"},
            "tips": {"action": "tip:sent", "target": 3, "label": "Tip 3 DGT", "field": "amount"},
        },
    )
    api = APIClient()
    await sync_to_async(api.force_authenticate)(alice)
    old = (await sync_to_async(api.get)("/api/v1/missions")).json()
    ws = await connect(token=await sync_to_async(token_for)(alice))

    def act() -> None:
        missions.track(alice, "post:created", {"content_length": 10}, event_id="e1")
        missions.track(alice, "tip:sent", {"amount": "1.5", "to_user_id": 9}, event_id="e2")
        missions.track(alice, "post:created", {"content_length": 10}, event_id="e3")
        missions.track(alice, "tip:sent", {"amount": "1.5", "to_user_id": 9}, event_id="e4")

    await sync_to_async(act)()
    state = {m["id"]: m for m in old}
    received = []
    while not await ws.receive_nothing(timeout=0.5):
        message = await ws.receive_json_from(timeout=3)
        received.append(message["type"])
        _apply(state[message["missionId"]], message)
    assert "mission:complete" in received
    fresh = (await sync_to_async(api.get)("/api/v1/missions")).json()
    for mission in fresh:
        expected = {k: v for k, v in mission.items() if k != "completed_at"}
        assert {k: v for k, v in state[mission["id"]].items() if k != "completed_at"} == expected
    await ws.disconnect()


async def test_a_socket_marks_its_player_online_until_the_last_tab_closes(alice: Any) -> None:
    from missions.player.live import online_user_ids

    assert await sync_to_async(online_user_ids)([alice.pk]) == set()
    first = await connect(token=await sync_to_async(token_for)(alice))
    second = await connect(token=await sync_to_async(token_for)(alice))
    assert await sync_to_async(online_user_ids)([alice.pk]) == {alice.pk}
    await first.disconnect()
    assert await sync_to_async(online_user_ids)([alice.pk]) == {alice.pk}
    await second.disconnect()
    assert await sync_to_async(online_user_ids)([alice.pk]) == set()


async def test_nothing_is_pushed_to_a_player_with_no_socket_open(alice: Any) -> None:
    # A listener on alice's group that is not a socket (no presence): the rollover skips her.
    layer = get_channel_layer()
    channel = await layer.new_channel()
    from missions.player.live import user_group

    await layer.group_add(user_group(alice.pk), channel)
    from channels.db import database_sync_to_async

    await database_sync_to_async(send_many_on_commit)([(alice.pk, progress(7))])
    with pytest.raises(TimeoutError):
        import asyncio

        await asyncio.wait_for(layer.receive(channel), timeout=0.3)
