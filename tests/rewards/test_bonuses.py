"""Dynamic rewards: each bonus rule and their combination, with exact numbers."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from missions.models import MissionTemplate
from rewards.models import Claim, InventoryItem, Item
from rewards.services import mission_claim
from rewards.services.bonuses import Bonus, apply_bonuses, bonus_explanation
from streaks.models import Streak
from tests.factories import TemplateFactory

from .helpers import NOW, mission, player

pytestmark = pytest.mark.django_db

TODAY = NOW.date()


def with_history(template: MissionTemplate, took: timedelta, n: int = 5) -> None:
    """`n` earlier completions of `template` by other players, each taking `took`."""
    for i in range(n):
        mission(player(), template=template, at=NOW - timedelta(days=1, minutes=i), took=took)


def streak(user: Any, current: int, last: date = TODAY) -> None:
    Streak.objects.create(
        user=user, kind="daily", current=current, best=current, last_completed=last
    )


def claim(user: Any, m: Any) -> dict[str, Any]:
    return mission_claim(mission_id=m.pk, user_id=user.pk, now=NOW).as_dict()


def kinds(result: dict[str, Any]) -> list[str]:
    return [b["kind"] for b in result["bonuses"]]


def test_no_bonus_pays_the_base_rewards() -> None:
    owner = player()
    result = claim(owner, mission(owner))
    assert (result["granted"]["xp"], result["granted"]["dgt"]) == (100, "10.00000000")
    assert result["bonuses"] == []


def test_a_fast_completion_earns_the_speed_bonus() -> None:
    owner = player()
    template = TemplateFactory(rewards={"xp": 100, "dgt": "10"})
    with_history(template, took=timedelta(hours=4))
    result = claim(owner, mission(owner, template=template, took=timedelta(hours=1)))
    assert (result["granted"]["xp"], result["granted"]["dgt"]) == (150, "12.50000000")
    assert result["bonuses"] == [
        {
            "kind": "speed",
            "multiplier_xp": "1.5",
            "multiplier_dgt": "1.25",
            "detail": {"seconds_to_complete": 3600, "average_seconds": 14400, "sample": 5},
            "explanation": "speed: done in 1h 0m, under half the average 4h 0m, ×1.5 XP, ×1.25 DGT",
        }
    ]


def test_exactly_half_the_average_is_not_fast_enough() -> None:
    owner = player()
    template = TemplateFactory(rewards={"xp": 100, "dgt": "10"})
    with_history(template, took=timedelta(hours=2))
    assert claim(owner, mission(owner, template=template, took=timedelta(hours=1)))["bonuses"] == []


def test_the_speed_bonus_needs_a_minimum_sample_of_earlier_completions() -> None:
    owner = player()
    template = TemplateFactory(rewards={"xp": 100, "dgt": "10"})
    with_history(template, took=timedelta(hours=10), n=4)
    assert (
        claim(owner, mission(owner, template=template, took=timedelta(minutes=1)))["bonuses"] == []
    )


def test_later_completions_do_not_count_toward_the_average() -> None:
    owner = player()
    template = TemplateFactory(rewards={"xp": 100, "dgt": "10"})
    for i in range(5):
        mission(
            player(),
            template=template,
            at=NOW + timedelta(hours=1, minutes=i),
            took=timedelta(hours=9),
        )
    assert (
        claim(owner, mission(owner, template=template, took=timedelta(minutes=1)))["bonuses"] == []
    )


@pytest.mark.parametrize(
    ("days", "multiplier", "xp", "dgt"),
    [
        (2, None, 100, "10.00000000"),
        (3, "1.5", 150, "15.00000000"),
        (6, "1.5", 150, "15.00000000"),
        (7, "2.0", 200, "20.00000000"),
        (14, "2.5", 250, "25.00000000"),
        (29, "2.5", 250, "25.00000000"),
        (30, "3.0", 300, "30.00000000"),
        (365, "3.0", 300, "30.00000000"),
    ],
)
def test_the_one_streak_table_multiplies_xp_and_dgt(
    days: int, multiplier: str | None, xp: int, dgt: str
) -> None:
    owner = player()
    streak(owner, days)
    result = claim(owner, mission(owner))
    assert (result["granted"]["xp"], result["granted"]["dgt"]) == (xp, dgt)
    if multiplier is None:
        assert result["bonuses"] == []
    else:
        assert result["bonuses"] == [
            {
                "kind": "streak",
                "multiplier_xp": multiplier,
                "multiplier_dgt": multiplier,
                "detail": {"daily_streak": days},
                "explanation": f"streak: {days}-day daily streak, ×{multiplier} XP and DGT",
            }
        ]


def test_a_lapsed_streak_gives_no_multiplier() -> None:
    owner = player()
    streak(owner, 10, last=TODAY - timedelta(days=2))
    assert claim(owner, mission(owner))["bonuses"] == []


def test_a_lapsed_streak_that_freezes_can_save_still_counts() -> None:
    owner = player()
    streak(owner, 10, last=TODAY - timedelta(days=2))
    item = Item.objects.create(key="streak_freeze", name="Streak Freeze")
    InventoryItem.objects.create(user=owner, item=item, qty=1)
    result = claim(owner, mission(owner))
    assert kinds(result) == ["streak"] and result["granted"]["xp"] == 200


def test_completing_every_mission_of_the_period_earns_the_perfect_bonus() -> None:
    owner = player()
    mission(owner)
    result = claim(owner, mission(owner))
    assert (result["granted"]["xp"], result["granted"]["dgt"]) == (125, "10.00000000")
    assert result["bonuses"] == [
        {
            "kind": "perfect",
            "multiplier_xp": "1.25",
            "multiplier_dgt": "1",
            "detail": {"period_type": "daily", "missions": 2},
            "explanation": "perfect: every daily mission completed, ×1.25 XP",
        }
    ]


def test_an_unfinished_mission_in_the_period_prevents_the_perfect_bonus() -> None:
    owner = player()
    mission(owner, state="active")
    mission(owner, period_type="weekly")  # another period type does not count either way
    assert claim(owner, mission(owner))["bonuses"] == []


def test_a_lone_mission_is_not_perfect_when_the_setting_asks_for_two() -> None:
    owner = player()
    assert claim(owner, mission(owner, period_type="monthly"))["bonuses"] == []


@pytest.mark.spec_defaults
def test_a_lone_monthly_mission_completed_is_perfect_by_default() -> None:
    owner = player()
    result = claim(owner, mission(owner, period_type="monthly"))
    assert kinds(result) == ["perfect"]
    assert result["granted"]["xp"] == 125
    assert result["bonuses"][0]["detail"] == {"period_type": "monthly", "missions": 1}


@pytest.mark.spec_defaults
def test_one_earlier_completion_is_enough_for_the_speed_average_by_default() -> None:
    owner = player()
    template = TemplateFactory(rewards={"xp": 100, "dgt": "10"})
    with_history(template, took=timedelta(hours=4), n=1)
    mission(owner, state="active")  # an unfinished sibling: no perfect bonus
    result = claim(owner, mission(owner, template=template, took=timedelta(hours=1)))
    assert kinds(result) == ["speed"]
    assert result["bonuses"][0]["detail"]["sample"] == 1


def test_spec_defaults_of_the_bonus_settings() -> None:
    from config.settings import rewards as defaults

    assert defaults.REWARDS_PERFECT_MIN_MISSIONS == 1
    assert defaults.REWARDS_SPEED_MIN_SAMPLE == 1


def test_all_bonuses_combine_in_order_speed_streak_perfect() -> None:
    owner = player()
    template = TemplateFactory(rewards={"xp": 100, "dgt": "10"})
    with_history(template, took=timedelta(hours=4))
    streak(owner, 7)
    mission(owner)  # the period's other mission, completed
    m = mission(owner, template=template, took=timedelta(hours=1))
    result = claim(owner, m)
    # xp: 100 × 1.5 × 2.0 × 1.25 = 375; dgt: 10 × 1.25 × 2.0 = 25
    assert (result["granted"]["xp"], result["granted"]["dgt"]) == (375, "25.00000000")
    assert kinds(result) == ["speed", "streak", "perfect"]
    history = Claim.objects.get(mission=m)
    assert history.bonuses == result["bonuses"]
    assert history.base_rewards["xp"] == 100 and history.granted["xp"] == 375


def test_rounding_is_once_at_the_end_and_always_down() -> None:
    bonuses = [
        Bonus("speed", Decimal("1.5"), Decimal("1.25"), {}),
        Bonus("streak", Decimal("1.5"), Decimal("1.5"), {}),
    ]
    granted = apply_bonuses({"xp": 33, "dgt": "0.00000003"}, bonuses)
    # 33 × 2.25 = 74.25 → 74; 0.00000003 × 1.875 = 0.00000005625 → 0.00000005
    assert (granted["xp"], granted["dgt"]) == (74, "0.00000005")
    perfect = [Bonus("perfect", Decimal("1.25"), Decimal(1), {})]
    assert apply_bonuses({"xp": 7, "dgt": "1.99999999"}, perfect)["xp"] == 8  # 8.75 → 8
    assert apply_bonuses({"xp": 7, "dgt": "1.99999999"}, perfect)["dgt"] == "1.99999999"


def test_items_badges_and_titles_are_never_multiplied() -> None:
    owner = player()
    streak(owner, 30)
    rewards = {
        "xp": 10,
        "items": [{"key": "streak_freeze", "qty": 1}],
        "badges": ["b"],
        "titles": ["t"],
    }
    result = claim(owner, mission(owner, rewards=rewards))
    assert result["granted"]["items"] == [{"key": "streak_freeze", "qty": 1}]
    assert InventoryItem.objects.get(user=owner).qty == 1


def test_only_the_templates_own_completions_inside_the_window_make_the_speed_average() -> None:
    owner = player()
    template = TemplateFactory(rewards={"xp": 100, "dgt": "10"})
    # Five slow completions of another template, and five of this one 31 days back (the
    # window is 30): none of them count, so there is no sample and no speed bonus.
    with_history(TemplateFactory(), took=timedelta(hours=10))
    for i in range(5):
        mission(
            player(),
            template=template,
            at=NOW - timedelta(days=31, minutes=i),
            took=timedelta(hours=10),
        )
    assert (
        claim(owner, mission(owner, template=template, took=timedelta(minutes=1)))["bonuses"] == []
    )


@pytest.mark.parametrize(
    ("stored", "explanation"),
    [
        # Claims stored before explanations existed may lack any field: the words still read.
        ({}, "bonus: bonus, ×1 XP and DGT"),
        (
            {"kind": "speed", "multiplier_xp": "1.5", "multiplier_dgt": "1.25"},
            "speed: done in 1m, under half the average 1m, ×1.5 XP, ×1.25 DGT",
        ),
        (
            {
                "kind": "speed",
                "multiplier_xp": "1.5",
                "multiplier_dgt": "1.25",
                "detail": {"seconds_to_complete": 119, "average_seconds": 3599},
            },
            "speed: done in 1m, under half the average 59m, ×1.5 XP, ×1.25 DGT",
        ),
        (
            {"kind": "streak", "multiplier_xp": "2.0", "multiplier_dgt": "2.0"},
            "streak: ?-day daily streak, ×2.0 XP and DGT",
        ),
        (
            {"kind": "perfect", "multiplier_xp": "1.25"},
            "perfect: every mission completed, ×1.25 XP",
        ),
        ({"kind": "event", "multiplier_dgt": "3"}, "event: event, ×3 DGT"),
    ],
)
def test_an_explanation_reads_the_bonus_dicts_stored_with_old_claims(
    stored: dict[str, Any], explanation: str
) -> None:
    assert bonus_explanation(stored) == explanation


def test_under_half_the_average_by_any_margin_earns_the_speed_bonus() -> None:
    owner = player()
    template = TemplateFactory(rewards={"xp": 100, "dgt": "10"})
    with_history(template, took=timedelta(hours=3))
    # 1 h is under half of 3 h (1.5 h), though not under a third.
    result = claim(owner, mission(owner, template=template, took=timedelta(hours=1)))
    assert kinds(result) == ["speed"] and result["granted"]["xp"] == 150


def test_a_perfect_period_counts_only_the_missions_of_that_very_period() -> None:
    owner = player()
    first_of_month = NOW.replace(day=1)  # the day and the month start at the same instant
    mission(owner, at=first_of_month, period_type="monthly", state="active")
    mission(owner, at=first_of_month - timedelta(days=1), state="expired")  # the day before
    mission(owner, at=first_of_month)
    m = mission(owner, at=first_of_month)
    assert m.period_start == first_of_month.replace(hour=0)
    result = mission_claim(mission_id=m.pk, user_id=owner.pk, now=first_of_month).as_dict()
    assert kinds(result) == ["perfect"] and result["granted"]["xp"] == 125
