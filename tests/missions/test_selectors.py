from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from missions.models import MissionProgress
from missions.selectors import mission_requirements, player_missions
from missions.services import missions_assign
from tests.factories import TemplateFactory, UserFactory, requirement

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


@pytest.mark.django_db
def test_missions_come_shortest_period_first() -> None:
    for key, period in (("p", "perpetual"), ("m", "monthly"), ("w", "weekly"), ("d", "daily")):
        TemplateFactory(key=key, period_type=period)
    TemplateFactory(
        key="s",
        period_type="special",
        starts_at=NOW - timedelta(days=1),
        ends_at=NOW + timedelta(days=1),
    )
    user = UserFactory()
    missions_assign(user_ids=[user.pk], now=NOW)
    order = [m.period_type for m in player_missions(user_id=user.pk, now=NOW)]
    assert order == ["daily", "weekly", "monthly", "special", "perpetual"]


@pytest.mark.django_db
def test_a_competitive_score_is_shown_uncapped_and_a_count_capped() -> None:
    tiers = {"reward_tiers": [{"rank_to": 1, "rewards": {"xp": 1}}]}
    TemplateFactory(
        key="race",
        type="competitive",
        metadata=tiers,
        requirements={"posts": requirement(target=1)},
    )
    TemplateFactory(key="count", requirements={"posts": requirement(target=3)})
    user = UserFactory()
    missions_assign(user_ids=[user.pk], now=NOW)
    MissionProgress.objects.filter(user=user).update(current=Decimal(12))
    shown = {
        m.template.key: mission_requirements(m)["posts"]["current"]
        for m in player_missions(user_id=user.pk, now=NOW)
    }
    assert shown == {"race": 12, "count": 3}
