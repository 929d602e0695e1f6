"""/metrics is for Prometheus, not for anyone (issue 8, defect 8)."""

from __future__ import annotations

from typing import Any

from django.test import Client


def test_metrics_answer_allowed_addresses() -> None:
    response = Client(REMOTE_ADDR="127.0.0.1").get("/metrics")
    assert response.status_code == 200
    assert b"django_http_requests" in response.content


def test_metrics_refuse_other_addresses() -> None:
    response = Client(REMOTE_ADDR="203.0.113.9").get("/metrics")
    assert response.status_code == 403
    assert response.json()["error"] == "permission_denied"


def test_a_network_can_be_allowed(settings: Any) -> None:
    settings.METRICS_ALLOWED_ADDRESSES = ["10.0.0.0/8"]
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 403


def test_the_bearer_token_opens_metrics_from_anywhere(settings: Any) -> None:
    settings.METRICS_BEARER_TOKEN = "s3cret-scrape-token"
    client = Client(REMOTE_ADDR="203.0.113.9")
    assert (
        client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token").status_code == 200
    )
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 403


def test_no_token_configured_means_no_token_accepted(settings: Any) -> None:
    settings.METRICS_BEARER_TOKEN = ""
    client = Client(REMOTE_ADDR="203.0.113.9")
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 403
