"""The socket's side of the access matrix (tests/api/test_access_matrix.py has the URLs):
/ws/missions/ on a real server for anonymous, a player (token and session cookie), another
player, staff, and a service key that is valid, wrong or revoked; and a player's message
reaches that player's socket only."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.serving.tokens import api_token

from .conftest import event
from .procs import AsgiServer, http, socket_close_code

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

REFUSED = -403  # the handshake is refused with HTTP 403 (Channels closes before accepting)


def test_the_socket_opens_for_players_and_staff_only(
    start_server: Callable[..., AsgiServer],
    service_key: str,
    counting_players: Callable[[int], list[int]],
) -> None:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from missions.services.service_keys import service_key_create, service_key_revoke

    owner_id, other_id = counting_players(2)
    users = get_user_model().objects
    staff = users.create_user("staff", password="pass-1234", is_staff=True)
    tokens = {
        name: api_token(users.get(pk=pk))
        for name, pk in (("player", owner_id), ("other player", other_id), ("staff", staff.pk))
    }
    revoked, revoked_raw = service_key_create(name="revoked")
    service_key_revoke(key_id=revoked.pk)
    server = start_server("socket-access", redis_url=settings.REDIS_URL)
    session = Client()
    session.force_login(users.get(pk=owner_id))
    cookie = {"Cookie": f"sessionid={session.cookies['sessionid'].value}"}

    outcomes = {
        "anonymous": socket_close_code(server, ""),
        "player (token)": socket_close_code(server, f"token={tokens['player']}"),
        "player (session)": socket_close_code(server, "", **cookie),
        "other player": socket_close_code(server, f"token={tokens['other player']}"),
        "staff": socket_close_code(server, f"token={tokens['staff']}"),
        "service key": socket_close_code(server, f"token={service_key}"),
        "wrong service key": socket_close_code(server, f"token={service_key[:-4]}nope"),
        "revoked service key": socket_close_code(server, f"token={revoked_raw}"),
        "wrong token": socket_close_code(server, "token=0123456789abcdef"),
    }
    assert outcomes == {
        "anonymous": REFUSED,
        "player (token)": None,
        "player (session)": None,
        "other player": None,
        "staff": None,
        "service key": REFUSED,
        "wrong service key": REFUSED,
        "revoked service key": REFUSED,
        "wrong token": REFUSED,
    }

    # The player's event reaches the player's socket, not the other player's.
    from websockets.sync.client import connect

    base = server.url.replace("http://", "ws://") + "/ws/missions/?token="
    with connect(base + tokens["player"]) as mine, connect(base + tokens["other player"]) as theirs:
        status, _, _ = http(
            "POST",
            f"{server.url}/api/v1/events",
            {"events": [event("socket-access-1", owner_id)]},
            {"Authorization": f"Bearer {service_key}"},
        )
        assert status == 200
        received = [json.loads(mine.recv(timeout=10)) for _ in range(2)]
        assert [m["type"] for m in received] == ["mission:new", "mission:progress"]
        assert received[1]["current"] == 1
        with pytest.raises(TimeoutError):
            theirs.recv(timeout=1.5)
