from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from missions.errors import NotFound
from missions.models import ActiveMission, PlayerProfile
from rewards.errors import AlreadyClaimed, ClaimExpired, NotComplete
from rewards.models import (
    Badge,
    Balance,
    Claim,
    InventoryItem,
    Item,
    LedgerEntry,
    Title,
    UserBadge,
    UserTitle,
)
from rewards.selectors import ledger_differences
from rewards.services import mission_claim

from .helpers import NOW, mission, player

pytestmark = pytest.mark.django_db

FULL = {
    "xp": 150,
    "dgt": "10.5",
    "items": [{"key": "streak_freeze", "qty": 2}],
    "badges": ["wordsmith"],
    "titles": ["scribe"],
}


def nothing_granted() -> bool:
    return not (
        LedgerEntry.objects.exists()
        or Claim.objects.exists()
        or UserBadge.objects.exists()
        or UserTitle.objects.exists()
        or InventoryItem.objects.filter(qty__gt=0).exists()
        or Balance.objects.filter(xp__gt=0).exists()
    )


def test_it_grants_every_reward_once_and_marks_the_mission_claimed() -> None:
    Item.objects.create(key="streak_freeze", name="Streak Freeze", icon="snowflake")
    owner = player()
    m = mission(owner, rewards=FULL)

    result = mission_claim(mission_id=m.pk, user_id=owner.pk, now=NOW)

    assert result.granted == {**FULL, "dgt": "10.50000000"}
    assert result.bonuses == []
    assert result.balances == {"xp": 150, "dgt": "10.50000000"}
    assert result.level == 2 and result.next_level_xp == 300
    m.refresh_from_db()
    assert m.state == "claimed" and m.claimed_at == NOW
    assert Balance.objects.get(user=owner).dgt == Decimal("10.5")
    assert InventoryItem.objects.get(user=owner, item__key="streak_freeze").qty == 2
    assert set(UserBadge.objects.values_list("badge__key", flat=True)) == {"wordsmith"}
    assert set(UserTitle.objects.values_list("title__key", flat=True)) == {"scribe"}
    assert PlayerProfile.objects.get(user=owner).level == 2
    entry = LedgerEntry.objects.get()
    assert entry.idempotency_key == f"mission:{m.pk}" and entry.mission_id == m.pk
    assert "claim" in entry.reason
    assert ledger_differences() == []


def test_it_creates_missing_catalog_entries_rather_than_refusing_the_claim() -> None:
    owner = player()
    m = mission(owner, rewards={"badges": ["brand_new"]})
    mission_claim(mission_id=m.pk, user_id=owner.pk, now=NOW)
    assert Badge.objects.get(key="brand_new").name == "Brand New"


def test_it_rejects_a_second_claim_with_already_claimed() -> None:
    owner = player()
    m = mission(owner)
    mission_claim(mission_id=m.pk, user_id=owner.pk, now=NOW)
    with pytest.raises(AlreadyClaimed) as err:
        mission_claim(mission_id=m.pk, user_id=owner.pk, now=NOW)
    assert err.value.code == "already_claimed" and err.value.status_code == 409
    assert LedgerEntry.objects.count() == 1
    assert Balance.objects.get(user=owner).xp == 100


def test_it_rejects_foreign_mission_as_not_found_and_grants_nothing() -> None:
    owner, outsider = player(), player()
    m = mission(owner)
    with pytest.raises(NotFound) as err:
        mission_claim(mission_id=m.pk, user_id=outsider.pk, now=NOW)
    assert err.value.status_code == 404
    assert str(m.pk) in err.value.message and "not found" in err.value.message
    assert nothing_granted()
    assert ActiveMission.objects.get(pk=m.pk).state == "completed"


def test_it_answers_a_missing_mission_exactly_like_a_foreign_one() -> None:
    owner = player()
    with pytest.raises(NotFound) as err:
        mission_claim(mission_id=987654, user_id=owner.pk, now=NOW)
    assert err.value.message == "mission 987654 not found"


@pytest.mark.parametrize("state", ["active", "expired", "failed"])
def test_it_rejects_an_incomplete_mission_with_not_complete(state: str) -> None:
    owner = player()
    m = mission(owner, state=state)
    with pytest.raises(NotComplete) as err:
        mission_claim(mission_id=m.pk, user_id=owner.pk, now=NOW)
    assert err.value.code == "not_complete" and err.value.status_code == 409
    assert state in err.value.message
    assert nothing_granted()


def test_it_rejects_a_claim_past_the_grace_time_with_claim_expired() -> None:
    owner = player()
    m = mission(owner)
    assert m.period_end is not None
    with pytest.raises(ClaimExpired) as err:
        mission_claim(mission_id=m.pk, user_id=owner.pk, now=m.period_end + timedelta(hours=24))
    assert err.value.code == "claim_expired" and err.value.status_code == 409
    assert nothing_granted()
    assert ActiveMission.objects.get(pk=m.pk).state == "completed"


