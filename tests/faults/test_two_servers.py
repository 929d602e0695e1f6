"""Two server processes and 64 concurrent clients: overlapping batches that repeat event ids
for the same player and for different players, and parallel claims. Zero 5xx, every id in
the log once, every logged event counted once, every mission paid once."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from missions.models import ActiveMission, Event
from tests.serving.tokens import api_token

from .conftest import assert_log_replays_and_ledger_checks, counted, event
from .procs import AsgiServer, http

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CLIENTS = 64
BATCHES_PER_CLIENT = 4
BATCH = 20
SHARED_IDS = 200  # ids every client draws from: the same id for the same or another player


def test_64_clients_on_two_servers_lose_nothing_and_double_nothing(
    start_server: Callable[..., AsgiServer],
    service_key: str,
    counting_players: Callable[[int], list[int]],
) -> None:
    from django.conf import settings

    users = counting_players(16)
    servers = [start_server(f"twin-{n}", redis_url=settings.REDIS_URL) for n in range(2)]
    auth = {"Authorization": f"Bearer {service_key}"}

    def client(n: int) -> list[tuple[int, Any]]:
        rng = random.Random(n)
        answers = []
        for b in range(BATCHES_PER_CLIENT):
            batch = []
            for i in range(BATCH):
                if rng.random() < 0.5:  # a shared id, sent by many clients...
                    shared = rng.randrange(SHARED_IDS)
                    # ...half of them always for the same player, half for a random one
                    user = users[shared % len(users)] if shared % 2 else rng.choice(users)
                    batch.append(event(f"shared-{shared}", user))
                else:
                    batch.append(event(f"own-{n}-{b}-{i}", rng.choice(users)))
            server = servers[(n + b) % 2]
            status, body, _ = http("POST", f"{server.url}/api/v1/events", {"events": batch}, auth)
            answers.append((status, body))
        return answers

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        answers = [a for result in pool.map(client, range(CLIENTS)) for a in result]

    statuses = Counter(status for status, _ in answers)
    # Deadlocks between batches that share ids for different players are being fixed on the
    # `rel` branch (issue 8, defect 7); until then a 500 here is that defect.
    assert statuses == {200: CLIENTS * BATCHES_PER_CLIENT}, (
        statuses,
        [str(b)[:200] for s, b in answers if s != 200][:3],
    )
    accepted = sum(body["accepted"] for _, body in answers)
    duplicates = sum(body["duplicates"] for _, body in answers)
    assert accepted + duplicates == CLIENTS * BATCHES_PER_CLIENT * BATCH
    # Every id once in the log; the log counted once; replay agrees.
    assert Event.objects.count() == accepted
    assert Event.objects.values("event_id").distinct().count() == accepted
    assert counted(users) == accepted
    assert_log_replays_and_ledger_checks()


def test_parallel_claims_on_two_servers_pay_each_mission_once(
    start_server: Callable[..., AsgiServer],
    counting_players: Callable[[int], list[int]],
) -> None:
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from missions.services.ingest import events_ingest
    from rewards.models import LedgerEntry
    from tests.factories import TemplateFactory, requirement

    users = counting_players(4)
    for n in range(4):
        TemplateFactory(
            key=f"twin_claim_{n}",
            period_type="perpetual",
            requirements={"threads": requirement("thread:created", target=1)},
            rewards={"xp": 10, "dgt": "2.5"},
        )
    events_ingest(
        events=[{"id": f"t-{u}", "user_id": u, "action": "thread:created"} for u in users]
    )
    missions = list(ActiveMission.objects.filter(template__key__startswith="twin_claim_"))
    assert len(missions) == 16 and all(m.completed_at for m in missions)
    tokens = {u.pk: api_token(u) for u in get_user_model().objects.filter(pk__in=users)}
    servers = [start_server(f"claims-{n}", redis_url=settings.REDIS_URL) for n in range(2)]
    attempts = [(m, k) for m in missions for k in range(4)]  # 64 claims, 4 per mission

    def claim(item: tuple[ActiveMission, int]) -> tuple[int, int]:
        mission, k = item
        server = servers[k % 2]
        status, _, _ = http(
            "POST",
            f"{server.url}/api/v1/missions/{mission.pk}/claim",
            headers={"Authorization": f"Token {tokens[mission.user_id]}"},
        )
        return mission.pk, status

    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        results = list(pool.map(claim, attempts))

    by_mission: dict[int, Counter[int]] = {}
    for mission_id, status in results:
        by_mission.setdefault(mission_id, Counter())[status] += 1
    for mission_id, statuses in by_mission.items():
        assert statuses == {200: 1, 409: 3}, (mission_id, statuses)
    paid = Counter(
        LedgerEntry.objects.filter(mission__isnull=False).values_list("mission_id", flat=True)
    )
    assert paid == {m.pk: 1 for m in missions}
    assert_log_replays_and_ledger_checks()
