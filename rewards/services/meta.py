"""Meta-achievements: badges for patterns of missions, checked inside the claim transaction."""

from __future__ import annotations

from django.db.models import Count

from missions.models import ActiveMission, Category
from streaks.models import Streak

from ..models import MetaAchievement, MetaRule, UserBadge
from .bonuses import DONE_STATES
from .ledger import rewards_grant


def _earned(meta: MetaAchievement, by_category: dict[str, int], streaks: dict[str, int]) -> bool:
    if meta.rule == MetaRule.MISSIONS_COMPLETED:
        return sum(by_category.values()) >= meta.threshold
    if meta.rule == MetaRule.CATEGORY_COMPLETED:
        return by_category.get(meta.category, 0) >= meta.threshold
    if meta.rule == MetaRule.ALL_CATEGORIES:
        return all(by_category.get(c, 0) >= max(meta.threshold, 1) for c in Category.values)
    if meta.rule == MetaRule.DAILY_STREAK:
        return streaks.get("daily", 0) >= meta.threshold
    if meta.rule == MetaRule.WEEKLY_STREAK:
        return streaks.get("weekly", 0) >= meta.threshold
    return False


def meta_achievements_check(*, user_id: int) -> list[str]:
    """Award every active meta-achievement the player now meets; returns the badge keys.

    Streak rules use the best run (a badge for a 7-day streak stays earned). Each award goes
    through rewards_grant with key "meta:<key>:user:<id>", so it happens once.
    """
    owned = UserBadge.objects.filter(user_id=user_id).values("badge_id")
    pending = list(
        MetaAchievement.objects.filter(is_active=True)
        .exclude(badge_id__in=owned)
        .select_related("badge")
    )
    if not pending:
        return []
    by_category = {
        row["template__category"]: row["n"]
        for row in ActiveMission.objects.filter(user_id=user_id, state__in=DONE_STATES)
        .values("template__category")
        .annotate(n=Count("id"))
        .order_by()
    }
    streaks = dict(Streak.objects.filter(user_id=user_id).values_list("kind", "best"))
    awarded: list[str] = []
    for meta in pending:
        if not _earned(meta, by_category, streaks):
            continue
        rewards = {**(meta.rewards or {}), "badges": [meta.badge.key]}
        result = rewards_grant(
            user_id=user_id,
            rewards=rewards,
            idempotency_key=f"meta:{meta.key}:user:{user_id}",
            reason=f"meta-achievement {meta.key}",
        )
        if result.created:
            awarded.append(meta.badge.key)
    return awarded
