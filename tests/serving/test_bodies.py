"""Request bodies against the real ASGI server (issue 8, defect 6): over the limit is the
documented 413 JSON error, a chunked body without a length is read, and a lone surrogate in
a top-level key is a 400."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from missions.apis import max_body_bytes
from missions.models import Event
from missions.services.service_keys import service_key_create
from tests.factories import UserFactory
from tests.servers import uvicorn_server

SMALL_LIMIT = 2000  # API_MAX_BODY_BYTES of the server under test, to keep bodies small


@pytest.fixture(scope="module")
def server(django_db_setup: Any) -> Iterator[tuple[str, int]]:
    with uvicorn_server({"API_MAX_BODY_BYTES": str(SMALL_LIMIT)}) as url:
        parts = urlsplit(url)
        yield parts.hostname or "127.0.0.1", int(parts.port or 80)


def exchange(
    server: tuple[str, int],
    path: str,
    *,
    headers: dict[str, str],
    body: bytes | None = None,
    chunks: list[bytes] | None = None,
) -> tuple[int, dict[str, Any], http.client.HTTPResponse]:
    conn = http.client.HTTPConnection(*server, timeout=30)
    try:
        conn.putrequest("POST", path)
        for name, value in headers.items():
            conn.putheader(name, value)
        if chunks is not None:
            conn.putheader("Transfer-Encoding", "chunked")
        elif body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        if chunks is not None:
            for chunk in chunks:
                conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            conn.send(b"0\r\n\r\n")
        elif body is not None:
            conn.send(body)
        response = conn.getresponse()
        payload = response.read()
        return response.status, json.loads(payload), response
    finally:
        conn.close()


def test_a_declared_length_over_the_batch_limit_is_413_json_before_the_body_is_read(
    server: tuple[str, int],
) -> None:
    limit = max_body_bytes()
    status, body, response = exchange(
        server,
        "/api/v1/events",
        headers={"Content-Type": "application/json", "Content-Length": str(limit + 1)},
    )  # the body is never sent: the answer must not wait for it
    assert status == 413
    assert response.getheader("Content-Type") == "application/json"
    assert body == {
        "error": "too_large",
        "detail": f"the body is {limit + 1} bytes; the limit for this endpoint is {limit}",
        "errors": {"body": ["is too large"]},
    }


def test_any_other_endpoint_has_the_smaller_limit(server: tuple[str, int]) -> None:
    status, body, _ = exchange(
        server,
        "/api/v1/auth/token",
        headers={"Content-Type": "application/json", "Content-Length": str(SMALL_LIMIT + 1)},
    )
    assert status == 413
    assert body["error"] == "too_large"
    assert f"the limit for this endpoint is {SMALL_LIMIT}" in body["detail"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_chunked_body_without_a_length_is_read_and_handled(server: tuple[str, int]) -> None:
    user = UserFactory()
    key = service_key_create(name="chunked")[1]
    batch = json.dumps(
        {"events": [{"id": "chunked-1", "user_id": user.pk, "action": "post:created"}]}
    ).encode()
    status, body, _ = exchange(
        server,
        "/api/v1/events",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
        chunks=[batch[:10], batch[10:40], batch[40:]],
    )
    assert (status, body) == (200, {"accepted": 1, "duplicates": 0, "rejected": []})
    assert Event.objects.filter(event_id="chunked-1", user=user).exists()


def test_a_chunked_body_over_the_limit_is_413_json(server: tuple[str, int]) -> None:
    status, body, _ = exchange(
        server,
        "/api/v1/auth/token",
        headers={"Content-Type": "application/json"},
        chunks=[b'{"username": "' + b"x" * SMALL_LIMIT + b'"}'],
    )
    assert status == 413
    assert body["detail"] == (
        f"the body is over {SMALL_LIMIT} bytes; the limit for this endpoint is {SMALL_LIMIT}"
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_lone_surrogate_in_a_top_level_key_is_a_400(server: tuple[str, int]) -> None:
    key = service_key_create(name="surrogate")[1]
    status, body, _ = exchange(
        server,
        "/api/v1/events",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
        body=b'{"events": [], "\\ud800": 1}',
    )
    assert status == 400
    assert body["errors"] == {"\ud800": ["is not a batch field (use events)"]}
