"""A private Redis killed, hung (SIGSTOP) and restored under a real uvicorn while batches,
the player API, the hub and claims go on: every request answers at normal speed (cache =
miss, presence = unknown), nothing accepted is lost, and the outage is logged once."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from missions.models import Event
from tests.serving.tokens import api_token

from .conftest import assert_log_replays_and_ledger_checks, counted, event
from .procs import AsgiServer, RedisServer, http, socket_close_code

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# The default redis-py socket timeout is 5 s, and one request makes several Redis calls:
# before the breaker a hung Redis made each batch take 15 s. A generous bound, not a benchmark.
SLOW = 5.0


class Sender(threading.Thread):
    """Sends batches of fresh events one after another and records every answer."""

    def __init__(self, url: str, key: str, users: list[int], tag: str) -> None:
        super().__init__(daemon=True)
        self.url, self.key, self.users, self.tag = url, key, users, tag
        self.stop = threading.Event()
        self.phase = "normal"
        self.results: list[dict[str, Any]] = []

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            batch = [
                event(f"{self.tag}-{n}-{i}", self.users[(n + i) % len(self.users)])
                for i in range(10)
            ]
            n += 1
            status, body, elapsed = http(
                "POST",
                f"{self.url}/api/v1/events",
                {"events": batch},
                {"Authorization": f"Bearer {self.key}"},
            )
            self.results.append(
                {"phase": self.phase, "status": status, "body": body, "elapsed": elapsed,
                 "ids": [e["id"] for e in batch]}
            )  # fmt: skip


def _player_requests(
    server: AsgiServer, token: str, session: dict[str, str], claimable: list[int]
) -> list[Any]:
    """The player's side: API list, /me, the hub page, and a claim while one is left."""
    auth = {"Authorization": f"Token {token}"}
    answers = [
        http("GET", f"{server.url}/api/v1/missions", headers=auth),
        http("GET", f"{server.url}/api/v1/me", headers=auth),
        http("GET", f"{server.url}/", headers=session),
    ]
    if claimable:
        mission_id = claimable.pop()
        answers.append(
            http("POST", f"{server.url}/api/v1/missions/{mission_id}/claim", headers=auth)
        )
    return answers


def _claimable_missions(user_id: int, count: int) -> list[int]:
    """`count` completed missions of one player, to be claimed during the faults."""
    from missions.models import ActiveMission
    from missions.services.ingest import events_ingest
    from tests.factories import TemplateFactory, requirement

    keys = [f"faults_claim_{n}" for n in range(count)]
    for key in keys:
        TemplateFactory(
            key=key,
            period_type="perpetual",
            requirements={"threads": requirement("thread:created", target=1)},
        )
    events_ingest(events=[{"id": "claimable", "user_id": user_id, "action": "thread:created"}])
    missions = ActiveMission.objects.filter(user_id=user_id, template__key__in=keys)
    ids = [m.pk for m in missions if m.completed_at is not None]
    assert len(ids) == count
    return ids


def _session_cookie(server: AsgiServer, username: str) -> dict[str, str]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return {"Cookie": f"sessionid={client.cookies['sessionid'].value}"}


