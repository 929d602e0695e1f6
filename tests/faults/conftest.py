"""Fixtures for fault tests: processes the test starts and always stops, a service key, and
players with one perpetual counting mission each (so "counted" = the sum of progress)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connections

from config.redis_guard import reset_breakers
from tests.servers import database_url as this_test_database_url

from .procs import AsgiServer, RedisServer, SilentListener

COUNTING_TARGET = 10**9  # never completes: every event of the user is counted


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
        reset_breakers()


@pytest.fixture
def silent_listener() -> Iterator[SilentListener]:
    listener = SilentListener()
    try:
        yield listener
    finally:
        listener.close()


@pytest.fixture
def start_server(transactional_db: None) -> Iterator[Callable[..., AsgiServer]]:
    """start_server(name, redis_url=..., database_url=..., **env) → a running uvicorn."""
    servers: list[AsgiServer] = []
    database_url = this_test_database_url()

    def start(name: str, *, redis_url: str, ready: bool = True, **env: str) -> AsgiServer:
        server = AsgiServer(
            name,
            {
                "DATABASE_URL": env.pop("database_url", database_url),
                "REDIS_URL": redis_url,
                "REDIS_BREAKER_RESET_SECONDS": "1",
                **env,
            },
        )
        servers.append(server)
        server.start(ready=ready)
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.stop()
        connections.close_all()


@pytest.fixture
def service_key(transactional_db: None) -> str:
    from missions.services.service_keys import service_key_create

    _, raw = service_key_create(name=f"faults-{uuid.uuid4().hex[:8]}")
    return raw


@pytest.fixture
def counting_players(transactional_db: None) -> Callable[[int], list[int]]:
    from tests.factories import TemplateFactory, UserFactory, requirement

    def make(count: int) -> list[int]:
        TemplateFactory(
            key=f"faults_count_{uuid.uuid4().hex[:6]}",
            period_type="perpetual",
            requirements={"posts": requirement(target=COUNTING_TARGET)},
        )
        return [UserFactory().pk for _ in range(count)]

    return make


def counted(user_ids: list[int] | None = None) -> int:
    """Events counted into progress (the counting missions' current, summed)."""
    from django.db.models import Sum

    from missions.models import MissionProgress

    rows = MissionProgress.objects.filter(target=COUNTING_TARGET)
    if user_ids is not None:
        rows = rows.filter(mission__user_id__in=user_ids)
    return int(rows.aggregate(total=Sum("current"))["total"] or 0)


def assert_log_replays_and_ledger_checks() -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("replay_events", "--no-progress", stdout=out)
    assert " 0 difference(s)" in out.getvalue(), out.getvalue()
    out = StringIO()
    call_command("check_ledger", stdout=out)
    assert "ledger OK" in out.getvalue()


def event(event_id: str, user_id: int, **data: Any) -> dict[str, Any]:
    return {"id": event_id, "user_id": user_id, "action": "post:created", "data": data}
