from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rewards.models import Badge, Item
from rewards.selectors import claim_history, player_wallet
from rewards.services import mission_claim

from .helpers import NOW, mission, player

pytestmark = pytest.mark.django_db


def test_the_wallet_shows_level_balances_badges_titles_and_inventory() -> None:
    Badge.objects.create(key="wordsmith", name="Wordsmith", icon="pen")
    Item.objects.create(key="streak_freeze", name="Streak Freeze", icon="snowflake")
    owner, other = player(), player()
    rewards = {
        "xp": 120,
        "dgt": "3.5",
        "items": [{"key": "streak_freeze", "qty": 1}],
        "badges": ["wordsmith"],
        "titles": ["scribe"],
    }
    mission_claim(mission_id=mission(owner, rewards=rewards).pk, user_id=owner.pk, now=NOW)
    mission_claim(mission_id=mission(other).pk, user_id=other.pk, now=NOW)
    with CaptureQueriesContext(connection) as ctx:
        wallet = player_wallet(user_id=owner.pk)
    assert len(ctx.captured_queries) == 5
    assert wallet == {
        "level": 2,
        "xp": 120,
        "dgt": "3.50000000",
        "next_level_xp": 300,
        # 120 XP at level 2 (100..300): 20 of the level's 200 XP, 10 %.
        "level_progress": {
            "start_xp": 100,
            "next_level_xp": 300,
            "into": 20,
            "span": 200,
            "percent": 10,
        },  # fmt: skip
        "badges": [{"key": "wordsmith", "name": "Wordsmith", "icon": "pen"}],
        "titles": [{"key": "scribe", "name": "Scribe", "icon": ""}],
        "inventory": [
            {"key": "streak_freeze", "name": "Streak Freeze", "icon": "snowflake", "qty": 1}
        ],
    }


def test_an_empty_wallet_is_level_one_with_nothing() -> None:
    wallet = player_wallet(user_id=player().pk)
    assert (wallet["level"], wallet["xp"], wallet["dgt"], wallet["badges"]) == (
        1,
        0,
        "0.00000000",
        [],
    )


def test_claim_history_is_the_players_own_newest_first_without_n_plus_one() -> None:
    owner, other = player(), player()
    mission(owner, state="active")  # keeps the perfect bonus out of the numbers
    ms = [mission(owner, name=f"Mission {i}") for i in range(3)]
    for i, m in enumerate(ms):
        mission_claim(mission_id=m.pk, user_id=owner.pk, now=NOW + timedelta(minutes=i))
    mission_claim(mission_id=mission(other).pk, user_id=other.pk, now=NOW)
    with CaptureQueriesContext(connection) as ctx:
        rows = [(c.mission.template.name, c.granted["xp"]) for c in claim_history(user_id=owner.pk)]
    assert len(ctx.captured_queries) == 1
    assert rows == [("Mission 2", 100), ("Mission 1", 100), ("Mission 0", 100)]
