from __future__ import annotations

from datetime import timedelta

import pytest
from django.test.utils import override_settings

from missions.models import ActiveMission
from rewards.errors import AlreadyClaimed
from rewards.models import Claim, LedgerEntry
from rewards.selectors import ledger_differences
from rewards.services import (
    mission_claim,
    rewards_auto_grant_unclaimed,
)

from .helpers import NOW, mission, player

pytestmark = pytest.mark.django_db

END = NOW.replace(hour=0) + timedelta(days=1)  # end of NOW's daily period
AFTER_GRACE = END + timedelta(hours=24)


def test_it_grants_unclaimed_missions_past_the_grace_time_once() -> None:
    owner = player()
    due, fresh, claimed = (
        mission(owner),
        mission(owner, at=END + timedelta(hours=1)),
        mission(owner),
    )
    mission_claim(mission_id=claimed.pk, user_id=owner.pk, now=NOW)

    assert rewards_auto_grant_unclaimed(now=AFTER_GRACE) == 1
    assert rewards_auto_grant_unclaimed(now=AFTER_GRACE) == 0

    due.refresh_from_db()
    assert due.state == "claimed" and due.claimed_at == AFTER_GRACE
    assert Claim.objects.get(mission=due).source == "auto_grant"
    assert ActiveMission.objects.get(pk=fresh.pk).state == "completed"
    assert LedgerEntry.objects.count() == 2
    with pytest.raises(AlreadyClaimed):
        mission_claim(mission_id=due.pk, user_id=owner.pk, now=AFTER_GRACE)
    assert ledger_differences() == []


def test_it_never_grants_a_perpetual_or_incomplete_mission() -> None:
    owner = player()
    mission(owner, period_type="perpetual")
    mission(owner, state="active")
    assert rewards_auto_grant_unclaimed(now=AFTER_GRACE + timedelta(days=999)) == 0


@override_settings(MISSIONS_AUTO_GRANT_UNCLAIMED=False)
def test_it_grants_nothing_when_auto_grant_is_off() -> None:
    owner = player()
    mission(owner)
    assert rewards_auto_grant_unclaimed(now=AFTER_GRACE) == 0
    assert not LedgerEntry.objects.exists()
