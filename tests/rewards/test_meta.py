from __future__ import annotations

import pytest

from missions.models import Category
from rewards.models import Badge, Balance, LedgerEntry, MetaAchievement, UserBadge
from rewards.services import mission_claim
from streaks.models import Streak

from .helpers import NOW, mission, player

pytestmark = pytest.mark.django_db


def meta(key: str, rule: str, threshold: int = 1, **extra: object) -> MetaAchievement:
    badge = Badge.objects.create(key=key, name=key.title())
    return MetaAchievement.objects.create(
        key=key, rule=rule, threshold=threshold, badge=badge, **extra
    )


def badges(user: object) -> set[str]:
    return set(UserBadge.objects.filter(user=user).values_list("badge__key", flat=True))


def test_the_nth_completed_mission_awards_its_badge_inside_the_claim() -> None:
    meta("three_done", "missions_completed", 3, rewards={"xp": 50})
    owner = player()
    mission(owner, state="active")  # keeps the perfect bonus out of the numbers
    ms = [mission(owner) for _ in range(3)]
    assert mission_claim(mission_id=ms[0].pk, user_id=owner.pk, now=NOW).meta_badges == [
        "three_done"
    ]  # three completed missions exist already: claimed or not, they count
    assert badges(owner) == {"three_done"}
    assert Balance.objects.get(user=owner).xp == 100 + 50
    mission_claim(mission_id=ms[1].pk, user_id=owner.pk, now=NOW)
    assert LedgerEntry.objects.filter(idempotency_key__startswith="meta:").count() == 1


def test_a_badge_waits_until_the_threshold_is_met() -> None:
    meta("five_done", "missions_completed", 5)
    owner = player()
    result = mission_claim(mission_id=mission(owner).pk, user_id=owner.pk, now=NOW)
    assert result.meta_badges == [] and badges(owner) == set()


def test_every_category_completed_awards_the_all_rounder_badge() -> None:
    meta("all_rounder", "all_categories")
    meta("social_2", "category_completed", 2, category="social")
    owner = player()
    for category in Category.values[:-1]:
        mission(owner, category=category)
    last = mission(owner, category=Category.values[-1], state="active")
    claim = mission(owner, category="social")
    assert mission_claim(mission_id=claim.pk, user_id=owner.pk, now=NOW).meta_badges == ["social_2"]
    type(last).objects.filter(pk=last.pk).update(state="completed", completed_at=NOW)
    assert mission_claim(mission_id=last.pk, user_id=owner.pk, now=NOW).meta_badges == [
        "all_rounder"
    ]


def test_streak_badges_use_the_best_run() -> None:
    meta("week_streak", "daily_streak", 7)
    meta("month_weeks", "weekly_streak", 4)
    owner = player()
    Streak.objects.create(user=owner, kind="daily", current=1, best=7)
    Streak.objects.create(user=owner, kind="weekly", current=3, best=3)
    result = mission_claim(mission_id=mission(owner).pk, user_id=owner.pk, now=NOW)
    assert result.meta_badges == ["week_streak"]


def test_an_inactive_meta_achievement_is_never_awarded() -> None:
    meta("off", "missions_completed", 1, is_active=False)
    owner = player()
    assert mission_claim(mission_id=mission(owner).pk, user_id=owner.pk, now=NOW).meta_badges == []


def test_admin_entered_meta_rewards_are_validated_like_template_rewards() -> None:
    from django.core.exceptions import ValidationError

    bad = MetaAchievement(
        key="bad",
        rule="category_completed",
        category="nope",
        badge=Badge.objects.create(key="bad", name="Bad"),
        rewards={"xp": -5, "gold": 1},
    )
    with pytest.raises(ValidationError) as err:
        bad.full_clean()
    assert set(err.value.message_dict) == {"rewards", "category"}
    assert any("rewards.xp" in m for m in err.value.message_dict["rewards"])
