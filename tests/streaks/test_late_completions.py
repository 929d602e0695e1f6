"""A completion of a day (week) older than the last counted one is counted by rebuilding the
run (`streaks_credit_pending` → `_streak_rebuild`): known answers for daily and weekly
streaks, a player's local days, and the completions that must not count (another player's,
another kind's); a streak an admin restored is left alone. The outbox credits are called
directly here (tests/ops/test_streak_outbox.py drives them through ingestion)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from missions.services.timezones import player_timezone_set
from streaks.models import Streak, StreakBreak
from streaks.replay import streak_differences
from streaks.services import streak_restore, streaks_credit_pending
from tests.rewards.helpers import mission, player

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 11, 23, tzinfo=UTC)  # a Monday, the start of an ISO week
LONG_AGO = datetime(2025, 1, 1, tzinfo=UTC)


def day(n: int, hour: int = 12) -> datetime:
    return MONDAY + timedelta(days=n, hours=hour)


def complete(user: Any, *instants: datetime, period_type: str = "daily") -> int:
    """Missions of `user` completed at these instants, then the outbox credited."""
    for instant in instants:
        mission(user, at=instant, period_type=period_type)
    return streaks_credit_pending(user_id=user.pk, since=LONG_AGO)


def state(user: Any, kind: str = "daily") -> tuple[int, int, date | None, list[Any]]:
    streak = Streak.objects.get(user=user, kind=kind)
    breaks = list(
        StreakBreak.objects.filter(streak=streak)
        .order_by("missed_from")
        .values_list("missed_from", "length")
    )
    return streak.current, streak.best, streak.last_completed, breaks


def test_a_late_day_rebuilds_the_run_from_this_players_daily_completions_only() -> None:
    user, other = player(), player()
    # Another player's daily completions, and this player's weekly one on Friday: neither is
    # a day of this player's daily streak.
    assert complete(other, day(3), day(4)) == 2
    assert complete(user, day(0), day(2)) == 2
    assert complete(user, day(4), period_type="weekly") == 1
    assert state(user) == (1, 1, date(2026, 11, 25), [(date(2026, 11, 24), 1)])
    # Tuesday's mission completes after Wednesday was counted.
    assert complete(user, day(1, hour=23)) == 1
    assert state(user) == (3, 3, date(2026, 11, 25), [])
    assert state(user, "weekly") == (1, 1, date(2026, 11, 23), [])
    assert state(other) == (2, 2, date(2026, 11, 27), [])
    assert streak_differences([user.pk, other.pk]) == []


def test_a_late_week_rebuilds_the_weekly_run_in_iso_weeks() -> None:
    user = player()
    assert complete(user, day(2), day(16), period_type="weekly") == 2
    assert state(user, "weekly") == (1, 1, date(2026, 12, 7), [(date(2026, 11, 30), 1)])
    assert complete(user, day(9), period_type="weekly") == 1
    assert state(user, "weekly") == (3, 3, date(2026, 12, 7), [])
    assert streak_differences([user.pk]) == []


def test_a_late_day_is_rebuilt_in_the_players_local_days() -> None:
    user = player()
    player_timezone_set(user_id=user.pk, timezone="Asia/Tokyo", now=LONG_AGO)
    tokyo = ZoneInfo("Asia/Tokyo")

    def at_8(d: int) -> datetime:  # 08:00 in Tokyo: 23:00 UTC the day before
        return datetime(2026, 11, 23 + d, 8, tzinfo=tokyo).astimezone(UTC)

    assert complete(user, at_8(0), at_8(2)) == 2
    assert state(user) == (1, 1, date(2026, 11, 25), [(date(2026, 11, 24), 1)])
    assert complete(user, at_8(1)) == 1
    assert state(user) == (3, 3, date(2026, 11, 25), [])
    assert streak_differences([user.pk]) == []


def test_a_restored_streak_is_left_alone_by_a_late_day() -> None:
    user = player()
    assert complete(user, day(0), day(2)) == 2
    streak = Streak.objects.get(user=user, kind="daily")
    streak_restore(streak_id=streak.pk, reason="outage", now=day(2, hour=13))
    assert state(user)[:3] == (2, 2, date(2026, 11, 25))
    assert complete(user, day(1)) == 1
    # Not rebuilt: the restored break stays, and the run is what the restore made it.
    assert state(user) == (2, 2, date(2026, 11, 25), [(date(2026, 11, 24), 1)])
    assert StreakBreak.objects.get(streak=streak).restored_at == day(2, hour=13)


def freezes(user: Any, qty: int) -> None:
    from rewards.models import InventoryItem, Item

    item, _ = Item.objects.get_or_create(key="streak_freeze", defaults={"name": "Streak Freeze"})
    InventoryItem.objects.update_or_create(user=user, item=item, defaults={"qty": qty})


def test_a_rebuild_keeps_the_days_freezes_covered() -> None:
    user = player()
    freezes(user, 1)
    assert complete(user, day(0), day(2)) == 2  # Tuesday frozen
    assert complete(user, day(4)) == 1  # Thursday missed, no freeze left: a break
    assert state(user) == (1, 2, date(2026, 11, 27), [(date(2026, 11, 26), 2)])
    assert complete(user, day(3)) == 1  # Thursday's mission completes late
    # Monday, (frozen Tuesday), Wednesday, Thursday, Friday: one run of four counted days.
    assert state(user) == (4, 4, date(2026, 11, 27), [])
    assert streak_differences([user.pk]) == []


def test_a_rebuild_skips_the_date_a_timezone_change_east_jumped_over() -> None:
    la, tokyo = ZoneInfo("America/Los_Angeles"), ZoneInfo("Asia/Tokyo")
    user = player()
    player_timezone_set(user_id=user.pk, timezone="America/Los_Angeles", now=LONG_AGO)
    saturday, sunday, monday = (datetime(2026, 11, d, 12, tzinfo=la) for d in (28, 29, 30))
    assert complete(user, saturday, monday) == 2  # Sunday looks missed
    player_timezone_set(user_id=user.pk, timezone="Asia/Tokyo", now=monday + timedelta(hours=1))
    # Tokyo's 2 December follows the LA Monday (1 December belongs to no day of this player).
    assert complete(user, datetime(2026, 12, 2, 0, 30, tzinfo=tokyo)) == 1
    assert state(user) == (2, 2, date(2026, 12, 2), [(date(2026, 11, 29), 1)])
    assert complete(user, sunday) == 1  # Sunday's mission completes late
    assert state(user) == (4, 4, date(2026, 12, 2), [])
    assert streak_differences([user.pk]) == []


def test_a_late_completion_of_a_day_already_counted_rewrites_nothing() -> None:
    from streaks.signals import streak_updated

    user = player()
    assert complete(user, day(0), day(2)) == 2
    before = list(StreakBreak.objects.values_list("pk", "missed_from", "length", "created_at"))
    assert [row[1:3] for row in before] == [(date(2026, 11, 24), 1)]
    sent: list[Any] = []

    def receiver(**kwargs: Any) -> None:
        sent.append(kwargs)

    streak_updated.connect(receiver, weak=False)
    try:
        # A second Monday mission completes late: Monday is counted already.
        assert complete(user, day(0, hour=18)) == 1
    finally:
        streak_updated.disconnect(receiver)
    assert sent == []
    assert list(StreakBreak.objects.values_list("pk", "missed_from", "length", "created_at")) == (
        before
    )
    assert state(user) == (1, 1, date(2026, 11, 25), [(date(2026, 11, 24), 1)])


def test_a_late_day_that_leaves_a_gap_rebuilds_the_breaks_and_says_so() -> None:
    from streaks.signals import streak_updated

    user = player()
    assert complete(user, day(0), day(2), day(5)) == 3
    assert state(user) == (
        1,
        1,
        date(2026, 11, 28),
        [(date(2026, 11, 24), 1), (date(2026, 11, 26), 1)],
    )
    sent: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        sent.append({"sender": sender, **kwargs})

    streak_updated.connect(receiver, weak=False)
    try:
        assert complete(user, day(1)) == 1  # Tuesday completes late; Thursday stays missed
    finally:
        streak_updated.disconnect(receiver)
    # Monday to Wednesday (3), then Saturday: one break, from Thursday, of length 3.
    assert state(user) == (1, 3, date(2026, 11, 28), [(date(2026, 11, 26), 3)])
    streak = Streak.objects.get(user=user, kind="daily")
    assert len(sent) == 1
    update = sent[0].pop("update")
    assert sent[0] == {
        "sender": Streak,
        "signal": streak_updated,
        "user_id": user.pk,
        "kind": "daily",
    }
    assert (update.streak.pk, update.counted, update.frozen_days, update.broken) == (
        streak.pk,
        True,
        [],
        None,
    )
    assert (update.streak.current, update.streak.best) == (1, 3)
    assert streak_differences([user.pk]) == []


def test_pending_completions_are_counted_oldest_first_and_nothing_pending_counts_zero() -> None:
    from rewards.models import InventoryItem

    user = player()
    freezes(user, 1)
    mission(user, at=day(2))  # stored first, completed last
    mission(user, at=day(0))
    # Monday, then Wednesday with Tuesday frozen (Wednesday first would have made Monday a
    # late day and spent no freeze).
    assert streaks_credit_pending(user_id=user.pk, since=LONG_AGO) == 2
    assert state(user) == (2, 2, date(2026, 11, 25), [])
    assert InventoryItem.objects.get(user=user, item__key="streak_freeze").qty == 0
    assert streaks_credit_pending(user_id=user.pk, since=LONG_AGO) == 0
