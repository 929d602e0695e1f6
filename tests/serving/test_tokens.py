"""API tokens are stored hashed and expire (issue 8, defect 8: DRF's tokens were plain text
and forever). The contract stays: POST /api/v1/auth/token → {token}, sent as
`Authorization: Token <key>` or `?token=` on the socket."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from config.asgi import application
from tests.factories import UserFactory


def _issue(username: str) -> str:
    response = APIClient().post(
        "/api/v1/auth/token", {"username": username, "password": "pass-1234"}, format="json"
    )
    assert response.status_code == 200
    return str(response.json()["token"])


def _get(token: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return int(client.get("/api/v1/me").status_code)


@pytest.mark.django_db
def test_a_token_is_stored_only_as_a_hash() -> None:
    UserFactory(username="owner")
    token = _issue("owner")
    stored = AuthToken.objects.get()
    assert token not in (stored.digest, stored.token_key)
    assert token.startswith(stored.token_key)  # a short prefix to find it, not the key
    assert _get(token) == 200


@pytest.mark.django_db
def test_a_token_expires_after_the_configured_lifetime() -> None:
    UserFactory(username="owner")
    before = timezone.now()
    token = _issue("owner")
    stored = AuthToken.objects.get()
    lifetime = timedelta(hours=settings.API_TOKEN_TTL_HOURS)
    assert before + lifetime <= stored.expiry <= timezone.now() + lifetime
    AuthToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))
    assert _get(token) == 401


@pytest.mark.django_db
def test_each_request_issues_a_new_token_and_both_work() -> None:
    UserFactory(username="owner")
    first, second = _issue("owner"), _issue("owner")
    assert first != second
    assert _get(first) == _get(second) == 200


@pytest.mark.django_db
@pytest.mark.parametrize("header", [b"Token \xff\xfe", "Token not-a-token", "Token a b"])
def test_a_bad_token_is_401_not_500(header: Any) -> None:
    response = APIClient().get("/api/v1/me", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


async def _socket_connects(token: str) -> bool:
    communicator = WebsocketCommunicator(application, f"/ws/missions/?token={token}")
    connected, _ = await communicator.connect()
    if connected:
        await communicator.disconnect()
    return bool(connected)


def _closing(fn: Any) -> Any:
    """Run in asgiref's worker thread and hand its connection back to the pool after."""

    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        finally:
            connections.close_all()

    return sync_to_async(run)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.asyncio
async def test_the_socket_takes_the_token_until_it_expires() -> None:
    await _closing(UserFactory)(username="owner")
    token = await _closing(_issue)("owner")
    assert await _socket_connects(token)
    await _closing(AuthToken.objects.update)(expiry=timezone.now() - timedelta(seconds=1))
    assert not await _socket_connects(token)
