"""Nothing waits forever (issue 8, defect 2): a Postgres or Redis that accepts TCP and never
answers turns /healthz into a 503 at its deadline (HEALTHZ_TIMEOUT_MS, 1 s by default) and the
API into a 503 with Retry-After.

No wall-clock bounds here (the box may be loaded): the servers get connect and socket
timeouts of a minute, so an answer that says "no answer within 1.0 s" can only come from the
probe's own deadline, and the client gives up long before a minute."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from tests.servers import uvicorn_server

from .server import silent_port


def _get(url: str, **kwargs: Any) -> tuple[int, dict[str, Any], Any]:
    request = urllib.request.Request(url, **kwargs)
    try:
        with urllib.request.urlopen(request, timeout=45) as response:
            status, headers, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        status, headers, body = exc.code, exc.headers, exc.read()
    return status, json.loads(body), headers


@pytest.mark.django_db
def test_every_connection_gets_a_statement_timeout() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        shown = cursor.fetchone()[0]
    assert shown == f"{settings.DATABASE_STATEMENT_TIMEOUT_MS // 1000}s"
    assert settings.DATABASES["default"]["OPTIONS"]["connect_timeout"] > 0


DEADLINE_ANSWER = "error: no answer within 1.0 s"


def test_healthz_answers_503_at_its_deadline_when_postgres_never_answers() -> None:
    with (
        silent_port() as port,
        uvicorn_server(
            {
                "DATABASE_URL": f"postgres://postgres@127.0.0.1:{port}/hung",
                "DATABASE_CONNECT_TIMEOUT": "60",
            },
            ready="listening",
        ) as url,
    ):
        for _ in range(3):  # later probes too, while the first checks still hang
            status, body, _ = _get(f"{url}/healthz")
            assert status == 503
            assert body["checks"]["database"] == DEADLINE_ANSWER


def test_healthz_answers_503_at_its_deadline_when_redis_never_answers(
    django_db_setup: Any,
) -> None:
    with (
        silent_port() as port,
        uvicorn_server(
            {
                "REDIS_URL": f"redis://127.0.0.1:{port}/0",
                "REDIS_SOCKET_CONNECT_TIMEOUT": "60",
                "REDIS_SOCKET_TIMEOUT": "60",
            },
            ready="listening",
        ) as url,
    ):
        status, body, _ = _get(f"{url}/healthz")
    assert status == 503
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"] == DEADLINE_ANSWER
    assert body["checks"]["channel_layer"] == DEADLINE_ANSWER


def test_the_api_answers_503_with_retry_after_when_postgres_never_answers() -> None:
    with (
        silent_port() as port,
        uvicorn_server(
            {
                "DATABASE_URL": f"postgres://postgres@127.0.0.1:{port}/hung",
                "DATABASE_POOL_TIMEOUT": "2",
                "DATABASE_CONNECT_TIMEOUT": "60",
            },
            ready="listening",
        ) as url,
    ):
        status, body, headers = _get(
            f"{url}/api/v1/events",
            data=b'{"events": []}',
            headers={"Authorization": "Bearer msk_x", "Content-Type": "application/json"},
        )
    assert status == 503
    assert body["error"] == "database_unavailable"
    assert headers["Retry-After"] == "5"
