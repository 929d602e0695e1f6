"""GET /api/v1/me, /streaks, /leaderboards/{key}: contract, access control, errors."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_me_shows_level_balances_badges_titles_and_inventory(api: APIClient) -> None:
    body = api.get("/api/v1/me").json()
    assert body == {
        "username": "owner",
        "level": 1,
        "xp": 0,
        "dgt": body["dgt"],
        "next_level_xp": body["next_level_xp"],
        "badges": [],
        "titles": [],
        "inventory": [],
    }
    assert body["dgt"] in ("0", "0.00", "0.00000000")


def test_streaks_show_daily_and_weekly(api: APIClient) -> None:
    body = api.get("/api/v1/streaks").json()
    assert set(body) == {"daily", "weekly"}
    for streak in body.values():
        assert {"current", "alive", "best", "last_completed", "multiplier"} <= set(streak)
        assert streak["current"] == 0 and streak["best"] == 0


@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/streaks", "/api/v1/history"])
def test_anonymous_gets_401(path: str) -> None:
    response = APIClient().get(path)
    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"


def test_me_costs_a_fixed_number_of_queries(api: APIClient, django_assert_num_queries: Any) -> None:
    api.get("/api/v1/me")
    with django_assert_num_queries(
        6
    ):  # token, then the wallet's balance, level, badges, titles, items
        api.get("/api/v1/me")
