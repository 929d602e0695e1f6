"""One server process under 64 concurrent clients holds at most its pool of Postgres
connections and answers every request (issue 8, defect 1: connections leaked under ASGI,
one per request thread, until Postgres refused everybody).

Sustained load, counted in requests rather than seconds: each client sends
REQUESTS_PER_CLIENT requests one after another, and every one must be answered."""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from django.conf import settings

from missions.services.service_keys import service_key_create
from tests.factories import UserFactory
from tests.servers import database_url, uvicorn_server

CLIENTS = 64
POOL_MAX = 4
REQUESTS_PER_CLIENT = 20


def _request(url: str, *, body: Any = None, headers: dict[str, str] | None = None) -> int:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _token(url: str, username: str) -> str:
    request = urllib.request.Request(
        f"{url}/api/v1/auth/token",
        data=json.dumps({"username": username, "password": "pass-1234"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(json.load(response)["token"])


def test_settings_pool_postgres_connections_and_bound_them() -> None:
    options = settings.DATABASES["default"]["OPTIONS"]
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] == 0
    assert options["pool"]["max_size"] == settings.DATABASE_POOL_MAX_SIZE
    assert options["application_name"] == settings.DATABASE_APPLICATION_NAME


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_server_under_64_clients_holds_at_most_its_pool_and_answers_every_request() -> None:
    players = [UserFactory() for _ in range(8)]
    _, service_key = service_key_create(name="load")
    app_name = f"pool-test-{os.getpid()}"
    env = {
        "DATABASE_POOL_MIN_SIZE": "1",
        "DATABASE_POOL_MAX_SIZE": str(POOL_MAX),
        "DATABASE_POOL_TIMEOUT": "30",
        "DATABASE_APPLICATION_NAME": app_name,
    }
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    peak = 0
    guard = threading.Lock()
    with uvicorn_server(env) as url:
        tokens = [_token(url, player.username) for player in players[:2]]
        done = threading.Event()

        def client(n: int) -> None:
            for i in range(1, REQUESTS_PER_CLIENT + 1):
                try:
                    if n % 4 == 0:
                        status = _request(
                            f"{url}/api/v1/missions",
                            headers={"Authorization": f"Token {tokens[n % 2]}"},
                        )
                    else:
                        player = players[(n + i) % len(players)]
                        event = {"id": f"c{n}-{i}", "user_id": player.pk, "action": "post:created"}
                        status = _request(
                            f"{url}/api/v1/events",
                            body={"events": [event]},
                            headers={"Authorization": f"Bearer {service_key}"},
                        )
                except OSError as exc:
                    with guard:
                        failures.append(f"{type(exc).__name__}: {exc}")
                    continue
                with guard:
                    statuses[status] += 1

        def monitor() -> None:
            nonlocal peak
            dsn = database_url().replace("postgres://", "postgresql://", 1)
            with psycopg.connect(dsn, autocommit=True) as conn:
                while not done.is_set():
                    row = conn.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                        [app_name],
                    ).fetchone()
                    peak = max(peak, int(row[0]) if row else 0)
                    time.sleep(0.1)

        watcher = threading.Thread(target=monitor)
        watcher.start()
        try:
            with ThreadPoolExecutor(CLIENTS) as pool:
                list(pool.map(client, range(CLIENTS)))
        finally:
            done.set()
            watcher.join(timeout=10)

    answered = sum(statuses.values())
    assert not failures, f"{len(failures)} requests got no answer, e.g. {failures[:3]}"
    assert set(statuses) == {200}, f"statuses: {dict(statuses)}"
    assert answered == CLIENTS * REQUESTS_PER_CLIENT
    print(f"answered {answered} requests ({dict(statuses)}), peak {peak} connections")
    assert 0 < peak <= POOL_MAX, f"the server held {peak} connections; its pool is {POOL_MAX}"
