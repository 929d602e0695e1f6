from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import TemplateFactory, UserFactory


@pytest.mark.django_db
def test_healthz_checks_the_database_cache_and_channel_layer(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "channel_layer": "ok"}


@pytest.mark.django_db
def test_the_hub_needs_a_login(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.django_db
def test_the_hub_shows_the_players_assigned_missions(client: Client) -> None:
    TemplateFactory(key="daily_one", name="Daily One")
    other = TemplateFactory(key="other_only", name="Not Yours", min_level=99)
    user = UserFactory()
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Daily One" in body and other.name not in body
    assert '<span class="cur">0</span> / <span class="tgt">3</span>' in body


@pytest.mark.django_db
def test_schema_and_docs_are_served(client: Client) -> None:
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"openapi" in schema.content
    assert client.get("/api/docs/").status_code == 200


@pytest.mark.django_db
def test_admin_login_page(client: Client) -> None:
    assert client.get("/admin/login/").status_code == 200