def test_it_accepts_a_claim_inside_the_grace_time() -> None:
    owner = player()
    m = mission(owner)
    assert m.period_end is not None
    just_in_time = m.period_end + timedelta(hours=23, minutes=59)
    assert mission_claim(mission_id=m.pk, user_id=owner.pk, now=just_in_time).granted["xp"] == 100


@override_settings(MISSIONS_CLAIM_GRACE_HOURS=0)
def test_it_honours_a_configured_grace_time() -> None:
    owner = player()
    m = mission(owner)
    assert m.period_end is not None
    with pytest.raises(ClaimExpired):
        mission_claim(mission_id=m.pk, user_id=owner.pk, now=m.period_end)


def test_a_perpetual_mission_stays_claimable_forever() -> None:
    owner = player()
    m = mission(owner, period_type="perpetual")
    assert m.period_end is None
    later = NOW + timedelta(days=3650)
    assert mission_claim(mission_id=m.pk, user_id=owner.pk, now=later).granted["xp"] == 100


def test_a_claim_costs_a_fixed_number_of_queries() -> None:
    Item.objects.create(key="streak_freeze", name="Streak Freeze")
    Badge.objects.create(key="wordsmith", name="Wordsmith")
    Title.objects.create(key="scribe", name="Scribe")
    owner = player()
    m = mission(owner, rewards=FULL)
    with CaptureQueriesContext(connection) as ctx:
        mission_claim(mission_id=m.pk, user_id=owner.pk, now=NOW)
    # Lock, 4 bonus reads, balance, ledger, level, items, badges, titles, meta, claim, reads,
    # and the webhook endpoints that may want reward.granted.
    assert len(ctx.captured_queries) <= 32, [q["sql"] for q in ctx.captured_queries]


def test_check_ledger_passes_after_claims() -> None:
    owner = player()
    for _ in range(3):
        m = mission(owner)
        mission_claim(mission_id=m.pk, user_id=owner.pk, now=NOW)
    call_command("check_ledger")


def test_a_mission_without_xp_grants_none() -> None:
    owner = player()
    result = mission_claim(
        mission_id=mission(owner, rewards={"dgt": "3"}).pk, user_id=owner.pk, now=NOW
    )
    assert (result.base_rewards["xp"], result.granted["xp"]) == (0, 0)
    assert result.balances == {"xp": 0, "dgt": "3.00000000"}


def test_the_claim_row_keeps_each_bonus_and_the_result_the_level_after_meta_rewards() -> None:
    from rewards.models import MetaAchievement

    badge = Badge.objects.create(key="first_steps", name="First Steps")
    MetaAchievement.objects.create(
        key="first_steps", rule="missions_completed", threshold=2, badge=badge, rewards={"xp": 250}
    )
    owner = player()
    first = mission(owner, rewards={"xp": 100})
    mission(owner, rewards={"xp": 40})  # the same day, completed: a perfect day

    result = mission_claim(mission_id=first.pk, user_id=owner.pk, now=NOW)

    perfect = {
        "kind": "perfect",
        "multiplier_xp": "1.25",
        "multiplier_dgt": "1",
        "detail": {"period_type": "daily", "missions": 2},
        "explanation": "perfect: every daily mission completed, ×1.25 XP",
    }
    # 100 × 1.25 = 125 XP (level 2), then the meta reward: 375 XP, level 3 (300 ≤ 375 < 600).
    assert (result.granted["xp"], result.meta_badges, result.bonuses) == (
        125,
        ["first_steps"],
        [perfect],
    )
    assert (result.balances["xp"], result.level, result.next_level_xp) == (375, 3, 600)
    row = Claim.objects.get(mission=first)
    assert (row.bonuses, row.meta_badges, row.granted["xp"]) == ([perfect], ["first_steps"], 125)
    assert PlayerProfile.objects.get(user=owner).level == 3


def test_one_auto_grant_waits_for_the_deadline_and_never_pays_a_perpetual_mission() -> None:
    from rewards.services.claims import mission_auto_grant

    owner = player()
    daily = mission(owner, rewards={"xp": 10})
    perpetual = mission(owner, rewards={"xp": 10}, period_type="perpetual")
    assert daily.period_end is not None
    deadline = daily.period_end + timedelta(hours=24)

    assert mission_auto_grant(mission_id=daily.pk, now=deadline - timedelta(microseconds=1)) is None
    assert mission_auto_grant(mission_id=perpetual.pk, now=deadline + timedelta(days=999)) is None
    paid = mission_auto_grant(mission_id=daily.pk, now=deadline)
    assert paid is not None and paid.source == "auto_grant"
    assert mission_auto_grant(mission_id=daily.pk, now=deadline) is None  # claimed now
    assert Balance.objects.get(user=owner).xp == 10
