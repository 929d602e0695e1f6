"""Demo catalog of the rewards app: meta-achievements and their badges. Idempotent.

Called by `manage.py seed_demo`.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from .models import Badge, Item, MetaAchievement, MetaRule

# key: (badge name, icon, rule, threshold, category, extra rewards)
META_ACHIEVEMENTS: dict[str, tuple[str, str, str, int, str, dict[str, Any]]] = {
    "first_claim": ("First Steps", "footprints", MetaRule.MISSIONS_COMPLETED, 1, "", {}),
    "ten_missions": ("Regular", "medal", MetaRule.MISSIONS_COMPLETED, 10, "", {"xp": 100}),
    "hundred_missions": (
        "Centurion of Missions",
        "trophy",
        MetaRule.MISSIONS_COMPLETED,
        100,
        "",
        {"xp": 1000, "dgt": "50"},
    ),
    "social_butterfly": ("Social Butterfly", "users", MetaRule.CATEGORY_COMPLETED, 5, "social", {}),
    "all_rounder": ("All-Rounder", "compass", MetaRule.ALL_CATEGORIES, 1, "", {"xp": 250}),
    "week_on_fire": ("Week on Fire", "flame", MetaRule.DAILY_STREAK, 7, "", {"xp": 70}),
    "month_on_fire": ("Month on Fire", "fire", MetaRule.DAILY_STREAK, 30, "", {"dgt": "30"}),
    "four_weeks": ("Four Good Weeks", "calendar", MetaRule.WEEKLY_STREAK, 4, "", {}),
}


def seed_rewards_demo() -> int:
    """Create (or update) the demo meta-achievements; returns how many exist."""
    with transaction.atomic():
        Item.objects.get_or_create(
            key="streak_freeze",
            defaults={
                "name": "Streak Freeze",
                "description": "Covers one missed day of your streak.",
                "icon": "snowflake",
            },
        )
        for key, (name, icon, rule, threshold, category, rewards) in META_ACHIEVEMENTS.items():
            badge, _ = Badge.objects.update_or_create(
                key=key, defaults={"name": name, "icon": icon}
            )
            MetaAchievement.objects.update_or_create(
                key=key,
                defaults={
                    "rule": rule,
                    "threshold": threshold,
                    "category": category,
                    "badge": badge,
                    "rewards": rewards,
                },
            )
    return len(META_ACHIEVEMENTS)
