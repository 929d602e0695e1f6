"""The service API's lean door (config/service_api.py): POST /api/v1/events on the real ASGI
server goes through a middleware stack without session, CSRF, user, messages, lockout and
static files, all of it async, and answers exactly as the full stack does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from asgiref.sync import iscoroutinefunction
from django.test import Client
from django.utils.module_loading import import_string

from config.service_api import (
    SERVICE_API_SKIPPED_MIDDLEWARE,
    ServiceApiASGIHandler,
    service_api_middleware,
)
from missions.models import Event
from missions.services.service_keys import service_key_create
from tests.factories import UserFactory
from tests.servers import uvicorn_server

from .test_bodies import exchange


@pytest.fixture(scope="module")
def server(django_db_setup: Any) -> Iterator[tuple[str, int]]:
    with uvicorn_server() as url:
        parts = urlsplit(url)
        yield parts.hostname or "127.0.0.1", int(parts.port or 80)


def test_the_lean_stack_skips_the_browser_middleware_and_stays_async() -> None:
    lean = service_api_middleware()
    assert "django.contrib.sessions.middleware.SessionMiddleware" in SERVICE_API_SKIPPED_MIDDLEWARE
    assert not set(lean) & SERVICE_API_SKIPPED_MIDDLEWARE
    # Kept: metrics, security headers, the database's 503/409.
    assert "config.middleware.DatabaseUnavailableMiddleware" in lean
    assert "django.middleware.security.SecurityMiddleware" in lean
    # Every one async-capable: the request enters a thread once, for the view.
    assert all(getattr(import_string(m), "async_capable", False) for m in lean)
    handler = ServiceApiASGIHandler()
    assert iscoroutinefunction(handler._middleware_chain)


def _post(server: tuple[str, int], body: bytes, key: str | None) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    status, payload, response = exchange(server, "/api/v1/events", headers=headers, body=body)
    assert response.getheader("Set-Cookie") is None  # no session, no CSRF cookie
    return status, payload


def _full_stack(body: bytes, key: str | None) -> tuple[int, dict[str, Any]]:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}") if key else Client()
    response = client.post("/api/v1/events", data=body, content_type="application/json")
    return response.status_code, response.json()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_lean_door_answers_as_the_full_stack(server: tuple[str, int]) -> None:
    key = service_key_create(name="lean")[1]
    user = UserFactory()
    event = {"id": "lean-1", "user_id": user.pk, "action": "post:created", "data": {}}
    cases = [
        (json.dumps({"events": [event]}).encode(), key),  # accepted (then a duplicate)
        (json.dumps({"events": [event]}).encode(), None),  # 401
        (b'{"events": {}}', key),  # not a batch
        (b'{"events": [', key),  # not JSON
        (b'{"events": [], "\\ud800": 1}', key),  # a lone surrogate names the field
        (json.dumps({"events": [{**event, "id": "lean-2", "user_id": 0}]}).encode(), key),
        (b'{"events": [' + b"[" * 30 + b"]" * 30 + b"]}", key),  # deeper than the limit
    ]
    answers = [_post(server, body, k) for body, k in cases]
    assert answers[0] == (200, {"accepted": 1, "duplicates": 0, "rejected": []})
    assert Event.objects.filter(event_id="lean-1").count() == 1
    assert [status for status, _ in answers] == [200, 401, 400, 400, 400, 200, 400]
    # The full stack (Django's test client) gives the same answers to the same requests; the
    # first event is a duplicate now, on either door.
    again = _post(server, cases[0][0], key)
    assert again == (200, {"accepted": 0, "duplicates": 1, "rejected": []})
    assert _full_stack(*cases[0]) == again
    for (body, k), answer in list(zip(cases, answers, strict=True))[1:]:
        if body == cases[5][0]:
            assert answer[1]["rejected"][0]["index"] == 0
        assert _full_stack(body, k) == answer
