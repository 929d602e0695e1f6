"""The issue's "done when": a demo player completes, claims and sees everything move."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from missions.models import ActiveMission
from missions.signals import mission_completed
from rewards.models import MetaAchievement
from rewards.selectors import claim_history, ledger_differences, player_wallet
from rewards.services import mission_claim
from streaks.selectors import player_streaks


@pytest.mark.django_db
def test_a_demo_player_completes_claims_and_sees_wallet_and_streak_move() -> None:
    call_command("seed_demo", players=2, stdout=StringIO())
    assert MetaAchievement.objects.filter(key="first_claim").exists()
    user = get_user_model().objects.get(username="player01")
    now = timezone.now()
    m = ActiveMission.objects.filter(user=user, period_type="daily").first()
    assert m is not None
    ActiveMission.objects.filter(pk=m.pk).update(state="completed", completed_at=now)
    m.refresh_from_db()
    mission_completed.send(sender=None, mission=m)

    before = player_wallet(user_id=user.pk)
    result = mission_claim(mission_id=m.pk, user_id=user.pk, now=now)
    after = player_wallet(user_id=user.pk)

    assert after["xp"] == before["xp"] + result.granted["xp"] > 0
    assert "first_claim" in result.meta_badges
    assert "first_claim" in {b["key"] for b in after["badges"]}
    assert player_streaks(user_id=user.pk, now=now)["daily"]["current"] == 1
    assert claim_history(user_id=user.pk).get().mission_id == m.pk
    assert ledger_differences() == []
    call_command("check_ledger", stdout=StringIO())