def test_batches_api_hub_and_claims_answer_while_redis_dies_hangs_and_returns(
    redis_server: RedisServer,
    start_server: Callable[..., AsgiServer],
    service_key: str,
    counting_players: Callable[[int], list[int]],
) -> None:
    from django.contrib.auth import get_user_model

    users = counting_players(20)
    player = get_user_model().objects.get(pk=users[0])
    token = api_token(player)
    claimable = _claimable_missions(player.pk, 5)
    server = start_server("redis-faults", redis_url=redis_server.url)
    session = _session_cookie(server, player.username)
    sender = Sender(server.url, service_key, users, "rf")
    sender.start()
    player_answers: list[tuple[str, Any]] = []

    def phase(name: str, seconds: float) -> None:
        sender.phase = name
        deadline = time.monotonic() + seconds
        one_claim = [claimable.pop()]  # one claim in each phase
        while time.monotonic() < deadline:
            for answer in _player_requests(server, token, session, one_claim):
                player_answers.append((name, answer))

    try:
        phase("normal", 1.5)
        redis_server.kill()
        phase("redis dead", 3)
        redis_server.start()  # same port, empty: every cache entry is gone
        phase("redis back", 2.5)
        redis_server.hang()
        phase("redis hung", 4)
        redis_server.resume()
        phase("redis resumed", 2.5)
    finally:
        sender.stop.set()
        sender.join(timeout=30)
        redis_server.resume()

    by_phase: dict[str, list[dict[str, Any]]] = {}
    for result in sender.results:
        by_phase.setdefault(result["phase"], []).append(result)
    for name in ("redis dead", "redis hung"):
        assert len(by_phase.get(name, [])) >= 3, f"too few batches answered while {name}"
    failed = [r for r in sender.results if r["status"] != 200]
    assert not failed, failed[:3]
    slow = [(r["phase"], round(r["elapsed"], 2)) for r in sender.results if r["elapsed"] > SLOW]
    assert not slow, f"batches slower than {SLOW} s: {slow}"

    # The player's side, claims included: 200, never a 5xx, never slow.
    for name, (status, body, elapsed) in player_answers:
        assert status == 200, (name, status, str(body)[:300])
        assert elapsed < SLOW, (name, status, elapsed)
    assert not claimable
    claims = [a for _, a in player_answers if isinstance(a[1], dict) and "granted" in a[1]]
    assert len(claims) == 5

    # Every acknowledged event is in the log and counted, once.
    sent_ids = [i for r in sender.results for i in r["ids"]]
    accepted = sum(r["body"]["accepted"] for r in sender.results)
    assert accepted == len(sent_ids)
    assert Event.objects.filter(event_id__in=sent_ids).count() == len(sent_ids)
    assert counted(users) == len(sent_ids)
    assert_log_replays_and_ledger_checks()

    # The outage is logged when it starts and when it ends, not once per call.
    log = server.log_text()
    assert "Traceback" not in log, log[-3000:]
    opened = log.count("unavailable (")
    assert 1 <= opened <= 8, log[-3000:]  # per outage: cache and channel layer, dead and hung
    assert "available again" in log
    print(json.dumps({name: len(rows) for name, rows in by_phase.items()}))


def test_the_socket_is_refused_with_4503_while_redis_is_down_and_opens_once_it_is_back(
    redis_server: RedisServer,
    start_server: Callable[..., AsgiServer],
    counting_players: Callable[[int], list[int]],
) -> None:
    from django.contrib.auth import get_user_model

    from missions.player.consumers import CLOSE_LIVE_UNAVAILABLE

    (user_id,) = counting_players(1)
    token = api_token(get_user_model().objects.get(pk=user_id))
    server = start_server("socket-faults", redis_url=redis_server.url)
    assert socket_close_code(server, f"token={token}") is None

    redis_server.kill()
    assert [socket_close_code(server, f"token={token}") for _ in range(4)] == [
        CLOSE_LIVE_UNAVAILABLE
    ] * 4
    redis_server.start()
    time.sleep(1.5)  # the breaker lets a trial call through after REDIS_BREAKER_RESET_SECONDS
    assert [socket_close_code(server, f"token={token}") for _ in range(2)] == [None, None]

    redis_server.hang()
    try:
        assert [socket_close_code(server, f"token={token}") for _ in range(4)] == [
            CLOSE_LIVE_UNAVAILABLE
        ] * 4
    finally:
        redis_server.resume()
    time.sleep(1.5)
    assert socket_close_code(server, f"token={token}") is None

    # Two outages of the channel layer: each logged once when it starts and once when it ends.
    log = server.log_text()
    assert "Traceback" not in log and " 500" not in log, log[-3000:]
    assert log.count("Redis channel layer") == 4, log[-3000:]
