"""A private Redis killed, hung (SIGSTOP) and restored under a real uvicorn while batches,
the player API, the hub and claims go on: every request gets its normal answer (cache =
miss, presence = unknown), nothing accepted is lost, the calls that waited on the dead or
hung Redis are only the few the circuit breaker lets through, and the outage is logged once.

No wall-clock bounds (the box is shared): the client waits up to a minute, so a missing
answer can only be a real hang, and what the breaker saved is counted exactly from the
server's own `mission_redis_breaker_total` (config/redis_guard.py)."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from missions.models import Event
from missions.player.live import LIVE_CONCURRENCY
from tests.serving.tokens import api_token

from .conftest import assert_log_replays_and_ledger_checks, counted, event
from .procs import AsgiServer, RedisServer, http, socket_close_code

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CLIENT_TIMEOUT = 60.0  # only a hang waits this long; the server's Redis timeouts are 0.5 s
FAIL_MAX = 3  # REDIS_BREAKER_FAILURES of the test's server
STEPS = 8  # requests per phase: each step one batch and the player's requests, in turn
BATCH = 10  # events per batch, for 10 different players
RECOVERY_GUARD = 120.0  # seconds: a hang guard while waiting for the breaker to close

BreakerCounts = Counter[tuple[str, str]]


def breaker_counts(server: AsgiServer) -> BreakerCounts:
    """The server's mission_redis_breaker_total, by (use, event)."""
    status, text, _ = http("GET", f"{server.url}/metrics", timeout=CLIENT_TIMEOUT)
    assert status == 200, (status, str(text)[:300])
    counts: BreakerCounts = Counter()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "mission_redis_breaker_total":
                counts[sample.labels["use"], sample.labels["event"]] += int(sample.value)
    return counts


def calls_the_breaker_let_through(delta: BreakerCounts, use: str, in_flight: int) -> int:
    """The most calls that can reach a dead or hung Redis (a dead one refuses them at once, a
    hung one costs each its socket timeout) when at most `in_flight` calls of this use run at
    once: the FAIL_MAX failures that open the breaker plus the calls already in flight then,
    and the calls in flight during each trial after REDIS_BREAKER_RESET_SECONDS. Every other
    call fails at once without touching the network (refused)."""
    opened, reopened = delta[use, "opened"], delta[use, "reopened"]
    return (FAIL_MAX - 1 + in_flight) * opened + in_flight * reopened


class Client:
    """The service and the player, one request at a time (so the server makes one cache
    call at a time): a batch of fresh events, then the player's side."""

    def __init__(
        self, server: AsgiServer, key: str, users: list[int], player: dict[str, Any]
    ) -> None:
        self.server, self.key, self.users, self.player = server, key, users, player
        self.batches: list[dict[str, Any]] = []
        self.player_answers: list[tuple[str, Any]] = []

    def step(self, phase: str, claimable: list[int]) -> None:
        n = len(self.batches)
        batch = [event(f"rf-{n}-{i}", self.users[(n + i) % len(self.users)]) for i in range(BATCH)]
        status, body, _ = http(
            "POST",
            f"{self.server.url}/api/v1/events",
            {"events": batch},
            {"Authorization": f"Bearer {self.key}"},
            timeout=CLIENT_TIMEOUT,
        )
        self.batches.append(
            {"phase": phase, "status": status, "body": body, "ids": [e["id"] for e in batch]}
        )
        for answer in _player_requests(self.server, self.player, claimable):
            self.player_answers.append((phase, answer))

    def phase(self, name: str, claimable: list[int], steps: int = STEPS) -> None:
        one_claim = [claimable.pop()]  # one claim in each phase
        for _ in range(steps):
            self.step(name, one_claim)
        assert not one_claim

    def until_cache_closes(self, name: str, closed_before: int) -> None:
        """Steps until the cache's breaker closed again (its trial call found Redis back)."""
        guard = time.monotonic() + RECOVERY_GUARD
        while breaker_counts(self.server)["cache", "closed"] == closed_before:
            if time.monotonic() > guard:
                raise TimeoutError(f"{name}: the cache's breaker never closed")
            self.step(name, [])


