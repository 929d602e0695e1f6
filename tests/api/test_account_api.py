"""GET /api/v1/me, /streaks, /leaderboards/{key}: contract, access control, errors."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

import missions
from tests.api.conftest import token_client
from tests.factories import TemplateFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_me_shows_level_balances_badges_titles_and_inventory(api: APIClient) -> None:
    assert api.get("/api/v1/me").json() == {
        "username": "owner",
        "level": 1,
        "xp": 0,
        "dgt": "0.00000000",
        "next_level_xp": 100,  # the curve: level 2 at 100 XP
        "level_progress": {
            "start_xp": 0,
            "next_level_xp": 100,
            "into": 0,
            "span": 100,
            "percent": 0,
        },  # fmt: skip
        "badges": [],
        "titles": [],
        "inventory": [],
    }


def test_me_follows_the_level_curve(api: APIClient, owner: Any) -> None:
    from rewards.services.ledger import rewards_grant

    # Levels at 100, 300, 600, 1000 XP in total (STEP 100 * (L-1) * L / 2).
    for key, xp, level, next_xp in [
        ("a", 99, 1, 100),
        ("b", 1, 2, 300),
        ("c", 250, 3, 600),
        ("d", 650, 5, 1500),
    ]:
        rewards_grant(
            user_id=owner.pk,
            rewards={"xp": xp, "dgt": "0.1"},
            idempotency_key=f"curve:{key}",
            reason="test",
        )
        body = api.get("/api/v1/me").json()
        assert (body["level"], body["next_level_xp"]) == (level, next_xp), key
    assert (body["xp"], body["dgt"]) == (1000, "0.40000000")


def test_streaks_show_daily_and_weekly(api: APIClient) -> None:
    body = api.get("/api/v1/streaks").json()
    assert set(body) == {"daily", "weekly"}
    for streak in body.values():
        assert {"current", "alive", "best", "last_completed", "multiplier"} <= set(streak)
        assert streak["current"] == 0 and streak["best"] == 0


@pytest.mark.parametrize(
    "path", ["/api/v1/me", "/api/v1/streaks", "/api/v1/history", "/api/v1/leaderboards/x"]
)
def test_anonymous_gets_401(path: str) -> None:
    response = APIClient().get(path)
    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"


def test_a_leaderboard_ranks_players_and_shows_the_callers_neighbours(owner: Any) -> None:
    TemplateFactory(
        key="top_poster",
        name="Top Poster",
        type="competitive",
        period_type="weekly",
        requirements={"score": {"action": "post:created", "target": 1000, "label": "Posts"}},
        metadata={"reward_tiers": [{"rank_to": 1, "rewards": {"xp": 100}}]},
    )
    players = [owner] + [UserFactory(username=f"rival{i}") for i in range(6)]
    for index, player in enumerate(players):
        token_client(player).get("/api/v1/missions")  # lazy assignment
        for n in range(index + 1):
            missions.track(player, "post:created", {"content_length": 5}, event_id=f"{index}-{n}")
    api = token_client(owner)
    response = api.get("/api/v1/leaderboards/top_poster?limit=3")
    assert response.status_code == 200, response.content
    board = response.json()
    assert board["template_key"] == "top_poster"
    assert [e["username"] for e in board["entries"]] == ["rival5", "rival4", "rival3"]
    assert board["me"] == {"rank": 7, "user_id": owner.pk, "username": "owner", "score": 1}
    assert [e["rank"] for e in board["around"]] == [5, 6, 7]


def test_an_unknown_leaderboard_is_a_404(api: APIClient) -> None:
    response = api.get("/api/v1/leaderboards/nope")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_a_bad_leaderboard_limit_is_a_400_naming_it(api: APIClient) -> None:
    TemplateFactory(key="board", type="competitive")
    response = api.get("/api/v1/leaderboards/board?limit=0")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("limit: ")


def test_me_costs_a_fixed_number_of_queries(api: APIClient, django_assert_num_queries: Any) -> None:
    api.get("/api/v1/me")
    with django_assert_num_queries(
        6
    ):  # token, then the wallet's balance, level, badges, titles, items
        api.get("/api/v1/me")
