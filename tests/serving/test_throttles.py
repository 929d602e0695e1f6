"""Throttles (issue 8, defect 5): token requests per address, claims per player, batches per
service key answer 429 with Retry-After past their rate; failed logins on /login/,
/admin/login/ and the token endpoint lock the username and address out (django-axes)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from missions.services.service_keys import service_key_create
from tests.api.conftest import token_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_rates(settings: Any) -> Any:
    settings.THROTTLE_RATES = {"auth_token": "3/minute", "claim": "3/minute", "ingest": "3/minute"}
    return settings


def _assert_throttled(response: Any) -> None:
    assert response.status_code == 429
    assert response.json()["error"] == "throttled"
    assert 0 < int(response["Retry-After"]) <= 60


def test_the_token_endpoint_is_throttled_per_address(low_rates: Any) -> None:
    UserFactory(username="owner")
    client = APIClient()
    body = {"username": "owner", "password": "pass-1234"}
    for _ in range(3):
        assert client.post("/api/v1/auth/token", body, format="json").status_code == 200
    _assert_throttled(client.post("/api/v1/auth/token", body, format="json"))
    other_address = APIClient(REMOTE_ADDR="10.0.0.2")
    assert other_address.post("/api/v1/auth/token", body, format="json").status_code == 200


def test_claims_are_throttled_per_player(low_rates: Any) -> None:
    player, other = UserFactory(), UserFactory()
    api = token_client(player)
    for _ in range(3):  # no such mission: still a claim request
        assert api.post("/api/v1/missions/999999/claim").status_code == 404
    _assert_throttled(api.post("/api/v1/missions/999999/claim"))
    assert token_client(other).post("/api/v1/missions/999999/claim").status_code == 404


def test_batches_are_throttled_per_service_key(low_rates: Any) -> None:
    def client(name: str) -> APIClient:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {service_key_create(name=name)[1]}")
        return api

    forum, shop = client("forum"), client("shop")
    for _ in range(3):
        assert forum.post("/api/v1/events", {"events": []}, format="json").status_code == 200
    _assert_throttled(forum.post("/api/v1/events", {"events": []}, format="json"))
    assert shop.post("/api/v1/events", {"events": []}, format="json").status_code == 200


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_failed_logins_lock_the_username_out_with_429(settings: Any, path: str) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="victim", is_staff=True)
    client = Client()
    for _ in range(3):
        response = client.post(path, {"username": "victim", "password": "wrong"})
        assert response.status_code in (200, 429)
    locked = client.post(path, {"username": "victim", "password": "pass-1234"})
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) == int(settings.AXES_COOLOFF_TIME.total_seconds())
    assert "too many failed logins" in locked.content.decode().lower()
    # Another username from the same address is not locked out.
    UserFactory(username="bystander", is_staff=True)
    response = client.post(path, {"username": "bystander", "password": "pass-1234"})
    assert response.status_code == 302


def test_failed_token_requests_lock_the_username_out(settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="victim")
    client = APIClient()
    for _ in range(3):
        response = client.post(
            "/api/v1/auth/token", {"username": "victim", "password": "wrong"}, format="json"
        )
        assert response.status_code in (400, 429)
    response = client.post(
        "/api/v1/auth/token", {"username": "victim", "password": "pass-1234"}, format="json"
    )
    assert response.status_code == 429
    assert response.json()["error"] == "locked_out"
    assert "Retry-After" in response


def test_a_dead_cache_lets_requests_through_unthrottled(low_rates: Any) -> None:
    from django.test import override_settings

    from tests.conftest import DEAD_CACHE

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {service_key_create(name='forum')[1]}")
    with override_settings(CACHES=DEAD_CACHE):
        for _ in range(5):
            assert api.post("/api/v1/events", {"events": []}, format="json").status_code == 200
