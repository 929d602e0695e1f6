from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from rewards.models import MetaAchievement
from rewards.services import mission_claim
from streaks.models import Streak, StreakRestore
from streaks.services import streak_record
from tests.rewards.helpers import NOW, mission, player

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    admin = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-12345678")
    client = Client()
    client.force_login(admin)
    return client


def test_the_admin_restores_selected_streaks_with_a_reason(admin_client: Client) -> None:
    user = player()
    today = datetime.now(UTC)
    for days_ago in (4, 3, 1, 0):
        streak_record(user_id=user.pk, kind="daily", at=today - timedelta(days=days_ago))
    streak = Streak.objects.get(user=user)
    assert streak.current == 2
    url = "/admin/streaks/streak/"
    form = admin_client.post(url, {"action": "restore_streaks", "_selected_action": [streak.pk]})
    assert form.status_code == 200 and b"reason" in form.content
    done = admin_client.post(
        url,
        {
            "action": "restore_streaks",
            "_selected_action": [streak.pk],
            "apply": "Restore",
            "reason": "outage two days ago",
        },
    )
    assert done.status_code == 302
    streak.refresh_from_db()
    assert streak.current == 4
    assert StreakRestore.objects.get().reason == "outage two days ago"


def test_a_restore_without_a_reason_shows_the_form_again(admin_client: Client) -> None:
    user = player()
    streak_record(user_id=user.pk, kind="daily", at=datetime.now(UTC) - timedelta(days=3))
    streak = Streak.objects.get(user=user)
    page = admin_client.post(
        "/admin/streaks/streak/",
        {"action": "restore_streaks", "_selected_action": [streak.pk], "apply": "Restore"},
    )
    assert page.status_code == 200 and b"This field is required" in page.content
    assert not StreakRestore.objects.exists()


@pytest.mark.parametrize(
    "path",
    [
        "/admin/rewards/ledgerentry/",
        "/admin/rewards/balance/",
        "/admin/rewards/claim/",
        "/admin/rewards/metaachievement/",
        "/admin/streaks/streak/",
        "/admin/streaks/streakrestore/",
    ],
)
def test_the_reward_and_streak_admin_pages_render(admin_client: Client, path: str) -> None:
    owner = player()
    mission_claim(mission_id=mission(owner).pk, user_id=owner.pk, now=NOW)
    assert admin_client.get(path).status_code == 200


def test_the_ledger_cannot_be_edited_in_the_admin(admin_client: Client) -> None:
    assert admin_client.get("/admin/rewards/ledgerentry/add/").status_code == 403
    assert MetaAchievement.objects.count() == 0
