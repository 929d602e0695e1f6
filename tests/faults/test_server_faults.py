"""The ASGI server killed with SIGKILL mid-batch and restarted, and a Postgres that refuses or
never answers: every batch that got a 200 is in the log and counted, no batch is partial,
the log replays to the stored state and the ledger checks; a server without its database
answers 503 from its own pool timeout instead of hanging (the client waits a minute, so no
wall-clock bound is needed)."""

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
ACKED_PER_ROUND = 5  # batches acknowledged before each kill and after the last restart
HANG_GUARD = 120.0  # seconds: only a hang waits this long for the next answer
CONNECT_TIMEOUT = 2  # seconds, the servers' own: the client waits a minute
POOL_TIMEOUT = 3


def _wait_until_more(count: Callable[[], int], more: int, what: str) -> None:
    target = count() + more
    guard = time.monotonic() + HANG_GUARD
    while count() < target:
        if time.monotonic() > guard:
            raise TimeoutError(f"waiting for {more} more {what}: still {count()}")
        time.sleep(0.05)


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

    def count(batches: list[list[str]]) -> Callable[[], int]:
        def now() -> int:
            with guard:
                return len(batches)

        return now

    acked, cut = count(acknowledged), count(unanswered)
    try:
        # Rounds defined by answers, not seconds: kill once ACKED_PER_ROUND more batches were
        # acknowledged (the other senders' batches are in flight), restart once a batch got
        # no answer (sent to the dead server).
        for _ in range(KILLS):
            _wait_until_more(acked, ACKED_PER_ROUND, "batches acknowledged")
            server.kill()  # SIGKILL, batches in flight
            _wait_until_more(cut, 1, "a batch unanswered while the server is down")
            server.start()
        _wait_until_more(acked, ACKED_PER_ROUND, "batches acknowledged after the restart")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)

    assert not other, other[:3]
    assert len(acknowledged) >= (KILLS + 1) * ACKED_PER_ROUND and unanswered
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
def test_a_server_whose_database_refuses_or_hangs_answers_503_from_its_pool_timeout(
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
        DATABASE_CONNECT_TIMEOUT=str(CONNECT_TIMEOUT),
        DATABASE_POOL_TIMEOUT=str(POOL_TIMEOUT),
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
        # The client waits a minute: a missing answer can only be a hang.
        status, answer, _ = http(method, server.url + path, bodies.get(path), headers, timeout=60)
        assert status == 503, (path, status, str(answer)[:300])
        assert answer["error"] == "database_unavailable", (path, answer)
    # Each answer came from the pool's own timeout, after its connection attempts failed
    # (refused at once, or cut by the connect timeout when Postgres accepts and stays silent).
    log = server.log_text()
    pool_timeout = f"database unavailable: couldn't get a connection after {POOL_TIMEOUT:.2f} sec"
    assert log.count(pool_timeout) == len(requests), log[-3000:]
    cause = "Connection refused" if database == "refused" else "connection timeout expired"
    assert cause in log, log[-3000:]
