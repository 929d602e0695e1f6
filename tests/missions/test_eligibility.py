from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from missions.models import ActiveMission, MissionTemplate
from missions.periods import period_for
from missions.services.assignment import PlayerContext, _player_contexts, is_eligible
from rewards.models import Badge, UserBadge
from streaks.models import Streak
from tests.factories import ProfileFactory, TemplateFactory, UserFactory

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


def tmpl(**fields: object) -> MissionTemplate:
    base: dict[str, object] = {
        "id": 1,
        "key": "t",
        "is_active": True,
        "min_level": 1,
        "max_level": None,
        "prerequisites": {},
    }
    base.update(fields)
    return MissionTemplate(**base)


@pytest.mark.parametrize(
    ("min_level", "max_level", "level", "eligible"),
    [
        (5, None, 4, False),
        (5, None, 5, True),
        (5, None, 500, True),  # null max_level = no cap
        (5, 10, 10, True),
        (5, 10, 11, False),
        (1, 1, 1, True),
        (1, 1, 2, False),
    ],
)
def test_level_bounds(min_level: int, max_level: int | None, level: int, eligible: bool) -> None:
    assert (
        is_eligible(tmpl(min_level=min_level, max_level=max_level), PlayerContext(level=level))
        is eligible
    )


def test_inactive_templates_are_never_eligible() -> None:
    assert not is_eligible(tmpl(is_active=False), PlayerContext())


@pytest.mark.parametrize(
    ("prerequisites", "player", "eligible"),
    [
        ({"missions_completed": ["welcome"]}, PlayerContext(), False),
        ({"missions_completed": ["welcome"]}, PlayerContext(completed_keys={"welcome", "x"}), True),
        ({"badges": ["vip"]}, PlayerContext(badge_keys={"other"}), False),
        ({"badges": ["vip"]}, PlayerContext(badge_keys={"vip"}), True),
        ({"min_streak": 7}, PlayerContext(daily_streak=6), False),
        ({"min_streak": 7}, PlayerContext(daily_streak=7), True),
        ({"min_streak": 0}, PlayerContext(), True),
    ],
)
def test_prerequisites(prerequisites: dict, player: PlayerContext, eligible: bool) -> None:
    assert is_eligible(tmpl(prerequisites=prerequisites), player) is eligible


@pytest.mark.django_db
def test_prerequisites_are_read_from_the_database() -> None:
    user = UserFactory()
    ProfileFactory(user=user, level=9)
    welcome = TemplateFactory(key="welcome")
    day = period_for("daily", NOW - timedelta(days=3))
    ActiveMission.objects.create(
        template=welcome,
        user=user,
        period_type="daily",
        period_start=day.start,
        period_end=day.end,
        assigned_at=day.start,
        completed_at=day.start + timedelta(hours=1),
        state="claimed",
    )
    UserBadge.objects.create(user=user, badge=Badge.objects.create(key="vip", name="VIP"))
    Streak.objects.create(user=user, kind="daily", current=8, best=8)
    gated = TemplateFactory(
        prerequisites={"missions_completed": ["welcome"], "badges": ["vip"], "min_streak": 8}
    )
    player = _player_contexts([user.pk], [gated], NOW)[user.pk]
    assert player.level == 9 and player.completed_keys == {"welcome"}
    assert player.badge_keys == {"vip"} and player.daily_streak == 8
    assert is_eligible(gated, player)
    outsider = UserFactory()
    assert not is_eligible(gated, _player_contexts([outsider.pk], [gated], NOW)[outsider.pk])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("days_ago", "cooldown_hours", "blocked"),
    [
        (1, 24, True),  # yesterday's period ended 12h ago < 24h
        (2, 24, False),  # ended 36h ago
        (2, 48, True),
        (1, 0, False),  # zero cooldown blocks nothing
        (0, 24, False),  # the current period itself is not "before"
    ],
)
def test_cooldown_inside_and_outside(days_ago: int, cooldown_hours: int, blocked: bool) -> None:
    user = UserFactory()
    template = TemplateFactory(cooldown_hours=cooldown_hours)
    earlier = period_for("daily", NOW - timedelta(days=days_ago))
    ActiveMission.objects.create(
        template=template,
        user=user,
        period_type="daily",
        period_start=earlier.start,
        period_end=earlier.end,
        assigned_at=earlier.start,
    )
    player = _player_contexts([user.pk], [template], NOW)[user.pk]
    assert (template.id in player.cooling_down) is blocked
    assert is_eligible(template, player) is (not blocked)
