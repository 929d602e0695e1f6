"""Setting a player's timezone: the player API, the profile page, the host platform (service
API and `missions.set_timezone`); a bad name is a 400 naming the field; the change moves the
current missions' stored end and never their start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

import missions
from missions.errors import ValidationFailed
from missions.models import ActiveMission, PlayerProfile
from missions.periods import period_for
from missions.services import missions_assign
from missions.services.service_keys import service_key_create
from missions.services.timezones import player_timezone_set, schedule_for
from rewards.models import LedgerEntry
from rewards.services.ledger import rewards_grant
from tests.factories import TemplateFactory, UserFactory

pytestmark = pytest.mark.django_db


def utc_day_end() -> datetime:
    end = period_for("daily", timezone.now()).end
    assert end is not None
    return end


def test_a_player_reads_utc_by_default_and_sets_a_zone_from_the_next_day(api: APIClient) -> None:
    got = api.get("/api/v1/me/timezone").json()
    assert (got["timezone"], got["current_timezone"], got["takes_effect_at"]) == (
        "UTC",
        "UTC",
        None,
    )
    response = api.put("/api/v1/me/timezone", {"timezone": "Asia/Tokyo"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["timezone"], body["current_timezone"]) == ("Asia/Tokyo", "UTC")
    # The UTC day in progress ends at Tokyo's first midnight after its own end: 15:00 UTC.
    end = utc_day_end() + timedelta(hours=15)
    assert datetime.fromisoformat(body["takes_effect_at"]) == end
    assert datetime.fromisoformat(body["day_end"]) == end


@pytest.mark.parametrize("bad", ["Mars/Olympus", "", "utc+3", 42, None])
def test_a_bad_zone_is_a_400_naming_the_field_and_changes_nothing(
    api: APIClient, owner: Any, bad: Any
) -> None:
    response = api.put("/api/v1/me/timezone", {"timezone": bad}, format="json")
    assert response.status_code == 400
    assert "timezone" in response.json()["errors"]
    assert not PlayerProfile.objects.filter(user=owner).exclude(timezone="UTC").exists()


def test_anonymous_callers_cannot_read_or_set_a_zone() -> None:
    client = APIClient()
    assert client.get("/api/v1/me/timezone").status_code == 401
    assert client.put("/api/v1/me/timezone", {"timezone": "UTC"}).status_code == 401


def test_the_host_platform_sets_a_players_zone_with_its_service_key(owner: Any) -> None:
    _, key = service_key_create(name="forum")
    platform = APIClient()
    platform.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    url = f"/api/v1/players/{owner.pk}/timezone"
    response = platform.put(url, {"timezone": "America/Los_Angeles"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["timezone"] == "America/Los_Angeles"
    assert platform.get(url).json()["user_id"] == owner.pk
    bad = platform.put(url, {"timezone": "Nowhere/Land"}, format="json")
    assert bad.status_code == 400 and "timezone" in bad.json()["errors"]
    missing = platform.put("/api/v1/players/999999/timezone", {"timezone": "UTC"}, format="json")
    assert missing.status_code == 404
    assert APIClient().put(url, {"timezone": "UTC"}, format="json").status_code == 401
    assert schedule_for(owner.pk).zone == "America/Los_Angeles"


def test_the_in_process_door_sets_a_zone_and_refuses_a_bad_one(owner: Any) -> None:
    assert missions.set_timezone(owner, "Europe/Paris") == "Europe/Paris"
    assert missions.set_timezone(owner.pk, "Europe/Paris") == "Europe/Paris"
    with pytest.raises(ValidationFailed) as raised:
        missions.set_timezone(owner, "Europe/Atlantis")
    assert "timezone" in raised.value.errors


def test_the_profile_page_sets_the_zone_and_shows_a_bad_one_as_a_field_error() -> None:
    user = UserFactory()
    client = Client()
    client.force_login(user)
    page = client.get("/profile/")
    assert page.status_code == 200 and b'name="timezone"' in page.content
    assert b"Australia/Sydney" in page.content
    response = client.post("/profile/", {"timezone": "Australia/Sydney"})
    assert response.status_code == 302
    assert PlayerProfile.objects.get(user=user).timezone == "Australia/Sydney"
    assert b"Australia/Sydney</b> takes over" in client.get("/profile/").content
    bad = client.post("/profile/", {"timezone": "Australia/Gondwana"})
    assert bad.status_code == 400
    assert b'id="timezone-error"' in bad.content
    assert PlayerProfile.objects.get(user=user).timezone == "Australia/Sydney"


def test_a_change_mid_day_keeps_the_current_missions_and_moves_their_end() -> None:
    TemplateFactory(key="daily_post")
    TemplateFactory(key="weekly_post", period_type="weekly", metadata={"min_remaining_percent": 0})
    user = UserFactory()
    now = datetime(2026, 12, 2, 12, tzinfo=UTC)  # a Wednesday noon, UTC
    missions_assign(user_ids=[user.pk], now=now)
    player_timezone_set(user_id=user.pk, timezone="Asia/Tokyo", now=now + timedelta(hours=1))
    daily = ActiveMission.objects.get(user=user, template__key="daily_post")
    weekly = ActiveMission.objects.get(user=user, template__key="weekly_post")
    # Same start (no new day), the end moved to Tokyo's first midnight after 3 Dec 00:00 UTC.
    assert daily.period_start == datetime(2026, 12, 2, tzinfo=UTC)
    assert daily.period_end == datetime(2026, 12, 3, 15, tzinfo=UTC)
    # The week ends at Tokyo's Monday 7 Dec 00:00 (6 Dec 15:00 UTC), 9 hours earlier.
    assert weekly.period_end == datetime(2026, 12, 6, 15, tzinfo=UTC)
    # Assigning again at any moment of the longer day adds nothing: still one day.
    for hour in (14, 24, 26, 38):
        assert missions_assign(user_ids=[user.pk], now=now + timedelta(hours=hour - 12)) == []
    created = missions_assign(user_ids=[user.pk], now=datetime(2026, 12, 3, 15, tzinfo=UTC))
    assert [(m.template.key, m.period_start) for m in created] == [
        ("daily_post", datetime(2026, 12, 3, 15, tzinfo=UTC))
    ]


def test_the_pages_show_times_in_the_players_own_zone() -> None:
    user = UserFactory()
    now = timezone.now()
    # Chosen three days ago, so Tokyo governs today.
    player_timezone_set(user_id=user.pk, timezone="Asia/Tokyo", now=now - timedelta(days=3))
    rewards_grant(user_id=user.pk, rewards={"xp": 5}, idempotency_key="tz-page", reason="admin")
    created = LedgerEntry.objects.get(user=user).created_at  # append-only: read, not set
    client = Client()
    client.force_login(user)
    history = client.get("/history/").content.decode()
    tokyo = created.astimezone(UTC) + timedelta(hours=9)
    assert f"{tokyo:%Y-%m-%d %H:%M}</time>" in history  # Tokyo is UTC+9, no DST
    assert f"{created.astimezone(UTC):%Y-%m-%d %H:%M}</time>" not in history
    profile = client.get("/profile/").content.decode()
    # Tokyo's day ends at its own midnight, shown as such.
    assert "00:00 (Asia/Tokyo time)" in profile
