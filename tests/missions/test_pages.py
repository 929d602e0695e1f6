"""Server-rendered pages: the hub, its card fragment, history and profile."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from missions.models import ActiveMission, MissionProgress
from rewards.models import Item
from rewards.services import mission_claim
from tests.factories import TemplateFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def player(client: Client) -> Any:
    user = UserFactory(username="player")
    client.force_login(user)
    return user


@pytest.fixture
def templates() -> None:
    TemplateFactory(key="d1", name="Daily One", category="content", metadata={"icon": "pen"})
    TemplateFactory(key="w1", name="Weekly One", period_type="weekly", category="social")
    TemplateFactory(
        key="p1",
        name="Forever One",
        period_type="perpetual",
        rewards={"xp": 50, "dgt": "10", "items": [{"key": "streak_freeze", "qty": 1}]},
    )


def test_the_hub_shows_filters_with_counts_rings_and_reward_previews(
    client: Client, player: Any, templates: None
) -> None:
    body = client.get("/").content.decode()
    assert (
        'data-filter="all" aria-pressed="true">All <span class="count" data-count="all">3<' in body
    )
    assert 'data-count="daily">1<' in body and 'data-count="weekly">1<' in body
    assert 'data-count="monthly">0<' in body and 'data-count="special">0<' in body
    assert 'data-count="perpetual">1<' in body
    assert body.count('class="ring" role="progressbar"') == 3
    assert 'class="card cat-content state-active"' in body
    assert "+50 XP" in body and "+10 DGT" in body and "1× streak freeze" in body
    assert "✍️" in body  # the template's icon
    assert 'aria-live="polite"' in body
    assert 'id="empty-state" hidden' in body


def test_the_hub_shows_an_empty_state_without_missions(client: Client, player: Any) -> None:
    body = client.get("/").content.decode()
    assert 'id="empty-state">' in body and 'class="card ' not in body


def test_a_completed_mission_offers_the_claim_button(
    client: Client, player: Any, templates: None
) -> None:
    client.get("/")
    mission = ActiveMission.objects.get(user=player, template__key="d1")
    MissionProgress.objects.filter(mission=mission).update(current=3)
    ActiveMission.objects.filter(pk=mission.pk).update(
        state="completed", completed_at=timezone.now()
    )
    body = client.get(f"/hub/missions/{mission.pk}/card").content.decode()
    assert f'data-claim="{mission.pk}"' in body
    assert 'aria-valuenow="100"' in body and 'stroke-dashoffset="0.0"' in body


def test_the_card_fragment_of_another_players_mission_is_a_404(
    client: Client, player: Any, templates: None
) -> None:
    other = UserFactory(username="other")
    other_client = Client()
    other_client.force_login(other)
    other_client.get("/")
    theirs = ActiveMission.objects.filter(user=other).first()
    assert theirs is not None
    assert client.get(f"/hub/missions/{theirs.pk}/card").status_code == 404


@pytest.mark.parametrize("path", ["/", "/history/", "/profile/", "/hub/missions/1/card"])
def test_pages_need_a_login(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_history_and_profile_show_a_claim_with_its_rewards(
    client: Client, player: Any, templates: None
) -> None:
    client.get("/")
    mission = ActiveMission.objects.get(user=player, template__key="p1")
    MissionProgress.objects.filter(mission=mission).update(current=3)
    ActiveMission.objects.filter(pk=mission.pk).update(
        state="completed", completed_at=timezone.now()
    )
    Item.objects.get_or_create(key="streak_freeze", defaults={"name": "Streak Freeze"})
    mission_claim(mission_id=mission.pk, user_id=player.pk)
    history = client.get("/history/").content.decode()
    # The lone mission of its period, completed: SPEC's perfect bonus (50 XP × 1.25).
    assert "Forever One" in history and "+62 XP" in history and "+10 DGT" in history
    assert "×1.25 XP" in history
    profile = client.get("/profile/").content.decode()
    assert '<div class="stat" id="xp"><small>XP</small><b>62</b>' in profile
    assert '<div class="stat" id="dgt"><small>DGT</small><b>10</b>' in profile
    assert "1× Streak Freeze" in profile
    assert 'id="streak-daily"' in profile


def test_empty_history_and_profile_say_so(client: Client, player: Any) -> None:
    assert "Nothing here yet" in client.get("/history/").content.decode()
    profile = client.get("/profile/").content.decode()
    assert "No badges yet." in profile and "Empty." in profile


def test_the_hub_and_its_script_and_styles_are_served(client: Client, player: Any) -> None:
    body = client.get("/").content.decode()
    assert "/static/missions/hub.js" in body and "/static/missions/hub.css" in body
    for asset in ("/static/missions/hub.js", "/static/missions/hub.css"):
        response = client.get(asset)
        assert response.status_code == 200, asset


def test_the_hub_reads_a_fixed_number_of_queries(
    client: Client, player: Any, templates: None, django_assert_num_queries: Any
) -> None:
    client.get("/")  # assigns
    # session, user, missions + templates, progress, the player's timezone (their local
    # countdowns), streaks (freezes, streak rows), the header's balance and level, the
    # period types on offer ("coming up")
    with override_settings(MISSIONS_CACHE=False), django_assert_num_queries(10):
        client.get("/")
    # the missions from the cache: the same less the missions and their progress
    with django_assert_num_queries(8):
        client.get("/")