def _player_requests(server: AsgiServer, player: dict[str, Any], claimable: list[int]) -> list[Any]:
    """The player's side: API list, /me, the hub page, and a claim while one is left."""
    auth = {"Authorization": f"Token {player['token']}"}
    url, wait = server.url, CLIENT_TIMEOUT
    answers = [
        http("GET", f"{url}/api/v1/missions", headers=auth, timeout=wait),
        http("GET", f"{url}/api/v1/me", headers=auth, timeout=wait),
        http("GET", f"{url}/", headers=player["session"], timeout=wait),
    ]
    if claimable:
        mission_id = claimable.pop()
        answers.append(
            http("POST", f"{url}/api/v1/missions/{mission_id}/claim", headers=auth, timeout=wait)
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
    claimable = _claimable_missions(player.pk, 5)
    server = start_server(
        "redis-faults", redis_url=redis_server.url, REDIS_BREAKER_FAILURES=str(FAIL_MAX)
    )
    client = Client(
        server,
        service_key,
        users,
        {"token": api_token(player), "session": _session_cookie(server, player.username)},
    )
    deltas: dict[str, BreakerCounts] = {}

    def outage(name: str) -> None:
        before = breaker_counts(server)
        client.phase(name, claimable)
        deltas[name] = breaker_counts(server) - before

    try:
        client.phase("normal", claimable)
        assert breaker_counts(server)["cache", "opened"] == 0
        redis_server.kill()
        outage("redis dead")
        closed = breaker_counts(server)["cache", "closed"]
        redis_server.start()  # same port, empty: every cache entry is gone
        client.until_cache_closes("redis back", closed)
        client.phase("redis back", claimable)
        redis_server.hang()
        outage("redis hung")
        closed = breaker_counts(server)["cache", "closed"]
        redis_server.resume()
        client.until_cache_closes("redis resumed", closed)
        client.phase("redis resumed", claimable)
    finally:
        redis_server.resume()

    # Every request answered as usual, outages included: the batches, and the player's
    # side with its five claims (one per phase).
    failed = [r for r in client.batches if r["status"] != 200]
    assert not failed, failed[:3]
    assert all(r["body"]["accepted"] == BATCH for r in client.batches)
    for name, (status, body, _) in client.player_answers:
        assert status == 200, (name, status, str(body)[:300])
    assert not claimable
    claims = [a for _, a in client.player_answers if isinstance(a[1], dict) and "granted" in a[1]]
    assert len(claims) == 5

    # The breaker, not the timeouts, answered for the dead and the hung Redis. The client's
    # requests make one cache call at a time: the cache calls that reached Redis are exactly
    # the FAIL_MAX that opened the breaker (once per outage) and one per trial, and the rest
    # were refused. A batch's live pushes run up to LIVE_CONCURRENCY at once.
    for name in ("redis dead", "redis hung"):
        delta = deltas[name]
        assert delta["cache", "opened"] == 1, (name, dict(delta))
        assert delta["cache", "refused"] > 0, (name, dict(delta))
        let_through = calls_the_breaker_let_through(delta, "cache", in_flight=1)
        assert delta["cache", "failed"] == let_through, (name, dict(delta))
        in_flight = min(BATCH, LIVE_CONCURRENCY)
        let_through = calls_the_breaker_let_through(delta, "channel_layer", in_flight)
        assert delta["channel_layer", "failed"] <= let_through, (name, dict(delta))

    # Every acknowledged event is in the log and counted, once.
    sent_ids = [i for r in client.batches for i in r["ids"]]
    assert Event.objects.filter(event_id__in=sent_ids).count() == len(sent_ids)
    assert counted(users) == len(sent_ids)
    assert_log_replays_and_ledger_checks()

    # The outage is logged when it starts and when it ends, not once per call: one line per
    # breaker that opened and one per breaker that closed.
    log = server.log_text()
    assert "Traceback" not in log, log[-3000:]
    total = breaker_counts(server)
    uses = ("cache", "channel_layer")
    assert log.count("unavailable (") == sum(total[u, "opened"] for u in uses), log[-3000:]
    assert log.count("available again") == sum(total[u, "closed"] for u in uses), log[-3000:]
    assert total["cache", "opened"] == 2 and total["cache", "closed"] == 2
    steps = Counter(r["phase"] for r in client.batches)
    breakers = {name: {f"{u} {e}": n for (u, e), n in d.items()} for name, d in deltas.items()}
    print(json.dumps({"steps": steps, "player requests": len(client.player_answers), **breakers}))


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
