from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from missions.cache import player_cache_bump
from missions.models import ActiveMission, MissionProgress

MISSION_FIELDS = {
    "id",
    "key",
    "name",
    "description",
    "category",
    "type",
    "period_type",
    "period_start",
    "period_end",
    "requirements",
    "percentage",
    "rewards",
    "status",
    "completed_at",
    "claimed_at",
    "next_reset",
}

pytestmark = pytest.mark.django_db


def _missions(api: APIClient, query: str = "") -> list[dict[str, Any]]:
    response = api.get(f"/api/v1/missions{query}")
    assert response.status_code == 200, response.content
    return response.json()


def test_it_assigns_lazily_and_lists_the_callers_missions_with_the_contract_fields(
    api: APIClient, owner: Any, templates: Any
) -> None:
    missions = _missions(api)
    assert {m["key"] for m in missions} == {"daily_post", "weekly_tip", "forever"}
    for mission in missions:
        assert set(mission) == MISSION_FIELDS
    tip = next(m for m in missions if m["key"] == "weekly_tip")
    assert tip["requirements"] == {
        "tips": {"label": "Tip 5 times", "current": 0, "target": 5, "done": False},
        "big_tip": {"label": "Tip 2.5 DGT at once", "current": 0, "target": "2.5", "done": False},
    }
    assert tip["status"] == "active" and tip["percentage"] == 0
    assert tip["completed_at"] is None and tip["claimed_at"] is None
    assert tip["rewards"] == {"xp": 10, "dgt": "1"}


def test_each_mission_says_when_its_period_resets(api: APIClient, templates: Any) -> None:
    by_key = {m["key"]: m for m in _missions(api)}
    daily = by_key["daily_post"]
    start = datetime.fromisoformat(daily["period_start"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(daily["next_reset"].replace("Z", "+00:00"))
    assert end - start == timedelta(days=1) and end.tzinfo is not None
    assert daily["period_end"] == daily["next_reset"]
    weekly_reset = datetime.fromisoformat(by_key["weekly_tip"]["next_reset"].replace("Z", "+00:00"))
    assert weekly_reset.astimezone(UTC).weekday() == 0  # ISO weeks roll over on Monday
    assert by_key["forever"]["next_reset"] is None and by_key["forever"]["period_end"] is None


def test_it_filters_by_period_and_status(api: APIClient, owner: Any, templates: Any) -> None:
    _missions(api)
    assert [m["key"] for m in _missions(api, "?period=weekly")] == ["weekly_tip"]
    daily = ActiveMission.objects.get(user=owner, template__key="daily_post")
    daily.state = "completed"
    daily.completed_at = datetime.now(UTC)
    daily.save()
    player_cache_bump(user_ids=[owner.pk])  # as every write to a player's missions does
    assert [m["key"] for m in _missions(api, "?status=completed")] == ["daily_post"]
    assert {m["key"] for m in _missions(api, "?status=active,completed")} == {
        "daily_post",
        "weekly_tip",
        "forever",
    }
    assert _missions(api, "?period=daily&status=active") == []


@pytest.mark.parametrize(
    ("query", "field"),
    [("?period=yearly", "period"), ("?status=won", "status"), ("?status=,", "status")],
)
def test_it_rejects_bad_filters_naming_the_field(
    api: APIClient, templates: Any, query: str, field: str
) -> None:
    response = api.get(f"/api/v1/missions{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid"
    assert body["detail"].startswith(f"{field}: ")
    assert field in body["errors"]


def test_progress_shows_current_target_done_and_percentage(
    api: APIClient, owner: Any, templates: Any
) -> None:
    _missions(api)
    mission = ActiveMission.objects.get(user=owner, template__key="weekly_tip")
    MissionProgress.objects.filter(mission=mission, requirement_key="tips").update(current=5)
    MissionProgress.objects.filter(mission=mission, requirement_key="big_tip").update(
        current="1.25"
    )
    body = api.get(f"/api/v1/missions/{mission.pk}").json()
    assert body["requirements"]["tips"] == {
        "label": "Tip 5 times",
        "current": 5,
        "target": 5,
        "done": True,
    }
    assert body["requirements"]["big_tip"]["current"] == "1.25"
    assert body["requirements"]["big_tip"]["done"] is False
    assert body["percentage"] == 75


def test_it_returns_one_of_the_callers_missions(api: APIClient, templates: Any) -> None:
    first = _missions(api)[0]
    response = api.get(f"/api/v1/missions/{first['id']}")
    assert response.status_code == 200
    assert response.json() == first


def test_it_rejects_foreign_mission(
    api: APIClient, outsider_api: APIClient, templates: Any
) -> None:
    theirs = _missions(outsider_api)[0]
    response = api.get(f"/api/v1/missions/{theirs['id']}")
    assert response.status_code == 404
    assert response.json() == {
        "error": "not_found",
        "detail": f"No mission {theirs['id']} for this player.",
    }
    assert theirs["id"] not in {m["id"] for m in _missions(api)}


def test_a_missing_mission_is_a_404(api: APIClient, templates: Any) -> None:
    assert api.get("/api/v1/missions/999999").status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/missions", "/api/v1/missions/1"])
def test_anonymous_gets_401_with_the_error_shape(path: str, templates: Any) -> None:
    response = APIClient().get(path)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {
        "error": "not_authenticated",
        "detail": "Authentication credentials were not provided.",
    }


def test_a_bad_token_gets_401(templates: Any) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = client.get("/api/v1/missions")
    assert response.status_code == 401
    assert response.json()["error"] == "authentication_failed"


def test_session_auth_works_for_the_browser(owner: Any, templates: Any) -> None:
    client = APIClient()
    client.force_login(owner)
    assert {m["key"] for m in client.get("/api/v1/missions").json()} == {
        "daily_post",
        "weekly_tip",
        "forever",
    }


def test_it_exchanges_a_password_for_a_token(owner: Any) -> None:
    response = APIClient().post(
        "/api/v1/auth/token", {"username": "owner", "password": "pass-1234"}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/missions").status_code == 200


def test_it_rejects_a_wrong_password_with_the_error_shape(owner: Any) -> None:
    response = APIClient().post(
        "/api/v1/auth/token", {"username": "owner", "password": "nope"}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid"
    assert body["detail"] == "Unable to log in with provided credentials."
    assert "non_field_errors" in body["errors"]


def test_listing_costs_a_fixed_number_of_queries(
    api: APIClient, templates: Any, django_assert_num_queries: Any
) -> None:
    _missions(api)  # first access assigns; later ones only read
    # token lookup, missions with templates, their progress
    with override_settings(MISSIONS_CACHE=False), django_assert_num_queries(3):
        assert len(_missions(api)) == 3
    # from the cache: the token lookup only
    with django_assert_num_queries(1):
        assert len(_missions(api)) == 3
