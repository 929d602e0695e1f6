"""POST /api/v1/missions/{id}/claim and what it changes in /me and /history."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db.models import F
from django.utils import timezone
from rest_framework.test import APIClient

from missions.cache import player_cache_bump
from missions.models import ActiveMission
from rewards.models import Badge
from tests.api.conftest import token_client
from tests.factories import TemplateFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def poster(db: Any) -> Any:
    Badge.objects.get_or_create(key="wordsmith", defaults={"name": "Wordsmith"})
    return TemplateFactory(
        key="poster",
        name="Poster",
        requirements={"posts": {"action": "post:created", "target": 2, "label": "Post twice"}},
        rewards={"xp": 50, "dgt": "10.5", "badges": ["wordsmith"]},
    )


def _mission(api: APIClient, key: str) -> dict[str, Any]:
    return next(m for m in api.get("/api/v1/missions").json() if m["key"] == key)


def _complete(user: Any, *keys: str) -> None:
    """Every requirement met, as the engine leaves a mission it completed."""
    now = timezone.now()
    for mission in ActiveMission.objects.filter(user=user, template__key__in=keys or ["poster"]):
        mission.progress.update(current=F("target"), done_at=now)
        mission.state, mission.completed_at = "completed", now
        mission.save(update_fields=["state", "completed_at"])
    player_cache_bump(user_ids=[user.pk])  # as every write to a player's missions does


def test_it_claims_a_completed_mission_and_grants_its_rewards(
    api: APIClient, owner: Any, poster: Any
) -> None:
    mission = _mission(api, "poster")
    _complete(owner)
    assert _mission(api, "poster")["status"] == "completed"

    response = api.post(f"/api/v1/missions/{mission['id']}/claim")
    assert response.status_code == 200, response.content
    body = response.json()
    base = {"xp": 50, "dgt": "10.50000000", "items": [], "badges": ["wordsmith"], "titles": []}
    assert body["mission_id"] == mission["id"] and body["source"] == "claim"
    # The only mission of its day is a perfect day (SPEC: a lone mission included): XP ×1.25,
    # 50 → 62 (rounded down), DGT unchanged; no streak, no speed sample: no other bonus.
    perfect = {
        "kind": "perfect",
        "multiplier_xp": "1.25",
        "multiplier_dgt": "1",
        "detail": {"period_type": "daily", "missions": 1},
        "explanation": "perfect: every daily mission completed, ×1.25 XP",
    }
    granted = {**base, "xp": 62}
    assert body["base_rewards"] == base and body["bonuses"] == [perfect]
    assert body["granted"] == granted
    assert body["balances"] == {"xp": 62, "dgt": "10.50000000"}
    assert (body["level"], body["next_level_xp"], body["meta_badges"]) == (1, 100, [])
    assert body["mission"]["status"] == "claimed" and body["mission"]["claimed_at"]

    me = api.get("/api/v1/me").json()
    assert (me["xp"], me["dgt"], me["level"]) == (62, "10.50000000", 1)
    assert [b["key"] for b in me["badges"]] == ["wordsmith"]


def test_a_perfect_day_multiplies_xp_and_not_dgt(api: APIClient, owner: Any, poster: Any) -> None:
    TemplateFactory(key="reader", rewards={"xp": 30, "dgt": "1.1"})
    missions = {m["key"]: m["id"] for m in api.get("/api/v1/missions").json()}
    _complete(owner, "poster", "reader")

    first = api.post(f"/api/v1/missions/{missions['poster']}/claim").json()
    perfect = {
        "kind": "perfect",
        "multiplier_xp": "1.25",
        "multiplier_dgt": "1",
        "detail": {"period_type": "daily", "missions": 2},
        "explanation": "perfect: every daily mission completed, ×1.25 XP",
    }
    assert first["bonuses"] == [perfect]
    # 50 × 1.25 = 62.5, rounded down; DGT unchanged.
    assert (first["granted"]["xp"], first["granted"]["dgt"]) == (62, "10.50000000")
    second = api.post(f"/api/v1/missions/{missions['reader']}/claim").json()
    # 30 × 1.25 = 37.5 → 37; the day is still perfect once the first is claimed.
    assert second["bonuses"] == [perfect]
    assert (second["granted"]["xp"], second["granted"]["dgt"]) == (37, "1.10000000")
    assert second["balances"] == {"xp": 99, "dgt": "11.60000000"}
    assert (second["level"], second["next_level_xp"]) == (1, 100)


def test_a_second_claim_is_a_409_and_grants_nothing_more(
    api: APIClient, owner: Any, poster: Any
) -> None:
    mission = _mission(api, "poster")
    _complete(owner)
    assert api.post(f"/api/v1/missions/{mission['id']}/claim").status_code == 200
    xp = api.get("/api/v1/me").json()["xp"]
    response = api.post(f"/api/v1/missions/{mission['id']}/claim")
    assert response.status_code == 409
    assert response.json()["error"] == "already_claimed"
    assert api.get("/api/v1/me").json()["xp"] == xp


def test_an_unfinished_mission_cannot_be_claimed(api: APIClient, poster: Any) -> None:
    mission = _mission(api, "poster")
    response = api.post(f"/api/v1/missions/{mission['id']}/claim")
    assert response.status_code == 409
    assert response.json()["error"] == "not_complete"


def test_it_rejects_foreign_mission_claims_and_changes_nothing(
    api: APIClient, outsider: Any, poster: Any
) -> None:
    theirs_client = token_client(outsider)
    theirs = _mission(theirs_client, "poster")
    _complete(outsider)
    response = api.post(f"/api/v1/missions/{theirs['id']}/claim")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert ActiveMission.objects.get(pk=theirs["id"]).state == "completed"
    assert theirs_client.post(f"/api/v1/missions/{theirs['id']}/claim").status_code == 200


def test_anonymous_claims_get_401(poster: Any) -> None:
    assert APIClient().post("/api/v1/missions/1/claim").status_code == 401


def test_a_browser_claim_needs_the_csrf_token(owner: Any, poster: Any) -> None:
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(owner)
    mission = _mission(browser, "poster")
    _complete(owner)
    refused = browser.post(f"/api/v1/missions/{mission['id']}/claim")
    assert refused.status_code == 403
    assert refused.json()["error"] == "permission_denied"
    assert "CSRF" in refused.json()["detail"]
    assert ActiveMission.objects.get(pk=mission["id"]).state == "completed"

    browser.get("/")  # the hub page sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    accepted = browser.post(f"/api/v1/missions/{mission['id']}/claim", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 200


def test_history_lists_payouts_with_their_bonuses_paginated(
    api: APIClient, owner: Any, poster: Any
) -> None:
    assert api.get("/api/v1/history").json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }
    mission = _mission(api, "poster")
    _complete(owner)
    claim = api.post(f"/api/v1/missions/{mission['id']}/claim").json()
    page = api.get("/api/v1/history?page_size=1").json()
    assert page["count"] == 1
    row = page["results"][0]
    assert row["mission_id"] == mission["id"] and row["key"] == "poster"
    assert row["kind"] == "claim" and row["granted"] == claim["granted"]
    assert row["bonuses"] == claim["bonuses"]
    assert api.get("/api/v1/history?page=9").status_code == 404


def test_a_claim_after_the_grace_time_is_a_409(api: APIClient, owner: Any, poster: Any) -> None:
    mission = _mission(api, "poster")
    _complete(owner)
    long_ago = timezone.now() - timedelta(days=30)
    ActiveMission.objects.filter(pk=mission["id"]).update(
        period_start=long_ago - timedelta(days=1), period_end=long_ago
    )
    response = api.post(f"/api/v1/missions/{mission['id']}/claim")
    assert response.status_code == 409
    assert response.json()["error"] == "claim_expired"


def test_another_players_claim_never_shows_in_my_wallet_or_history(
    api: APIClient, outsider: Any, poster: Any
) -> None:
    theirs_client = token_client(outsider)
    theirs = _mission(theirs_client, "poster")
    _complete(outsider)
    assert theirs_client.post(f"/api/v1/missions/{theirs['id']}/claim").status_code == 200
    assert api.get("/api/v1/history").json()["count"] == 0
    me = api.get("/api/v1/me").json()
    assert me["xp"] == 0 and me["badges"] == []
    assert theirs_client.get("/api/v1/me").json()["xp"] > 0
