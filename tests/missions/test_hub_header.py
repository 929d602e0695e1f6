"""The hub's header (level bar and label agree, XP, DGT, streak, next reset), one name per
period, the filter kept in the URL, claimable cards first, the "Done" group and the favicon."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from missions.cache import player_cache_bump
from missions.models import ActiveMission, MissionProgress, PlayerProfile
from rewards.levels import level_progress
from rewards.services import rewards_grant
from tests.factories import TemplateFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def player(client: Client) -> Any:
    user = UserFactory(username="player")
    client.force_login(user)
    return user


def _complete(mission: ActiveMission) -> None:
    """A write behind the engine's back, so it tells the player cache as the engine would."""
    MissionProgress.objects.filter(mission=mission).update(current=3)
    ActiveMission.objects.filter(pk=mission.pk).update(
        state="completed", completed_at=timezone.now()
    )
    player_cache_bump(user_ids=[mission.user_id])


def test_the_level_bar_and_its_label_count_the_same_xp_inside_the_level() -> None:
    # Level 8 spans 2800..3600 XP: 2840 XP is 40 of 800, 5 % (the example).
    assert level_progress(8, 2840) == {
        "start_xp": 2800, "next_level_xp": 3600, "into": 40, "span": 800, "percent": 5,
    }  # fmt: skip
    # A level never goes down, so XP may sit below its floor: the bar is empty, not negative.
    assert level_progress(8, 100)["into"] == 0


def test_the_hub_header_shows_level_xp_dgt_streak_and_the_next_reset(
    client: Client, player: Any
) -> None:
    PlayerProfile.objects.create(user=player, level=8)
    rewards_grant(
        user_id=player.pk, rewards={"xp": 2840, "dgt": "12.5"}, idempotency_key="t", reason="t"
    )
    body = client.get("/").content.decode()
    me = client.get("/api/v1/me").json()
    assert me["level_progress"]["into"] == 40 and me["level_progress"]["percent"] == 5
    assert 'id="ph-level" aria-label="Level 8">Lv 8<' in body
    assert "40 / 800 XP to level 9" in body
    assert 'aria-valuenow="5"' in body and '<rect width="5" height="1"/>' in body
    assert '<dd id="ph-xp">2840</dd>' in body and '<dd id="ph-dgt">12.5</dd>' in body
    assert 'id="ph-streak"' in body and "0 days" in body
    assert re.search(r'id="ph-reset" data-reset-at="[^"]+T00:00:00\+00:00">in \d', body)


def test_the_profile_bar_and_label_agree_too(client: Client, player: Any) -> None:
    PlayerProfile.objects.create(user=player, level=8)
    rewards_grant(user_id=player.pk, rewards={"xp": 2840}, idempotency_key="t", reason="t")
    body = client.get("/profile/").content.decode()
    assert "40 / 800 XP into level 8" in body and '<rect width="5" height="1"/>' in body


def test_one_name_per_period_on_filters_and_cards(client: Client, player: Any) -> None:
    TemplateFactory(key="forever", name="Forever", period_type="perpetual")
    body = client.get("/").content.decode()
    assert 'data-filter="perpetual" aria-pressed="false">Ongoing' in body
    assert '<span class="period">Ongoing</span>' in body
    assert "Perpetual" not in body and "perpetual</span>" not in body


def test_the_filter_comes_from_the_url_and_an_unknown_one_falls_back_to_all(
    client: Client, player: Any
) -> None:
    TemplateFactory(key="w1", period_type="weekly")
    body = client.get("/?period=weekly").content.decode()
    assert 'data-active="weekly"' in body
    assert 'data-filter="weekly" aria-pressed="true"' in body
    assert 'data-filter="all" aria-pressed="false"' in body
    assert 'data-active="all"' in client.get("/?period=nonsense").content.decode()


def test_claimable_cards_come_first_and_claimed_ones_fold_into_done(
    client: Client, player: Any
) -> None:
    for key in ("a_daily", "b_daily", "c_daily"):
        TemplateFactory(key=key, name=key)
    client.get("/")
    missions = {m.template.key: m for m in ActiveMission.objects.filter(user=player)}
    _complete(missions["b_daily"])
    _complete(missions["c_daily"])
    client.post(f"/api/v1/missions/{missions['c_daily'].pk}/claim")
    body = client.get("/").content.decode()
    grid, done = body.split('id="done-group"')
    open_ids = re.findall(r'data-mission-id="(\d+)"', grid)
    done_ids = re.findall(r'data-mission-id="(\d+)"', done)
    assert open_ids == [str(missions["b_daily"].pk), str(missions["a_daily"].pk)]
    assert done_ids == [str(missions["c_daily"].pk)]
    assert 'Done <span class="count" id="done-count">1</span>' in done


def test_the_claim_all_button_shows_from_two_claimable_missions(
    client: Client, player: Any
) -> None:
    for key in ("a_daily", "b_daily"):
        TemplateFactory(key=key)
    client.get("/")
    assert 'id="claim-all" hidden' in client.get("/").content.decode()
    for mission in ActiveMission.objects.filter(user=player):
        _complete(mission)
    body = client.get("/").content.decode()
    assert 'id="claim-all">Claim all (<span class="n">2</span>)' in body


def test_every_page_links_a_favicon_that_is_served(client: Client, player: Any) -> None:
    body = client.get("/").content.decode()
    assert '<link rel="icon" type="image/svg+xml" href="/static/favicon.svg">' in body
    assert client.get("/static/favicon.svg").status_code == 200
    legacy = client.get("/favicon.ico")
    assert legacy.status_code == 301 and legacy["Location"] == "/static/favicon.svg"


def test_the_header_fragment_is_the_same_header(client: Client, player: Any) -> None:
    fragment = client.get("/hub/header").content.decode()
    assert fragment.startswith('<section class="player-header" id="player-header"')
