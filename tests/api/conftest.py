"""An owner, an outsider and API clients for them (token and session)."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.factories import TemplateFactory, UserFactory
from tests.serving.tokens import api_token


@pytest.fixture
def templates(db: Any) -> list[Any]:
    return [
        TemplateFactory(key="daily_post", name="Daily Post", category="content"),
        TemplateFactory(
            key="weekly_tip",
            name="Weekly Tip",
            period_type="weekly",
            category="trading",
            requirements={
                "tips": {"action": "tip:sent", "target": 5, "label": "Tip 5 times"},
                "big_tip": {
                    "action": "tip:sent",
                    "target": "2.5",
                    "label": "Tip 2.5 DGT at once",
                    "field": "amount",
                },
            },
        ),
        TemplateFactory(key="forever", name="Forever", period_type="perpetual"),
    ]


@pytest.fixture
def owner(db: Any) -> Any:
    return UserFactory(username="owner")


@pytest.fixture
def outsider(db: Any) -> Any:
    return UserFactory(username="outsider")


def token_client(user: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
    return client


@pytest.fixture
def api(owner: Any) -> APIClient:
    return token_client(owner)


@pytest.fixture
def outsider_api(outsider: Any) -> APIClient:
    return token_client(outsider)
