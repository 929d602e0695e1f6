"""The ASGI server killed with SIGKILL mid-batch and restarted, and a Postgres that refuses or
never answers: every batch that got a 200 is in the log and counted, no batch is partial,
the log replays to the stored state and the ledger checks; a server without its database
answers with an error instead of hanging."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from missions.models import Event

from .conftest import assert_log_replays_and_ledger_checks, counted, event
from .procs import AsgiServer, SilentListener, free_port, http

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SENDERS = 4
BATCH = 50
KILLS = 2


def test_batches_acknowledged_before_a_sigkill_are_all_kept_and_none_is_partial(
    start_server: Callable[..., AsgiServer],
    service_key: str,
    counting_players: Callable[[int], list[int]],
) -> None:
    from django.conf import settings

    users = counting_players(30)
    server = start_server("killed", redis_url=settings.REDIS_URL)
    auth = {"Authorization": f"Bearer {service_key}"}
    acknowledged: list[list[str]] = []
    unanswered: list[list[str]] = []
    other: list[Any] = []
    guard = threading.Lock()
    stop = threading.Event()

    def sender(n: int) -> None:
        k = 0
        while not stop.is_set():
            # Batches share users across senders (the per-user locks are contended).
            batch = [
                event(f"k{n}-{k}-{i}", users[(k + i * 7 + n) % len(users)]) for i in range(BATCH)
            ]
            k += 1
            status, body, _ = http("POST", f"{server.url}/api/v1/events", {"events": batch}, auth)
            ids = [e["id"] for e in batch]
            with guard:
                if status == 200 and body["accepted"] == BATCH:
                    acknowledged.append(ids)
                elif status == 0:  # cut by the kill: the client does not know what happened
                    unanswered.append(ids)
                    time.sleep(0.2)
                else:
                    other.append((status, body))

    threads = [threading.Thread(target=sender, args=(n,), daemon=True) for n in range(SENDERS)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(KILLS):
            time.sleep(1.5)
            server.kill()  # SIGKILL, batches in flight
            time.sleep(0.3)
            server.start()
        time.sleep(1.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)

    assert not other, other[:3]
    assert len(acknowledged) >= 10 and unanswered, (len(acknowledged), len(unanswered))
    # Acknowledged: all in the log. Unanswered: all or nothing (one transaction per batch).
    acknowledged_ids = [i for ids in acknowledged for i in ids]
    assert Event.objects.filter(event_id__in=acknowledged_ids).count() == len(acknowledged_ids)
    partial = []
    for ids in unanswered:
        stored = Event.objects.filter(event_id__in=ids).count()
        if stored not in (0, len(ids)):
            partial.append((ids[0], stored))
    assert not partial
    # The client sends what it never got an answer for again: nothing is doubled.
    resent_new = 0
    for ids in unanswered:
        batch = [event(i, users[0]) for i in ids]
        status, body, _ = http("POST", f"{server.url}/api/v1/events", {"events": batch}, auth)
        assert status == 200 and body["accepted"] + body["duplicates"] == len(ids)
        resent_new += body["accepted"]
    total = len(acknowledged_ids) + sum(len(ids) for ids in unanswered)
    assert Event.objects.count() == total + 0  # + the events of no other test
    assert counted(users) == total
    assert_log_replays_and_ledger_checks()
    print(f"acknowledged {len(acknowledged)}, cut {len(unanswered)} ({resent_new} events new)")


@pytest.mark.parametrize("database", ["refused", "hung"])
def test_a_server_whose_database_refuses_or_hangs_answers_with_an_error(
    database: str,
    silent_listener: SilentListener,
    start_server: Callable[..., AsgiServer],
    service_key: str,
) -> None:
    from django.conf import settings

    port = free_port() if database == "refused" else silent_listener.port
    server = start_server(
        f"db-{database}",
        redis_url=settings.REDIS_URL,
        database_url=f"postgres://postgres@127.0.0.1:{port}/missions",
        DATABASE_CONNECT_TIMEOUT="2",
    )
    requests = [
        ("GET", "/api/v1/missions", {"Authorization": "Token 0123456789abcdef"}),
        ("POST", "/api/v1/events", {"Authorization": f"Bearer {service_key}"}),
        ("POST", "/api/v1/auth/token", {}),
        ("GET", "/", {"Cookie": "sessionid=0123456789abcdefghijklmnopqrstuv"}),
    ]
    bodies = {
        "/api/v1/events": {"events": [event("db-down", 1)]},
        "/api/v1/auth/token": {"username": "someone", "password": "secret-1234"},
    }
    for method, path, headers in requests:
        body = bodies.get(path)
        status, answer, elapsed = http(method, server.url + path, body, headers, timeout=20)
        # An answer, with an error, well before a client would give up; never a hang.
        assert status >= 500, (path, status, str(answer)[:300])
        assert elapsed < 15, (path, elapsed)
