"""The assignment policy: a mission is handed out only while at least `min_remaining_percent`
of its period remains (template metadata, else MISSIONS_MIN_REMAINING_PERCENT per period
type), so a new player on the last day of a month gets no monthly set until the next month;
the hub tells them when it comes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from missions.errors import TemplateInvalid
from missions.models import ActiveMission
from missions.player.selectors import coming_up
from missions.services import missions_assign
from missions.validation import validate_template
from tests.factories import TemplateFactory, UserFactory

pytestmark = pytest.mark.django_db

# The last day of November 2026, 10:00 UTC: 14 h of the month left (1.9 %); a Monday, so the
# week has just begun.
MONTH_END = datetime(2026, 11, 30, 10, tzinfo=UTC)
NEXT_MONTH = datetime(2026, 12, 1, 0, 5, tzinfo=UTC)


@pytest.fixture
def catalog() -> None:
    TemplateFactory(key="daily_post")
    TemplateFactory(key="weekly_post", period_type="weekly")
    TemplateFactory(
        key="monthly_marathon",
        period_type="monthly",
        requirements={"posts": {"action": "post:created", "target": 50, "label": "50 posts"}},
    )


def _kinds(user: Any) -> set[str]:
    return set(ActiveMission.objects.filter(user=user).values_list("period_type", flat=True))


def test_a_new_player_on_the_last_day_of_the_month_gets_no_monthly_set(catalog: None) -> None:
    user = UserFactory()
    missions_assign(user_ids=[user.pk], now=MONTH_END)
    assert _kinds(user) == {"daily", "weekly"}
    # The next month's set arrives with the month.
    missions_assign(user_ids=[user.pk], now=NEXT_MONTH)
    monthly = ActiveMission.objects.get(user=user, period_type="monthly")
    assert monthly.period_start == datetime(2026, 12, 1, tzinfo=UTC)


def test_the_default_share_is_per_period_type_and_settings_change_it(
    catalog: None, settings: Any
) -> None:
    settings.MISSIONS_MIN_REMAINING_PERCENT = {"monthly": 1}  # 1 % of November = 7.2 h
    user = UserFactory()
    missions_assign(user_ids=[user.pk], now=MONTH_END)
    assert "monthly" in _kinds(user)


def test_a_template_declares_its_own_minimum_share(catalog: None) -> None:
    TemplateFactory(
        key="monthly_quick",
        period_type="monthly",
        metadata={"min_remaining_percent": 0},  # one post: fine on the last day
    )
    user = UserFactory()
    created = missions_assign(user_ids=[user.pk], now=MONTH_END)
    assert [m.template.key for m in created if m.period_type == "monthly"] == ["monthly_quick"]


def test_the_weekly_set_is_held_back_late_on_a_sunday(catalog: None) -> None:
    user = UserFactory()
    sunday_night = datetime(2026, 11, 29, 20, tzinfo=UTC)  # 4 h of the week left (2.4 %)
    missions_assign(user_ids=[user.pk], now=sunday_night)
    assert "weekly" not in _kinds(user)


def test_the_validator_takes_a_percentage_from_0_to_99() -> None:
    base = {
        "key": "k", "name": "K", "category": "content", "type": "count",
        "period_type": "monthly",
        "requirements": {"p": {"action": "post:created", "target": 1, "label": "Post"}},
        "rewards": {"xp": 1},
    }  # fmt: skip
    assert validate_template({**base, "metadata": {"min_remaining_percent": 30}})
    for bad in (100, -1, "30", 2.5):
        with pytest.raises(TemplateInvalid) as caught:
            validate_template({**base, "metadata": {"min_remaining_percent": bad}})
        assert "metadata.min_remaining_percent" in caught.value.errors


def test_players_see_when_the_held_back_set_arrives(catalog: None, client: Client) -> None:
    user = UserFactory()
    missions = missions_assign(user_ids=[user.pk], now=MONTH_END)
    assert coming_up(missions=missions, now=MONTH_END) == [
        {"period_type": "monthly", "at": datetime(2026, 12, 1, tzinfo=UTC)}
    ]
    # On the hub (at the real date) it reads "Coming up: Monthly missions <date> UTC" whenever
    # a period type on offer has no current mission.
    ActiveMission.objects.filter(user=user, period_type="monthly").delete()
    client.force_login(user)
    body = client.get("/").content.decode()
    if 'data-next="monthly"' not in body:  # the real date's lazy assignment gave one
        assert ActiveMission.objects.filter(user=user, period_type="monthly").exists()
    else:
        assert "Monthly missions " in body and 'id="coming-up"' in body
